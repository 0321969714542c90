"""BitMart: HuFi's three probes through ClientFactory and our own client against the fake BitMart."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.diagnosis.model import Permission
from bot.exchanges.bitmart import DEFAULT_API_URL, BitmartClient
from bot.exchanges.catalog import get_spec
from bot.exchanges.factory import ClientFactory
from bot.exchanges.probes import KeyChecker
from bot.exchanges.report import KeyCheckReport, ProbeStatus
from bot.sandbox.exchanges.base import METHOD_FOR_PERMISSION, fixture_replies
from bot.sandbox.exchanges.bitmart import FakeBitmart
from tests.exchange_harness import all_granted, creds_of, running

PERMISSION_FOR_METHOD = {method: perm for perm, method in METHOD_FOR_PERMISSION.items()}
CASES = [f for f in fixture_replies() if f["exchange"] == "bitmart" and f["trigger"].startswith(("client_", "server_"))]


@asynccontextmanager
async def running_with_timeout(timeout_ms: int, **fake_kwargs: Any) -> AsyncIterator[tuple[FakeBitmart, KeyChecker]]:
    """Like `running(FakeBitmart)`, with a short client timeout."""
    async with FakeBitmart(**fake_kwargs) as fake:
        factory = ClientFactory(url_overrides={"bitmart": fake.base_url}, timeout_ms=timeout_ms)
        yield fake, KeyChecker(factory)  # type: ignore[misc]


def assert_all_fail_with(report: KeyCheckReport, error_type: str, code: str) -> None:
    assert report.missing == list(Permission), report.to_dict()
    for outcome in report.outcomes.values():
        assert outcome.error_type == error_type
        assert f'"code":{code}' in (outcome.error_message or "")


async def test_good_key_gets_every_permission_and_requests_match_hufi() -> None:
    async with running(FakeBitmart) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("bitmart", creds_of(account))
        assert all_granted(report), report.to_dict()
        assert report.ok
        (deposit,) = fake.requests_to("/account/v1/deposit/address")
        # HuFi passes {network: 'ETH'}: it picks BitMart's currency id and is not sent itself
        assert deposit.query == {"currency": "ETH"}
        (trades,) = fake.requests_to("/spot/v4/query/trades")
        body = json.loads(trades.body)
        assert body["symbol"] == "ETH_USDT"
        assert body["limit"] == 200
        # HuFi's window: since = now-1 and endTime = now-1
        assert body["startTime"] == body["endTime"]
        assert list(body) == ["symbol", "limit", "startTime", "endTime"]
        for request in (deposit, trades, *fake.requests_to("/spot/v1/wallet")):
            assert request.headers["X-BM-KEY"] == account.api_key
            assert request.headers["X-BM-TIMESTAMP"].isdigit() and len(request.headers["X-BM-SIGN"]) == 64
        # markets come once per factory, from the public endpoint, unsigned
        (markets,) = fake.requests_to("/spot/v1/symbols/details")
        assert "X-BM-KEY" not in markets.headers


async def test_factory_builds_our_client_with_shared_markets_and_limiter() -> None:
    async with running(FakeBitmart) as (fake, checker):
        spec = get_spec("bitmart")
        async with checker.factory.client(spec, creds_of(fake.add_account())) as client:
            assert isinstance(client, BitmartClient)
            assert client.urls["api"]["spot"] == fake.base_url
            assert client.timeout_on_exit == 0
            limiter = checker.factory.limiter(spec)
            released = limiter.released
            limiter.interval = 1.0  # pacing on (the harness switches it off), so every request counts
            await client.fetch_balance()
            assert limiter.released == released + 1  # every request goes through the shared limiter
            assert "ETH/USDT" in (client.markets or {})
            session = client.session
        assert session is not None and session.closed  # closed on leaving, then emptied: no key left in it
        assert vars(client) == {}
        assert checker.factory.markets_loads == 1


@pytest.mark.parametrize("missing", list(Permission))
async def test_each_missing_permission_fails_only_its_probe(missing: Permission) -> None:
    async with running(FakeBitmart) as (fake, checker):
        account = fake.add_account()
        account.revoke(missing)
        report = await checker.check("bitmart", creds_of(account))
        assert report.missing == [missing]
        failed = report.outcomes[missing]
        assert failed.error_type == "PermissionDenied"
        assert '"code":30019' in (failed.error_message or "")


async def test_wrong_secret_fails_every_probe_with_the_signature_code() -> None:
    async with running(FakeBitmart) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("bitmart", creds_of(account, secret=fake.new_secret()))
        assert_all_fail_with(report, "AuthenticationError", "30005")


async def test_wrong_memo_fails_every_probe_with_the_signature_code() -> None:
    async with running(FakeBitmart) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("bitmart", creds_of(account, memo=fake.new_memo()))
        assert_all_fail_with(report, "AuthenticationError", "30005")


async def test_unknown_key_fails_every_probe_with_30002() -> None:
    async with running(FakeBitmart) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("bitmart", creds_of(account, api_key=fake.new_api_key()))
        assert_all_fail_with(report, "AuthenticationError", "30002")


async def test_missing_memo_is_caught_before_any_request() -> None:
    async with running(FakeBitmart) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("bitmart", creds_of(account, memo=""))
        assert report.precheck is not None
        assert "memo" in f"{report.precheck.code} {report.precheck.detail}".lower()
        assert not report.ok
        assert fake.requests == []


async def test_clock_skew_fails_every_probe_with_30007() -> None:
    async with running(FakeBitmart, clock_offset_ms=600_000) as (fake, checker):
        report = await checker.check("bitmart", creds_of(fake.add_account()))
        assert_all_fail_with(report, "AuthenticationError", "30007")


async def test_ip_not_whitelisted_fails_every_probe_with_30010() -> None:
    async with running(FakeBitmart) as (fake, checker):
        account = fake.add_account(ip_whitelist=("198.51.100.1",))
        report = await checker.check("bitmart", creds_of(account))
        assert_all_fail_with(report, "PermissionDenied", "30010")


async def test_expired_key_fails_every_probe_with_30011() -> None:
    async with running(FakeBitmart) as (fake, checker):
        report = await checker.check("bitmart", creds_of(fake.add_account(expired=True)))
        assert_all_fail_with(report, "AuthenticationError", "30011")


async def test_frozen_key_fails_every_probe_with_30003() -> None:
    async with running(FakeBitmart) as (fake, checker):
        report = await checker.check("bitmart", creds_of(fake.add_account(frozen=True)))
        assert_all_fail_with(report, "AccountSuspended", "30003")


async def test_maintenance_fails_every_probe_as_exchange_side() -> None:
    async with running(FakeBitmart) as (fake, checker):
        account = fake.add_account()
        fake.force("exchange_maintenance")
        report = await checker.check("bitmart", creds_of(account))
        assert_all_fail_with(report, "ExchangeNotAvailable", "30014")


async def test_no_deposit_address_fails_only_the_deposit_probe() -> None:
    async with running(FakeBitmart) as (fake, checker):
        account = fake.add_account(deposit_address=None)
        report = await checker.check("bitmart", creds_of(account))
        assert report.missing == [Permission.VIEW_DEPOSIT_ADDRESS]
        failed = report.outcomes[Permission.VIEW_DEPOSIT_ADDRESS]
        assert failed.error_type == "AttributeError"  # ccxt 4.5.70's behaviour, mirrored on purpose
        assert report.outcomes[Permission.VIEW_ACCOUNT_BALANCE].status is ProbeStatus.GRANTED


async def test_exchange_down_after_markets_fails_every_probe_as_unreachable() -> None:
    async with running(FakeBitmart) as (fake, checker):
        account = fake.add_account()
        await checker.factory.preload(get_spec("bitmart"))
        base = fake.base_url
        await fake.stop()
        report = await checker.check("bitmart", creds_of(account))
    assert report.missing == list(Permission)
    wallet = report.outcomes[Permission.VIEW_ACCOUNT_BALANCE]
    assert wallet.error_type == "ExchangeNotAvailable"
    assert wallet.error_message == f"bitmart GET {base}/spot/v1/wallet"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
async def test_fixture_case_through_a_real_check(case: dict[str, Any]) -> None:
    trigger = case["trigger"]
    perm = PERMISSION_FOR_METHOD[case["method"]]
    path = case["endpoint"].split(" ", 1)[1]
    fake_kwargs = {"clock_offset_ms": 600_000} if trigger == "client_clock_skew" else {}
    timeout_ms = 200 if trigger == "server_slow" else 10_000
    async with running_with_timeout(timeout_ms, **fake_kwargs) as (fake, checker):
        account = fake.add_account()
        changes: dict[str, str] = {}
        if trigger == "client_secret_typo":
            changes["secret"] = fake.new_secret()
        elif trigger == "client_uid_typo":
            changes["memo"] = fake.new_memo()
        elif trigger == "client_key_typo":
            changes["api_key"] = fake.new_api_key()
        elif case["cause"] == "permission_missing":
            account.revoke(perm)  # the real pipeline: the fake answers with the fixture for this probe
        elif case["cause"] == "no_deposit_address":
            account.deposit_address = None
        elif trigger == "server_slow":
            fake.force(mode="hang", path=path)
        else:
            fake.force(
                body=case["body"], status=case["http_status"], path=path if trigger == "server_endpoint" else None
            )
        report = await checker.check("bitmart", creds_of(account, **changes), permissions=[perm])
        base = fake.base_url
    outcome = report.outcomes[perm]
    assert outcome.status is ProbeStatus.FAILED, report.to_dict()
    assert outcome.error_type == case["ccxt_exception"]
    assert outcome.error_message == case["observed_message"].replace(DEFAULT_API_URL, base)
    body = case["body"]
    code = json.loads(body).get("code") if body.startswith("{") else None
    if code not in (None, 1000):
        assert f'"code":{code}' in (outcome.error_message or "")
