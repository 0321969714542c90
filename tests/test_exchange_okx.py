"""OKX: HuFi's three probes and the account/config key-info call through real ccxt against the fake OKX."""

from __future__ import annotations

from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async
import pytest

from bot.diagnosis.model import Permission
from bot.exchanges.catalog import get_spec
from bot.exchanges.report import ProbeStatus
from bot.sandbox.exchanges.base import DEFAULT_CLIENT_IP
from bot.sandbox.exchanges.okx import FakeOkx
from tests.exchange_harness import (
    all_granted,
    body_code,
    call_probe,
    creds_of,
    error_types,
    messages,
    replayable_fixtures,
    running,
    typo,
)

SPEC = get_spec("okx")
BALANCE, DEPOSIT, TRADES = Permission


async def test_good_key_reads_balance_and_trades_and_requests_match_hufi() -> None:
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("okx", creds_of(account))
        assert report.outcomes[BALANCE].status is ProbeStatus.GRANTED, report.to_dict()
        assert report.outcomes[TRADES].status is ProbeStatus.GRANTED, report.to_dict()
        (balance,) = fake.requests_to("/api/v5/account/balance")
        assert balance.headers["OK-ACCESS-PASSPHRASE"] == account.passphrase  # sent in clear, unlike KuCoin
        assert balance.headers["OK-ACCESS-TIMESTAMP"].endswith("Z")
        assert "x-simulated-trading" not in balance.headers
        (deposit,) = fake.requests_to("/api/v5/asset/deposit-address")
        assert deposit.query == {"ccy": "ETH"}
        (fills,) = fake.requests_to("/api/v5/trade/fills-history")
        assert fills.query["instId"] == "ETH-USDT"
        assert fills.query["instType"] == "SPOT"
        assert fills.query["begin"] == fills.query["end"]
        assert "limit" not in fills.query  # ccxt drops the limit when `since` is given
        assert report.evidence["key_info"]["permissions"] == ["read_only"]
        assert report.evidence["key_info"]["ip_restricted"] is False


async def test_deposit_address_is_found_once_ccxt_knows_okx_chain_ids() -> None:
    """OKX's chain ids (`ETH-ERC20`) come only from the signed /asset/currencies; with them the address parses."""
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account()
        async with checker.factory.client(SPEC, creds_of(account), markets=False) as client:
            await client.load_markets()  # with the key: markets and the signed currency list
            address = await client.fetch_deposit_address("ETH")
        assert address["address"] == account.deposit_address
        assert address["network"] == "ERC20"
        assert fake.requests_to("/api/v5/asset/currencies")


async def test_checker_finds_the_eth_deposit_address_and_fetches_chain_ids_once() -> None:
    """Keyless markets lack OKX's chain ids; the first keyed check fetches them and every later one shares them."""
    async with running(FakeOkx) as (fake, checker):
        first, second = fake.add_account(), fake.add_account()
        report = await checker.check("okx", creds_of(first))
        assert all_granted(report), report.to_dict()
        report = await checker.check("okx", creds_of(second))
        assert all_granted(report), report.to_dict()
        signed = [r for r in fake.requests_to("/api/v5/asset/currencies") if "OK-ACCESS-KEY" in r.headers]
        assert len(signed) == 1 and signed[0].headers["OK-ACCESS-KEY"] == first.api_key
        checker.factory.forget_markets("okx")  # a markets refresh fetches them again with the next key
        assert all_granted(await checker.check("okx", creds_of(second)))
        signed = [r for r in fake.requests_to("/api/v5/asset/currencies") if "OK-ACCESS-KEY" in r.headers]
        assert [r.headers["OK-ACCESS-KEY"] for r in signed] == [first.api_key, second.api_key]


async def test_a_failed_chain_id_fetch_fails_the_deposit_probe_not_the_others() -> None:
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account()
        fake.force("exchange_maintenance", path="/api/v5/asset/currencies", times=1)
        report = await checker.check("okx", creds_of(account))
        outcomes = {perm: outcome.status for perm, outcome in report.outcomes.items()}
        assert outcomes[Permission.VIEW_DEPOSIT_ADDRESS] is ProbeStatus.FAILED
        assert outcomes[Permission.VIEW_ACCOUNT_BALANCE] is ProbeStatus.GRANTED
        assert outcomes[Permission.VIEW_SPOT_TRADING_HISTORY] is ProbeStatus.GRANTED
        assert all_granted(await checker.check("okx", creds_of(account)))  # the next check fetches them


