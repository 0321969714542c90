"""Kraken: HuFi's GetApiKeyInfo rules plus our ETH-address probe, through real ccxt against the fake Kraken."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

import ccxt
import pytest

from bot.diagnosis.classify import KRAKEN_MIN_NONCE_WINDOW, nonce_window_too_small
from bot.diagnosis.model import Cause, Permission
from bot.exchanges.catalog import get_spec
from bot.exchanges.credentials import Credentials
from bot.exchanges.probes import KeyChecker
from bot.exchanges.report import KeyCheckReport, ProbeStatus
from bot.sandbox.exchanges.base import fixture_replies
from bot.sandbox.exchanges.kraken import TRADE_PERMISSIONS, FakeKraken
from tests.exchange_harness import all_granted, creds_of, running

INFO = "/0/private/GetApiKeyInfo"
ADDRESSES = "/0/private/DepositAddresses"
PLAN_PATHS = {INFO, ADDRESSES}
ALL_KRAKEN = ["query-funds", *TRADE_PERMISSIONS]
REPRODUCED = {"client_key_typo", "client_secret_typo", "client_secret_malformed", "client_clock_skew", "server_all"}
FIXTURES = [
    f
    for f in fixture_replies()
    if f["exchange"] == "kraken"
    and (f["trigger"] in REPRODUCED or f["trigger"] == "server_endpoint" or f["cause"] == "no_deposit_address")
]
CURRENCIES = {"ETH": {"id": "XETH", "code": "ETH", "precision": 1e-8, "networks": {}}}
BALANCE, DEPOSIT, TRADES = list(Permission)


def label(fixture: dict[str, Any]) -> str:
    """What the bot has to find in the message: Kraken's error label, the HTTP status of a gateway page, or
    ccxt's own message when the reply carries no error (no address) or there was no reply (bad secret)."""
    body = fixture["body"] or ""
    if body.lstrip().startswith("<"):
        return str(fixture["http_status"])
    try:
        return str(json.loads(body)["error"][0])
    except (ValueError, KeyError, IndexError, TypeError):
        return str(fixture["observed_message"])


def failed_alike(report: KeyCheckReport, error_type: str, code: str) -> None:
    for outcome in report.outcomes.values():
        assert outcome.status is ProbeStatus.FAILED, report.to_dict()
        assert outcome.error_type == error_type, outcome
        assert code in (outcome.error_message or ""), outcome.error_message


@asynccontextmanager
async def ccxt_client(checker: KeyChecker, creds: Credentials) -> AsyncIterator[Any]:
    """A real ccxt kraken client from the checker's factory, with currencies set by hand (no public calls)."""
    async with checker.factory.client(get_spec("kraken"), creds, markets=False) as client:
        client.set_markets([], CURRENCIES)
        yield client


async def call(client: Any, method: str) -> Any:
    if method == "fetch_deposit_address":
        return await client.fetch_deposit_address("ETH")
    return await client.fetch_balance()


async def test_good_key_is_granted_by_key_info_and_requests_match_the_plan() -> None:
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account()
        report = await checker.check("kraken", creds_of(account))
        assert all_granted(report), report.to_dict()
        assert report.evidence["key_info"] == {
            "permissions": ALL_KRAKEN,
            "nonce_window": 10_000,
            "ip_restricted": False,
        }
        assert {r.path for r in fake.requests} == PLAN_PATHS
        (info,) = fake.requests_to(INFO)
        (address,) = fake.requests_to(ADDRESSES)
        info_form, address_form = dict(parse_qsl(info.body.decode())), dict(parse_qsl(address.body.decode()))
        assert set(info_form) == {"nonce"}
        assert (address_form["asset"], address_form["method"]) == ("ETH", "Ether (Hex)")
        assert int(address_form["nonce"]) != int(info_form["nonce"])  # ccxt's nonce increases per request


@pytest.mark.parametrize("lacking", ALL_KRAKEN)
async def test_each_missing_kraken_permission_gives_hufis_verdict(lacking: str) -> None:
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account(settings={"kraken_permissions": [p for p in ALL_KRAKEN if p != lacking]})
        report = await checker.check("kraken", creds_of(account))
        assert report.missing == ([BALANCE, DEPOSIT] if lacking == "query-funds" else [TRADES])
        for perm in report.missing:
            diagnosis = report.outcomes[perm].diagnosis
            assert diagnosis is not None and diagnosis.cause is Cause.PERMISSION_MISSING
            assert lacking in (diagnosis.code or "")


