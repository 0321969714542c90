"""MEXC: HuFi's three probes through real ccxt against the fake MEXC."""

from __future__ import annotations

import pytest

from bot.diagnosis.model import Permission
from bot.exchanges.report import ProbeStatus
from bot.sandbox.exchanges.mexc import FakeMexc
from tests.exchange_harness import all_granted, creds_of, running


async def test_good_key_gets_every_permission_and_requests_match_hufi() -> None:
    async with running(FakeMexc) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("mexc", creds_of(account))
        assert all_granted(report), report.to_dict()
        assert report.ok
        (deposit,) = fake.requests_to("/api/v3/capital/deposit/address")
        assert deposit.query["coin"] == "ETH" and "network" not in deposit.query  # HuFi passes {} for mexc
        (trades,) = fake.requests_to("/api/v3/myTrades")
        assert trades.query["symbol"] == "ETHUSDT"
        assert trades.query["limit"] == "100"
        # HuFi's window: since = now-1 and until = now-1
        assert trades.query["startTime"] == trades.query["endTime"]


@pytest.mark.parametrize("missing", list(Permission))
async def test_each_missing_permission_fails_only_its_probe(missing: Permission) -> None:
    async with running(FakeMexc) as (fake, checker):
        account = fake.add_account()
        account.revoke(missing)
        report = await checker.check("mexc", creds_of(account))
        assert report.missing == [missing]
        failed = report.outcomes[missing]
        assert failed.error_type == "AuthenticationError"
        assert "700007" in (failed.error_message or "")


async def test_wrong_secret_fails_every_probe_with_the_signature_code() -> None:
    async with running(FakeMexc) as (fake, checker):
        account = fake.add_account()
        other = fake.new_secret()
        report = await checker.check("mexc", creds_of(account, secret=other))
        assert report.missing == list(Permission)
        assert all("700002" in (o.error_message or "") for o in report.outcomes.values())


async def test_no_deposit_address_fails_only_the_deposit_probe() -> None:
    async with running(FakeMexc) as (fake, checker):
        account = fake.add_account(deposit_address=None)
        report = await checker.check("mexc", creds_of(account))
        assert report.missing == [Permission.VIEW_DEPOSIT_ADDRESS]
        assert report.outcomes[Permission.VIEW_ACCOUNT_BALANCE].status is ProbeStatus.GRANTED
