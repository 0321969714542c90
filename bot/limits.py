"""The relay limit as a handler needs it: may this message go to the support chat, and should the user be told.

The counting is `storage.moderation.AbuseLimiter.admit_relay` (RELAYS_PER_HOUR per user, in one transaction).
What is added here: a user over the limit is told once per refusal, not once per message: a flood answered
message by message would spend the chat's own flood budget on our notices. They are told again only after the
limit has lifted and refused them anew.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

#: How many users' refusal notices are remembered.
TOLD_MEMORY = 10_000


class RelayAdmission(Protocol):
    @property
    def allowed(self) -> bool: ...
    @property
    def retry_after(self) -> float: ...
    @property
    def minutes(self) -> int: ...


class RelayLimiter(Protocol):
    async def admit_relay(self, user_id: int, *, record: bool = True) -> RelayAdmission: ...


@dataclass(frozen=True, slots=True)
class RelayVerdict:
    allowed: bool
    #: tell the user (the first refusal since the limit last lifted)
    tell: bool = False
    #: when they can write again, in whole minutes
    minutes: int = 0


class RelayLimit:
    """Admit one relay for a user, counted; say whether a refusal is news to them."""

    def __init__(self, limiter: RelayLimiter, clock: Callable[[], float] = time.time) -> None:
        self._limiter = limiter
        self._clock = clock
        self._told_until: dict[int, float] = {}

    async def admit(self, user_id: int) -> RelayVerdict:
        decision = await self._limiter.admit_relay(user_id)
        if decision.allowed:
            return RelayVerdict(True)
        now = self._clock()
        if self._told_until.get(user_id, 0.0) > now:
            return RelayVerdict(False, tell=False, minutes=decision.minutes)
        if len(self._told_until) > TOLD_MEMORY:
            self._told_until = {u: t for u, t in self._told_until.items() if t > now}
        self._told_until[user_id] = now + decision.retry_after
        return RelayVerdict(False, tell=True, minutes=decision.minutes)
