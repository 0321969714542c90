"""KuCoin: HuFi's key-info rule ('General') plus our ETH-address probe, through real ccxt against the fake KuCoin."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import ccxt
import pytest

from bot.diagnosis.model import Cause, Permission
from bot.exchanges.catalog import get_spec
from bot.exchanges.credentials import Credentials
from bot.exchanges.probes import KeyChecker
from bot.exchanges.report import KeyCheckReport, ProbeStatus
from bot.sandbox.exchanges.base import fixture_replies
from bot.sandbox.exchanges.kucoin import FakeKucoin
from tests.exchange_harness import all_granted, creds_of, running

PLAN_PATHS = {"/api/v1/user/api-key", "/api/v3/deposit-addresses"}
REPRODUCED = {"client_key_typo", "client_secret_typo", "client_passphrase_typo", "client_clock_skew", "server_all"}
FIXTURES = [
    f
    for f in fixture_replies()
    if f["exchange"] == "kucoin"
    and (f["trigger"] in REPRODUCED or f["trigger"] == "server_endpoint" or f["cause"] == "no_deposit_address")
]
MARKET = {
    "id": "ETH-USDT",
    "symbol": "ETH/USDT",
    "base": "ETH",
    "quote": "USDT",
    "baseId": "ETH",
    "quoteId": "USDT",
    "type": "spot",
    "spot": True,
    "active": True,
}
CURRENCIES = {c: {"id": c, "code": c, "precision": 1e-8, "networks": {}} for c in ("ETH", "USDT")}


def label(fixture: dict[str, Any]) -> str:
    """The exchange code the bot has to find in the message (the HTTP status for non-JSON bodies)."""
    try:
        return str(json.loads(fixture["body"])["code"])
    except (ValueError, KeyError, TypeError):
        return str(fixture["http_status"])


def failed_alike(report: KeyCheckReport, error_type: str, code: str) -> None:
    for outcome in report.outcomes.values():
        assert outcome.status is ProbeStatus.FAILED, report.to_dict()
        assert outcome.error_type == error_type, outcome
        assert code in (outcome.error_message or ""), outcome.error_message


@asynccontextmanager
async def ccxt_client(checker: KeyChecker, creds: Credentials) -> AsyncIterator[Any]:
    """A real ccxt kucoin client from the checker's factory, with markets set by hand (no public calls)."""
    async with checker.factory.client(get_spec("kucoin"), creds, markets=False) as client:
        client.set_markets([MARKET], CURRENCIES)
        yield client


async def call(client: Any, method: str) -> Any:
    if method == "fetch_deposit_address":
        return await client.fetch_deposit_address("ETH")
    if method == "fetch_my_trades":
        return await client.fetch_my_trades("ETH/USDT")
    return await client.fetch_balance()


async def test_good_key_is_granted_by_key_info_and_requests_match_the_plan() -> None:
    async with running(FakeKucoin) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("kucoin", creds_of(account))
        assert all_granted(report), report.to_dict()
        assert report.evidence["key_info"]["permissions"] == ["General"]
        assert {r.path for r in fake.requests} == PLAN_PATHS  # no /api/ua pre-call, no public endpoints
        (deposit,) = fake.requests_to("/api/v3/deposit-addresses")
        assert deposit.raw_query == "currency=ETH&chain=eth"
        (info,) = fake.requests_to("/api/v1/user/api-key")
        assert info.headers["KC-API-KEY-VERSION"] == "2"
        assert info.headers["KC-API-PASSPHRASE"] != account.passphrase  # v2: HMAC'd with the secret


@pytest.mark.parametrize("missing", list(Permission))
async def test_without_general_every_permission_is_missing(missing: Permission) -> None:
    async with running(FakeKucoin) as (fake, checker):
        account = fake.add_account()
        account.revoke(missing)
        report = await checker.check("kucoin", creds_of(account))
        assert report.missing == list(Permission)
        assert "General" not in report.evidence["key_info"]["permissions"]
        assert all(o.diagnosis and o.diagnosis.cause is Cause.PERMISSION_MISSING for o in report.outcomes.values())


