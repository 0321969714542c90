"""Binance: HuFi's three probes and the apiRestrictions key-info call through real ccxt against the fake Binance."""

from __future__ import annotations

from typing import Any

import ccxt.async_support as ccxt_async
import pytest

from bot.diagnosis.model import Permission
from bot.exchanges.catalog import get_spec
from bot.exchanges.report import ProbeStatus
from bot.sandbox.exchanges.base import DEFAULT_CLIENT_IP
from bot.sandbox.exchanges.binance import FakeBinance
from tests.exchange_harness import (
    all_granted,
    body_code,
    call_probe,
    creds_of,
    messages,
    replayable_fixtures,
    running,
    typo,
)

SPEC = get_spec("binance")
RESTRICTION_FIELDS = {
    "ipRestrict",
    "createTime",
    "enableReading",
    "enableWithdrawals",
    "enableInternalTransfer",
    "enableMargin",
    "enableFutures",
    "permitsUniversalTransfer",
    "enableVanillaOptions",
    "enableSpotAndMarginTrading",
    "enablePortfolioMarginTrading",
    "enableFixApiTrade",
    "enableFixReadOnly",
}


async def test_good_key_gets_every_permission_and_requests_match_hufi() -> None:
    async with running(FakeBinance) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("binance", creds_of(account))
        assert all_granted(report), report.to_dict()
        (deposit,) = fake.requests_to("/sapi/v1/capital/deposit/address")
        assert deposit.query["coin"] == "ETH" and "network" not in deposit.query
        assert deposit.headers["X-MBX-APIKEY"] == account.api_key
        (trades,) = fake.requests_to("/api/v3/myTrades")
        assert trades.query["symbol"] == "ETHUSDT"
        assert trades.query["limit"] == "100"
        assert trades.query["startTime"] == trades.query["endTime"]
        assert trades.query["recvWindow"] == "10000"
        assert report.evidence["key_info"]["can_read"] is True
        assert report.evidence["key_info"]["ip_restricted"] is False


async def test_api_restrictions_reports_the_keys_settings() -> None:
    async with running(FakeBinance) as (fake, checker):
        account = fake.add_account(
            ip_whitelist=(DEFAULT_CLIENT_IP,),
            settings={"create_time": 1_700_000_000_000, "api_restrictions": {"enableSpotAndMarginTrading": True}},
        )
        async with checker.factory.client(SPEC, creds_of(account), markets=False) as client:
            reply = await client.sapi_get_account_apirestrictions()
        assert set(reply) == RESTRICTION_FIELDS
        assert reply["ipRestrict"] is True
        assert reply["createTime"] == 1_700_000_000_000
        assert reply["enableReading"] is True
        assert reply["enableSpotAndMarginTrading"] is True
        assert reply["enableWithdrawals"] is False


async def test_unknown_key_is_2015_with_the_request_ip_everywhere_including_api_restrictions() -> None:
    async with running(FakeBinance) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("binance", creds_of(account, api_key=typo(account.api_key)))
        assert report.missing == list(Permission)
        assert {o.error_type for o in report.outcomes.values()} == {"AuthenticationError"}
        for message in messages(report):
            assert '"code":-2015' in message
            assert f"request ip: {DEFAULT_CLIENT_IP}" in message
        assert "key_info" not in report.evidence
        assert "key_info_error" in report.evidence


async def test_legacy_2015_text_has_no_request_ip() -> None:
    async with running(FakeBinance, legacy_2015=True) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("binance", creds_of(account, api_key=typo(account.api_key)))
        for message in messages(report):
            assert "Invalid API-key, IP, or permissions for action." in message
            assert "request ip" not in message


async def test_malformed_key_is_2014() -> None:
    """Sent straight through ccxt: the checker's precheck stops a key of the wrong length before any request."""
    async with running(FakeBinance) as (fake, checker):
        account = fake.add_account()
        async with checker.factory.client(SPEC, creds_of(account, api_key=account.api_key[:-3])) as client:
            with pytest.raises(ccxt_async.AuthenticationError, match='"code":-2014'):
                await client.fetch_balance()