async def test_no_deposit_address_is_an_empty_list_and_ccxt_returns_none() -> None:
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account(deposit_address=None)
        async with checker.factory.client(SPEC, creds_of(account), markets=False) as client:
            await client.load_markets()
            assert await client.fetch_deposit_address("ETH") is None


async def test_account_config_reports_perm_ip_label_uid_and_level() -> None:
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account(
            ip_whitelist=(DEFAULT_CLIENT_IP, "198.51.100.1"),
            settings={"perm": "read_only,trade", "label": "hufi-mm", "uid": "44556677", "acctLv": "2"},
        )
        async with checker.factory.client(SPEC, creds_of(account), markets=False) as client:
            reply = await client.private_get_account_config()
        assert reply["code"] == "0"
        (config,) = reply["data"]
        assert config["perm"] == "read_only,trade"
        assert config["ip"] == f"{DEFAULT_CLIENT_IP},198.51.100.1"
        assert config["label"] == "hufi-mm"
        assert config["uid"] == "44556677"
        assert config["acctLv"] == "2"


async def test_unknown_key_is_50111_everywhere() -> None:
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("okx", creds_of(account, api_key=typo(account.api_key)))
        assert report.missing == list(Permission)
        assert error_types(report) == {"AuthenticationError"}
        assert all('"code":"50111"' in m for m in messages(report))
        assert "key_info_error" in report.evidence


async def test_deleted_key_is_50119_a_bare_exchange_error() -> None:
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account(settings={"deleted": True})
        report = await checker.check("okx", creds_of(account))
        assert error_types(report) == {"ExchangeError"}
        assert all('"code":"50119"' in m for m in messages(report))


async def test_wrong_secret_is_50113() -> None:
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("okx", creds_of(account, secret=fake.new_secret()))
        assert error_types(report) == {"AuthenticationError"}
        assert all('"code":"50113"' in m for m in messages(report))


async def test_wrong_passphrase_is_50105_and_travels_in_clear() -> None:
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("okx", creds_of(account, passphrase="Wrong-pass1"))
        assert error_types(report) == {"AuthenticationError"}
        assert all('"code":"50105"' in m for m in messages(report))
        assert {r.headers["OK-ACCESS-PASSPHRASE"] for r in fake.requests if "OK-ACCESS-KEY" in r.headers} == {
            "Wrong-pass1"
        }


async def test_ip_outside_the_allow_list_is_50110_permission_denied_naming_the_ip() -> None:
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account(ip_whitelist=("198.51.100.1",))
        report = await checker.check("okx", creds_of(account))
        assert report.missing == list(Permission)
        assert error_types(report) == {"PermissionDenied"}
        assert all(
            '"code":"50110"' in m and f"Your IP {DEFAULT_CLIENT_IP} is not included" in m for m in messages(report)
        )


async def test_key_without_read_permission_is_50120_but_account_config_answers() -> None:
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account()
        account.revoke(*Permission)
        report = await checker.check("okx", creds_of(account))
        assert report.missing == list(Permission)
        assert error_types(report) == {"ExchangeError"}  # ccxt has no mapping for 50120
        assert all('"code":"50120"' in m for m in messages(report))
        assert report.evidence["key_info"]["permissions"] == []


@pytest.mark.parametrize("missing", [BALANCE, TRADES])
async def test_a_missing_permission_fails_its_probe_with_50120(missing: Permission) -> None:
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account()
        account.revoke(missing)
        report = await checker.check("okx", creds_of(account))
        assert report.outcomes[missing].status is ProbeStatus.FAILED
        assert '"code":"50120"' in (report.outcomes[missing].error_message or "")
        other = TRADES if missing is BALANCE else BALANCE
        assert report.outcomes[other].status is ProbeStatus.GRANTED


async def test_clock_ten_minutes_behind_is_50102_invalid_nonce() -> None:
    async with running(FakeOkx, clock_offset_ms=600_000) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("okx", creds_of(account))
        assert error_types(report) == {"InvalidNonce"}
        assert all('"code":"50102"' in m for m in messages(report))


async def test_demo_key_on_live_is_50101() -> None:
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account(settings={"demo": True})
        report = await checker.check("okx", creds_of(account))
        assert error_types(report) == {"AuthenticationError"}
        assert all('"code":"50101"' in m for m in messages(report))


