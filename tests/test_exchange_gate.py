"""Gate: HuFi's three probes through real ccxt against the fake Gate, and every Gate fixture case reproduced."""

from __future__ import annotations

import json

import pytest
from ccxt.base.errors import ExchangeError

from bot.diagnosis.model import Permission
from bot.exchanges.catalog import get_spec
from bot.exchanges.report import ProbeStatus
from bot.sandbox.exchanges.base import DEFAULT_CLIENT_IP, fixture_replies
from bot.sandbox.exchanges.gate import FakeGate
from tests.exchange_harness import OTHER_IP, PERM_OF, all_granted, arrange, creds_of, running

EXCHANGE = "gate"
SPEC = get_spec(EXCHANGE)
FIXTURES = {f["id"]: f for f in fixture_replies() if f["exchange"] == EXCHANGE}

#: how each non-ok fixture case is produced through a real check
HOW = {
    "gate-fetch_balance-key_typo": "key_typo",
    "gate-fetch_deposit_address-key_typo": "key_typo",
    "gate-fetch_my_trades-key_typo": "key_typo",
    "gate-fetch_balance-secret_mismatch": "secret",
    "gate-fetch_deposit_address-secret_mismatch": "secret",
    "gate-fetch_my_trades-secret_mismatch": "secret",
    "gate-fetch_balance-ip_not_whitelisted-documented-label": "force_all",  # the real check answers FORBIDDEN
    "gate-fetch_balance-key_expired": "expired",
    "gate-fetch_balance-timestamp_drift": "skew",
    "gate-fetch_deposit_address-timestamp_drift": "skew",
    "gate-fetch_my_trades-timestamp_drift": "skew",
    "gate-fetch_balance-maintenance": "force_all",
    "gate-fetch_balance-network_down": "refused",
    "gate-fetch_balance-network_down-timeout": "slow",
}


def label(body: str) -> str:
    try:
        return str(json.loads(body)["label"])
    except (ValueError, KeyError, TypeError):
        return body.strip()


async def test_good_key_gets_every_permission_and_requests_match_hufi() -> None:
    async with running(FakeGate) as (fake, checker):
        account = fake.add_account()
        report = await checker.check(EXCHANGE, creds_of(account))
        assert all_granted(report), report.to_dict()
        assert fake.requests_to("/api/v4/spot/accounts")
        assert fake.requests_to("/api/v4/account/detail")  # ccxt's hidden unified-account pre-call
        (deposit,) = fake.requests_to("/api/v4/wallet/deposit_address")
        # HuFi passes {network: 'ERC20'}; ccxt keeps it client-side to pick the ETH chain entry
        assert SPEC.deposit_params == {"network": "ERC20"}
        assert deposit.query == {"currency": "ETH"}
        (trades,) = fake.requests_to("/api/v4/spot/my_trades")
        assert trades.query["currency_pair"] == "ETH_USDT" and trades.query["account"] == "spot"
        assert trades.query["limit"] == "250" and trades.query["page"] == "1"
        assert int(trades.query["to"]) - int(trades.query["from"]) in (1, 2)  # to = now_s + 1, from = (now-1) s


@pytest.mark.parametrize("missing", list(Permission))
async def test_each_missing_permission_fails_only_its_probe(missing: Permission) -> None:
    async with running(FakeGate) as (fake, checker):
        account = fake.add_account()
        account.revoke(missing)
        report = await checker.check(EXCHANGE, creds_of(account))
        assert report.missing == [missing]
        failed = report.outcomes[missing]
        assert failed.error_type == "PermissionDenied"
        assert "FORBIDDEN" in (failed.error_message or "")


@pytest.mark.parametrize("fixture_id", sorted(HOW))
async def test_fixture_case_through_a_real_check(fixture_id: str) -> None:
    case = FIXTURES[fixture_id]
    how = HOW[fixture_id]
    async with running(FakeGate) as (fake, checker):
        account = fake.add_account()
        changes = await arrange(how, fake, checker, account, case)
        report = await checker.check(EXCHANGE, creds_of(account, **changes))
        outcome = report.outcomes[PERM_OF[case["method"]]]
        assert outcome.status is ProbeStatus.FAILED
        assert outcome.error_type == case["ccxt_exception"], outcome.error_message
        if case["body"] and case["body"] != "{}":
            assert label(case["body"]) in (outcome.error_message or "")


