"""The shared per-exchange limiter: never more than the exchange's rate in any rolling second."""

from __future__ import annotations

import asyncio

import pytest

from bot.exchanges import factory
from bot.exchanges.factory import RequestLimiter


async def test_no_rolling_second_ever_holds_more_than_the_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds  # requests run instantly; only the limiter's waits move the clock

    starts: list[float] = []
    limiter = RequestLimiter(20, clock=lambda: now[0])

    async def request() -> None:
        await limiter.acquire()
        starts.append(now[0])

    monkeypatch.setattr(factory.asyncio, "sleep", fake_sleep)
    for _ in range(200):  # 200 requests arriving at once
        await request()
    worst = max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts)
    assert worst <= 20
    assert starts[19] == 0.0  # a first burst (a few checks) never waits
    assert limiter.waited > 0


async def test_a_single_check_never_waits() -> None:
    limiter = RequestLimiter(10)
    started = asyncio.get_running_loop().time()
    for _ in range(5):
        await limiter.acquire(cost=20)  # ccxt's endpoint weight does not count
    assert asyncio.get_running_loop().time() - started < 0.05
    assert limiter.waited == 0
