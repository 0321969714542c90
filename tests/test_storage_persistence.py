"""SqliteConversationPersistence: conversation states only, written at once, restored after a restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PersistenceInput,
    filters,
)
from telegram.request import BaseRequest, RequestData

from storage import Database, SqliteConversationPersistence


async def test_state_survives_a_new_persistence_object(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with await Database.open(path) as db:
        persistence = SqliteConversationPersistence(db)
        assert persistence.store_data == PersistenceInput(False, False, False, False)
        await persistence.update_conversation("connect", (10, 20), "AWAITING_KEY")
        await persistence.update_conversation("connect", (11, 21), 3)
        await persistence.update_conversation("connect", (10, 20), "AWAITING_SECRET")
        await persistence.update_conversation("other", (10, 20), 1)
        await persistence.update_conversation("connect", (12, 22), 5)
        await persistence.update_conversation("connect", (12, 22), None)  # ended
        await persistence.flush()  # shared database: stays open
        assert not db.closed

    reopened = SqliteConversationPersistence(path)
    try:
        assert await reopened.get_conversations("connect") == {(10, 20): "AWAITING_SECRET", (11, 21): 3}
        assert await reopened.get_conversations("other") == {(10, 20): 1}
        assert await reopened.get_conversations("nothing") == {}
    finally:
        await reopened.flush()


@pytest.mark.parametrize("state", [{"secret": "x"}, ["a"], 1.5, True, b"bytes", object()])
async def test_non_json_state_is_refused(tmp_path: Path, state: object) -> None:
    async with await Database.open(tmp_path / "bot.sqlite3") as db:
        persistence = SqliteConversationPersistence(db)
        with pytest.raises(TypeError):
            await persistence.update_conversation("connect", (1, 1), state)
        assert await db.fetchval("SELECT COUNT(*) FROM conversations") == 0


async def test_bad_key_is_refused(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "bot.sqlite3") as db:
        persistence = SqliteConversationPersistence(db)
        with pytest.raises(TypeError):
            await persistence.update_conversation("connect", (1, {"x": 1}), 1)  # type: ignore[arg-type]


async def test_everything_else_is_not_stored(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "bot.sqlite3") as db:
        persistence = SqliteConversationPersistence(db)
        await persistence.update_user_data(1, {"api_secret": "nope"})
        await persistence.update_chat_data(1, {"api_secret": "nope"})
        await persistence.update_bot_data({"api_secret": "nope"})
        await persistence.update_callback_data(([], {}))
        await persistence.refresh_user_data(1, {})
        await persistence.refresh_chat_data(1, {})
        await persistence.refresh_bot_data({})
        await persistence.drop_user_data(1)
        await persistence.drop_chat_data(1)
        assert await persistence.get_user_data() == {}
        assert await persistence.get_chat_data() == {}
        assert await persistence.get_bot_data() == {}
        assert await persistence.get_callback_data() is None
        tables = [r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in await db.fetchall(f"SELECT * FROM {table}"):  # table names from sqlite_master
                assert "nope" not in json.dumps([str(v) for v in row])


# -- with a real Application ----------------------------------------------------------------------------------


class _OfflineRequest(BaseRequest):
    """Answers getMe; anything else is a successful no-op. Never touches the network."""

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        if url.endswith("/getMe"):
            result: object = {"id": 999, "is_bot": True, "first_name": "Bot", "username": "test_bot"}
        else:
            result = True
        return 200, json.dumps({"ok": True, "result": result}).encode()


def _update(update_id: int, text: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": 1_700_000_000,
        "chat": {"id": 42, "type": "private"},
        "from": {"id": 42, "is_bot": False, "first_name": "Ann"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


async def test_conversation_resumes_after_restart(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    seen: list[str] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
        seen.append("start")
        return "AWAITING_KEY"

    async def got_key(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        seen.append("got_key")
        return ConversationHandler.END

    def build(db: Database) -> Any:
        request = _OfflineRequest()
        app = (
            ApplicationBuilder()
            .token("123:offline")
            .request(request)
            .get_updates_request(_OfflineRequest())
            .updater(None)
            .persistence(SqliteConversationPersistence(db))
            .build()
        )
        app.add_handler(
            ConversationHandler(
                entry_points=[CommandHandler("connect", start)],
                states={"AWAITING_KEY": [MessageHandler(filters.TEXT & ~filters.COMMAND, got_key)]},
                fallbacks=[],
                name="connect",
                persistent=True,
            )
        )
        return app

    async with await Database.open(path) as db:
        app = build(db)
        async with app:
            await app.process_update(Update.de_json(_update(1, "/connect"), app.bot))
            await app.update_persistence()
            assert await db.fetchval("SELECT state_json FROM conversations") == '"AWAITING_KEY"'

    # "Restart": a new database connection, a new application; the flow picks up where it was.
    async with await Database.open(path) as db:
        app = build(db)
        async with app:
            await app.process_update(Update.de_json(_update(2, "some text"), app.bot))
            await app.update_persistence()
        assert await db.fetchval("SELECT COUNT(*) FROM conversations") == 0
    assert seen == ["start", "got_key"]


# -- written ahead, and abandoned positions -----------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_state_written_ahead_is_not_overwritten_by_ptbs_older_one(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "bot.sqlite3") as db:
        persistence = SqliteConversationPersistence(db)
        statements: list[str] = []
        await db._conn.set_trace_callback(statements.append)
        await persistence.update_conversation("flow", (1, 1), "key")  # PTB's write: at once
        await persistence.save_now("flow", (1, 1), "secret")  # the handler, before it asks for the secret
        await persistence.update_conversation("flow", (1, 1), "key")  # PTB's flush while that handler runs
        assert await db.fetchval("SELECT state_json FROM conversations") == '"secret"'
        persistence.settled("flow", (1, 1))  # the handler returned "secret"
        await persistence.update_conversation("flow", (1, 1), "secret")  # PTB's flush of it: already there
        await persistence.save_now("flow", (1, 1), None)  # the flow ends
        persistence.settled("flow", (1, 1))
        await persistence.update_conversation("flow", (1, 1), None)
        await db._conn.set_trace_callback(None)
        assert await db.fetchval("SELECT COUNT(*) FROM conversations") == 0
        writes = [s for s in statements if s.startswith(("INSERT INTO conversations", "DELETE FROM conversations"))]
        assert len(writes) == 3  # key, secret, the end: once each
        # after the handler is done, a different state from PTB is written again (a handler that did not write
        # ahead must not leave the table behind)
        await persistence.update_conversation("flow", (1, 1), "exchange")
        assert await db.fetchval("SELECT state_json FROM conversations") == '"exchange"'


async def test_positions_older_than_their_max_age_are_not_restored_and_are_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    clock = _Clock()
    async with await Database.open(path) as db:
        persistence = SqliteConversationPersistence(db, max_age={"flow": 900}, clock=clock)
        await persistence.save_now("flow", (1, 1), "key")
        await persistence.save_now("other", (1, 1), "step")
        clock.now += 600
        await persistence.save_now("flow", (2, 2), "secret")
        clock.now += 301  # the first is 901 s old, the second 301 s
        restarted = SqliteConversationPersistence(db, max_age={"flow": 900}, clock=clock)
        assert await restarted.get_conversations("flow") == {(2, 2): "secret"}
        assert await restarted.get_conversations("other") == {(1, 1): "step"}  # no max age: kept
        clock.now += 600
        assert await restarted.forget_stale("flow", 900) == 1
        assert await restarted.get_conversations("flow") == {}
        # forgotten means forgotten: PTB's repeat of the old state is written again, not skipped
        await restarted.update_conversation("flow", (2, 2), "secret")
        assert await db.fetchval("SELECT COUNT(*) FROM conversations WHERE name = 'flow'") == 1