@pytest.mark.parametrize(("permission", "granted"), [("General,Spot", True), ("Spot,Margin", False), ("", False)])
async def test_settings_permission_string_decides(permission: str, granted: bool) -> None:
    async with running(FakeKucoin) as (fake, checker):
        account = fake.add_account(settings={"permission": permission})
        report = await checker.check("kucoin", creds_of(account))
        assert report.ok is granted
        assert report.evidence["key_info"]["permissions"] == [p for p in permission.split(",") if p]


@pytest.mark.parametrize("settings", [{}, {"deposit_to": "TRADE"}])
async def test_no_main_eth_address_fails_only_the_deposit_probe(settings: dict[str, Any]) -> None:
    async with running(FakeKucoin) as (fake, checker):
        account = fake.add_account(settings=settings)
        if not settings:
            account.deposit_address = None
        report = await checker.check("kucoin", creds_of(account))
        assert report.missing == [Permission.VIEW_DEPOSIT_ADDRESS]
        assert report.outcomes[Permission.VIEW_DEPOSIT_ADDRESS].diagnosis.cause is Cause.NO_DEPOSIT_ADDRESS  # type: ignore[union-attr]


async def test_deposit_disabled_114001_fails_only_the_deposit_probe() -> None:
    async with running(FakeKucoin) as (fake, checker):
        account = fake.add_account(settings={"deposit_disabled": True})
        report = await checker.check("kucoin", creds_of(account))
        assert report.missing == [Permission.VIEW_DEPOSIT_ADDRESS]
        deposit = report.outcomes[Permission.VIEW_DEPOSIT_ADDRESS]
        assert deposit.error_type == "ExchangeError" and "114001" in (deposit.error_message or "")


@pytest.mark.parametrize(
    ("change", "error_type", "code"),
    [
        ("api_key", "AuthenticationError", "400003"),
        ("secret", "AuthenticationError", "400005"),
        ("passphrase", "AuthenticationError", "400004"),
    ],
)
async def test_wrong_credentials_name_the_field(change: str, error_type: str, code: str) -> None:
    async with running(FakeKucoin) as (fake, checker):
        account = fake.add_account()
        wrong = {"api_key": fake.new_api_key(), "secret": fake.new_secret(), "passphrase": "Wrong-pass-1"}[change]
        report = await checker.check("kucoin", creds_of(account, **{change: wrong}))
        failed_alike(report, error_type, code)


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f["id"] for f in FIXTURES])
async def test_fixture_case_is_reproduced(fixture: dict[str, Any]) -> None:
    trigger, method = fixture["trigger"], fixture["method"]
    path = fixture["endpoint"].split(" ", 1)[1]
    async with running(FakeKucoin) as (fake, checker):
        account = fake.add_account()
        creds = creds_of(account)
        if trigger == "client_clock_skew":
            fake.clock_offset_ms = 600_000  # the client is 10 minutes behind
        elif trigger == "client_key_typo":
            creds = creds_of(account, api_key=account.api_key[:-1] + ("0" if account.api_key[-1] != "0" else "1"))
        elif trigger == "client_secret_typo":
            creds = creds_of(account, secret=fake.new_secret())
        elif trigger == "client_passphrase_typo":
            creds = creds_of(account, passphrase=(account.passphrase or "") + "x")
        else:
            fake.force(
                body=fixture["body"],
                status=fixture["http_status"],
                path=path if trigger == "server_endpoint" else None,
            )
        # the fixture's own ccxt call, against its own endpoint
        async with ccxt_client(checker, creds) as client:
            with pytest.raises(Exception) as caught:  # the class is asserted below
                await call(client, method)
        assert type(caught.value).__name__ == fixture["ccxt_exception"]
        assert label(fixture) in str(caught.value)
        # a server_all reply already fails ccxt's /api/ua/v1/account/mode pre-call, as on the real exchange
        assert fake.requests_to(path if trigger == "server_endpoint" else "/api/ua/v1/account/mode")
        # and through a real check, when the fixture's cause reaches the endpoints our plan calls
        if trigger != "server_endpoint" or path in PLAN_PATHS:
            report = await checker.check("kucoin", creds)
            failed_alike(report, fixture["ccxt_exception"], label(fixture))


