"""Who is staff: the one rule, for every staff-only action and for the details of /status.

Staff are members of the support chat and, when STAFF_USER_IDS is set, listed there as well. Without a support
chat nobody is staff. Membership is asked of the messenger and remembered for STAFF_CACHE_SECONDS at most, so
someone who leaves the chat loses their rights within that time; a failed lookup counts as "not staff".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from bot.support.sender import SendError

#: Member statuses that count as being in the chat.
STAFF_STATUSES = frozenset({"creator", "administrator", "member"})
#: How long a "is this person staff?" answer is trusted.
STAFF_CACHE_SECONDS = 30.0
_CACHE_MAX = 1000


class MemberLookup(Protocol):
    async def member_status(self, chat_id: int, user_id: int) -> str: ...


class StaffRule:
    """`await rule.is_staff(user_id)`: a member of the support chat, and listed when a list is set."""

    def __init__(
        self,
        members: MemberLookup | None,
        support_chat_id: int | None,
        listed: frozenset[int] = frozenset(),
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.members = members
        self.support_chat_id = support_chat_id
        self.listed = listed
        self._monotonic = monotonic
        self._cache: dict[int, tuple[bool, float]] = {}

    async def is_staff(self, user_id: int | None, *, is_bot: bool = False) -> bool:
        if user_id is None or is_bot or self.members is None or self.support_chat_id is None:
            return False
        if self.listed and user_id not in self.listed:
            return False
        now = self._monotonic()
        cached = self._cache.get(user_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            ok = await self.members.member_status(self.support_chat_id, user_id) in STAFF_STATUSES
        except SendError:
            ok = False
        if len(self._cache) > _CACHE_MAX:
            self._cache.clear()
        self._cache[user_id] = (ok, now + STAFF_CACHE_SECONDS)
        return ok
