"""Database: pragmas, migrations, transactions, maintenance helpers."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from storage import DEFAULT_DATABASE_PATH, MIGRATIONS, SCHEMA_VERSION, Database, MigrationError


async def _tables(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row["name"] for row in rows}


def test_default_path_is_under_data() -> None:
    assert Path("data/bot.sqlite3") == DEFAULT_DATABASE_PATH


async def test_open_creates_private_dir_and_file_with_wal(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "data" / "bot.sqlite3"
    async with await Database.open(path) as db:
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert await db.pragma("journal_mode") == "wal"
        assert await db.pragma("foreign_keys") == 1
        assert await db.pragma("secure_delete") == 1
        assert await db.pragma("busy_timeout") == 5000
        assert await db.schema_version() == SCHEMA_VERSION
        assert {"users", "checks", "vault", "conversations", "tickets", "outbox"} <= await _tables(db)
        assert await db.size_bytes() > 0
    assert db.closed


async def test_reopening_does_not_rerun_migrations(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with await Database.open(path) as db:
        await db.execute("INSERT INTO bans (user_id, banned_by, at) VALUES (1, 2, 3.0)")
        first = await db.fetchall("SELECT version, applied_at FROM schema_version ORDER BY version")
    async with await Database.open(path) as db:
        again = await db.fetchall("SELECT version, applied_at FROM schema_version ORDER BY version")
        assert [tuple(r) for r in again] == [tuple(r) for r in first]
        assert len(again) == SCHEMA_VERSION
        assert await db.fetchval("SELECT COUNT(*) FROM bans") == 1


async def test_v1_database_upgrades(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with await Database.open(path, migrations=MIGRATIONS[:1]) as db:
        assert await db.schema_version() == 1
        assert "tickets" not in await _tables(db)
        await db.execute("INSERT INTO users (id, first_name, first_seen, last_seen) VALUES (7, 'Ann', 1.0, 1.0)")
    async with await Database.open(path) as db:
        assert await db.schema_version() == SCHEMA_VERSION
        assert "tickets" in await _tables(db)
        assert await db.fetchval("SELECT first_name FROM users WHERE id = 7") == "Ann"


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with await Database.open(path):
        pass
    with pytest.raises(MigrationError, match="newer"):
        await Database.open(path, migrations=MIGRATIONS[:1])


async def test_failed_migration_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    broken = (*MIGRATIONS, "CREATE TABLE extra (x INTEGER); CREATE TABLE extra (y INTEGER);")
    with pytest.raises(MigrationError, match=f"version {SCHEMA_VERSION + 1}"):
        await Database.open(path, migrations=broken)
    async with await Database.open(path) as db:
        assert await db.schema_version() == SCHEMA_VERSION
        assert "extra" not in await _tables(db)


async def test_transaction_commits_or_rolls_back(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "bot.sqlite3") as db:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO bans (user_id, at) VALUES (1, 1.0)")
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO bans (user_id, at) VALUES (2, 1.0)")
                raise RuntimeError("boom")
        assert [r[0] for r in await db.fetchall("SELECT user_id FROM bans")] == [1]


async def test_checkpoint_truncates_wal(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    wal = tmp_path / "bot.sqlite3-wal"
    async with await Database.open(path) as db:
        await db.execute("INSERT INTO bans (user_id, at) VALUES (1, 1.0)")
        assert wal.stat().st_size > 0
        busy, _, _ = await db.wal_checkpoint()
        assert busy == 0
        assert wal.stat().st_size == 0
        with pytest.raises(ValueError):
            await db.wal_checkpoint("NOPE")


async def test_memory_database(tmp_path: Path) -> None:
    async with await Database.open(":memory:") as db:
        assert await db.schema_version() == SCHEMA_VERSION
        assert await db.size_bytes() > 0
