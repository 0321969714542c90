"""The relay limit as handlers use it (bot/limits.py): counted in the database, and the user told once per refusal."""

from __future__ import annotations

from pathlib import Path

from bot.limits import RelayLimit
from storage.db import Database
from storage.moderation import AbuseLimiter, Limits, derive_limit_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_user_over_the_relay_limit_is_told_once_until_it_lifts(tmp_path: Path) -> None:
    clock = Clock()
    async with await Database.open(tmp_path / "bot.sqlite3") as db:
        limiter = AbuseLimiter(db, derive_limit_key(bytes(range(32))), Limits(relays_per_user=2), clock)
        relays = RelayLimit(limiter, clock)
        assert (await relays.admit(1)).allowed and (await relays.admit(1)).allowed
        first = await relays.admit(1)
        assert not first.allowed and first.tell and first.minutes == 10  # the default window: 10 minutes
        again = await relays.admit(1)
        assert not again.allowed and not again.tell  # no notice per message of a flood
        assert (await relays.admit(2)).allowed  # another user goes on
        clock.now += 601
        assert (await relays.admit(1)).allowed  # the window moved on
        await relays.admit(1)
        refused = await relays.admit(1)
        assert not refused.allowed and refused.tell  # a new refusal is news again
