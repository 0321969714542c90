"""The Mini App's `Submitter` in the bot: a key from the page is checked exactly as one typed into the chat.

`CheckSubmitter` builds on the check service (`bot.checks.CheckService`): the ban list and the per-user hourly
limit are asked first (a refusal comes back as `SubmissionResult(checked=False)` with the reason, for the page),
the user's half-typed key flow in the chat (the draft) is wiped, and the check itself runs through the chat's
side (`ChatCheck`, attached by the handlers once the Telegram application exists), which shows the same live
progress message and the same verdict in the user's private chat as a key typed there. The page gets the
verdict's summary (`result_from_report`).

Transport-free: no `telegram` import; the chat's side is whatever `attach` was given.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.checks import GLOBAL, CheckResult, CheckService, RateLimited
from bot.diagnosis.model import CampaignType
from bot.exchanges.credentials import Credentials
from bot.webapp.initdata import WebAppInitData
from bot.webapp.result import SubmissionResult, result_from_report
from bot.webapp.texts import language_of, text

log = logging.getLogger(__name__)


class ChatCheck(Protocol):
    """Run a check in the user's private chat (live progress, then the verdict with its buttons).

    Returns the finished check, or None when it did not run (the chat's own admission refused it meanwhile).
    """

    async def __call__(
        self, user_id: int, exchange_id: str, credentials: Credentials, campaign_type: CampaignType | None
    ) -> CheckResult | None: ...


class BanList(Protocol):
    async def is_banned(self, user_id: int) -> bool: ...


class Drafts(Protocol):
    async def wipe(self, user_id: int, exchange_id: str | None = None) -> int: ...


#: The language a user reads (`storage.users.UserRepository.language`): the page's answers are in it, as the chat's.
UserLanguage = Callable[[int, str | None], Awaitable[str]]


class CheckSubmitter:
    """The `bot.webapp.Submitter` of the running bot (see the module docstring)."""

    def __init__(
        self,
        checks: CheckService,
        *,
        bans: BanList,
        drafts: Drafts,
        support_contact: str,
        user_language: UserLanguage | None = None,
    ) -> None:
        self.checks = checks
        self.bans = bans
        self.drafts = drafts
        self.support_contact = support_contact
        self.user_language = user_language
        self._in_chat: ChatCheck | None = None

    def attach(self, in_chat: ChatCheck) -> None:
        """Give the chat's side (the handlers do, when the Telegram application is built)."""
        self._in_chat = in_chat

    @property
    def attached(self) -> bool:
        return self._in_chat is not None

    async def __call__(
        self,
        user_id: int,
        exchange_id: str,
        credentials: Credentials,
        campaign_type: CampaignType | None,
        *,
        init_data: WebAppInitData,
    ) -> SubmissionResult:
        if self.user_language is not None:
            language = await self.user_language(user_id, init_data.language_code)
        else:
            language = language_of(init_data.language_code)
        if await self.bans.is_banned(user_id):
            log.info("webapp: refused a key from banned user %s", user_id)
            return SubmissionResult(False, text("banned", language, contact=self.support_contact), checked=False)
        try:
            await self.checks.admit(user_id)
        except RateLimited as limited:
            log.info("webapp: user %s is over the hourly check limit", user_id)
            if limited.limit == GLOBAL:
                title = text("busy_limit", language, minutes=limited.minutes)
            else:
                title = text("hourly_limit", language, limit=limited.allowed, minutes=limited.minutes)
            return SubmissionResult(False, title, checked=False)
        # the key arrived here: whatever the user had started to type in the chat is dropped
        await self.drafts.wipe(user_id)
        if self._in_chat is None:
            # only before the chat is attached (the core's own tests): the check runs without the chat's messages
            result: CheckResult | None = await self.checks.run(
                user_id, exchange_id, credentials, campaign_type=campaign_type
            )
        else:
            result = await self._in_chat(user_id, exchange_id, credentials, campaign_type)
        if result is None:
            return SubmissionResult(False, text("not_checked", language), checked=False)
        return result_from_report(result.report, language)


__all__ = ["BanList", "ChatCheck", "CheckSubmitter", "Drafts"]