async def test_wrong_secret_is_1022() -> None:
    async with running(FakeBinance) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("binance", creds_of(account, secret=fake.new_secret()))
        assert report.missing == list(Permission)
        assert {o.error_type for o in report.outcomes.values()} == {"AuthenticationError"}
        assert all('"code":-1022' in m for m in messages(report))


async def test_ip_outside_the_allow_list_is_the_same_2015_and_api_restrictions_fails_too() -> None:
    async with running(FakeBinance) as (fake, checker):
        account = fake.add_account(ip_whitelist=("198.51.100.1",))
        report = await checker.check("binance", creds_of(account))
        assert report.missing == list(Permission)
        assert all(
            f'-2015,"msg":"Invalid API-key, IP, or permissions for action, request ip: {DEFAULT_CLIENT_IP}' in m
            for m in messages(report)
        )
        assert "key_info_error" in report.evidence


async def test_reading_switched_off_fails_the_probes_but_api_restrictions_answers() -> None:
    async with running(FakeBinance) as (fake, checker):
        account = fake.add_account()
        account.revoke(*Permission)
        report = await checker.check("binance", creds_of(account))
        assert report.missing == list(Permission)
        outcomes = report.outcomes
        assert '"code":-2015' in (outcomes[Permission.VIEW_ACCOUNT_BALANCE].error_message or "")
        assert '"code":-2015' in (outcomes[Permission.VIEW_SPOT_TRADING_HISTORY].error_message or "")
        # the fixture's reply for the sapi deposit-address route
        assert '"code":-1002' in (outcomes[Permission.VIEW_DEPOSIT_ADDRESS].error_message or "")
        assert report.evidence["key_info"]["can_read"] is False


@pytest.mark.parametrize("missing", list(Permission))
async def test_each_missing_permission_fails_only_its_probe(missing: Permission) -> None:
    async with running(FakeBinance) as (fake, checker):
        account = fake.add_account()
        account.revoke(missing)
        report = await checker.check("binance", creds_of(account))
        assert report.missing == [missing]
        failed = report.outcomes[missing]
        assert ('"code":-1002' if missing is Permission.VIEW_DEPOSIT_ADDRESS else '"code":-2015') in (
            failed.error_message or ""
        )
        # The probes share one client: once the balance call (/api/v3) has succeeded, ccxt relabels a later -2015
        # as DDoSProtection (reference/exchanges.md finding 3), so the class depends on which reply came first.
        assert failed.error_type in {"AuthenticationError", "DDoSProtection"}


@pytest.mark.parametrize(
    ("offset_ms", "text"),
    [
        (600_000, "outside of the recvWindow"),  # client clock 10 minutes behind the exchange
        (-5_000, "ahead of the server's time"),  # client clock 5 seconds ahead
    ],
)
async def test_clock_skew_is_invalid_nonce_1021(offset_ms: int, text: str) -> None:
    async with running(FakeBinance, clock_offset_ms=offset_ms) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("binance", creds_of(account))
        assert {o.error_type for o in report.outcomes.values()} == {"InvalidNonce"}
        assert all('"code":-1021' in m and text in m for m in messages(report))


async def test_deleted_key_2008_is_a_bare_exchange_error_under_url_override() -> None:
    async with running(FakeBinance) as (fake, checker):
        account = fake.add_account(expired=True)
        report = await checker.check("binance", creds_of(account))
        assert report.missing == list(Permission)
        # reference/exchanges.md finding 10: the spot error table only applies to https://api.binance.com/
        assert {o.error_type for o in report.outcomes.values()} == {"ExchangeError"}
        assert all('"code":-2008' in m for m in messages(report))


