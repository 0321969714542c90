"""A persistent outbox: messages to send, delivered in order per chat, retried with backoff, kept over restarts.

A worker claims the next due item (which takes a lease on it), sends it, then marks it sent, schedules a retry
or marks it failed. An item is only claimable when it is the oldest pending item of its chat, so a chat's
messages never overtake each other; other chats are not held up. A lease that runs out (the worker crashed) makes
the item claimable again, so delivery is at least once.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.security import redact
from storage.db import Database

DEFAULT_LEASE_SECONDS = 60.0
DEFAULT_BACKOFF_BASE = 2.0
DEFAULT_BACKOFF_MAX = 15 * 60.0
DEFAULT_MAX_ATTEMPTS = 8
_ERROR_MAX_CHARS = 500


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    kind: str
    chat_id: int
    payload: dict[str, Any]
    status: OutboxStatus
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: float
    sent_at: float | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> OutboxItem:
        return cls(
            id=int(row["id"]),
            kind=row["kind"],
            chat_id=int(row["chat_id"]),
            payload=json.loads(row["payload_json"]),
            status=OutboxStatus(row["status"]),
            attempts=int(row["attempts"]),
            next_attempt_at=float(row["next_attempt_at"]),
            last_error=row["last_error"],
            created_at=float(row["created_at"]),
            sent_at=None if row["sent_at"] is None else float(row["sent_at"]),
        )


_HEAD_OF_CHAT = (
    "status = 'pending' AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.chat_id = outbox.chat_id "
    "AND earlier.status = 'pending' AND earlier.id < outbox.id)"
)


class OutboxRepository:
    """The outbox table. Backoff: base * 2**(attempts - 1), capped, optionally jittered; then `failed`."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], float] = time.time,
        *,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        jitter: float = 0.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_attempts = max_attempts
        self.jitter = jitter

    async def enqueue(
        self, kind: str, chat_id: int, payload: dict[str, Any], *, not_before: float | None = None
    ) -> int:
        """Queue a message; `payload` must be JSON-serialisable. Returns the item id."""
        now = self._clock()
        payload_json = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return await self._db.insert(
            "INSERT INTO outbox (kind, chat_id, payload_json, status, attempts, next_attempt_at, created_at) "
            "VALUES (?, ?, ?, 'pending', 0, ?, ?)",
            (kind, chat_id, payload_json, now if not_before is None else max(now, not_before), now),
        )

    async def claim_next(self, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> OutboxItem | None:
        """Lease the next due item that heads its chat's queue and count an attempt; None if nothing is due."""
        now = self._clock()
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                f"SELECT id FROM outbox WHERE {_HEAD_OF_CHAT} AND next_attempt_at <= ? "
                "AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY next_attempt_at, id LIMIT 1",
                (now, now),
            )
            if row is None:
                return None
            await tx.execute(
                "UPDATE outbox SET claimed_until = ?, attempts = attempts + 1 WHERE id = ?",
                (now + lease_seconds, row["id"]),
            )
            claimed = await tx.fetchone("SELECT * FROM outbox WHERE id = ?", (row["id"],))
        assert claimed is not None
        return OutboxItem.from_row(claimed)

    async def next_due_at(self) -> float | None:
        """When the next claimable item becomes due (for a worker deciding how long to sleep)."""
        value = await self._db.fetchval(
            f"SELECT MIN(MAX(next_attempt_at, COALESCE(claimed_until, 0))) FROM outbox WHERE {_HEAD_OF_CHAT}"
        )
        return None if value is None else float(value)

    async def mark_sent(self, item_id: int) -> None:
        await self._db.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, claimed_until = NULL, last_error = NULL WHERE id = ?",
            (self._clock(), item_id),
        )

    def backoff(self, attempts: int) -> float:
        """Delay before the next attempt after `attempts` failed ones."""
        delay = min(self.backoff_base * 2 ** max(attempts - 1, 0), self.backoff_max)
        if self.jitter:
            delay *= 1 + random.uniform(0, self.jitter)  # spreading retries, not security
        return delay

    async def retry_later(
        self, item_id: int, error: str | None = None, *, retry_after: float | None = None
    ) -> OutboxItem | None:
        """Release a claimed item for another attempt after the backoff (or `retry_after`, e.g. Telegram's).

        After `max_attempts` attempts the item is marked failed instead. `error` is redacted and truncated.
        Returns the updated item.
        """
        now = self._clock()
        error_text = None if error is None else redact(error)[:_ERROR_MAX_CHARS]
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT attempts, status FROM outbox WHERE id = ?", (item_id,))
            if row is None:
                return None
            attempts = int(row["attempts"])
            if row["status"] == OutboxStatus.PENDING:
                if attempts >= self.max_attempts:
                    await tx.execute(
                        "UPDATE outbox SET status = 'failed', claimed_until = NULL, last_error = ? WHERE id = ?",
                        (error_text, item_id),
                    )
                else:
                    delay = self.backoff(attempts) if retry_after is None else max(retry_after, 0.0)
                    await tx.execute(
                        "UPDATE outbox SET next_attempt_at = ?, claimed_until = NULL, last_error = ? WHERE id = ?",
                        (now + delay, error_text, item_id),
                    )
            fresh = await tx.fetchone("SELECT * FROM outbox WHERE id = ?", (item_id,))
        return None if fresh is None else OutboxItem.from_row(fresh)

    async def mark_failed(self, item_id: int, error: str | None = None) -> None:
        """Give up on an item at once (e.g. the user blocked the bot); later items of the chat may go."""
        error_text = None if error is None else redact(error)[:_ERROR_MAX_CHARS]
        await self._db.execute(
            "UPDATE outbox SET status = 'failed', claimed_until = NULL, last_error = ? WHERE id = ?",
            (error_text, item_id),
        )

    async def get(self, item_id: int) -> OutboxItem | None:
        row = await self._db.fetchone("SELECT * FROM outbox WHERE id = ?", (item_id,))
        return None if row is None else OutboxItem.from_row(row)

    async def count(self, status: OutboxStatus = OutboxStatus.PENDING) -> int:
        return int(
            await self._db.fetchval("SELECT COUNT(*) FROM outbox WHERE status = ?", (str(OutboxStatus(status)),))
        )

    async def prune(self, before: float) -> int:
        """Delete sent and failed items created before `before`."""
        return await self._db.execute(
            "DELETE FROM outbox WHERE status IN ('sent', 'failed') AND created_at < ?", (before,)
        )
