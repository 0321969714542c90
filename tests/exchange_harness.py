"""Helpers for tests that run real ccxt clients against the simulated exchanges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.exchanges.credentials import Credentials
from bot.exchanges.factory import ClientFactory
from bot.exchanges.probes import KeyChecker
from bot.exchanges.report import KeyCheckReport, ProbeStatus
from bot.sandbox.exchanges.base import FakeAccount, FakeExchange


@asynccontextmanager
async def running(fake_cls: type[FakeExchange], **fake_kwargs: Any) -> AsyncIterator[tuple[FakeExchange, KeyChecker]]:
    """Start a fake exchange and a checker whose client factory points at it; stop both afterwards."""
    fake = fake_cls(**fake_kwargs)
    await fake.start()
    try:
        factory = ClientFactory(url_overrides={fake.exchange_id: fake.base_url})
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
