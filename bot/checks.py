"""The check service: who may check a key now, in what order, and what is kept afterwards.

Transport-free: handlers call it and render what it returns. Limits stop the bot from being used to test stolen
keys at scale: checks per Telegram account, per API key (counted by an HMAC of the key, so a second account with
the same key is held up too) and for everyone together (an hourly ceiling), all in `storage.moderation`'s
`AbuseLimiter`; staff re-checks don't count. A cap on concurrent checks queues the rest in arrival order;
finished checks are stored without credentials; credentials are kept encrypted for "check again" only while
they are needed, and never after the user said /forget, even when a check was running at that moment.
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


class Admission(Protocol):
    """What a limit answers (`storage.moderation.Decision`)."""

    @property
    def allowed(self) -> bool: ...
    @property
    def limit(self) -> str | None: ...
    @property
    def retry_after(self) -> float: ...
    @property
    def allowed_count(self) -> int: ...


class Limiter(Protocol):
    """The limits (`storage.moderation.AbuseLimiter`)."""

    async def admit_start(self, user_id: int) -> Admission: ...
    async def admit_check(self, user_id: int, api_key: str, *, record: bool = True) -> Admission: ...


class KeyVault(Protocol):
    @property
    def enabled(self) -> bool: ...
    async def put(
        self, user_id: int, exchange_id: str, creds: Credentials, campaign_type: str | None = None
    ) -> None: ...
    async def wipe(self, user_id: int, exchange_id: str | None = None) -> int: ...


#: How many users' /forget counts are remembered.
FORGET_MEMORY = 100_000

#: Which limit refused a check: the user's own, the key's (any account), or everyone's together.
USER, KEY, GLOBAL = "user", "key", "global"


class RateLimited(Exception):
    """A check is refused by a limit (`limit`: USER, KEY or GLOBAL); `allowed` checks an hour are allowed."""

    def __init__(self, retry_after_seconds: float, limit: str = USER, allowed: int = 0) -> None:
        super().__init__(f"{limit} limit: retry after {retry_after_seconds:.0f} s")
        self.retry_after_seconds = retry_after_seconds
        self.limit = limit
        self.allowed = allowed

    @classmethod
    def of(cls, decision: Admission) -> RateLimited:
        return cls(decision.retry_after, decision.limit or USER, decision.allowed_count)

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after_seconds / 60))


@dataclass(frozen=True)
class CheckResult:
    report: KeyCheckReport
    check_id: int | None
    kept_for_recheck: bool


QueueCallback = Callable[[int], Awaitable[None]]
#: `on_stored(result)` of `CheckService.run`
StoredCallback = Callable[[CheckResult], Awaitable[None]]


class CheckService:
    """Admission (the limits), the queue for the concurrency cap, running the probes, storing the report without
    credentials, keeping the key for "check again" or wiping it."""

    def __init__(
        self,
        key_checker: KeyChecker,
        *,
        history: ChecksStore,
        limiter: Limiter,
        vault: KeyVault,
        max_concurrent: int = 20,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key_checker = key_checker
        self.history = history
        self.limiter = limiter
        self.vault = vault
        self.max_concurrent = max_concurrent
        self.clock = clock
        self._slots = asyncio.Semaphore(max_concurrent)
        self._waiting = 0
        self.running = 0
        #: per user, how many times they said /forget (a check that saw another number keeps nothing)
        self._forgotten: dict[int, int] = {}

    async def admit(self, user_id: int) -> None:
        """Before a check is set up: raise RateLimited when the user, or everyone together, has no check left
        this hour. Nothing is counted (the key is not known yet)."""
        decision = await self.limiter.admit_start(user_id)
        if not decision.allowed:
            raise RateLimited.of(decision)

    def prepare(self, exchange_id: str) -> None:
        """A key for `exchange_id` is coming: get its check's client ready (`KeyChecker.prepare`), unless every
        slot is taken. Then the check will wait for one and builds its client when it starts: in a burst, the
        clients are built as the checks start, spread over the burst, rather than all in its first second,
        where that work held up everyone else's answers (benchmark 2's bystander)."""
        if not self._slots.locked():
            self.key_checker.prepare(exchange_id)

    async def admit_key(self, user_id: int, creds: Credentials) -> None:
        """Count one check of `creds` for `user_id`, or raise RateLimited (the user's, the key's or the global
        limit). `run(..., count_towards_limit=False)` then runs it."""
        decision = await self.limiter.admit_check(user_id, creds.api_key)
        if not decision.allowed:
            raise RateLimited.of(decision)

    def forgotten(self, user_id: int) -> None:
        """The user said /forget: a check of theirs that is running now keeps nothing when it ends."""
        if len(self._forgotten) > FORGET_MEMORY:
            self._forgotten.clear()  # a check running across this keeps nothing: the safe direction
        self._forgotten[user_id] = self._forgotten.get(user_id, 0) + 1

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
        on_stored: StoredCallback | None = None,
        count_towards_limit: bool = True,
    ) -> CheckResult:
        """Run one check for `user_id`, store it, keep or wipe the key.

        `count_towards_limit`: admit and count it first (`admit_key`, raising RateLimited); False for a staff
        re-check (never counted) or a check the caller admitted already. `on_stored(result)`: the caller shows
        the result (the chat sends its verdict) once the check is stored, while the key is kept or wiped; it
        has ended when this returns.
        """
        if count_towards_limit:
            await self.admit_key(user_id, creds)
        forgets = self._forgotten.get(user_id, 0)
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
        forgot_meanwhile = self._forgotten.get(user_id, 0) != forgets
        helps = recheck_helps(report.verdict or Cause.UNKNOWN)  # only new credentials help some causes
        # nothing to check again, the user said /forget meanwhile, or checking again can't help: keep nothing
        wipe = report.ok or report.precheck is not None or forgot_meanwhile or not helps
        result = CheckResult(report, check_id, not wipe and self.vault.enabled)
        # the key is kept or wiped while the result is shown: the verdict does not wait for that statement,
        # which runs on the database's thread while this one composes and sends the verdict
        work = [self._keep_or_wipe(user_id, creds, campaign_type, result, wipe=wipe)]
        if on_stored is not None:
            work.append(on_stored(result))
        await asyncio.gather(*work)
        return result

    async def _keep_or_wipe(
        self,
        user_id: int,
        creds: Credentials,
        campaign_type: CampaignType | None,
        result: CheckResult,
        *,
        wipe: bool,
    ) -> None:
        exchange_id = result.report.exchange_id
        if wipe:
            await self.vault.wipe(user_id, exchange_id)
        elif result.kept_for_recheck:
            await self.vault.put(user_id, exchange_id, creds, str(campaign_type) if campaign_type else None)

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
