"""HTX: HuFi's three probes through real ccxt against the fake HTX, and every HTX fixture case reproduced."""

from __future__ import annotations

import json

import pytest
from ccxt.base.errors import ExchangeError

from bot.diagnosis.model import Permission
from bot.exchanges.catalog import get_spec
from bot.exchanges.report import ProbeStatus
from bot.sandbox.exchanges.base import DEFAULT_CLIENT_IP, fixture_replies
from bot.sandbox.exchanges.htx import FakeHtx
from tests.exchange_harness import OTHER_IP, PERM_OF, all_granted, arrange, creds_of, running

EXCHANGE = "htx"
SPEC = get_spec(EXCHANGE)
FIXTURES = {f["id"]: f for f in fixture_replies() if f["exchange"] == EXCHANGE}
BALANCE_PATH = "/v1/account/accounts/10000001/balance"

#: how each non-ok fixture case is produced through a real check
HOW = {
    "htx-fetch_balance-ip_not_whitelisted": "ip",
    "htx-fetch_balance-permission_missing": "revoke",
    "htx-fetch_deposit_address-permission_missing": "revoke",
    "htx-fetch_my_trades-permission_missing": "revoke",
    "htx-fetch_balance-timestamp_drift": "skew",
    "htx-fetch_balance-maintenance": "force_all",
    "htx-fetch_balance-maintenance-gateway": "force_all",
    "htx-fetch_balance-network_down": "refused",
    "htx-fetch_balance-network_down-timeout": "slow",
}


