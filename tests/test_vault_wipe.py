"""Wiping is real: after a wipe no byte of a vault row's ciphertext or nonce is left in the database file or WAL.

Every test writes real rows into a real SQLite file in WAL mode, wipes them the way the bot does, and searches the
raw bytes of the main file, the -wal and the -shm for the row's ciphertext and nonce, without any checkpoint of
its own: the wipe has to do it.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from bot.exchanges.credentials import Credentials
from storage import Database, Vault


def _files(db_path: Path) -> dict[str, bytes]:
    out = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        file = db_path.with_name(db_path.name + suffix)
        if file.exists():
            out[file.name] = file.read_bytes()
    return out


def _holding(db_path: Path, needle: bytes) -> list[str]:
    return [name for name, content in _files(db_path).items() if needle in content]


def _creds() -> Credentials:
    tag = uuid.uuid4().hex
    return Credentials(f"KEY{tag}", f"SECRET{tag}", f"PASS{tag}")


async def _row(db: Database, table: str, user_id: int) -> tuple[bytes, bytes]:
    row = await db.fetchone(f"SELECT nonce, ciphertext FROM {table} WHERE user_id = ?", (user_id,))
    assert row is not None
    return bytes(row["nonce"]), bytes(row["ciphertext"])


@pytest.mark.parametrize("table", ["vault", "drafts"])
@pytest.mark.parametrize("checkpointed", [False, True], ids=["row-in-wal", "row-in-main-file"])
async def test_wipe_leaves_no_ciphertext_or_nonce(tmp_path: Path, table: str, checkpointed: bool) -> None:
    db_path = tmp_path / "bot.sqlite3"
    async with await Database.open(db_path) as db:
        vault = Vault(db, bytes(range(32)), ttl_seconds=1800, table=table)
        await vault.put(7, "okx", _creds())
        await vault.put(8, "okx", _creds())  # a neighbour on the same page stays readable
        nonce, ciphertext = await _row(db, table, 7)
        if checkpointed:
            await db.wal_checkpoint("PASSIVE")  # the row reaches the main file, the WAL keeps its frames
        assert _holding(db_path, ciphertext), "the scan must see the row before the wipe"

        assert await vault.wipe(7) == 1

        assert _holding(db_path, ciphertext) == []
        assert _holding(db_path, nonce) == []
        assert (await vault.get(8)) is not None


async def test_every_kind_of_wipe_purges(tmp_path: Path) -> None:
    """Replacing an entry, expiry, the periodic job, an entry that no longer decrypts, and wipe_all."""
    now = [1000.0]
    db_path = tmp_path / "bot.sqlite3"
    async with await Database.open(db_path) as db:
        vault = Vault(db, bytes(range(32)), ttl_seconds=60, clock=lambda: now[0])
        gone: list[bytes] = []

        await vault.put(1, "bybit", _creds())
        gone += await _row(db, "vault", 1)
        await vault.put(1, "bybit", _creds())  # replaces: the old ciphertext must go
        assert not any(_holding(db_path, n) for n in gone)

        gone += await _row(db, "vault", 1)
        now[0] += 61
        assert await vault.get(1) is None  # expired on read
        assert not any(_holding(db_path, n) for n in gone)

        await vault.put(2, "okx", _creds())
        gone += await _row(db, "vault", 2)
        now[0] += 61
        assert await vault.wipe_expired() == 1  # the periodic job
        assert not any(_holding(db_path, n) for n in gone)

        await vault.put(3, "gate", _creds())
        gone += await _row(db, "vault", 3)
        await db.execute("UPDATE vault SET exchange_id = 'mexc' WHERE user_id = 3")  # moved: no longer decrypts
        assert await vault.get(3) is None
        assert not any(_holding(db_path, n) for n in gone)

        await vault.put(4, "xt", _creds())
        gone += await _row(db, "vault", 4)
        assert await vault.wipe_all() == 1
        assert not any(_holding(db_path, n) for n in gone)
        assert not db.purge_is_pending


async def test_a_plain_delete_leaves_the_ciphertext_in_the_wal(tmp_path: Path) -> None:
    """Why the purge is needed: secure_delete alone zeroes the page, but the WAL keeps the earlier frames."""
    db_path = tmp_path / "bot.sqlite3"
    async with await Database.open(db_path) as db:
        vault = Vault(db, bytes(range(32)), ttl_seconds=1800)
        await vault.put(1, "okx", _creds())
        _, ciphertext = await _row(db, "vault", 1)
        await db.execute("DELETE FROM vault WHERE user_id = 1")
        assert _holding(db_path, ciphertext) == ["bot.sqlite3-wal"]
        assert await db.purge_wal()
        assert _holding(db_path, ciphertext) == []


async def test_a_reader_holding_a_snapshot_delays_the_purge_until_it_lets_go(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.sqlite3"
    async with await Database.open(db_path, busy_timeout_ms=0) as db:
        vault = Vault(db, bytes(range(32)), ttl_seconds=1800)
        await vault.put(1, "okx", _creds())
        _, ciphertext = await _row(db, "vault", 1)
        reader = sqlite3.connect(db_path, isolation_level=None)  # another process: `python -m bot stats`
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT COUNT(*) FROM vault").fetchone()
            assert await vault.wipe(1) == 1
            assert db.purge_is_pending and _holding(db_path, ciphertext)
            assert await vault.wipe_expired() == 0  # the job retries, still blocked
            assert db.purge_is_pending
        finally:
            reader.close()
        assert await vault.wipe_expired() == 0  # the next run of the job gets through
        assert not db.purge_is_pending
        assert _holding(db_path, ciphertext) == []


async def test_key_known_survives_the_vault(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "bot.sqlite3") as db:
        drafts = Vault(db, bytes(range(32)), ttl_seconds=600, table="drafts")
        await drafts.put(1, "okx", Credentials("", "", key_known=False))
        stored = await drafts.get(1)
        assert stored is not None and not stored.credentials.key_known
        assert stored.credentials.fingerprint == "—"
        assert await db.fetchval("SELECT fingerprint FROM drafts") == "—"