@pytest.mark.parametrize("method", ["fetch_balance", "fetch_deposit_address", "fetch_my_trades"])
async def test_classic_endpoints_need_general(method: str) -> None:
    """ccxt's unified methods against a key without General: the observed 400007 reply, from the fake itself."""
    async with running(FakeKucoin) as (fake, checker):
        account = fake.add_account(settings={"permission": "Spot"})
        async with ccxt_client(checker, creds_of(account)) as client:
            with pytest.raises(ccxt.AuthenticationError, match="400007"):
                await call(client, method)


async def test_ip_allow_list_fails_every_probe_and_shows_the_ip() -> None:
    async with running(FakeKucoin, client_ip="198.51.100.23") as (fake, checker):
        account = fake.add_account(ip_whitelist=("203.0.113.99",))
        report = await checker.check("kucoin", creds_of(account))
        failed_alike(report, "AuthenticationError", "400006")
        assert "198.51.100.23" in (report.outcomes[Permission.VIEW_ACCOUNT_BALANCE].error_message or "")


async def test_allowed_ip_passes_and_key_info_shows_the_restriction() -> None:
    async with running(FakeKucoin) as (fake, checker):
        account = fake.add_account(ip_whitelist=("10.0.0.1", fake.client_ip))
        report = await checker.check("kucoin", creds_of(account))
        assert report.ok
        assert report.evidence["key_info"]["ip_restricted"] is True
        assert report.evidence["key_info"]["ips"] == ["10.0.0.1", fake.client_ip]


@pytest.mark.parametrize(
    ("state", "error_type", "code"),
    [("expired", "AuthenticationError", "400003"), ("frozen", "AccountSuspended", "411100")],
)
async def test_account_state_fails_every_probe(state: str, error_type: str, code: str) -> None:
    async with running(FakeKucoin) as (fake, checker):
        account = fake.add_account(**{state: True})
        failed_alike(await checker.check("kucoin", creds_of(account)), error_type, code)


async def test_clock_skew_is_invalid_nonce() -> None:
    async with running(FakeKucoin, clock_offset_ms=-600_000) as (fake, checker):
        account = fake.add_account()
        failed_alike(await checker.check("kucoin", creds_of(account)), "InvalidNonce", "400002")


async def test_maintenance_is_exchange_not_available() -> None:
    async with running(FakeKucoin) as (fake, checker):
        account = fake.add_account()
        fake.force("exchange_maintenance")
        failed_alike(await checker.check("kucoin", creds_of(account)), "ExchangeNotAvailable", "500000")


async def test_key_info_endpoint_reflects_the_account() -> None:
    async with running(FakeKucoin) as (fake, checker):
        account = fake.add_account(
            ip_whitelist=(fake.client_ip,),
            settings={"permission": "General,Spot", "remark": "hufi", "api_version": 2, "is_master": False},
        )
        async with ccxt_client(checker, creds_of(account)) as client:
            reply = await client.private_get_user_api_key()
        assert reply["code"] == "200000"
        data = reply["data"]
        assert data["apiKey"] == account.api_key
        assert (data["permission"], data["ipWhitelist"], data["remark"]) == ("General,Spot", fake.client_ip, "hufi")
        assert (data["apiVersion"], data["isMaster"]) == (2, False)
        assert isinstance(data["createdAt"], int)
