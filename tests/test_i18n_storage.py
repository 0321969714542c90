"""The language per user (issue #18): V7_LANGUAGE on a database of the version before, set on first contact from
Telegram's language_code and kept after that, changed with /language, read back after the database is reopened."""

from __future__ import annotations

from pathlib import Path

from storage.db import Database
from storage.migrations import MIGRATIONS, V7_LANGUAGE
from storage.users import UserRepository


async def test_an_older_database_gets_the_column_and_its_users_read_their_telegram_language(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    before = MIGRATIONS[: MIGRATIONS.index(V7_LANGUAGE)]
    async with await Database.open(path, migrations=before) as db:
        await db.execute(
            "INSERT INTO users (id, first_name, language_code, first_seen, last_seen) VALUES (1, 'Old', 'ru-RU', 0, 0)"
        )
    async with await Database.open(path) as db:
        users = UserRepository(db)
        record = await users.get(1)
        assert record is not None and record.language is None and record.reads == "ru"
        assert await users.language(1, "ru-RU") == "ru"
        await users.upsert(1, "Old", None, "ru-RU")  # the next message stores it
        assert (await users.get(1)).language == "ru"  # type: ignore[union-attr]


async def test_first_contact_sets_the_language_and_only_the_user_changes_it(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with await Database.open(path) as db:
        users = UserRepository(db)
        assert await users.language(7, "zh-hans") == "zh_Hans"  # never seen: from the code, nothing stored
        assert await users.get(7) is None
        await users.upsert(7, "Li", None, "zh-hans")
        await users.upsert(7, "Li", None, "en")  # the app's language changed later
        assert await users.language(7, "en") == "zh_Hans"
        assert await users.set_language(7, "vi") == "vi"
        assert await users.language(7) == "vi"
        assert await users.set_language(8, "tr", first_name="New") == "tr"  # /language before anything else
        await users.upsert(9, "Xi", None, "pt-br")
        assert await users.language(9) == "en"
    async with await Database.open(path) as db:  # a restart: the choice is in the database
        users = UserRepository(db)
        assert [await users.language(u) for u in (7, 8, 9)] == ["vi", "tr", "en"]
        assert (await users.get(7)).language_code == "en"  # type: ignore[union-attr]
