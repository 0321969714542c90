"""One aiosqlite connection shared by every repository: pragmas, migrations, transactions.

The connection runs in autocommit mode; `Database.transaction()` opens an explicit `BEGIN IMMEDIATE`. An asyncio
lock serialises all use of the connection, so a transaction in one task never swallows another task's statement.
Inside `async with db.transaction() as tx:` use `tx`, not `db` (the lock is not re-entrant).

Every aiosqlite call is one hop to the connection's thread and back (about 0.1-0.2 ms each on the benchmark
machines, far more than the statement itself), so reads and inserts take one hop each: `execute_fetchall` and
`execute_insert` run the statement and read its rows or row id on the thread, where `execute` + fetch + close
took three.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Self

import aiosqlite

from storage.migrations import MIGRATIONS

#: Where the database lives unless DATABASE_PATH says otherwise.
DEFAULT_DATABASE_PATH = Path("data") / "bot.sqlite3"

#: How long a statement waits for another process's lock before failing, in milliseconds.
DEFAULT_BUSY_TIMEOUT_MS = 5000

Params = Sequence[Any] | dict[str, Any]


class MigrationError(RuntimeError):
    """The schema cannot be brought to the version this code expects."""


class _Ops:
    """Statement helpers over a raw connection, without locking."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        cursor = await self._conn.execute(sql, params)
        try:
            return cursor.rowcount
        finally:
            await cursor.close()

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT; return the new row id (SQLite's `last_insert_rowid()`, read in the same hop)."""
        row = await self._conn.execute_insert(sql, params)
        if row is None:  # pragma: no cover - sqlite always answers last_insert_rowid()
            raise RuntimeError("INSERT did not produce a row id")
        return int(row[0])

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row, or None (for queries that name one row or carry their own LIMIT: every row is read)."""
        rows = await self._conn.execute_fetchall(sql, params)
        for row in rows:
            return row
        return None

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class Transaction(_Ops):
    """The statements of one `BEGIN IMMEDIATE … COMMIT` block."""


class Database:
    """An open SQLite database in WAL mode, migrated to the latest schema."""

    def __init__(self, conn: aiosqlite.Connection, path: Path | None) -> None:
        """Use `Database.open`; this wraps an already configured connection."""
        self._conn = conn
        self._ops = _Ops(conn)
        self._lock = asyncio.Lock()
        self.path = path
        self._closed = False
        self._purge_pending = False

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str] = DEFAULT_DATABASE_PATH,
        *,
        migrations: Sequence[str] = MIGRATIONS,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> Self:
        """Open (creating if needed) the database at `path` and run the migrations it lacks.

        A new parent directory is created with mode 0700 and a new database file with mode 0600 (SQLite gives the
        -wal and -shm files the same mode). ":memory:" opens a private in-memory database (no WAL).
        """
        file_path: Path | None = None
        if str(path) != ":memory:":
            file_path = Path(path)
            file_path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
            _create_private_file(file_path)
        conn = await aiosqlite.connect(str(file_path or ":memory:"), isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if file_path is not None:
                mode = await _pragma(conn, "journal_mode = WAL")
                if str(mode).lower() != "wal":
                    raise RuntimeError(f"SQLite refused WAL mode (journal_mode is {mode!r})")
                await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA secure_delete = ON")
            await _migrate(conn, migrations)
        except BaseException:
            await conn.close()
            raise
        return cls(conn, file_path)

    async def close(self) -> None:
        """Checkpoint the WAL into the main file and close the connection (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.path is not None:
                await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            await self._conn.close()

    @property
    def closed(self) -> bool:
        return self._closed

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- statements ---------------------------------------------------------------------------------------

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement in its own transaction; return the number of rows changed."""
        async with self._lock:
            return await self._ops.execute(sql, params)

    async def insert(self, sql: str, params: Params = ()) -> int:
        async with self._lock:
            return await self._ops.insert(sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._lock:
            return await self._ops.fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._lock:
            return await self._ops.fetchall(sql, params)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        async with self._lock:
            return await self._ops.fetchval(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """`BEGIN IMMEDIATE`, commit on success, roll back on any exception."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._conn)
            except BaseException:
                if self._conn.in_transaction:
                    await self._conn.rollback()
                raise
            else:
                await self._conn.commit()

    @asynccontextmanager
    async def serialised(self) -> AsyncIterator[_Ops]:
        """Several statements with no other statement of this process between them, each committed on its own
        (no BEGIN/COMMIT round trips): for writes that must not interleave with another task's but may stop half
        way (a crash between two of them leaves each committed statement, nothing else)."""
        async with self._lock:
            yield self._ops

    # -- maintenance --------------------------------------------------------------------------------------

    async def schema_version(self) -> int:
        return int(await self.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version") or 0)

    async def pragma(self, name: str) -> Any:
        """Read one pragma (name only, e.g. "journal_mode")."""
        if not name.replace("_", "").isalnum():
            raise ValueError("pragma name must be a bare identifier")
        async with self._lock:
            return await _pragma(self._conn, name)

    async def wal_checkpoint(self, mode: str = "TRUNCATE") -> tuple[int, int, int]:
        """Copy the WAL into the main file; TRUNCATE also empties the -wal file. Returns (busy, log, done)."""
        mode = mode.upper()
        if mode not in {"PASSIVE", "FULL", "RESTART", "TRUNCATE"}:
            raise ValueError(f"unknown checkpoint mode {mode!r}")
        row = await self.fetchone(f"PRAGMA wal_checkpoint({mode})")
        if row is None:  # pragma: no cover - the pragma always answers one row
            return (0, 0, 0)
        return (int(row[0]), int(row[1]), int(row[2]))

    async def purge_wal(self) -> bool:
        """Make deleted rows unrecoverable from the files: call after deleting anything secret.

        The database runs with `secure_delete`, so a deleted row is zeroed in the page that replaces it; the
        WAL, though, still holds the frames written before the delete (a passive checkpoint copies pages but keeps
        the file). A TRUNCATE checkpoint copies the zeroed pages into the main file and empties the WAL. When a
        reader in another process holds an old snapshot the checkpoint cannot finish: False is returned and the
        purge is tried again by `purge_pending` (the vault's expiry job calls it every minute) and at close.
        """
        self._purge_pending = True
        if self.path is None:  # in memory: nothing on disk
            self._purge_pending = False
            return True
        busy, _, _ = await self.wal_checkpoint("TRUNCATE")
        wal = self.path.with_name(self.path.name + "-wal")
        done = busy == 0 and (not wal.exists() or wal.stat().st_size == 0)
        if done:
            self._purge_pending = False
        return done

    async def purge_pending(self) -> bool:
        """Retry a purge that a reader blocked; True when nothing is left to purge."""
        if not self._purge_pending:
            return True
        return await self.purge_wal()

    @property
    def purge_is_pending(self) -> bool:
        return self._purge_pending

    async def size_bytes(self) -> int:
        """The space the database takes: main file plus WAL (page count for an in-memory database)."""
        if self.path is None:
            async with self._lock:
                pages = await _pragma(self._conn, "page_count")
                size = await _pragma(self._conn, "page_size")
            return int(pages) * int(size)
        total = 0
        for file in (self.path, self.path.with_name(self.path.name + "-wal")):
            try:
                total += file.stat().st_size
            except FileNotFoundError:
                pass
        return total


def _create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only, unless it exists."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


async def _pragma(conn: aiosqlite.Connection, text: str) -> Any:
    cursor = await conn.execute(f"PRAGMA {text}")
    try:
        row = await cursor.fetchone()
    finally:
        await cursor.close()
    return None if row is None else row[0]


async def _current_version(conn: aiosqlite.Connection) -> int:
    cursor = await conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
    try:
        row = await cursor.fetchone()
    finally:
        await cursor.close()
    return int(row[0]) if row else 0


async def _migrate(conn: aiosqlite.Connection, migrations: Sequence[str]) -> None:
    """Run every migration the database lacks, each in one transaction with its schema_version row.

    The version row is inserted first, so a second process migrating at the same time fails on the primary
    key, rolls back, and finds the work done.
    """
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    current = await _current_version(conn)
    if current > len(migrations):
        raise MigrationError(
            f"database schema is version {current}, newer than this code knows ({len(migrations)}); "
            "refusing to run an older bot on it"
        )
    for version in range(current + 1, len(migrations) + 1):
        script = (
            "BEGIN IMMEDIATE;\n"
            f"INSERT INTO schema_version (version, applied_at) VALUES ({version}, {time.time()!r});\n"
            f"{migrations[version - 1]}\n"
            "COMMIT;"
        )
        try:
            await conn.executescript(script)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                await conn.rollback()
            if await _current_version(conn) >= version:
                continue  # another process applied it meanwhile
            raise MigrationError(f"migration to schema version {version} failed: {exc}") from exc
