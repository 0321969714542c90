"""BigONE: HuFi's three viewer endpoints through real ccxt against the fake BigONE (JWT HS256 auth)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import ccxt as ccxt_errors
import pytest

from bot.diagnosis import classify_error
from bot.diagnosis.model import Cause, Permission
from bot.exchanges.catalog import get_spec
from bot.exchanges.credentials import Credentials
from bot.exchanges.probes import KeyChecker, RetryPolicy
from bot.exchanges.report import KeyCheckReport, ProbeStatus
from bot.sandbox.exchanges.base import fixture_replies
from bot.sandbox.exchanges.bigone import FakeBigone
from tests.exchange_harness import all_granted, creds_of, running

ACCOUNTS = "/api/v3/viewer/accounts"
ADDRESS = "/api/v3/viewer/assets/ETH/address"
TRADES = "/api/v3/viewer/trades"
PLAN_PATHS = {ACCOUNTS, ADDRESS, TRADES}
REPRODUCED = {"client_key_typo", "client_secret_typo", "client_clock_skew", "server_all"}
FIXTURES = [
    f
    for f in fixture_replies()
    if f["exchange"] == "bigone"
    and (f["trigger"] in REPRODUCED or f["trigger"] == "server_endpoint" or f["cause"] == "no_deposit_address")
]
CURRENCIES = {"ETH": {"id": "ETH", "code": "ETH", "precision": 1e-8, "networks": {}}}


def label(fixture: dict[str, Any]) -> str:
    """What the bot has to find in the message: BigONE's code, the HTTP status of a gateway page, or ccxt's own
    message when the reply carries no error (an empty address list)."""
    body = fixture["body"] or ""
    if body.lstrip().startswith("<"):
        return str(fixture["http_status"])
    code = json.loads(body).get("code")
    return str(code) if code else str(fixture["observed_message"])


def failed_alike(report: KeyCheckReport, error_type: str, code: str) -> None:
    for outcome in report.outcomes.values():
        assert outcome.status is ProbeStatus.FAILED, report.to_dict()
        assert outcome.error_type == error_type, outcome
        assert code in (outcome.error_message or ""), outcome.error_message


@asynccontextmanager
async def ccxt_client(checker: KeyChecker, creds: Credentials) -> AsyncIterator[Any]:
    """A real ccxt bigone client from the checker's factory, with currencies set by hand (no public calls)."""
    async with checker.factory.client(get_spec("bigone"), creds, markets=False) as client:
        client.set_markets([], CURRENCIES)
        yield client


async def call(client: Any, method: str) -> Any:
    if method == "fetch_deposit_address":
        return await client.fetch_deposit_address("ETH")
    return await client.fetch_balance()


def claims_of(authorization: str) -> dict[str, Any]:
    payload = authorization.removeprefix("Bearer ").split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


async def test_good_key_gets_every_permission_and_requests_match_hufi() -> None:
    async with running(FakeBigone) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("bigone", creds_of(account))
        assert all_granted(report), report.to_dict()
        assert {r.path for r in fake.requests} == PLAN_PATHS
        (trades,) = fake.requests_to(TRADES)
        assert trades.query == {"asset_pair_name": "ETH-USDT", "limit": "200"}
        claims = claims_of(trades.headers["Authorization"])
        assert (claims["type"], claims["sub"]) == ("OpenAPIV2", account.api_key)
        assert claims["nonce"].isdigit() and len(claims["nonce"]) == 19  # nanoseconds


@pytest.mark.parametrize("missing", list(Permission))
async def test_each_missing_permission_fails_only_its_probe(missing: Permission) -> None:
    async with running(FakeBigone) as (fake, checker):
        account = fake.add_account()
        account.revoke(missing)
        report = await checker.check("bigone", creds_of(account))
        assert report.missing == [missing]
        failed = report.outcomes[missing]
        assert failed.error_type == "PermissionDenied"
        assert "10403" in (failed.error_message or "")


