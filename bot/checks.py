"""The check service: who may check a key now, in what order, and what is kept afterwards.

Transport-free: handlers call it and render what it returns. Per-user limits stop the bot from being used to
test stolen keys at scale; a global cap on concurrent checks queues the rest in arrival order; finished checks
are stored without credentials; credentials are kept encrypted for "check again" only while they are needed.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.advice.causes import recheck_helps
from bot.diagnosis.model import CampaignType, Cause
from bot.exchanges.credentials import Credentials
from bot.exchanges.probes import KeyChecker, ProgressCallback
from bot.exchanges.report import KeyCheckReport

HOUR = 3600.0


class ChecksStore(Protocol):
    async def add(
        self,
        user_id: int,
        report: KeyCheckReport,
        campaign_type: str | None = None,
        *,
        cause: str | None = None,
        forbidden: list[str] | tuple[str, ...] = (),
    ) -> int: ...


class Ledger(Protocol):
    async def record(self, user_id: int) -> None: ...
    async def count_since(self, user_id: int, since: float) -> int: ...
    async def oldest_since(self, user_id: int, since: float) -> float | None: ...


class KeyVault(Protocol):
    @property
    def enabled(self) -> bool: ...
    async def put(
        self, user_id: int, exchange_id: str, creds: Credentials, campaign_type: str | None = None
    ) -> None: ...
    async def wipe(self, user_id: int, exchange_id: str | None = None) -> int: ...


class RateLimited(Exception):
    """The user has used up their checks for the hour."""

    def __init__(self, retry_after_seconds: float) -> None:
        super().__init__(f"retry after {retry_after_seconds:.0f} s")
        self.retry_after_seconds = retry_after_seconds

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after_seconds / 60))


@dataclass(frozen=True)
class CheckResult:
    report: KeyCheckReport
    check_id: int | None
    kept_for_recheck: bool


QueueCallback = Callable[[int], Awaitable[None]]


class CheckService:
    """Admission (the per-user hourly limit), the queue for the concurrency cap, running the probes, storing the
    report without credentials, keeping the key for "check again" or wiping it."""

    def __init__(
        self,
        key_checker: KeyChecker,
        *,
        history: ChecksStore,
        ledger: Ledger,
        vault: KeyVault,
        checks_per_hour: int = 10,
        max_concurrent: int = 20,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key_checker = key_checker
        self.history = history
        self.ledger = ledger
        self.vault = vault
        self.checks_per_hour = checks_per_hour
        self.max_concurrent = max_concurrent
        self.clock = clock
        self._slots = asyncio.Semaphore(max_concurrent)
        self._waiting = 0
        self.running = 0

    async def admit(self, user_id: int) -> None:
        """Raise RateLimited when the user has no check left this hour."""
        now = self.clock()
        since = now - HOUR
        used = await self.ledger.count_since(user_id, since)
        if used >= self.checks_per_hour:
            oldest = await self.ledger.oldest_since(user_id, since)
            raise RateLimited(max(1.0, (oldest or now) + HOUR - now))

    @property
    def queue_length(self) -> int:
        return self._waiting

    async def run(
        self,
        user_id: int,
        exchange_id: str,
        creds: Credentials,
        *,
        campaign_type: CampaignType | None = None,
        on_progress: ProgressCallback | None = None,
        on_queued: QueueCallback | None = None,
        count_towards_limit: bool = True,
    ) -> CheckResult:
        """Run one check for `user_id` (admission is the caller's job), store it, keep or wipe the key."""
        if count_towards_limit:
            await self.ledger.record(user_id)
        if self._slots.locked():
            self._waiting += 1
            try:
                if on_queued is not None:
                    await on_queued(self._waiting)
                await self._slots.acquire()
            finally:
                self._waiting -= 1
        else:
            await self._slots.acquire()
        self.running += 1
        try:
            report = await self.key_checker.check(exchange_id, creds, on_progress=on_progress)
        finally:
            self.running -= 1
            self._slots.release()
        check_id = await self._store(user_id, report, campaign_type, creds)
        kept = False
        if report.ok or report.precheck is not None or not recheck_helps(report.verdict or Cause.UNKNOWN):
            # nothing to check again, or only new credentials can help (bot.advice.causes): keep nothing
            await self.vault.wipe(user_id, report.exchange_id)
        elif self.vault.enabled:
            await self.vault.put(user_id, report.exchange_id, creds, str(campaign_type) if campaign_type else None)
            kept = True
        return CheckResult(report, check_id, kept)

    async def _store(
        self, user_id: int, report: KeyCheckReport, campaign_type: CampaignType | None, creds: Credentials
    ) -> int | None:
        verdict = report.verdict
        return await self.history.add(
            user_id,
            report,
            str(campaign_type) if campaign_type else None,
            cause=str(verdict.cause) if verdict else "ok",
            forbidden=creds.secrets(),
        )
