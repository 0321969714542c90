"""XT.COM: HuFi's three probes through real ccxt against the fake XT, and every XT fixture case reproduced."""

from __future__ import annotations

import json

import pytest
from ccxt.base.errors import ArgumentsRequired

from bot.diagnosis.model import Permission
from bot.exchanges.catalog import get_spec
from bot.exchanges.report import ProbeStatus
from bot.sandbox.exchanges.base import fixture_replies
from bot.sandbox.exchanges.xt import FakeXt
from tests.exchange_harness import PERM_OF, all_granted, arrange, creds_of, running

EXCHANGE = "xt"
SPEC = get_spec(EXCHANGE)
FIXTURES = {f["id"]: f for f in fixture_replies() if f["exchange"] == EXCHANGE}

#: how each non-ok fixture case is produced through a real check
HOW = {
    "xt-fetch_balance-key_typo": "key_typo",
    "xt-fetch_deposit_address-key_typo": "key_typo",
    "xt-fetch_my_trades-key_typo": "key_typo",
    "xt-fetch_balance-permission_missing": "revoke",
    "xt-fetch_deposit_address-permission_missing": "revoke",
    "xt-fetch_my_trades-permission_missing": "revoke",
    "xt-fetch_balance-timestamp_drift": "skew",
    "xt-fetch_deposit_address-timestamp_drift": "skew",
    "xt-fetch_my_trades-timestamp_drift": "skew",
    "xt-fetch_deposit_address-no_deposit_address": "no_address",
    "xt-fetch_deposit_address-no_deposit_address-generating": "generating",
    "xt-fetch_balance-network_down": "refused",
    "xt-fetch_balance-network_down-timeout": "slow",
}


def mc(body: str) -> str:
    try:
        return f'"mc":"{json.loads(body)["mc"]}"'
    except (ValueError, KeyError, TypeError):
        return body.strip()


async def test_good_key_gets_every_permission_and_requests_match_hufi() -> None:
    async with running(FakeXt) as (fake, checker):
        account = fake.add_account()
        report = await checker.check(EXCHANGE, creds_of(account))
        assert all_granted(report), report.to_dict()
        assert fake.requests_to("/v4/balances")
        (deposit,) = fake.requests_to("/v4/deposit/address")
        # HuFi passes {network: 'ETH'}; ccxt sends XT's chain name for it
        assert SPEC.deposit_params == {"network": "ETH"}
        assert deposit.query == {"chain": "Ethereum", "currency": "eth"}
        (trades,) = fake.requests_to("/v4/trade")
        assert trades.query["symbol"] == "eth_usdt" and trades.query["bizType"] == "SPOT"
        assert trades.query["limit"] == "100" and trades.query["direction"] == "NEXT"
        assert trades.query["startTime"] == trades.query["endTime"]  # HuFi's window: since = until = now - 1
        assert deposit.headers["xt-validate-algorithms"] == "HmacSHA256"
        assert deposit.headers["xt-validate-recvwindow"] == "5000"


@pytest.mark.parametrize("missing", list(Permission))
async def test_each_missing_permission_fails_only_its_probe(missing: Permission) -> None:
    async with running(FakeXt) as (fake, checker):
        account = fake.add_account()
        account.revoke(missing)
        report = await checker.check(EXCHANGE, creds_of(account))
        assert report.missing == [missing]
        failed = report.outcomes[missing]
        assert failed.error_type == "PermissionDenied"
        assert "AUTH_106" in (failed.error_message or "")


@pytest.mark.parametrize("fixture_id", sorted(HOW))
async def test_fixture_case_through_a_real_check(fixture_id: str) -> None:
    case = FIXTURES[fixture_id]
    async with running(FakeXt) as (fake, checker):
        account = fake.add_account()
        changes = await arrange(HOW[fixture_id], fake, checker, account, case)
        report = await checker.check(EXCHANGE, creds_of(account, **changes))
        outcome = report.outcomes[PERM_OF[case["method"]]]
        assert outcome.status is ProbeStatus.FAILED
        assert outcome.error_type == case["ccxt_exception"], outcome.error_message
        if case["body"] and case["body"] != "{}":
            assert mc(case["body"]) in (outcome.error_message or "")


def test_every_xt_fixture_case_is_mapped() -> None:
    not_ok = {i for i, f in FIXTURES.items() if f["cause"] != "ok"}
    assert not_ok == set(HOW)


async def test_deposit_without_network_param_fails_before_any_request_like_the_fixture() -> None:
    case = FIXTURES["xt-fetch_deposit_address-ok-no-network-param"]
    async with running(FakeXt) as (fake, checker):
        account = fake.add_account()
        async with checker.factory.client(SPEC, creds_of(account)) as client:
            with pytest.raises(ArgumentsRequired) as raised:
                await client.fetch_deposit_address("ETH")
        assert type(raised.value).__name__ == case["ccxt_exception"]
        assert str(raised.value) == case["observed_message"]
        assert not fake.requests_to("/v4/deposit/address")


@pytest.mark.parametrize(
    ("scenario", "error_type", "code"),
    [
        ("ip", "AuthenticationError", "AUTH_104"),
        ("expired", "AuthenticationError", "AUTH_101"),
        ("not_activated", "AuthenticationError", "AUTH_102"),
        ("frozen", "ExchangeError", "COMMON_001"),
        ("skew", "AuthenticationError", "AUTH_105"),
        ("key_typo", "AuthenticationError", "AUTH_101"),
        ("secret", "AuthenticationError", "AUTH_103"),
    ],
)
async def test_account_states_fail_every_probe(scenario: str, error_type: str, code: str) -> None:
    async with running(FakeXt) as (fake, checker):
        account = fake.add_account()
        changes = await arrange(scenario, fake, checker, account)
        report = await checker.check(EXCHANGE, creds_of(account, **changes))
        assert report.missing == list(Permission)
        for outcome in report.outcomes.values():
            assert outcome.error_type == error_type
            assert f'"mc":"{code}"' in (outcome.error_message or "")


@pytest.mark.parametrize(
    ("cause", "error_type"), [("exchange_maintenance", "OnMaintenance"), ("rate_limited", "RateLimitExceeded")]
)
async def test_exchange_side_replies_fail_every_probe(cause: str, error_type: str) -> None:
    async with running(FakeXt) as (fake, checker):
        account = fake.add_account()
        fake.force(cause)
        report = await checker.check(EXCHANGE, creds_of(account))
        assert {o.error_type for o in report.outcomes.values()} == {error_type}
