"""Bybit: HuFi's three probes through real ccxt against the fake Bybit, and every Bybit fixture case reproduced."""

from __future__ import annotations

import json

import pytest
from ccxt.base.errors import ExchangeError

from bot.diagnosis.model import Permission
from bot.exchanges.catalog import get_spec
from bot.exchanges.report import ProbeStatus
from bot.sandbox.exchanges.base import DEFAULT_CLIENT_IP, fixture_replies
from bot.sandbox.exchanges.bybit import PERMISSION_NAMES, FakeBybit
from tests.exchange_harness import OTHER_IP, PERM_OF, all_granted, arrange, creds_of, running, typo

EXCHANGE = "bybit"
SPEC = get_spec(EXCHANGE)
FIXTURES = {f["id"]: f for f in fixture_replies() if f["exchange"] == EXCHANGE}

#: how each non-ok fixture case is produced through a real check
HOW = {
    "bybit-fetch_balance-secret_mismatch": "secret",
    "bybit-fetch_deposit_address-secret_mismatch": "secret",
    "bybit-fetch_my_trades-secret_mismatch": "secret",
    "bybit-fetch_balance-permission_missing": "revoke",
    "bybit-fetch_deposit_address-permission_missing": "revoke",
    "bybit-fetch_my_trades-permission_missing": "revoke",
    "bybit-fetch_balance-timestamp_drift": "skew",
    "bybit-fetch_deposit_address-timestamp_drift": "skew",
    "bybit-fetch_my_trades-timestamp_drift": "skew",
    "bybit-fetch_balance-rate_limited-ip-403": "force_all",
    "bybit-fetch_balance-maintenance": "force_all",
    "bybit-fetch_deposit_address-no_deposit_address": "no_address",
    "bybit-fetch_balance-network_down": "refused",
    "bybit-fetch_balance-network_down-timeout": "slow",
}


def ret_code(body: str) -> str:
    try:
        return str(json.loads(body)["retCode"])
    except (ValueError, KeyError, TypeError):
        return body.strip()


async def test_good_key_gets_every_permission_and_requests_match_hufi() -> None:
    async with running(FakeBybit) as (fake, checker):
        account = fake.add_account()
        report = await checker.check(EXCHANGE, creds_of(account))
        assert all_granted(report), report.to_dict()
        # ccxt's hidden pre-calls of fetch_balance, then the unified wallet
        assert fake.requests_to("/v5/user/query-api") and fake.requests_to("/v5/account/info")
        (balance,) = fake.requests_to("/v5/account/wallet-balance")
        assert balance.query == {"accountType": "UNIFIED"}
        (deposit,) = fake.requests_to("/v5/asset/deposit/query-address")
        assert SPEC.deposit_params == {} and deposit.query == {"coin": "ETH"}  # HuFi passes {} for bybit
        (trades,) = fake.requests_to("/v5/execution/list")
        assert trades.query["symbol"] == "ETHUSDT" and trades.query["category"] == "spot"
        assert trades.query["execType"] == "Trade" and trades.query["limit"] == "100"
        assert trades.query["startTime"] == trades.query["endTime"]  # HuFi's window: since = until = now - 1


@pytest.mark.parametrize("missing", list(Permission))
async def test_each_missing_permission_fails_only_its_probe(missing: Permission) -> None:
    async with running(FakeBybit) as (fake, checker):
        account = fake.add_account()
        account.revoke(missing)
        report = await checker.check(EXCHANGE, creds_of(account))
        assert report.missing == [missing]
        failed = report.outcomes[missing]
        assert failed.error_type == "PermissionDenied"
        assert '"retCode":10005' in (failed.error_message or "")


@pytest.mark.parametrize("fixture_id", sorted(HOW))
async def test_fixture_case_through_a_real_check(fixture_id: str) -> None:
    case = FIXTURES[fixture_id]
    async with running(FakeBybit) as (fake, checker):
        account = fake.add_account()
        changes = await arrange(HOW[fixture_id], fake, checker, account, case)
        report = await checker.check(EXCHANGE, creds_of(account, **changes))
        outcome = report.outcomes[PERM_OF[case["method"]]]
        assert outcome.status is ProbeStatus.FAILED
        assert outcome.error_type == case["ccxt_exception"], outcome.error_message
        if case["body"] and case["body"] != "{}" and case["cause"] != "no_deposit_address":
            assert ret_code(case["body"]) in (outcome.error_message or "")
        if case["cause"] == "no_deposit_address":
            assert outcome.error_message == case["observed_message"]


