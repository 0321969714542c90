"""Bitget: HuFi's three probes and the spot account-info key-info call through real ccxt against the fake Bitget."""

from __future__ import annotations

from typing import Any

import ccxt.async_support as ccxt_async
import pytest

from bot.diagnosis.model import Permission
from bot.exchanges.catalog import get_spec
from bot.exchanges.report import ProbeStatus
from bot.sandbox.exchanges.base import DEFAULT_CLIENT_IP
from bot.sandbox.exchanges.bitget import FakeBitget
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

SPEC = get_spec("bitget")
SETTINGS = "/api/v3/account/settings"
V2_PROBES = ("/api/v2/spot/account/assets", "/api/v2/spot/wallet/deposit-address", "/api/v2/spot/trade/fills")
V3_PROBES = ("/api/v3/account/assets", "/api/v3/account/deposit-address", "/api/v3/trade/fills")


async def test_good_classic_key_gets_every_permission_after_the_swallowed_uta_probe() -> None:
    async with running(FakeBitget) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("bitget", creds_of(account))
        assert all_granted(report), report.to_dict()
        assert fake.requests_to(SETTINGS)  # ccxt asked for the unified-account settings first (40084, swallowed)
        assert not any(fake.requests_to(p) for p in V3_PROBES)
        (assets,) = fake.requests_to(V2_PROBES[0])
        assert assets.headers["ACCESS-PASSPHRASE"] == account.passphrase
        (deposit,) = fake.requests_to(V2_PROBES[1])
        assert deposit.query == {"coin": "ETH"}
        (fills,) = fake.requests_to(V2_PROBES[2])
        assert fills.query["symbol"] == "ETHUSDT"
        assert fills.query["limit"] == "100"
        assert fills.query["startTime"] == fills.query["endTime"]
        assert report.evidence["key_info"]["permissions"] == ["readonly"]
        assert report.evidence["key_info"]["ip_restricted"] is False


async def test_account_info_reports_user_ips_authorities_parent_and_trader_type() -> None:
    async with running(FakeBitget) as (fake, checker):
        account = fake.add_account(
            ip_whitelist=(DEFAULT_CLIENT_IP,),
            settings={"authorities": ["readonly", "trade"], "user_id": "7264631750", "parent_id": 1, "trader_type": ""},
        )
        async with checker.factory.client(SPEC, creds_of(account), markets=False) as client:
            reply = await client.private_spot_get_v2_spot_account_info()
        assert reply["code"] == "00000"
        data = reply["data"]
        assert data["userId"] == "7264631750"
        assert data["ips"] == DEFAULT_CLIENT_IP
        assert data["authorities"] == ["readonly", "trade"]
        assert data["parentId"] == 1
        assert data["traderType"] == ""


async def test_good_unified_key_uses_the_v3_endpoints() -> None:
    async with running(FakeBitget) as (fake, checker):
        account = fake.add_account(settings={"uta": True})
        report = await checker.check("bitget", creds_of(account))
        assert all_granted(report), report.to_dict()
        assert all(len(fake.requests_to(p)) == 1 for p in V3_PROBES)
        assert not any(fake.requests_to(p) for p in V2_PROBES)


async def test_unified_account_falls_back_to_classic_for_good_when_the_settings_probe_fails() -> None:
    """reference/exchanges.md finding 8: a transient error there switches the instance to classic endpoints."""
    async with running(FakeBitget) as (fake, checker):
        account = fake.add_account(settings={"uta": True})
        fake.force("exchange_unreachable", path=SETTINGS)
        report = await checker.check("bitget", creds_of(account))
        assert report.missing == list(Permission)
        assert error_types(report) == {"PermissionDenied"}
        assert all('"code":"40085"' in m and "Unified Account mode" in m for m in messages(report))


async def test_malformed_key_is_40006_and_a_typo_in_a_well_formed_key_is_40037() -> None:
    async with running(FakeBitget) as (fake, checker):
        account = fake.add_account()
        # straight through ccxt, in case a precheck learns Bitget's key format
        async with checker.factory.client(SPEC, creds_of(account, api_key=account.api_key[3:])) as client:
            with pytest.raises(ccxt_async.AuthenticationError, match='"code":"40006"'):
                await client.fetch_balance()
        report = await checker.check("bitget", creds_of(account, api_key=typo(account.api_key)))
        assert error_types(report) == {"AuthenticationError"}
        assert all('"code":"40037"' in m for m in messages(report))
        assert "key_info_error" in report.evidence


@pytest.mark.parametrize(
    ("change", "code"),
    [("secret", "40009"), ("passphrase", "40012")],
)
async def test_wrong_secret_or_passphrase_has_its_own_code(change: str, code: str) -> None:
    async with running(FakeBitget) as (fake, checker):
        account = fake.add_account()
        wrong = fake.new_secret() if change == "secret" else fake.new_passphrase()
        report = await checker.check("bitget", creds_of(account, **{change: wrong}))
        assert report.missing == list(Permission)
        assert error_types(report) == {"AuthenticationError"}
        assert all(f'"code":"{code}"' in m for m in messages(report))


