"""The shared per-exchange limiter: never more than the exchange's rate in any rolling second, even late."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import web

from bot.exchanges.catalog import get_spec
from bot.exchanges.factory import ClientFactory
from bot.exchanges.limiter import RequestLimiter
from bot.sandbox.exchanges.base import FakeAccount, RecordedRequest
from bot.sandbox.exchanges.mexc import FakeMexc


class FakeClock:
    """Time that moves only when the limiter sleeps or a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def most_in_any_window(times: list[float], window: float = 1.0) -> int:
    """The largest number of `times` inside any half-open window [t, t + window)."""
    times = sorted(times)
    return max((sum(1 for u in times if t <= u < t + window) for t in times), default=0)


async def test_no_rolling_second_ever_holds_more_than_the_rate() -> None:
    clock = FakeClock()
    limiter = RequestLimiter(20, clock=clock, sleep=clock.sleep)
    starts: list[float] = []

    async def request() -> None:
        async with limiter.slot():
            starts.append(clock.now)

    for _ in range(200):  # 200 requests arriving at once, each answered at once
        await request()
    assert most_in_any_window(starts) <= 20
    assert starts[: limiter.burst] == [0.0] * limiter.burst  # a check's probes never wait
    gaps = [b - a for a, b in zip(starts[limiter.burst :], starts[limiter.burst + 1 :], strict=False)]
    assert min(gaps) >= limiter.interval - 1e-9  # after the burst: evenly spaced, never bunched
    assert limiter.waited > 0


async def test_a_request_in_flight_counts_until_a_window_after_it_ends() -> None:
    clock = FakeClock()
    limiter = RequestLimiter(4, clock=clock, sleep=clock.sleep, burst=4)
    hung = asyncio.Event()
    all_inside = asyncio.Event()

    async def slow() -> None:
        async with limiter.slot():
            if limiter.in_flight == 4:
                all_inside.set()
            await hung.wait()

    tasks = [asyncio.create_task(slow()) for _ in range(4)]
    await all_inside.wait()
    fifth = asyncio.create_task(limiter.acquire())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not fifth.done()  # four requests in flight may have reached the exchange just now
    clock.now = 10.0  # however long they take
    hung.set()
    await asyncio.gather(*tasks)
    await fifth
    assert clock.now >= 10.0 + limiter.window  # released a full window after the first of them ended


async def test_hold_off_pauses_every_caller() -> None:
    clock = FakeClock()
    limiter = RequestLimiter(20, clock=clock, sleep=clock.sleep)
    limiter.hold_off(2.5)
    await limiter.acquire()
    assert clock.now == pytest.approx(2.5)
    assert limiter.held_off == 1


async def test_a_single_check_never_waits() -> None:
    clock = FakeClock()
    limiter = RequestLimiter(10, clock=clock, sleep=clock.sleep)
    for _ in range(limiter.burst):  # three probes, evidence, OKX's currency list
        await limiter.acquire(cost=20)  # ccxt's endpoint weight does not count
    assert limiter.waited == 0 and clock.now == 0.0
    await limiter.acquire()  # one more at once is paced
    assert clock.now == pytest.approx(limiter.interval)


class LateLoopMexc(FakeMexc):
    """Fake MEXC whose `hog_at`-th request blocks the event loop it shares with the clients for `hog_s` seconds:
    the bot's loop running late under load, as a timer-based limiter sees it."""

    def __init__(self, *, hog_at: int, hog_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hog_at = hog_at
        self.hog_s = hog_s

    async def server_time(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        if len(self.requests) == self.hog_at:
            time.sleep(self.hog_s)  # noqa: ASYNC251 - blocking the loop on purpose
        return await super().server_time(request, account, body)


def per_rolling_second(requests: list[RecordedRequest]) -> int:
    return most_in_any_window([r.at for r in requests])


async def test_a_late_loop_never_bunches_requests_at_the_exchange() -> None:
    """60 requests at once through real ccxt clients; the loop stalls for 1.8 s after the first 20. The fake's
    own request log must never show more than MEXC's 20 requests in any rolling second, and it refuses none."""
    spec = get_spec("mexc")
    limit = int(spec.rate_limit_per_second)
    fake = LateLoopMexc(hog_at=limit, hog_s=1.8, max_requests_per_second=limit)
    await fake.start()
    factory = ClientFactory(url_overrides={"mexc": fake.base_url})
    try:

        async def one() -> None:
            async with factory.client(spec, None, markets=False) as client:
                await client.fetch_time()

        results = await asyncio.gather(*(one() for _ in range(3 * limit)), return_exceptions=True)
    finally:
        await fake.stop()
    assert len(fake.requests) == 3 * limit
    assert per_rolling_second(fake.requests) <= limit
    assert fake.over_limit == 0
    assert [r for r in results if r is not None] == []
    assert factory.limiter(spec).released == 3 * limit
