"""A python-telegram-bot persistence that stores conversation states and nothing else.

No pickle, no user/chat/bot/callback data: a secret must never reach any of those, and conversation states
are plain JSON (a state is a str or an int). Each `update_conversation` call is written at once. PTB hands
state changes to the persistence from `Application.update_persistence()`, which runs every `update_interval`
seconds and on shutdown, so keep the interval short (default 1 s) for a restart to lose as little as possible.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from storage.db import Database

# PTB's own aliases live in a private module; these are the same shapes.
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]

DEFAULT_UPDATE_INTERVAL = 1.0

_NOTHING_BUT_CONVERSATIONS = PersistenceInput(bot_data=False, chat_data=False, user_data=False, callback_data=False)


def _is_json_scalar(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def encode_key(key: ConversationKey) -> str:
    """A conversation key (tuple of ints/strs) as JSON text."""
    if not isinstance(key, tuple) or not all(_is_json_scalar(part) for part in key):
        raise TypeError(f"conversation key must be a tuple of int/str, not {type(key).__name__}")
    return json.dumps(list(key), separators=(",", ":"))


def encode_state(state: object) -> str:
    """A conversation state as JSON text; only str and int are accepted."""
    if not _is_json_scalar(state):
        raise TypeError(f"conversation state must be a str or an int, not {type(state).__name__}")
    return json.dumps(state)


class SqliteConversationPersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Conversation states in the `conversations` table of our database.

    Pass the app's open `Database` to share its connection (the app closes it), or a path to have the
    persistence open its own on first use and close it in `flush()` (called by PTB at shutdown).
    """

    def __init__(
        self, db: Database | str | os.PathLike[str], *, update_interval: float = DEFAULT_UPDATE_INTERVAL
    ) -> None:
        super().__init__(store_data=_NOTHING_BUT_CONVERSATIONS, update_interval=update_interval)
        self._db: Database | None = db if isinstance(db, Database) else None
        self._path: Path | None = None if isinstance(db, Database) else Path(db)
        self._owns_db = self._db is None
        self._open_lock = asyncio.Lock()

    async def _database(self) -> Database:
        if self._db is None:
            async with self._open_lock:
                if self._db is None:
                    assert self._path is not None
                    self._db = await Database.open(self._path)
        return self._db

    # -- conversations ------------------------------------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        db = await self._database()
        rows = await db.fetchall("SELECT key_json, state_json FROM conversations WHERE name = ?", (name,))
        return {tuple(json.loads(row["key_json"])): json.loads(row["state_json"]) for row in rows}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        """Write the state at once; `None` (conversation ended) deletes the row. Non-JSON states raise TypeError."""
        key_json = encode_key(key)
        db = await self._database()
        if new_state is None:
            await db.execute("DELETE FROM conversations WHERE name = ? AND key_json = ?", (name, key_json))
            return
        state_json = encode_state(new_state)
        await db.execute(
            "INSERT INTO conversations (name, key_json, state_json, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name, key_json) DO UPDATE SET state_json = excluded.state_json, "
            "updated_at = excluded.updated_at",
            (name, key_json, state_json, time.time()),
        )

    async def flush(self) -> None:
        """Close the database if this persistence opened it; states are already written."""
        if self._owns_db and self._db is not None:
            db, self._db = self._db, None
            await db.close()

    # -- everything else is deliberately not stored -------------------------------------------------------

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None