async def test_ip_outside_the_allow_list_is_40018_permission_denied() -> None:
    async with running(FakeBitget) as (fake, checker):
        account = fake.add_account(ip_whitelist=("198.51.100.1",))
        report = await checker.check("bitget", creds_of(account))
        assert error_types(report) == {"PermissionDenied"}
        assert all('"code":"40018"' in m for m in messages(report))


async def test_key_without_read_permission_is_40014_but_account_info_answers() -> None:
    async with running(FakeBitget) as (fake, checker):
        account = fake.add_account()
        account.revoke(*Permission)
        report = await checker.check("bitget", creds_of(account))
        assert error_types(report) == {"PermissionDenied"}
        assert all('"code":"40014"' in m for m in messages(report))
        assert report.evidence["key_info"]["permissions"] == []


@pytest.mark.parametrize("missing", list(Permission))
async def test_each_missing_permission_fails_only_its_probe(missing: Permission) -> None:
    async with running(FakeBitget) as (fake, checker):
        account = fake.add_account()
        account.revoke(missing)
        report = await checker.check("bitget", creds_of(account))
        assert report.missing == [missing]
        assert report.outcomes[missing].error_type == "PermissionDenied"


async def test_clock_ten_minutes_behind_is_40008_invalid_nonce() -> None:
    async with running(FakeBitget, clock_offset_ms=600_000) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("bitget", creds_of(account))
        assert error_types(report) == {"InvalidNonce"}
        assert all('"code":"40008"' in m for m in messages(report))


@pytest.mark.parametrize(
    ("knob", "error_type", "code"),
    [("expired", "AuthenticationError", "40037"), ("frozen", "ExchangeError", "40013")],
)
async def test_expired_or_frozen_key(knob: str, error_type: str, code: str) -> None:
    async with running(FakeBitget) as (fake, checker):
        account = fake.add_account(**{knob: True})
        report = await checker.check("bitget", creds_of(account))
        assert error_types(report) == {error_type}
        assert all(f'"code":"{code}"' in m for m in messages(report))


@pytest.mark.parametrize(
    ("cause", "error_type", "code"),
    [
        ("rate_limited", "DDoSProtection", '"code":"429"'),
        ("exchange_maintenance", "ExchangeError", '"code":"40015"'),
        ("exchange_unreachable", "ExchangeNotAvailable", "503"),
    ],
)
async def test_forced_exchange_side_replies(cause: str, error_type: str, code: str) -> None:
    async with running(FakeBitget) as (fake, checker):
        account = fake.add_account()
        fake.force(cause)
        report = await checker.check("bitget", creds_of(account))
        assert error_types(report) == {error_type}
        assert all(code in m for m in messages(report))


async def test_no_deposit_address_fails_only_the_deposit_probe() -> None:
    async with running(FakeBitget) as (fake, checker):
        account = fake.add_account(deposit_address=None)
        report = await checker.check("bitget", creds_of(account))
        assert report.missing == [Permission.VIEW_DEPOSIT_ADDRESS]
        assert report.outcomes[Permission.VIEW_DEPOSIT_ADDRESS].error_type is None  # ccxt returned, did not raise
        assert report.outcomes[Permission.VIEW_ACCOUNT_BALANCE].status is ProbeStatus.GRANTED


async def test_fills_are_filtered_by_window_and_symbol() -> None:
    async with running(FakeBitget) as (fake, checker):
        now = fake.now_ms()
        account = fake.add_account()
        account.trades = [
            fake.make_trade(time_ms=now - 90_000),
            fake.make_trade(time_ms=now - 3_600_000),
            fake.make_trade(time_ms=now - 90_000, symbol="BTCUSDT"),
        ]
        async with checker.factory.client(SPEC, creds_of(account)) as client:
            trades = await client.fetch_my_trades("ETH/USDT", now - 120_000, 100, {"until": now})
        assert [t["timestamp"] for t in trades] == [now - 90_000]
        assert trades[0]["symbol"] == "ETH/USDT"


@pytest.mark.parametrize("fixture", replayable_fixtures("bitget"), ids=lambda f: f["id"])
async def test_fixture_reply_is_reproduced(fixture: dict[str, Any]) -> None:
    """Each recorded rejection, caused the way the fixture caused it, reaches ccxt as the recorded class."""
    expected = fixture["ccxt_exception"]
    trigger = fixture["trigger"]
    path = fixture["endpoint"].split(" ", 1)[1]
    async with running(FakeBitget) as (fake, checker):
        account = fake.add_account()
        creds = creds_of(account)
        if trigger == "client_clock_skew":
            fake.clock_offset_ms = 600_000  # the client is 10 minutes behind
        elif trigger == "client_key_typo":
            creds = creds_of(
                account, api_key=account.api_key[3:] if body_code(fixture) == "40006" else typo(account.api_key)
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