@pytest.mark.parametrize(
    ("revoked", "missing"),
    [
        ((BALANCE,), []),  # Kraken's one "Query Funds" box covers balance and deposit address
        ((BALANCE, DEPOSIT), [BALANCE, DEPOSIT]),
        ((TRADES,), [TRADES]),
    ],
)
async def test_account_permissions_map_to_kraken_names(
    revoked: tuple[Permission, ...], missing: list[Permission]
) -> None:
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account()
        account.revoke(*revoked)
        report = await checker.check("kraken", creds_of(account))
        assert report.missing == missing


async def test_nonce_window_below_5000_fails_everything() -> None:
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account(settings={"nonce_window": 1000})
        report = await checker.check("kraken", creds_of(account))
        assert report.missing == list(Permission)
        assert report.evidence["key_info"]["nonce_window"] == 1000
        assert all(o.diagnosis and o.diagnosis.cause is Cause.NONCE_WINDOW for o in report.outcomes.values())


@pytest.mark.parametrize(("window", "fails"), [(KRAKEN_MIN_NONCE_WINDOW - 1, True), (KRAKEN_MIN_NONCE_WINDOW, False)])
async def test_one_nonce_window_rule_for_the_probes_and_the_verdict(window: int, fails: bool) -> None:
    """The probes and the verdict judge the window by the same rule, with the same words, at the same boundary."""
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account(settings={"nonce_window": window})
        report = await checker.check("kraken", creds_of(account))
        if not fails:
            assert report.ok and report.verdict is None
            return
        rule = nonce_window_too_small({"nonce_window": window})
        assert rule is not None
        assert {o.diagnosis for o in report.outcomes.values()} == {rule}
        verdict = report.verdict
        assert verdict is not None and verdict.cause is Cause.NONCE_WINDOW
        assert (verdict.code, verdict.detail) == (rule.code, rule.detail)
        assert f"needs at least {KRAKEN_MIN_NONCE_WINDOW}" in (verdict.detail or "")


async def test_no_eth_address_fails_only_the_deposit_probe() -> None:
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account(deposit_address=None)
        report = await checker.check("kraken", creds_of(account))
        assert report.missing == [DEPOSIT]
        assert report.outcomes[DEPOSIT].diagnosis.cause is Cause.NO_DEPOSIT_ADDRESS  # type: ignore[union-attr]


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f["id"] for f in FIXTURES])
async def test_fixture_case_is_reproduced(fixture: dict[str, Any]) -> None:
    trigger, method = fixture["trigger"], fixture["method"]
    path = fixture["endpoint"].split(" ", 1)[1]
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account()
        creds = creds_of(account)
        if trigger == "client_secret_typo":
            creds = creds_of(account, secret=fake.new_secret())
        elif trigger == "client_secret_malformed":
            creds = creds_of(account, secret=account.secret[:-1])  # one character lost: not base64 any more
        elif trigger == "client_key_typo":
            creds = creds_of(account, api_key=("A" if account.api_key[0] != "A" else "B") + account.api_key[1:])
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
        assert type(caught.value).__name__ == fixture["ccxt_exception"].rsplit(".", 1)[-1]
        assert label(fixture) in str(caught.value)
        if trigger == "client_secret_malformed":
            assert fake.requests == []  # ccxt fails inside sign(), before any request
        else:
            assert fake.requests_to(path)
        if trigger == "server_endpoint" and path not in PLAN_PATHS:
            return
        # and through a real check
        report = await checker.check("kraken", creds)
        if trigger == "client_secret_malformed":
            # the bot's precheck may catch it before any request; otherwise ccxt's own error reaches every probe
            if report.precheck is not None:
                assert report.precheck.cause is Cause.MALFORMED_CREDENTIALS
            else:
                failed_alike(report, "Error", label(fixture))
            assert fake.requests == []
        elif fixture["cause"] == "no_deposit_address":
            assert report.missing == [DEPOSIT]  # our probe reads the raw reply: no exception, no address
            assert report.outcomes[DEPOSIT].diagnosis.cause is Cause.NO_DEPOSIT_ADDRESS  # type: ignore[union-attr]
        else:
            failed_alike(report, fixture["ccxt_exception"].rsplit(".", 1)[-1], label(fixture))