@pytest.mark.parametrize("settings", [{}, {"deposit_chain": "Tron"}])
async def test_no_ethereum_address_fails_only_the_deposit_probe(settings: dict[str, Any]) -> None:
    async with running(FakeBigone) as (fake, checker):
        account = fake.add_account(settings=settings)
        if not settings:
            account.deposit_address = None
        report = await checker.check("bigone", creds_of(account))
        assert report.missing == [Permission.VIEW_DEPOSIT_ADDRESS]
        assert report.outcomes[Permission.VIEW_DEPOSIT_ADDRESS].diagnosis.cause is Cause.NO_DEPOSIT_ADDRESS  # type: ignore[union-attr]


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f["id"] for f in FIXTURES])
async def test_fixture_case_is_reproduced(fixture: dict[str, Any]) -> None:
    trigger, method = fixture["trigger"], fixture["method"]
    verb, path = fixture["endpoint"].split(" ", 1)
    async with running(FakeBigone) as (fake, checker):
        account = fake.add_account()
        creds = creds_of(account)
        if trigger == "client_clock_skew":
            fake.clock_offset_ms = 600_000
        elif trigger == "client_key_typo":
            creds = creds_of(account, api_key=fake.new_api_key())
        elif trigger == "client_secret_typo":
            creds = creds_of(account, secret=fake.new_secret())
        else:
            route = fake.match_route(verb, path)
            assert route is not None
            fake.force(
                body=fixture["body"],
                status=fixture["http_status"],
                path=route.path if trigger == "server_endpoint" else None,
            )
        # the fixture's own ccxt call, against its own endpoint
        async with ccxt_client(checker, creds) as client:
            with pytest.raises(Exception) as caught:  # the class is asserted below
                await call(client, method)
        assert type(caught.value).__name__ == fixture["ccxt_exception"]
        assert label(fixture) in str(caught.value)
        assert fake.requests_to(path)
        if trigger == "server_endpoint" and path not in PLAN_PATHS:
            return
        # and through a real check (every fixture endpoint is one of HuFi's three)
        report = await checker.check("bigone", creds)
        if fixture["cause"] == "no_deposit_address":
            assert report.missing == [Permission.VIEW_DEPOSIT_ADDRESS]  # our probe reads the list: no exception
            assert report.outcomes[Permission.VIEW_DEPOSIT_ADDRESS].diagnosis.cause is Cause.NO_DEPOSIT_ADDRESS  # type: ignore[union-attr]
        else:
            failed_alike(report, fixture["ccxt_exception"], label(fixture))


@pytest.mark.parametrize("case", ["key_typo", "other_secret", "expired", "clock_skew"])
async def test_every_auth_failure_is_invalid_jwt(case: str) -> None:
    async with running(FakeBigone, clock_offset_ms=600_000 if case == "clock_skew" else 0) as (fake, checker):
        account = fake.add_account(expired=case == "expired")
        changes = {"key_typo": {"api_key": fake.new_api_key()}, "other_secret": {"secret": fake.new_secret()}}
        report = await checker.check("bigone", creds_of(account, **changes.get(case, {})))
        failed_alike(report, "AuthenticationError", "40004")
        assert "invalid jwt" in (report.outcomes[Permission.VIEW_ACCOUNT_BALANCE].error_message or "")


async def test_ip_allow_list_fails_every_probe() -> None:
    async with running(FakeBigone) as (fake, checker):
        account = fake.add_account(ip_whitelist=("198.51.100.8",))
        failed_alike(await checker.check("bigone", creds_of(account)), "PermissionDenied", "10403")


async def test_maintenance_fails_every_probe_with_the_documented_reply() -> None:
    async with running(FakeBigone) as (fake, checker):
        account = fake.add_account()
        fake.force("exchange_maintenance")
        failed_alike(await checker.check("bigone", creds_of(account)), "ExchangeError", "10005")


async def test_rate_limit_reply_is_rate_limit_exceeded() -> None:
    async with running(FakeBigone, max_requests_per_second=1) as (fake, checker):
        checker = KeyChecker(checker.factory, retry=RetryPolicy(attempts=1))  # the reply itself, not retried
        account = fake.add_account()
        report = await checker.check("bigone", creds_of(account))
        limited = [o for o in report.outcomes.values() if o.status is ProbeStatus.FAILED]
        assert len(limited) == 2 and fake.over_limit == 2
        assert all(o.error_type == "RateLimitExceeded" and "10429" in (o.error_message or "") for o in limited)


async def test_endpoints_reflect_the_account() -> None:
    async with running(FakeBigone) as (fake, checker):
        account = fake.add_account(balances={"ETH": "2.5"}, trades=[{"id": 7, "asset_pair_name": "ETH-USDT"}])
        async with ccxt_client(checker, creds_of(account)) as client:
            accounts = await client.private_get_accounts()
            address = await client.private_get_assets_asset_symbol_address({"asset_symbol": "ETH"})
            trades = await client.private_get_trades({"asset_pair_name": "ETH-USDT", "limit": 200})
        assert accounts == {"code": 0, "data": [{"asset_symbol": "ETH", "balance": "2.5", "locked_balance": "0"}]}
        assert address["data"][0]["chain"] == "Ethereum"
        assert address["data"][0]["value"] == account.deposit_address
        assert trades["data"] == [{"id": 7, "asset_pair_name": "ETH-USDT"}]