@pytest.mark.parametrize(
    ("cause", "error_type", "code"),
    [
        ("rate_limited", "DDoSProtection", "-1003"),
        ("exchange_maintenance", "OnMaintenance", "maintenance"),
        ("exchange_unreachable", "ExchangeNotAvailable", "503"),
    ],
)
async def test_forced_exchange_side_replies(cause: str, error_type: str, code: str) -> None:
    async with running(FakeBinance) as (fake, checker):
        account = fake.add_account()
        fake.force(cause)
        report = await checker.check("binance", creds_of(account))
        assert report.missing == list(Permission)
        assert {o.error_type for o in report.outcomes.values()} == {error_type}
        assert all(code in m for m in messages(report))


async def test_2015_after_a_success_on_the_same_instance_is_relabelled_ddos_protection() -> None:
    async with running(FakeBinance) as (fake, checker):
        account = fake.add_account()
        async with checker.factory.client(SPEC, creds_of(account)) as client:
            await client.fetch_balance()
            account.ip_whitelist = ("198.51.100.1",)
            with pytest.raises(ccxt_async.DDoSProtection, match="-2015"):
                await client.fetch_balance()


async def test_trades_are_filtered_by_window_and_symbol() -> None:
    async with running(FakeBinance) as (fake, checker):
        now = fake.now_ms()
        account = fake.add_account()
        account.trades = [
            fake.make_trade(time_ms=now - 60_000),
            fake.make_trade(time_ms=now - 3_600_000),
            fake.make_trade(time_ms=now - 60_000, symbol="BTCUSDT"),
        ]
        async with checker.factory.client(SPEC, creds_of(account)) as client:
            trades = await client.fetch_my_trades("ETH/USDT", now - 120_000, 100, {"until": now})
            assert [t["timestamp"] for t in trades] == [now - 60_000]
            assert trades[0]["symbol"] == "ETH/USDT"
            with pytest.raises(ccxt_async.ExchangeError, match="-1127"):
                await client.fetch_my_trades("ETH/USDT", now - 2 * 86_400_000, 100, {"until": now})


async def test_no_deposit_address_fails_only_the_deposit_probe() -> None:
    async with running(FakeBinance) as (fake, checker):
        account = fake.add_account(deposit_address=None)
        report = await checker.check("binance", creds_of(account))
        assert report.missing == [Permission.VIEW_DEPOSIT_ADDRESS]
        assert report.outcomes[Permission.VIEW_ACCOUNT_BALANCE].status is ProbeStatus.GRANTED


@pytest.mark.parametrize("fixture", replayable_fixtures("binance"), ids=lambda f: f["id"])
async def test_fixture_reply_is_reproduced(fixture: dict[str, Any]) -> None:
    """Each recorded rejection, caused the way the fixture caused it, reaches ccxt as the recorded class."""
    # reference/exchanges.md finding 10: under a URL override ccxt skips Binance's spot table
    expected = "ExchangeError" if body_code(fixture) in ("-2008", "-1008") else fixture["ccxt_exception"]
    trigger = fixture["trigger"]
    path = fixture["endpoint"].split(" ", 1)[1]
    async with running(FakeBinance) as (fake, checker):
        account = fake.add_account()
        creds = creds_of(account)
        if trigger == "client_clock_skew":
            fake.clock_offset_ms = 600_000  # the client is 10 minutes behind
        elif trigger == "client_key_typo":
            creds = creds_of(
                account, api_key=account.api_key[:-3] if body_code(fixture) == "-2014" else typo(account.api_key)
            )
        elif trigger == "client_secret_typo":
            creds = creds_of(account, secret=fake.new_secret())
        elif trigger == "client_passphrase_typo":
            creds = creds_of(account, passphrase=(account.passphrase or "") + "x")
        else:
            fake.force(
                body=fixture["body"], status=fixture["http_status"], path=path if trigger == "server_endpoint" else None
            )
        async with checker.factory.client(SPEC, creds) as client:
            with pytest.raises(ccxt_async.BaseError) as caught:
                await call_probe(client, fixture["method"])
        assert fake.requests_to(path)
    assert type(caught.value).__name__ == expected
    if trigger.startswith("server_") and "http" not in fixture["observed_message"]:
        assert str(caught.value) == fixture["observed_message"]
    else:
        assert body_code(fixture) in str(caught.value)
