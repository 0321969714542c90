"""The shared per-exchange request pace: never more than the exchange's limit in any rolling window.

Why our own code and not a library. Exchanges count the requests that reach them in a rolling window (MEXC: 20
per second per IP for the private endpoints the probes call). What a limiter must hold is therefore a bound on
*sends*, whatever the event loop does:

* A limiter that plans release times (our first rolling-window version, and any scheduler that computes "slot k
  starts at t_k" and sleeps until then) keeps the limit only while the loop is on time. When the loop runs late,
  every waiter whose planned time has passed wakes in the same iteration and the requests go out together: the
  benchmarks measured 28-32 requests in one second against MEXC's 20, and good keys were told "slow down".
* `aiolimiter.AsyncLimiter` (a leaky bucket, the one PTB's rate limiter uses) counts acquisitions at the time
  they happen, so a late loop does not bunch it; but a bucket of capacity `c` draining at `r` per second lets
  `c + r * W` requests through in a window `W`. Holding 20 in any second leaves the choice between no burst at
  all (c=1: a single check's three parallel probes are spaced 50 ms apart, which costs every verdict 100 ms)
  and a lower sustained rate (c=4, r=16/s: 20 % less throughput under a burst of users). And it counts a
  request when it is released, not when it leaves: a stall between the two still shifts sends into one window.
* `pyrate-limiter` keeps a sliding-window log, but its waiting is retry-after-sleep without an order (a burst
  of a thousand waiters starves some), and it too counts at acquisition.

So this module keeps, per exchange, what was actually sent and when each request ended:

* **A request counts from the moment it is released until one window after it finished** (its reply arrived or
  it failed). The exchange received it somewhere in between, so if each new request starts only while fewer
  than `limit` requests are counted, no window of length `window` at the exchange ever holds more than `limit`
  of them, however late the loop runs, however long a request waits for its connection, and whatever the
  network delay. (Proof: take the requests the exchange saw within one window and the one of them released
  last; every other one either finished more than a window before that release, so the exchange saw it more
  than a window earlier, or it was counted when that last one started.) Requests still in flight count as
  "maybe sent just now".
* **Evenly spaced**: after a burst of `burst` requests (a single check's probes never wait), requests leave one
  every `window / limit` seconds (a generic cell-rate pace, also by actual release times), so a backlog drains
  as a steady stream instead of `limit` requests at once every window. Time spent waiting for the window earns
  no burst; time the loop was late may earn up to `burst` at once, never past the window's count.
* **In arrival order**: one waiter at a time holds the lock and re-reads the clock after every wait, so a late
  wake-up releases one request, not all that were due.
* **Told to back off**: `hold_off(seconds)` when the exchange answers "too many requests" pauses every caller.

The pace is per process: one bot process per exchange IP is the deployment this assumes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

#: requests that may leave at once before the even spacing starts: a check's three probes, its evidence call, and
#: OKX's signed currency list on the first check (or the two market requests of a check that loads markets)
DEFAULT_BURST = 5

Sleep = Callable[[float], Awaitable[object]]


class RequestLimiter:
    """At most `limit` requests towards one exchange in any rolling `window` seconds, counted by what was sent.

    Use `async with limiter.slot():` around one request (from before it is signed until its reply is read).
    `acquire()` is the bare form for callers that cannot report the end of a request; such a request counts
    from its release only. `interval = 0` switches pacing off (tests that run many checks on one fake).
    """

    def __init__(
        self,
        rate_per_second: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        window: float = 1.0,
        burst: int = DEFAULT_BURST,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limit = max(1, math.floor(rate_per_second * window + 1e-9))
        self.window = window
        self.interval = window / self.limit if rate_per_second > 0 else 0.0
        self.burst = max(1, min(burst, self.limit))
        self._clock = clock
        self._sleep = sleep
        self._ended: deque[float] = deque()  # end times of finished requests still inside the window
        self._in_flight = 0
        self._tat = -math.inf  # the pace's theoretical time of the next request
        self._not_before = -math.inf  # set by hold_off
        self._lock = asyncio.Lock()
        self._finished = asyncio.Event()
        self.waited = 0.0  # total seconds callers spent waiting, for benchmarks and /status
        self.released = 0  # requests released so far
        self.held_off = 0  # how often the exchange told us to back off

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def counted(self) -> int:
        """Requests that count against the limit right now (in flight, or ended within the window)."""
        self._expire(self._clock())
        return self._in_flight + len(self._ended)

    def hold_off(self, seconds: float) -> None:
        """The exchange asked us to slow down: release nothing for `seconds` (a longer hold wins)."""
        if seconds > 0 and self.enabled:
            self.held_off += 1
            self._not_before = max(self._not_before, self._clock() + seconds)

    def _expire(self, now: float) -> None:
        horizon = now - self.window
        ended = self._ended
        while ended and ended[0] <= horizon:
            ended.popleft()

    def _ready_at(self, now: float) -> tuple[float | None, bool]:
        """When the next request may leave (<= now: at once; None: after some request in flight ends), and
        whether the window (rather than the pace) is what holds it back."""
        self._expire(now)
        at = max(self._not_before, self._tat - (self.burst - 1) * self.interval)
        if self._in_flight + len(self._ended) >= self.limit:
            if not self._ended:
                return None, True
            full_until = self._ended[0] + self.window
            if full_until > at:
                return full_until, True
        return at, False

    async def _wait_turn(self) -> None:
        """Wait until a request may leave, then count it as released (in flight)."""
        started = self._clock()
        waited = window_bound = False
        async with self._lock:
            while True:
                now = self._clock()
                at, full = self._ready_at(now)
                if at is not None and at <= now:
                    break
                waited = True
                window_bound = window_bound or full
                if at is None:
                    self._finished.clear()
                    await self._finished.wait()
                else:
                    await self._sleep(at - now)
            self._tat = max(self._tat, now) + self.interval
            if window_bound:  # a backlog held by the window drains evenly: no burst credit saved up meanwhile
                self._tat = max(self._tat, now + self.burst * self.interval)
            self._in_flight += 1
            self.released += 1
        if waited:
            self.waited += max(0.0, now - started)

    def _end(self) -> None:
        self._in_flight = max(0, self._in_flight - 1)
        self._ended.append(self._clock())
        self._finished.set()

    async def enter(self) -> None:
        """Wait for this request's turn; pair with `leave()` when the request has ended (`slot()` does both)."""
        if self.enabled:
            await self._wait_turn()

    def leave(self) -> None:
        """The request `enter()` let through has ended (reply read, or failed)."""
        if self.enabled:
            self._end()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot for one request: released in turn, counted until a window after it ends."""
        await self.enter()
        try:
            yield
        finally:
            self.leave()

    async def acquire(self, cost: float | None = None) -> None:
        """ccxt's `throttle` signature: wait for a turn; the request counts from now (its end is unknown).

        ccxt passes its endpoint weight as `cost`; exchanges' per-second limits count requests, so it is ignored.
        """
        if not self.enabled:
            return
        await self._wait_turn()
        self._end()


__all__ = ["DEFAULT_BURST", "RequestLimiter"]