def test_every_gate_fixture_case_is_mapped() -> None:
    not_ok = {i for i, f in FIXTURES.items() if f["cause"] != "ok"}
    assert not_ok == set(HOW)


async def test_deposit_without_network_param_fails_client_side_like_the_fixture() -> None:
    case = FIXTURES["gate-fetch_deposit_address-ok-no-network-param"]
    async with running(FakeGate) as (fake, checker):
        account = fake.add_account()
        async with checker.factory.client(SPEC, creds_of(account)) as client:
            with pytest.raises(ExchangeError) as raised:
                await client.fetch_deposit_address("ETH")
        assert type(raised.value).__name__ == case["ccxt_exception"]
        assert "defaultNetworkId" in str(raised.value)
        assert fake.requests_to("/api/v4/wallet/deposit_address")  # the server answered 200


@pytest.mark.parametrize(
    ("scenario", "error_type", "code"),
    [
        ("ip", "PermissionDenied", f"Request IP not in whitelist: {DEFAULT_CLIENT_IP}"),
        ("expired", "AuthenticationError", "INVALID_KEY"),
        ("frozen", "AccountSuspended", "ACCOUNT_LOCKED"),
        ("skew", "AuthenticationError", "REQUEST_EXPIRED"),
        ("key_typo", "AuthenticationError", "INVALID_KEY"),
        ("secret", "AuthenticationError", "INVALID_SIGNATURE"),
    ],
)
async def test_account_states_fail_every_probe(scenario: str, error_type: str, code: str) -> None:
    async with running(FakeGate) as (fake, checker):
        account = fake.add_account()
        changes = await arrange(scenario, fake, checker, account)
        report = await checker.check(EXCHANGE, creds_of(account, **changes))
        assert report.missing == list(Permission)
        for outcome in report.outcomes.values():
            assert outcome.error_type == error_type
            assert code in (outcome.error_message or "")


@pytest.mark.parametrize(
    ("cause", "error_type", "code"),
    [("exchange_maintenance", "ExchangeNotAvailable", "TOO_BUSY"), ("rate_limited", "RateLimitExceeded", "TOO_MANY")],
)
async def test_exchange_side_replies_fail_every_probe(cause: str, error_type: str, code: str) -> None:
    async with running(FakeGate) as (fake, checker):
        account = fake.add_account()
        fake.force(cause)
        report = await checker.check(EXCHANGE, creds_of(account))
        assert {o.error_type for o in report.outcomes.values()} == {error_type}
        assert all(code in (o.error_message or "") for o in report.outcomes.values())


async def test_no_deposit_address_fails_only_the_deposit_probe() -> None:
    async with running(FakeGate) as (fake, checker):
        account = fake.add_account(deposit_address=None)
        report = await checker.check(EXCHANGE, creds_of(account))
        assert report.missing == [Permission.VIEW_DEPOSIT_ADDRESS]
        assert report.outcomes[Permission.VIEW_DEPOSIT_ADDRESS].error_type == "NotSupported"


async def test_key_info_endpoint_reports_the_ip_allow_list() -> None:
    async with running(FakeGate) as (fake, checker):
        account = fake.add_account(ip_whitelist=(DEFAULT_CLIENT_IP, OTHER_IP), settings={"user_id": 10406147})
        async with checker.factory.client(SPEC, creds_of(account)) as client:
            detail = await client.private_account_get_detail()
        assert detail["user_id"] == 10406147
        assert detail["ip_whitelist"] == [DEFAULT_CLIENT_IP, OTHER_IP]
        assert detail["key"] == {"mode": 1}
        report = await checker.check(EXCHANGE, creds_of(account))
        assert report.evidence["key_info"]["ips"] == [DEFAULT_CLIENT_IP, OTHER_IP]


async def test_key_info_endpoint_rejects_a_bad_key_like_every_private_endpoint() -> None:
    async with running(FakeGate) as (fake, checker):
        account = fake.add_account()
        async with checker.factory.client(SPEC, creds_of(account, secret=fake.new_secret())) as client:
            with pytest.raises(ExchangeError, match="INVALID_SIGNATURE"):
                await client.private_account_get_detail()