def test_every_bybit_fixture_case_is_mapped() -> None:
    not_ok = {i for i, f in FIXTURES.items() if f["cause"] != "ok"}
    assert not_ok == set(HOW)


@pytest.mark.parametrize(
    ("scenario", "error_type", "code"),
    [
        ("ip", "PermissionDenied", "10010"),
        ("expired", "AuthenticationError", "33004"),
        ("frozen", "AccountSuspended", "10008"),
        ("skew", "InvalidNonce", "10002"),
        ("key_typo", "AuthenticationError", "10003"),
        ("secret", "AuthenticationError", "10004"),
    ],
)
async def test_account_states_fail_every_probe(scenario: str, error_type: str, code: str) -> None:
    async with running(FakeBybit) as (fake, checker):
        account = fake.add_account()
        changes = await arrange(scenario, fake, checker, account)
        report = await checker.check(EXCHANGE, creds_of(account, **changes))
        assert report.missing == list(Permission)
        for outcome in report.outcomes.values():
            assert outcome.error_type == error_type
            assert f'"retCode":{code}' in (outcome.error_message or "")


async def test_signature_error_echoes_what_was_signed() -> None:
    async with running(FakeBybit) as (fake, checker):
        account = fake.add_account()
        report = await checker.check(EXCHANGE, creds_of(account, secret=fake.new_secret()))
        message = report.outcomes[Permission.VIEW_DEPOSIT_ADDRESS].error_message or ""
        assert "5000coin=ETH]" in message and "origin_string[" in message


async def test_clock_skew_reply_carries_both_timestamps() -> None:
    async with running(FakeBybit, clock_offset_ms=-600_000) as (fake, checker):
        report = await checker.check(EXCHANGE, creds_of(fake.add_account()))
        message = report.outcomes[Permission.VIEW_SPOT_TRADING_HISTORY].error_message or ""
        assert "recv_window[5000]" in message and "server_timestamp[" in message


@pytest.mark.parametrize(
    ("cause", "error_type", "code"),
    [("exchange_maintenance", "ExchangeError", '"retCode":10016'), ("rate_limited", "RateLimitExceeded", "403")],
)
async def test_exchange_side_replies_fail_every_probe(cause: str, error_type: str, code: str) -> None:
    async with running(FakeBybit) as (fake, checker):
        account = fake.add_account()
        fake.force(cause)
        report = await checker.check(EXCHANGE, creds_of(account))
        assert {o.error_type for o in report.outcomes.values()} == {error_type}
        assert all(code in (o.error_message or "") for o in report.outcomes.values())


async def test_key_info_endpoint_reflects_permissions_ips_and_expiry() -> None:
    async with running(FakeBybit) as (fake, checker):
        account = fake.add_account(ip_whitelist=(DEFAULT_CLIENT_IP, OTHER_IP))
        account.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
        plain = fake.add_account()
        async with checker.factory.client(SPEC, creds_of(account)) as client:
            info = (await client.private_get_v5_user_query_api())["result"]
        async with checker.factory.client(SPEC, creds_of(plain)) as client:
            plain_info = (await client.private_get_v5_user_query_api())["result"]
        assert info["apiKey"] == account.api_key and info["readOnly"] == 1
        assert info["ips"] == [DEFAULT_CLIENT_IP, OTHER_IP]
        assert info["permissions"]["Wallet"] == ["AccountTransfer", "SubMemberTransfer"]
        assert info["permissions"]["Spot"] == []
        assert info["deadlineDay"] == 0 and info["expiredAt"] == ""  # IP-bound keys do not expire
        assert plain_info["ips"] == ["*"] and plain_info["deadlineDay"] == 89 and plain_info["expiredAt"]
        group, name = PERMISSION_NAMES[Permission.VIEW_SPOT_TRADING_HISTORY]
        assert name in plain_info["permissions"][group]


async def test_key_info_endpoint_rejects_a_bad_key_like_every_private_endpoint() -> None:
    async with running(FakeBybit) as (fake, checker):
        account = fake.add_account()
        async with checker.factory.client(SPEC, creds_of(account, api_key=typo(account.api_key))) as client:
            with pytest.raises(ExchangeError, match="10003"):
                await client.private_get_v5_user_query_api()