async def test_demo_key_with_the_simulated_trading_header_works_and_a_live_key_with_it_does_not() -> None:
    async with running(FakeOkx) as (fake, checker):
        demo = fake.add_account(settings={"demo": True})
        live = fake.add_account()
        async with checker.factory.client(SPEC, creds_of(demo)) as client:
            client.headers = {**client.headers, "x-simulated-trading": "1"}  # what set_sandbox_mode(True) adds
            assert (await client.fetch_balance())["ETH"]["total"] == 1.5
        async with checker.factory.client(SPEC, creds_of(live)) as client:
            client.headers = {**client.headers, "x-simulated-trading": "1"}
            with pytest.raises(ccxt_async.AuthenticationError, match="50101"):
                await client.fetch_balance()


@pytest.mark.parametrize("knob", ["expired", "frozen"])
async def test_expired_or_frozen_key_is_50100_a_bare_exchange_error(knob: str) -> None:
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account(**{knob: True})
        report = await checker.check("okx", creds_of(account))
        assert error_types(report) == {"ExchangeError"}
        assert all('"code":"50100"' in m for m in messages(report))


@pytest.mark.parametrize(
    ("cause", "error_type", "code"),
    [
        ("rate_limited", "RateLimitExceeded", "50011"),
        ("exchange_maintenance", "ExchangeNotAvailable", "50013"),
        ("exchange_unreachable", "ExchangeNotAvailable", "503"),
    ],
)
async def test_forced_exchange_side_replies(cause: str, error_type: str, code: str) -> None:
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account()
        fake.force(cause)
        report = await checker.check("okx", creds_of(account))
        assert error_types(report) == {error_type}
        assert all(code in m for m in messages(report))


@pytest.mark.parametrize(
    ("drop", "code"),
    [
        ("OK-ACCESS-KEY", "50103"),
        ("OK-ACCESS-SIGN", "50106"),
        ("OK-ACCESS-TIMESTAMP", "50107"),
        ("OK-ACCESS-PASSPHRASE", "50104"),
    ],
)
async def test_empty_auth_headers_have_their_own_codes(drop: str, code: str) -> None:
    async with FakeOkx() as fake:
        fake.add_account()
        headers = {
            "OK-ACCESS-KEY": "k",
            "OK-ACCESS-SIGN": "s",
            "OK-ACCESS-TIMESTAMP": "2026-01-01T00:00:00.000Z",
            "OK-ACCESS-PASSPHRASE": "p",
        }
        del headers[drop]
        async with aiohttp.ClientSession() as session:
            async with session.get(fake.base_url + "/api/v5/account/balance", headers=headers) as resp:
                assert resp.status == 401
                assert (await resp.json())["code"] == code


async def test_fills_are_filtered_by_window_and_instrument_newest_first() -> None:
    async with running(FakeOkx) as (fake, checker):
        now = fake.now_ms()
        account = fake.add_account()
        account.trades = [
            fake.make_trade(time_ms=now - 90_000),
            fake.make_trade(time_ms=now - 30_000),
            fake.make_trade(time_ms=now - 3_600_000),
            fake.make_trade(time_ms=now - 30_000, inst_id="BTC-USDT"),
        ]
        async with checker.factory.client(SPEC, creds_of(account)) as client:
            trades = await client.fetch_my_trades("ETH/USDT", now - 120_000, 100, {"until": now})
        assert sorted(t["timestamp"] for t in trades) == [now - 90_000, now - 30_000]
        assert {t["symbol"] for t in trades} == {"ETH/USDT"}


@pytest.mark.parametrize("fixture", replayable_fixtures("okx"), ids=lambda f: f["id"])
async def test_fixture_reply_is_reproduced(fixture: dict[str, Any]) -> None:
    """Each recorded rejection, caused the way the fixture caused it, reaches ccxt as the recorded class."""
    expected = fixture["ccxt_exception"]
    trigger = fixture["trigger"]
    path = fixture["endpoint"].split(" ", 1)[1]
    async with running(FakeOkx) as (fake, checker):
        account = fake.add_account()
        creds = creds_of(account)
        if trigger == "client_clock_skew":
            fake.clock_offset_ms = 600_000  # the client is 10 minutes behind
        elif trigger == "client_key_typo":
            creds = creds_of(account, api_key=typo(account.api_key))
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