async def test_key_typo_and_expired_key_are_invalid_key() -> None:
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account()
        failed_alike(
            await checker.check("kraken", creds_of(account, api_key=fake.new_api_key())),
            "AuthenticationError",
            "EAPI:Invalid key",
        )
        account.expired = True
        failed_alike(await checker.check("kraken", creds_of(account)), "AuthenticationError", "EAPI:Invalid key")


async def test_frozen_account_is_temporarily_disabled() -> None:
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account(frozen=True)
        report = await checker.check("kraken", creds_of(account))
        failed_alike(report, "ExchangeError", "EAuth:Account temporary disabled")


@pytest.mark.parametrize(
    ("window", "ahead_ms", "accepted"),
    [(10_000, 5_000, True), (0, 5_000, False), (10_000, 600_000, False)],
)
async def test_nonce_must_pass_the_highest_used_less_the_window(window: int, ahead_ms: int, accepted: bool) -> None:
    """A key last used by a clock `ahead_ms` ahead of ours (another bot, or our clock 10 minutes behind)."""
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account(settings={"nonce_window": window})
        fake.highest_nonce[account.api_key] = fake.now_ms() + ahead_ms
        async with ccxt_client(checker, creds_of(account)) as client:
            if accepted:
                assert (await client.private_post_getapikeyinfo())["result"]["nonce_window"] == window
            else:
                with pytest.raises(ccxt.InvalidNonce, match="EAPI:Invalid nonce"):
                    await client.private_post_getapikeyinfo()


async def test_reused_nonce_fails_the_whole_check() -> None:
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account()
        fake.highest_nonce[account.api_key] = fake.now_ms() + 600_000
        failed_alike(await checker.check("kraken", creds_of(account)), "InvalidNonce", "EAPI:Invalid nonce")


async def test_clock_skew_does_not_matter_to_kraken() -> None:
    async with running(FakeKraken, clock_offset_ms=600_000) as (fake, checker):
        account = fake.add_account()
        assert all_granted(await checker.check("kraken", creds_of(account)))


async def test_ip_allow_list_fails_every_probe_with_permission_denied() -> None:
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account(ip_whitelist=("198.51.100.4",))
        report = await checker.check("kraken", creds_of(account))
        failed_alike(report, "PermissionDenied", "EGeneral:Permission denied")


async def test_allowed_ip_passes_and_key_info_shows_the_restriction() -> None:
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account(ip_whitelist=(fake.client_ip,))
        report = await checker.check("kraken", creds_of(account))
        assert report.ok
        assert report.evidence["key_info"]["ip_restricted"] is True


async def test_maintenance_is_exchange_not_available() -> None:
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account()
        fake.force("exchange_maintenance")
        failed_alike(await checker.check("kraken", creds_of(account)), "ExchangeNotAvailable", "EService:Unavailable")


async def test_key_info_endpoint_reflects_the_account() -> None:
    async with running(FakeKraken) as (fake, checker):
        perms = ["query-funds", "query-open-trades"]
        account = fake.add_account(
            ip_whitelist=(fake.client_ip, "192.0.2.1"),
            settings={"kraken_permissions": perms, "nonce_window": 7000, "name": "hufi"},
        )
        async with ccxt_client(checker, creds_of(account)) as client:
            first = (await client.private_post_getapikeyinfo())["result"]
            account.settings["key_info_style"] = "docs"
            second = (await client.private_post_getapikeyinfo())["result"]
        assert (first["api_key"], first["api_key_name"], first["permissions"]) == (account.api_key, "hufi", perms)
        assert (first["nonce_window"], first["ip_allowlist"]) == (7000, [fake.client_ip, "192.0.2.1"])
        assert int(second["nonce"]) > int(first["nonce"]) > 0  # the highest nonce the key has used
        assert (second["apiKey"], second["nonceWindow"]) == (account.api_key, 7000)
        assert second["ipAllowlist"] == first["ip_allowlist"]


async def test_key_info_in_the_docs_camel_case_shape_is_parsed() -> None:
    async with running(FakeKraken) as (fake, checker):
        account = fake.add_account(
            ip_whitelist=(fake.client_ip,), settings={"key_info_style": "docs", "nonce_window": 1000}
        )
        report = await checker.check("kraken", creds_of(account))
        assert report.evidence["key_info"]["nonce_window"] == 1000
        assert report.evidence["key_info"]["ip_restricted"] is True
