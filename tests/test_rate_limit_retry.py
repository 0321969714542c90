"""An exchange's "too many requests" is retried inside the check; it becomes the verdict only past the bound."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from bot.diagnosis.model import Cause, Permission
from bot.exchanges.probes import KeyChecker, RetryPolicy
from bot.exchanges.report import ProbeStatus
from bot.sandbox.exchanges.base import FakeExchange
from bot.sandbox.exchanges.binance import FakeBinance
from bot.sandbox.exchanges.kraken import FakeKraken
from bot.sandbox.exchanges.kucoin import FakeKucoin
from bot.sandbox.exchanges.mexc import FakeMexc
from bot.sandbox.exchanges.okx import FakeOkx
from tests.exchange_harness import all_granted, creds_of, running


class PolicyClock:
    """The retry policy's clock and sleep: waits are recorded and move the clock, and take no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def policy(clock: PolicyClock, **changes: Any) -> RetryPolicy:
    return RetryPolicy(clock=clock, sleep=clock.sleep, **changes)


class BinanceWithRetryAfter(FakeBinance):
    """The fake Binance, whose 429 replies say Retry-After: 2 (FakeBinance sends the header as Binance does)."""

    retry_after = 2


def private_requests(fake: FakeExchange) -> list[str]:
    """The paths of the private requests the fake received, in order."""
    out = []
    for r in fake.requests:
        route = fake.match_route(r.method, r.path)
        if route is not None and route.private:
            out.append(r.path)
    return out


@pytest.mark.parametrize(
    ("fake_cls", "exchange_id", "code"),
    [
        (FakeMexc, "mexc", "429"),  # HTTP 429 {"code":429,"msg":"Too Many Requests"}
        (FakeOkx, "okx", "50011"),  # HTTP 429 {"msg":"Too Many Requests","code":"50011"}
        (FakeKucoin, "kucoin", "429000"),  # HTTP 429 {"code":"429000",...}
        (FakeKraken, "kraken", "EAPI:Rate limit exceeded"),  # HTTP 200 {"error":["EAPI:Rate limit exceeded"]}
    ],
)
async def test_a_few_rate_limit_replies_are_retried_and_the_verdict_is_right(
    fake_cls: type[FakeExchange], exchange_id: str, code: str
) -> None:
    clock = PolicyClock()
    async with running(fake_cls) as (fake, checker):
        checker = KeyChecker(checker.factory, retry=policy(clock))
        account = fake.add_account()
        fake.force("rate_limited", times=3)  # the exchange's real reply, on the next three private requests
        before = len(private_requests(fake))
        report = await checker.check(exchange_id, creds_of(account))
        assert all_granted(report), report.to_dict()
        assert report.ok
        assert checker.rate_limit_retries == 3
        assert len(private_requests(fake)) - before >= 3 + 2  # the refused three again, and the rest
        assert clock.sleeps and all(s <= 1.0 for s in clock.sleeps)  # first and second backoff: 0.5 s, 1 s


async def test_retry_after_is_respected() -> None:
    clock = PolicyClock()
    async with running(BinanceWithRetryAfter) as (fake, checker):
        checker = KeyChecker(checker.factory, retry=policy(clock))
        account = fake.add_account()
        fake.force("rate_limited", path="/api/v3/account", times=1)
        report = await checker.check("binance", creds_of(account))
        assert all_granted(report), report.to_dict()
        assert clock.sleeps == [2.0]
        assert len(fake.requests_to("/api/v3/account")) == 2


@pytest.mark.parametrize(("fake_cls", "exchange_id"), [(FakeMexc, "mexc"), (BinanceWithRetryAfter, "binance")])
async def test_an_exchange_that_keeps_refusing_ends_as_rate_limited_within_the_bound(
    fake_cls: type[FakeExchange], exchange_id: str
) -> None:
    clock = PolicyClock()
    rules = policy(clock)
    async with running(fake_cls) as (fake, checker):
        checker = KeyChecker(checker.factory, retry=rules)
        account = fake.add_account()
        fake.force("rate_limited")  # every private request, until cleared
        report = await checker.check(exchange_id, creds_of(account))
    assert report.diagnosis is not None and report.diagnosis.cause is Cause.RATE_LIMITED
    for perm in Permission:
        assert report.outcomes[perm].status is ProbeStatus.FAILED
        assert report.outcomes[perm].diagnosis.cause is Cause.RATE_LIMITED
    assert clock.now <= rules.budget  # the check waited at most its budget
    sent = private_requests(fake)
    assert sent and all(sent.count(path) <= rules.attempts for path in sent)  # each call tried at most 4 times


async def test_a_retry_after_beyond_the_budget_is_not_waited_for() -> None:
    clock = PolicyClock()

    class Banned(BinanceWithRetryAfter):
        retry_after = 120  # a two-minute ban

    async with running(Banned) as (fake, checker):
        checker = KeyChecker(checker.factory, retry=policy(clock))
        account = fake.add_account()
        fake.force("rate_limited", path="/api/v3/account")
        report = await checker.check("binance", creds_of(account))
    assert clock.sleeps == []
    assert report.outcomes[Permission.VIEW_ACCOUNT_BALANCE].diagnosis.cause is Cause.RATE_LIMITED
    assert len(fake.requests_to("/api/v3/account")) == 1


async def test_other_failures_are_never_retried() -> None:
    clock = PolicyClock()
    async with running(FakeMexc) as (fake, checker):
        checker = KeyChecker(checker.factory, retry=policy(clock))
        account = fake.add_account()
        report = await checker.check("mexc", creds_of(account, secret=fake.new_secret()))
    assert report.diagnosis is not None and report.diagnosis.cause is Cause.SECRET_MISMATCH
    assert clock.sleeps == [] and checker.rate_limit_retries == 0
    assert len(fake.requests_to("/api/v3/account")) == 1


async def test_binance_tells_how_long_to_wait_with_its_429() -> None:
    """Binance: "A Retry-After header is sent with a 418 or 429 responses" (the fake's own limit: two a second)."""
    async with FakeBinance(max_requests_per_second=2) as fake, aiohttp.ClientSession() as session:
        statuses = []
        for _ in range(3):
            async with session.get(fake.base_url + "/api/v3/ping") as reply:
                statuses.append((reply.status, reply.headers.get("Retry-After")))
                body = await reply.json()
        assert statuses[:2] == [(200, None), (200, None)]
        assert statuses[2] == (429, "1") and body["code"] == -1003
        fake.force("rate_limited", path="/api/v3/account", times=1)
        account = fake.add_account()
        async with session.get(fake.base_url + "/api/v3/account", headers={"X-MBX-APIKEY": account.api_key}) as r:
            assert r.status == 429 and int(r.headers["Retry-After"]) >= 1
