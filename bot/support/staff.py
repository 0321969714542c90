"""Who is staff: the one rule, for every staff-only action and for the details of /status.

Staff are members of the support chat and, when STAFF_USER_IDS is set, listed there as well. Without a support
chat nobody is staff. Membership is asked of the messenger and remembered for STAFF_CACHE_SECONDS at most, so
someone who leaves the chat loses their rights within that time; a failed lookup counts as "not staff".

Anonymous administrators. An administrator of a group may post as the group itself: the message then comes from
GroupAnonymousBot with `sender_chat` = the group ("the supergroup itself for messages sent by its anonymous
administrators", https://core.telegram.org/bots/api#message). Only administrators can do that, so a message posted
as the support chat, in the support chat, is staff when STAFF_USER_IDS is empty. When a list is set the person
can't be identified: the verdict is `UNIDENTIFIED`, and the edge refuses with an explanation of how to post as
oneself. A message posted as any other chat (a channel) is never staff.

The support chat is a `SupportChat`, so the rule follows the chat when Telegram upgrades it to a supergroup (a
lookup that reports the move is followed and asked again).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from typing import Protocol

from bot.support.chat import SupportChat
from bot.support.sender import Failure, SendError

#: Member statuses that count as being in the chat.
STAFF_STATUSES = frozenset({"creator", "administrator", "member"})
#: How long a "is this person staff?" answer is trusted.
STAFF_CACHE_SECONDS = 30.0
_CACHE_MAX = 1000


class MemberLookup(Protocol):
    async def member_status(self, chat_id: int, user_id: int) -> str: ...


class StaffVerdict(StrEnum):
    """What the rule says about the sender of one message."""

    STAFF = "staff"
    NOT_STAFF = "not_staff"
    #: an anonymous administrator of the support chat while STAFF_USER_IDS is set: can't be told apart
    UNIDENTIFIED = "unidentified"


class StaffRule:
    """`await rule.is_staff(user_id)`: a member of the support chat, and listed when a list is set."""

    def __init__(
        self,
        members: MemberLookup | None,
        support_chat: SupportChat | int | None,
        listed: frozenset[int] = frozenset(),
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.members = members
        self.chat = SupportChat(support_chat) if isinstance(support_chat, int) else support_chat
        self.listed = listed
        self._monotonic = monotonic
        self._cache: dict[int, tuple[bool, float]] = {}

    @property
    def support_chat_id(self) -> int | None:
        return self.chat.id if self.chat is not None else None

    async def verdict(self, user_id: int | None, *, is_bot: bool = False, as_chat: int | None = None) -> StaffVerdict:
        """The rule for one message: `user_id` its sender, `as_chat` the chat it was posted as, if any (only when
        that is the chat the message is in: an anonymous administrator)."""
        if self.members is None or self.chat is None:
            return StaffVerdict.NOT_STAFF
        if as_chat is not None:
            if as_chat != self.chat.id:
                return StaffVerdict.NOT_STAFF
            return StaffVerdict.UNIDENTIFIED if self.listed else StaffVerdict.STAFF
        return StaffVerdict.STAFF if await self.is_staff(user_id, is_bot=is_bot) else StaffVerdict.NOT_STAFF

    async def is_staff(self, user_id: int | None, *, is_bot: bool = False, as_chat: int | None = None) -> bool:
        if as_chat is not None:
            return await self.verdict(user_id, is_bot=is_bot, as_chat=as_chat) is StaffVerdict.STAFF
        if user_id is None or is_bot or self.members is None or self.chat is None:
            return False
        if self.listed and user_id not in self.listed:
            return False
        now = self._monotonic()
        cached = self._cache.get(user_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        ok = await self._member(user_id)
        if len(self._cache) > _CACHE_MAX:
            self._cache.clear()
        self._cache[user_id] = (ok, now + STAFF_CACHE_SECONDS)
        return ok

    async def _member(self, user_id: int) -> bool:
        assert self.members is not None and self.chat is not None
        for _ in range(2):
            chat_id = self.chat.id
            try:
                return await self.members.member_status(chat_id, user_id) in STAFF_STATUSES
            except SendError as exc:
                if exc.failure is not Failure.CHAT_MOVED or exc.new_chat_id is None:
                    return False
                await self.chat.follow(chat_id, exc.new_chat_id)
                if self.chat.id == chat_id:
                    return False
        return False
