"""Telegram users the bot has seen, and the language each one reads.

The language (`bot.i18n`) is set on first contact from Telegram's `language_code` and changed only by the user
(/language): a later change of the Telegram app's language does not move it. Handlers ask for it on every update
(`language`), so it is kept in memory once read (this repository is the only writer of the column).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.i18n.languages import from_telegram, normalise
from storage.db import Database

#: How many users' languages are kept in memory (all of them are in the database; the cache starts over when full).
LANGUAGE_CACHE = 50_000


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    first_name: str
    username: str | None
    language_code: str | None
    first_seen: float
    last_seen: float
    blocked_bot: bool
    #: the language the bot writes to the user in (None: never set, Telegram's `language_code` decides)
    language: str | None = None

    @property
    def reads(self) -> str:
        """The language the user reads."""
        return normalise(self.language) if self.language else from_telegram(self.language_code)

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
            language=row["language"],
        )


class UserRepository:
    """Upserts user info on every update; remembers who blocked the bot."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        self._languages: dict[int, str] = {}

    async def upsert(
        self,
        user_id: int,
        first_name: str = "",
        username: str | None = None,
        language_code: str | None = None,
    ) -> None:
        """Record the user's current info and `last_seen`; a user who writes has not blocked the bot. On first
        contact the user's language is set from `language_code`; after that it stays as it is."""
        now = self._clock()
        await self._db.execute(
            "INSERT INTO users (id, first_name, username, language_code, first_seen, last_seen, blocked_bot, language) "
            "VALUES (?, ?, ?, ?, ?, ?, 0, ?) "
            "ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name, username = excluded.username, "
            "language_code = excluded.language_code, last_seen = excluded.last_seen, blocked_bot = 0, "
            "language = COALESCE(users.language, excluded.language)",
            (user_id, first_name or "", username, language_code, now, now, from_telegram(language_code)),
        )
        self._languages.pop(user_id, None)

    async def language(self, user_id: int, language_code: str | None = None) -> str:
        """The language the user reads: the stored one, else (never set) the one of `language_code`."""
        known = self._languages.get(user_id)
        if known is not None:
            return known
        stored = await self._db.fetchval("SELECT language FROM users WHERE id = ?", (user_id,))
        if not stored:
            return from_telegram(language_code)
        language = normalise(str(stored))
        if len(self._languages) >= LANGUAGE_CACHE:
            self._languages.clear()
        self._languages[user_id] = language
        return language

    async def set_language(
        self,
        user_id: int,
        language: str,
        *,
        first_name: str = "",
        username: str | None = None,
        language_code: str | None = None,
    ) -> str:
        """Store the language the user chose (/language), creating the user's row if needed; the language stored."""
        language = normalise(language)
        now = self._clock()
        await self._db.execute(
            "INSERT INTO users (id, first_name, username, language_code, first_seen, last_seen, blocked_bot, language) "
            "VALUES (?, ?, ?, ?, ?, ?, 0, ?) "
            "ON CONFLICT (id) DO UPDATE SET language = excluded.language, last_seen = excluded.last_seen",
            (user_id, first_name or "", username, language_code, now, now, language),
        )
        self._languages[user_id] = language
        return language

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