# HuFi's BigONE client counts any HTTP 401/403 as a missing permission (recording-oracle api-client/bigone): the
# bot must never call such a reply "rate limit" or "exchange down", whatever the body looks like.
FIREWALL_403 = "<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1></body></html>"


@pytest.mark.parametrize(
    ("status", "body", "error_type", "cause"),
    [
        (403, FIREWALL_403, "ExchangeNotAvailable", Cause.PERMISSION_MISSING),
        (403, "Forbidden", "ExchangeNotAvailable", Cause.PERMISSION_MISSING),
        (401, "<html><body>401 Authorization Required</body></html>", "AuthenticationError", Cause.KEY_INVALID),
    ],
)
async def test_any_401_or_403_is_judged_as_hufi_judges_it(
    status: int, body: str, error_type: str, cause: Cause
) -> None:
    async with running(FakeBigone) as (fake, checker):
        account = fake.add_account()
        fake.force(body=body, status=status)
        report = await checker.check("bigone", creds_of(account))
        assert report.missing == list(Permission)  # what HuFi would report
        for outcome in report.outcomes.values():
            assert outcome.error_type == error_type  # ccxt's generic mapping of a 401/403 page
            assert outcome.diagnosis is not None and outcome.diagnosis.cause is cause, outcome.diagnosis
        assert report.diagnosis is not None and report.diagnosis.cause is cause
        assert Cause.RATE_LIMITED not in (report.diagnosis.cause, *report.diagnosis.alternatives)


async def test_a_403_with_an_unknown_code_is_a_missing_permission_once_its_status_is_known() -> None:
    """ccxt drops the status of a JSON reply with an unknown code; the probe engine can attach it."""
    async with running(FakeBigone) as (fake, checker):
        account = fake.add_account()
        fake.force_error("10777", "access to this resource is restricted", status=403)
        async with ccxt_client(checker, creds_of(account)) as client:
            with pytest.raises(ccxt_errors.ExchangeError) as caught:
                await client.private_get_accounts()
    error = caught.value
    assert type(error).__name__ == "ExchangeError" and "403" not in str(error)
    assert error.http_status == 403  # type: ignore[attr-defined]  # noted by the factory's client
    diag = classify_error("bigone", Permission.VIEW_ACCOUNT_BALANCE, error)
    assert diag.cause is Cause.PERMISSION_MISSING and diag.code == "10777"
    del error.http_status  # type: ignore[attr-defined]  # ccxt's exception alone: the text says nothing of it
    assert classify_error("bigone", Permission.VIEW_ACCOUNT_BALANCE, error).cause is Cause.UNKNOWN


@pytest.mark.parametrize("status", [401, 403])
async def test_a_status_ccxt_drops_reaches_the_verdict_through_the_check(status: int) -> None:
    """The check attaches the reply's status to what ccxt raised (the factory notes it per request) and keeps it
    on the redacted copy: BigONE's 401/403 with an unknown JSON code is judged as HuFi judges it."""
    async with running(FakeBigone) as (fake, checker):
        account = fake.add_account()
        fake.force_error("10777", "access to this resource is restricted", status=status)
        report = await checker.check("bigone", creds_of(account))
    expected = Cause.PERMISSION_MISSING if status == 403 else Cause.KEY_INVALID
    assert report.missing == list(Permission)
    for outcome in report.outcomes.values():
        assert outcome.error_type == "ExchangeError" and str(status) not in (outcome.error_message or "")
        assert getattr(outcome.error, "http_status", None) == status
        assert outcome.diagnosis is not None and outcome.diagnosis.cause is expected, outcome.diagnosis
        assert outcome.diagnosis.code == "10777"
    assert report.diagnosis is not None and report.diagnosis.cause is expected


async def test_a_known_code_still_wins_over_the_status() -> None:
    async with running(FakeBigone) as (fake, checker):
        account = fake.add_account()
        fake.force_error("10429", "too many requests", status=403)
        report = await checker.check("bigone", creds_of(account))
        assert report.diagnosis is not None and report.diagnosis.cause is Cause.RATE_LIMITED


async def test_a_firewall_403_elsewhere_still_reads_as_a_rate_limit() -> None:
    """The BigONE rule is BigONE's: MEXC's WAF page is a rate or origin block, not the key."""
    diag = classify_error(
        "mexc",
        Permission.VIEW_ACCOUNT_BALANCE,
        ccxt_errors.ExchangeNotAvailable(f"mexc GET https://api.mexc.com/api/v3/account 403 Forbidden {FIREWALL_403}"),
    )
    assert diag.cause is Cause.RATE_LIMITED
