"""Helpers for tests that run real ccxt clients against the simulated exchanges."""

from __future__ import annotations

import json
import string
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.diagnosis.model import Permission
from bot.exchanges.catalog import get_spec
from bot.exchanges.credentials import Credentials
from bot.exchanges.factory import ClientFactory
from bot.exchanges.probes import KeyChecker
from bot.exchanges.report import KeyCheckReport, ProbeStatus
from bot.sandbox.exchanges.base import METHOD_FOR_PERMISSION, FakeAccount, FakeExchange, fixture_replies

#: probe method name in the fixtures -> the permission it proves
PERM_OF: dict[str, Permission] = {method: perm for perm, method in METHOD_FOR_PERMISSION.items()}
#: an IP that is never the one the fakes see clients coming from
OTHER_IP = "198.51.100.1"


@asynccontextmanager
async def running(fake_cls: type[FakeExchange], **fake_kwargs: Any) -> AsyncIterator[tuple[FakeExchange, KeyChecker]]:
    """Start a fake exchange and a checker whose client factory points at it; stop both afterwards.

    The shared per-exchange pacing is switched off: tests run many checks back to back on one fake.
    """
    fake = fake_cls(**fake_kwargs)
    await fake.start()
    try:
        factory = ClientFactory(url_overrides={fake.exchange_id: fake.base_url})
        factory.limiter(get_spec(fake.exchange_id)).interval = 0.0
        yield fake, KeyChecker(factory)
    finally:
        await fake.stop()


def creds_of(account: FakeAccount, **changes: str) -> Credentials:
    values = {
        "api_key": account.api_key,
        "secret": account.secret,
        "passphrase": account.passphrase,
        "memo": account.memo,
    }
    values.update(changes)
    return Credentials(**values)


def statuses(report: KeyCheckReport) -> dict[str, str]:
    return {str(p): str(o.status) for p, o in report.outcomes.items()}


def all_granted(report: KeyCheckReport) -> bool:
    return all(o.status is ProbeStatus.GRANTED for o in report.outcomes.values())


def typo(value: str) -> str:
    """`value` with its last character changed to another of the same kind (hex digit, lower, upper case)."""
    last = value[-1]
    if last in string.hexdigits.lower():
        alphabet = string.hexdigits.lower()[:16]
    elif last.islower():
        alphabet = string.ascii_lowercase
    elif last.isupper():
        alphabet = string.ascii_uppercase
    else:
        alphabet = string.ascii_letters
    return value[:-1] + next(c for c in alphabet if c != last)


async def arrange(
    how: str, fake: FakeExchange, checker: KeyChecker, account: FakeAccount, case: dict[str, Any] | None = None
) -> dict[str, str]:
    """Set the fake (or the credentials) up so the next check meets `how`; returns the credential changes.

    `how` names what produced a fixture reply: a key typo, another key's secret, a skewed clock, an account
    state, a permission taken away, no deposit address, the fixture's body forced on every request, the
    exchange refusing connections or never answering.
    """
    if how == "key_typo":
        return {"api_key": typo(account.api_key)}
    if how == "secret":
        return {"secret": fake.new_secret()}
    if how == "skew":
        fake.clock_offset_ms = -600_000  # ten minutes apart
    elif how == "expired":
        account.expired = True
    elif how == "frozen":
        account.frozen = True
    elif how == "not_activated":
        account.settings["activated"] = False
    elif how == "ip":
        account.ip_whitelist = (OTHER_IP,)
    elif how == "revoke" and case is not None:
        account.revoke(PERM_OF[case["method"]])
    elif how in ("no_address", "generating"):
        account.deposit_address = None
        account.settings["address_generating"] = how == "generating"
    elif how == "force_all" and case is not None:
        fake.force(body=case["body"], status=case["http_status"])
    elif how == "refused":
        await checker.factory.preload(get_spec(fake.exchange_id))
        await fake.stop()
    elif how == "slow":
        checker.factory.timeout_ms = 150
        fake.force(mode="hang")
    else:
        raise AssertionError(f"unknown arrangement {how}")
    return {}


def replayable_fixtures(exchange: str) -> list[dict[str, Any]]:
    """The fixture's rejections of `exchange` that a fake can reproduce (network faults are the base's job)."""
    return [
        f
        for f in fixture_replies()
        if f["exchange"] == exchange and f["ccxt_exception"] and f["trigger"] not in ("network_refused", "server_slow")
    ]


async def call_probe(client: Any, method: str) -> Any:
    """Call one of HuFi's probe methods (as named in the fixtures) on a ccxt client, with plain arguments."""
    if method == "fetch_balance":
        return await client.fetch_balance()
    if method == "fetch_deposit_address":
        return await client.fetch_deposit_address("ETH")
    return await client.fetch_my_trades("ETH/USDT", client.milliseconds() - 1, 100)


def body_code(fixture: dict[str, Any]) -> str:
    """The `code` field of a fixture's JSON body, else its HTTP status."""
    try:
        return str(json.loads(fixture["body"])["code"])
    except (ValueError, KeyError, TypeError):
        return str(fixture["http_status"])


def messages(report: KeyCheckReport) -> list[str]:
    return [o.error_message or "" for o in report.outcomes.values()]


def error_types(report: KeyCheckReport) -> set[str | None]:
    return {o.error_type for o in report.outcomes.values()}