def err_msg(body: str) -> str:
    """HTX's cause is in the err-msg (err-code is api-signature-not-valid for every authentication failure)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()
    return f'"err-code":"{data["err-code"]}","err-msg":"{data["err-msg"]}"'


async def test_good_key_gets_every_permission_and_requests_match_hufi() -> None:
    async with running(FakeHtx) as (fake, checker):
        account = fake.add_account()
        report = await checker.check(EXCHANGE, creds_of(account))
        assert all_granted(report), report.to_dict()
        assert fake.requests_to("/v1/account/accounts")  # ccxt's load_accounts before the balance
        (balance,) = fake.requests_to(BALANCE_PATH)
        # sent to 127.0.0.1, yet signed (and verified) with ccxt's host api.huobi.pro
        assert balance.headers["Host"].startswith("127.0.0.1")
        assert balance.query["SignatureVersion"] == "2" and balance.query["AccessKeyId"] == account.api_key
        (deposit,) = fake.requests_to("/v2/account/deposit/address")
        assert SPEC.deposit_params == {} and deposit.query["currency"] == "eth" and "chain" not in deposit.query
        (trades,) = fake.requests_to("/v1/order/matchresults")
        assert trades.query["symbol"] == "ethusdt" and trades.query["size"] == "250"
        assert trades.query["direct"] == "next"
        assert int(trades.query["end-time"]) - int(trades.query["start-time"]) == 2  # since now-2, until now


@pytest.mark.parametrize("missing", list(Permission))
async def test_each_missing_permission_fails_only_its_probe(missing: Permission) -> None:
    async with running(FakeHtx) as (fake, checker):
        account = fake.add_account()
        account.revoke(missing)
        report = await checker.check(EXCHANGE, creds_of(account))
        assert report.missing == [missing]
        failed = report.outcomes[missing]
        assert failed.error_type == "PermissionDenied"
        assert "API key has no permission" in (failed.error_message or "")


@pytest.mark.parametrize("fixture_id", sorted(HOW))
async def test_fixture_case_through_a_real_check(fixture_id: str) -> None:
    case = FIXTURES[fixture_id]
    async with running(FakeHtx) as (fake, checker):
        account = fake.add_account()
        changes = await arrange(HOW[fixture_id], fake, checker, account, case)
        report = await checker.check(EXCHANGE, creds_of(account, **changes))
        outcome = report.outcomes[PERM_OF[case["method"]]]
        assert outcome.status is ProbeStatus.FAILED
        assert outcome.error_type == case["ccxt_exception"], outcome.error_message
        if case["body"] and case["body"] != "{}":
            assert err_msg(case["body"]) in (outcome.error_message or "")


def test_every_htx_fixture_case_is_mapped() -> None:
    not_ok = {i for i, f in FIXTURES.items() if f["cause"] != "ok"}
    assert not_ok == set(HOW)


@pytest.mark.parametrize(
    ("scenario", "error_type", "reason"),
    [
        ("ip", "AuthenticationError", f"Incorrect IP address [IP地址错误]:{DEFAULT_CLIENT_IP}"),
        ("expired", "AuthenticationError", "Incorrect Access key"),
        ("frozen", "ExchangeError", "account-frozen-account-inexistent-error"),
        ("skew", "AuthenticationError", "Request expired"),
        ("key_typo", "AuthenticationError", "Incorrect Access key [Access key错误]"),
        ("secret", "AuthenticationError", "Verification failure [校验失败]"),
    ],
)
async def test_account_states_fail_every_probe(scenario: str, error_type: str, reason: str) -> None:
    async with running(FakeHtx) as (fake, checker):
        account = fake.add_account()
        changes = await arrange(scenario, fake, checker, account)
        report = await checker.check(EXCHANGE, creds_of(account, **changes))
        assert report.missing == list(Permission)
        for outcome in report.outcomes.values():
            assert outcome.error_type == error_type
            assert reason in (outcome.error_message or "")


async def test_maintenance_on_the_balance_endpoint_fails_only_the_balance_probe() -> None:
    async with running(FakeHtx) as (fake, checker):
        account = fake.add_account()
        fake.force("exchange_maintenance", path=BALANCE_PATH)
        report = await checker.check(EXCHANGE, creds_of(account))
        assert report.missing == [Permission.VIEW_ACCOUNT_BALANCE]
        failed = report.outcomes[Permission.VIEW_ACCOUNT_BALANCE]
        assert failed.error_type == "OnMaintenance" and "system-maintenance" in (failed.error_message or "")


@pytest.mark.parametrize(
    ("cause", "error_type", "code"),
    [
        ("exchange_maintenance", "OnMaintenance", "system-maintenance"),
        ("rate_limited", "RateLimitExceeded", "base-request-exceed-frequency-limit"),
    ],
)
async def test_exchange_side_replies_fail_every_probe(cause: str, error_type: str, code: str) -> None:
    async with running(FakeHtx) as (fake, checker):
        account = fake.add_account()
        fake.force(cause)
        report = await checker.check(EXCHANGE, creds_of(account))
        assert {o.error_type for o in report.outcomes.values()} == {error_type}
        assert all(code in (o.error_message or "") for o in report.outcomes.values())


async def test_no_deposit_address_fails_only_the_deposit_probe() -> None:
    async with running(FakeHtx) as (fake, checker):
        account = fake.add_account(deposit_address=None)
        report = await checker.check(EXCHANGE, creds_of(account))
        assert report.missing == [Permission.VIEW_DEPOSIT_ADDRESS]
        failed = report.outcomes[Permission.VIEW_DEPOSIT_ADDRESS]
        assert failed.error_type == "NotSupported" and "no networks were returned for ETH" in (
            failed.error_message or ""
        )


async def test_key_info_endpoints_report_permission_ips_and_validity() -> None:
    async with running(FakeHtx) as (fake, checker):
        account = fake.add_account(
            ip_whitelist=(DEFAULT_CLIENT_IP, OTHER_IP), settings={"uid": 63512345, "extra_permissions": ("trade",)}
        )
        other = fake.add_account(settings={"uid": 63512345})
        other.revoke(Permission.VIEW_DEPOSIT_ADDRESS)
        async with checker.factory.client(SPEC, creds_of(account)) as client:
            uid = await client.v2private_get_user_uid()
            mine = await client.v2private_get_user_api_key({"uid": uid["data"], "accessKey": client.apiKey})
            everyone = await client.v2private_get_user_api_key({"uid": uid["data"]})
        assert uid == {"code": 200, "data": 63512345}
        (info,) = mine["data"]
        assert info["accessKey"] == account.api_key and info["permission"] == "readOnly,trade"
        assert info["ipAddresses"] == f"{DEFAULT_CLIENT_IP},{OTHER_IP}" and info["validDays"] == -1
        assert info["status"] == "normal"
        by_key = {entry["accessKey"]: entry for entry in everyone["data"]}
        assert by_key[other.api_key]["permission"] == "" and by_key[other.api_key]["validDays"] == 89
        report = await checker.check(EXCHANGE, creds_of(account))
        assert report.evidence["key_info"]["permissions"] == ["readOnly", "trade"]


async def test_key_info_endpoint_rejects_a_bad_secret_like_every_private_endpoint() -> None:
    async with running(FakeHtx) as (fake, checker):
        account = fake.add_account()
        async with checker.factory.client(SPEC, creds_of(account, secret=fake.new_secret())) as client:
            with pytest.raises(ExchangeError, match="Verification failure"):
                await client.v2private_get_user_uid()
