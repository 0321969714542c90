"""Bans and the rate-limit ledger (per-user key checks and anything else worth counting)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from storage.db import Database

Clock = Callable[[], float]

#: The ledger kind for key checks.
CHECK = "check"


@dataclass(frozen=True, slots=True)
class Ban:
    user_id: int
    banned_by: int | None
    reason: str | None
    at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Ban:
        return cls(user_id=int(row["user_id"]), banned_by=row["banned_by"], reason=row["reason"], at=float(row["at"]))


class BanRepository:
    """Users staff have banned from the bot."""

    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock

    async def ban(self, user_id: int, banned_by: int | None, reason: str | None = None) -> None:
        """Ban a user (again: the newest ban replaces the old one)."""
        await self._db.execute(
            "INSERT INTO bans (user_id, banned_by, reason, at) VALUES (?, ?, ?, ?) ON CONFLICT (user_id) "
            "DO UPDATE SET banned_by = excluded.banned_by, reason = excluded.reason, at = excluded.at",
            (user_id, banned_by, reason, self._clock()),
        )

    async def unban(self, user_id: int) -> bool:
        """Lift a ban; False if the user was not banned."""
        return await self._db.execute("DELETE FROM bans WHERE user_id = ?", (user_id,)) > 0

    async def is_banned(self, user_id: int) -> bool:
        return await self._db.fetchval("SELECT 1 FROM bans WHERE user_id = ?", (user_id,)) is not None

    async def get(self, user_id: int) -> Ban | None:
        row = await self._db.fetchone("SELECT * FROM bans WHERE user_id = ?", (user_id,))
        return None if row is None else Ban.from_row(row)

    async def list_bans(self, limit: int = 100) -> list[Ban]:
        rows = await self._db.fetchall("SELECT * FROM bans ORDER BY at DESC LIMIT ?", (int(limit),))
        return [Ban.from_row(row) for row in rows]


class RateLimitLedger:
    """Timestamps of rate-limited actions per user: record, count in a window, prune."""

    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock

    async def record(self, user_id: int, kind: str = CHECK, at: float | None = None) -> None:
        await self._db.execute(
            "INSERT INTO rate_events (user_id, kind, at) VALUES (?, ?, ?)",
            (user_id, kind, self._clock() if at is None else at),
        )

    async def count_since(self, user_id: int, since: float, kind: str = CHECK) -> int:
        """How many actions of `kind` the user took at or after `since`."""
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM rate_events WHERE user_id = ? AND kind = ? AND at >= ?", (user_id, kind, since)
            )
        )

    async def oldest_since(self, user_id: int, since: float, kind: str = CHECK) -> float | None:
        """The oldest action in the window: the limit lifts once it leaves the window."""
        value = await self._db.fetchval(
            "SELECT MIN(at) FROM rate_events WHERE user_id = ? AND kind = ? AND at >= ?", (user_id, kind, since)
        )
        return None if value is None else float(value)

    async def prune(self, before: float) -> int:
        """Delete entries older than `before` (every kind, every user)."""
        return await self._db.execute("DELETE FROM rate_events WHERE at < ?", (before,))
