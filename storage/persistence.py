"""A python-telegram-bot persistence that stores conversation states and nothing else.

No pickle, no user/chat/bot/callback data: a secret must never reach any of those, and conversation states
are plain JSON (a state is a str or an int).

When a state is written. PTB hands state changes to the persistence from `Application.update_persistence()`,
which runs every `update_interval` seconds (and at shutdown), and only after the handler has returned, i.e.
after it asked its question. A process killed in between (`kill -9`, a crash, the OOM killer) would come back
with the user one question behind, or out of the flow. So a flow writes its next position itself, at once and
before it asks (`save_now`, write-ahead). Until the handler that wrote it is done (`settled`), PTB's periodic
write of that conversation is older than the table and is skipped; afterwards PTB's write of the same state is
skipped too (the table holds it already): one statement per step, not two.

Abandoned flows: `max_age` gives, per conversation name, how long a position stays valid without a change (the
key flow: as long as its draft). Older positions are not restored at start and are deleted then;
`forget_stale` deletes them from a running bot (the expiry job calls it).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from storage.db import Database

# PTB's own aliases live in a private module; these are the same shapes.
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]

DEFAULT_UPDATE_INTERVAL = 1.0
#: How many written states are remembered to skip PTB's repeat of a write.
_REMEMBERED = 100_000

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
    persistence open its own on first use and close it in `flush()` (called by PTB at shutdown). `max_age`:
    seconds a position of the named conversation stays valid after its last write (see the module docstring);
    `clock` dates the writes (the services' clock, so tests can move it).
    """

    def __init__(
        self,
        db: Database | str | os.PathLike[str],
        *,
        update_interval: float = DEFAULT_UPDATE_INTERVAL,
        max_age: Mapping[str, float] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(store_data=_NOTHING_BUT_CONVERSATIONS, update_interval=update_interval)
        self._db: Database | None = db if isinstance(db, Database) else None
        self._path: Path | None = None if isinstance(db, Database) else Path(db)
        self._owns_db = self._db is None
        self._open_lock = asyncio.Lock()
        self._max_age = dict(max_age or {})
        self._clock = clock
        #: what the table holds for each (name, key), as far as this object wrote or read it (None: no row)
        self._stored: dict[tuple[str, str], str | None] = {}
        #: conversations whose handler wrote ahead (`save_now`) and is still running
        self._ahead: set[tuple[str, str]] = set()

    async def _database(self) -> Database:
        if self._db is None:
            async with self._open_lock:
                if self._db is None:
                    assert self._path is not None
                    self._db = await Database.open(self._path)
        return self._db

    # -- conversations ------------------------------------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        """The stored positions of `name` (PTB calls this at start); positions past their `max_age` are deleted."""
        db = await self._database()
        max_age = self._max_age.get(name)
        if max_age is not None:
            await self.forget_stale(name, max_age)
        rows = await db.fetchall("SELECT key_json, state_json FROM conversations WHERE name = ?", (name,))
        for row in rows:
            self._stored[(name, row["key_json"])] = row["state_json"]
        return {tuple(json.loads(row["key_json"])): json.loads(row["state_json"]) for row in rows}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        """PTB's write of a changed state (`None`: the conversation ended), written at once. Skipped when the
        table holds it already, and while the conversation's handler that wrote ahead still runs (PTB's state is
        then older than the table's). Non-JSON states raise TypeError."""
        key_json = encode_key(key)
        state_json = None if new_state is None else encode_state(new_state)
        if (name, key_json) in self._ahead:
            return
        if (name, key_json) in self._stored and self._stored[(name, key_json)] == state_json:
            return
        await self._write(name, key_json, state_json)

    async def save_now(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        """Write a conversation's next state at once (`None`: it ends), before the handler asks the question that
        leads there: a crash right after the question then finds the user where they are. The handler's
        conversation calls `settled` when the handler is done."""
        key_json = encode_key(key)
        self._ahead.add((name, key_json))
        await self._write(name, key_json, None if new_state is None else encode_state(new_state))

    def settled(self, name: str, key: ConversationKey) -> None:
        """The handler that wrote ahead for this conversation is done: PTB's state is current again."""
        self._ahead.discard((name, encode_key(key)))

    async def _write(self, name: str, key_json: str, state_json: str | None) -> None:
        db = await self._database()
        if state_json is None:
            await db.execute("DELETE FROM conversations WHERE name = ? AND key_json = ?", (name, key_json))
        else:
            await db.execute(
                "INSERT INTO conversations (name, key_json, state_json, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name, key_json) DO UPDATE SET state_json = excluded.state_json, "
                "updated_at = excluded.updated_at",
                (name, key_json, state_json, self._clock()),
            )
        self._stored[(name, key_json)] = state_json
        if len(self._stored) > _REMEMBERED:
            self._stored.clear()  # only an optimisation: a forgotten entry costs one more write

    async def forget_stale(self, name: str, max_age: float) -> int:
        """Delete the positions of `name` not written for `max_age` seconds; how many."""
        db = await self._database()
        cutoff = self._clock() - max_age
        async with db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT key_json FROM conversations WHERE name = ? AND updated_at < ?", (name, cutoff)
            )
            if rows:
                await tx.execute("DELETE FROM conversations WHERE name = ? AND updated_at < ?", (name, cutoff))
        for row in rows:
            self._stored[(name, row["key_json"])] = None
        return len(rows)

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
