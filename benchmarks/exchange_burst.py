"""Benchmark 5: bursts of 200, 400 and 1,000 key checks against one exchange while the event loop runs late.

What is measured: the exchange side of a burst, without Telegram. `KeyChecker.check` (real ccxt clients, the real
client factory and limiter, HuFi's three probes) runs N checks for N different good keys on the fake MEXC, at most
20 at a time (the bot's default MAX_CONCURRENT_CHECKS; the rest wait their turn). The fake adds `--latency` to
every request and refuses with MEXC's 429 reply past 20 requests in any rolling second (the catalog's rate for
MEXC). It runs on its own thread and event loop, so its request log has the exchange's own timestamps whatever
the checker's loop does. The checker's loop is made late on purpose: a task blocks it for a random 0-250 ms,
then lets it run for 50-300 ms, again and again (seeded), the way a busy bot's loop falls behind its timers.

Variants, each on a fresh factory and fake in the same run:

* "before": the previous limiter, which planned each request's start time and slept until then, and no retry of
  rate-limit replies (a 429 became the verdict);
* "planned + retry": the previous limiter with the retry of rate-limit replies;
* "limiter only": the new limiter (`bot/exchanges/limiter.py`), no retry;
* "now": the new limiter and the retry (`bot/exchanges/probes.py`, `RetryPolicy`).

Reported: the most requests the fake saw in any rolling second, how many it refused as over the limit, wrong
verdicts (a good key not told it passes), the time to the last verdict against the floor the limit sets
(requests / 20 per second; no request can leave while the loop is blocked, so the time to the last verdict is
also divided by the floor counting only the loop's free time), check duration median and p95, and the loop's
worst lateness. Targets ("now"):
0 requests over the limit in any rolling second and 0 wrong verdicts at every size.

Run: `.venv/bin/python -m benchmarks.exchange_burst [--sizes 200 400 1000] [--variants ...]`
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import max_in_window, median, ok, percentile, print_header, table
from bot.exchanges.catalog import get_spec
from bot.exchanges.credentials import Credentials
from bot.exchanges.factory import ClientFactory
from bot.exchanges.probes import KeyChecker, RetryPolicy
from bot.sandbox.exchanges.mexc import FakeMexc

EXCHANGE = "mexc"
CONCURRENT = 20  # the bot's default MAX_CONCURRENT_CHECKS


class PlannedLimiter:
    """The previous limiter, kept here as the baseline: at most `rate` starts in any 1.1 s, by *planned* times.

    Each caller computes its start time from the planned starts of the callers before it and sleeps until then,
    so when the loop wakes late, every caller whose time has passed goes at once.
    """

    def __init__(self, rate_per_second: float, *, window: float = 1.0, margin: float = 0.1) -> None:
        self.interval = 1.0 / rate_per_second
        self.limit = max(1, int(rate_per_second * window))
        self.window = window * (1 + margin)
        self._starts: deque[float] = deque(maxlen=self.limit)
        self._lock = asyncio.Lock()
        self.released = 0

    @property
    def enabled(self) -> bool:
        return True

    def hold_off(self, seconds: float) -> None:
        """The previous limiter had no way to be told to back off."""

    async def enter(self) -> None:
        async with self._lock:
            now = time.monotonic()
            start = now
            if len(self._starts) == self.limit:
                start = max(now, self._starts[0] + self.window)
            self._starts.append(start)
            delay = start - now
        self.released += 1
        if delay > 0:
            await asyncio.sleep(delay)

    def leave(self) -> None:
        pass

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.enter()
        yield

    async def acquire(self, cost: float | None = None) -> None:
        await self.enter()


@dataclass(frozen=True)
class Variant:
    name: str
    planned_limiter: bool
    retry: bool


VARIANTS = {
    v.name: v
    for v in (
        Variant("before", True, False),
        Variant("planned + retry", True, True),
        Variant("limiter only", False, False),
        Variant("now", False, True),
    )
}


class FakeOnThread:
    """A fake exchange serving from its own thread and event loop."""

    def __init__(self, make: Callable[[], FakeMexc]) -> None:
        self.fake = make()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-exchange", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self.fake.start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.fake.stop())
        self._loop.close()

    def __enter__(self) -> FakeMexc:
        self._thread.start()
        self._ready.wait(30)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


async def late_loop(stop: asyncio.Event, seed: int, lateness: list[float], blocked: list[float]) -> None:
    """Block the loop for 0-250 ms, let it run 50-300 ms, repeat; record how late the wake-up after each free
    spell comes, and the total time blocked."""
    rng = random.Random(seed)
    while not stop.is_set():
        block = rng.uniform(0.0, 0.25)
        time.sleep(block)  # noqa: ASYNC251 - the point: the loop is busy
        blocked[0] += block
        free = rng.uniform(0.05, 0.3)
        t0 = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), free)
        lateness.append(max(0.0, time.monotonic() - t0 - free))


@dataclass
class Result:
    variant: str
    checks: int
    requests: int = 0
    most_in_second: int = 0
    over_limit: int = 0
    wrong: int = 0
    wrong_causes: dict[str, int] = field(default_factory=dict)
    last_verdict: float = 0.0
    floor: float = 0.0
    durations: list[float] = field(default_factory=list)
    retries: int = 0
    lateness_max: float = 0.0
    blocked: float = 0.0  # share of the run the loop was blocked


async def run(variant: Variant, checks: int, args: argparse.Namespace) -> Result:
    spec = get_spec(EXCHANGE)
    limit = int(spec.rate_limit_per_second)
    result = Result(variant.name, checks)
    with FakeOnThread(lambda: FakeMexc(latency=args.latency, max_requests_per_second=limit)) as fake:
        accounts = [fake.add_account() for _ in range(checks)]
        factory = ClientFactory(url_overrides={EXCHANGE: fake.base_url})
        if variant.planned_limiter:
            factory._limiters[EXCHANGE] = PlannedLimiter(spec.rate_limit_per_second)  # type: ignore[assignment]
        await factory.preload(spec)
        checker = KeyChecker(factory, retry=RetryPolicy() if variant.retry else RetryPolicy(attempts=1))
        first_request = len(fake.requests)
        gate = asyncio.Semaphore(CONCURRENT)
        stop = asyncio.Event()
        lateness: list[float] = []
        blocked = [0.0]
        hog = asyncio.create_task(late_loop(stop, args.seed + checks, lateness, blocked))
        started = time.monotonic()

        async def one(account: Any) -> None:
            async with gate:
                t0 = time.monotonic()
                creds = Credentials(api_key=account.api_key, secret=account.secret)
                report = await checker.check(EXCHANGE, creds)
                result.durations.append(time.monotonic() - t0)
                if not report.ok:
                    cause = str(report.diagnosis.cause if report.diagnosis else "unknown")
                    result.wrong += 1
                    result.wrong_causes[cause] = result.wrong_causes.get(cause, 0) + 1

        await asyncio.gather(*(one(a) for a in accounts))
        result.last_verdict = time.monotonic() - started
        stop.set()
        await hog
        sent = [r.at for r in fake.requests[first_request:]]
        result.requests = len(sent)
        result.most_in_second = max_in_window(sent)
        result.over_limit = fake.over_limit
        result.floor = checks * 3 / spec.rate_limit_per_second
        result.retries = checker.rate_limit_retries
        result.lateness_max = max(lateness, default=0.0)
        result.blocked = blocked[0] / result.last_verdict
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 400, 1000])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake adds to every request")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args(argv)
    print_header("Benchmark 5: bursts of key checks against one exchange, with a late event loop")
    print(
        f"fake MEXC on its own thread: {args.latency * 1000:.0f} ms per request, refuses past 20 requests in any "
        f"rolling second; {CONCURRENT} checks at a time; loop blocked 0-250 ms, then free 50-300 ms (seed {args.seed})"
    )
    results: list[Result] = []
    for checks in args.sizes:
        for name in args.variants:
            results.append(asyncio.run(run(VARIANTS[name], checks, args)))
            r = results[-1]
            print(f"  {name} x {checks}: {r.last_verdict:.1f} s, max {r.most_in_second}/s, wrong {r.wrong}", flush=True)
    rows = []
    failed = False
    for r in results:
        met = r.most_in_second <= 20 and r.over_limit == 0 and r.wrong == 0
        if r.variant == "now" and not met:
            failed = True
        causes = ", ".join(f"{c} {n}" for c, n in sorted(r.wrong_causes.items())) or "-"
        rows.append(
            [
                r.variant,
                r.checks,
                r.requests,
                r.most_in_second,
                r.over_limit,
                r.wrong,
                causes,
                r.retries,
                f"{r.last_verdict:.1f}",
                f"{r.floor:.1f}",
                f"{r.last_verdict / r.floor:.2f}" if r.floor else "-",
                f"{r.blocked * 100:.0f} %",
                f"{r.last_verdict * (1 - r.blocked) / r.floor:.2f}" if r.floor else "-",
                f"{median(r.durations):.2f}",
                f"{percentile(r.durations, 0.95):.2f}",
                f"{r.lateness_max * 1000:.0f}",
                ok(met) if r.variant == "now" else "",
            ]
        )
    headers = [
        "variant",
        "checks",
        "requests",
        "most in any 1 s (limit 20)",
        "refused as over the limit",
        "wrong verdicts",
        "wrong verdicts said",
        "retries",
        "last verdict s",
        "floor s",
        "÷ floor",
        "loop blocked",
        "÷ floor, loop's free time only",
        "check median s",
        "check p95 s",
        "loop late max ms",
        "target",
    ]
    print(table(headers, rows))
    return 1 if failed or any(math.isnan(r.last_verdict) for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
