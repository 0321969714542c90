"""Telegram users the bot has seen."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    first_name: str
    username: str | None
    language_code: str | None
    first_seen: float
    last_seen: float
    blocked_bot: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> UserRecord:
        return cls(
            id=int(row["id"]),
            first_name=row["first_name"],
            username=row["username"],
            language_code=row["language_code"],
            first_seen=float(row["first_seen"]),
            last_seen=float(row["last_seen"]),
            blocked_bot=bool(row["blocked_bot"]),
        )


class UserRepository:
    """Upserts user info on every update; remembers who blocked the bot."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def upsert(
        self,
        user_id: int,
        first_name: str = "",
        username: str | None = None,
        language_code: str | None = None,
    ) -> None:
        """Record the user's current info and `last_seen`; a user who writes has not blocked the bot."""
        now = self._clock()
        await self._db.execute(
            "INSERT INTO users (id, first_name, username, language_code, first_seen, last_seen, blocked_bot) "
            "VALUES (?, ?, ?, ?, ?, ?, 0) "
            "ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name, username = excluded.username, "
            "language_code = excluded.language_code, last_seen = excluded.last_seen, blocked_bot = 0",
            (user_id, first_name or "", username, language_code, now, now),
        )

    async def set_blocked(self, user_id: int, blocked: bool = True) -> bool:
        """Mark that the user blocked (or unblocked) the bot; False if the user is unknown."""
        return await self._db.execute("UPDATE users SET blocked_bot = ? WHERE id = ?", (int(blocked), user_id)) > 0

    async def get(self, user_id: int) -> UserRecord | None:
        row = await self._db.fetchone("SELECT * FROM users WHERE id = ?", (user_id,))
        return None if row is None else UserRecord.from_row(row)

    async def count(self, *, active_since: float | None = None) -> int:
        """How many users there are (seen since `active_since`, if given)."""
        if active_since is None:
            return int(await self._db.fetchval("SELECT COUNT(*) FROM users"))
        return int(await self._db.fetchval("SELECT COUNT(*) FROM users WHERE last_seen >= ?", (active_since,)))
