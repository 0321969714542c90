"""A persistent outbox: messages to send, kept over restarts, retried with backoff, in order per conversation.

A worker claims the next due item (which takes a lease on it, in the worker's name), sends it, then marks it sent,
schedules a retry or marks it failed. Delivery is at least once: a lease that runs out (or that start-up releases
because its owner died) makes the item claimable again.

Order ("order kept" means exactly this). Every item belongs to a *lane*, one conversation (by default its chat;
the support desk uses one lane per user and side). An item is claimable only while no earlier pending item of its
lane *holds* it back, and an earlier item holds its lane

- while it has not been tried yet, or is being sent right now (its lease is live), and
- after a failed attempt, until its first retry has been made (`HOLD_ATTEMPTS` counted attempts in all).

So within a lane no two items are ever in flight at once, and an item is sent only after every earlier one was
sent, was given up, or failed twice. A failure that clears at the first retry (a network blip, a flood wait, a
topic re-created) keeps the conversation's order exactly; an item that keeps failing is *parked*: it is retried on
its own backoff (until `max_attempts`) and the items behind it go out meanwhile, so it arrives after them. Items of
other lanes, even in the same chat, are never held up by it. A flood wait (429) is the chat's, not the item's:
`hold_chat` moves every pending item of that chat to the time Telegram gave, and the attempt is not counted.
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
from storage.db import Database, Transaction

DEFAULT_LEASE_SECONDS = 60.0
DEFAULT_BACKOFF_BASE = 2.0
DEFAULT_BACKOFF_MAX = 15 * 60.0
DEFAULT_MAX_ATTEMPTS = 8
#: A failed item holds its lane until it has been tried this many times (the first attempt and its first retry).
HOLD_ATTEMPTS = 2
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
    lane: str = ""
    lease_owner: str | None = None

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
            lane=row["lane"],
            lease_owner=row["lease_owner"],
        )


def chat_lane(chat_id: int) -> str:
    """The default lane: the whole chat is one conversation."""
    return f"chat:{chat_id}"


#: Not held back by an earlier item of its lane (see the module docstring); `:now` and `:hold` are bound.
_NOT_HELD = (
    "NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.lane = outbox.lane AND earlier.status = 'pending' "
    "AND earlier.id < outbox.id AND (earlier.attempts < :hold OR earlier.claimed_until > :now))"
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
        self,
        kind: str,
        chat_id: int,
        payload: dict[str, Any],
        *,
        lane: str | None = None,
        not_before: float | None = None,
        tx: Transaction | None = None,
    ) -> int:
        """Queue a message in `lane` (default: its chat); `payload` must be JSON-serialisable. Returns the item id.

        With `tx` the item is queued inside that transaction (it exists only if the transaction commits).
        """
        now = self._clock()
        payload_json = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        sql = (
            "INSERT INTO outbox (kind, chat_id, lane, payload_json, status, attempts, next_attempt_at, created_at) "
            "VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)"
        )
        params = (kind, chat_id, lane or chat_lane(chat_id), payload_json, max(now, not_before or now), now)
        return await (tx.insert(sql, params) if tx is not None else self._db.insert(sql, params))

    async def claim_next(
        self, lease_seconds: float = DEFAULT_LEASE_SECONDS, owner: str | None = None
    ) -> OutboxItem | None:
        """Lease the next due item its lane lets go (in `owner`'s name) and count an attempt; None if none is due."""
        now = self._clock()
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                f"SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= :now "
                f"AND (claimed_until IS NULL OR claimed_until <= :now) AND {_NOT_HELD} "
                "ORDER BY next_attempt_at, id LIMIT 1",
                {"now": now, "hold": HOLD_ATTEMPTS},
            )
            if row is None:
                return None
            await tx.execute(
                "UPDATE outbox SET claimed_until = ?, lease_owner = ?, attempts = attempts + 1 WHERE id = ?",
                (now + lease_seconds, owner, row["id"]),
            )
            claimed = await tx.fetchone("SELECT * FROM outbox WHERE id = ?", (row["id"],))
        assert claimed is not None
        return OutboxItem.from_row(claimed)

    async def next_due_at(self) -> float | None:
        """When the next item its lane lets go becomes due (for a worker deciding how long to sleep)."""
        value = await self._db.fetchval(
            "SELECT MIN(MAX(next_attempt_at, COALESCE(claimed_until, 0))) FROM outbox "
            f"WHERE status = 'pending' AND {_NOT_HELD}",
            {"now": self._clock(), "hold": HOLD_ATTEMPTS},
        )
        return None if value is None else float(value)

    async def release_leases(self, owner: str) -> int:
        """Free every lease held by another owner: they are dead (start-up, one worker process per database).

        The attempt they counted stays counted. Returns how many items were released.
        """
        return await self._db.execute(
            "UPDATE outbox SET claimed_until = NULL, lease_owner = NULL "
            "WHERE status = 'pending' AND claimed_until IS NOT NULL AND lease_owner IS NOT ?",
            (owner,),
        )

    async def hold_chat(self, chat_id: int, until: float) -> int:
        """Nothing more goes to `chat_id` before `until` (a flood wait is the chat's); returns the items moved."""
        return await self._db.execute(
            "UPDATE outbox SET next_attempt_at = MAX(next_attempt_at, ?) WHERE chat_id = ? AND status = 'pending'",
            (until, chat_id),
        )

    async def mark_sent(self, item_id: int) -> None:
        await self._db.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, claimed_until = NULL, lease_owner = NULL, "
            "last_error = NULL WHERE id = ?",
            (self._clock(), item_id),
        )

    def backoff(self, attempts: int) -> float:
        """Delay before the next attempt after `attempts` failed ones."""
        delay = min(self.backoff_base * 2 ** max(attempts - 1, 0), self.backoff_max)
        if self.jitter:
            delay *= 1 + random.uniform(0, self.jitter)  # spreading retries, not security
        return delay

    async def retry_later(
        self, item_id: int, error: str | None = None, *, retry_after: float | None = None, counted: bool = True
    ) -> OutboxItem | None:
        """Release a claimed item for another attempt after the backoff (or `retry_after`, e.g. Telegram's).

        After `max_attempts` attempts the item is marked failed instead. `counted=False`: the attempt does not count
        (towards `max_attempts` nor the lane's hold), e.g. a flood wait, which says nothing about the item.
        `error` is redacted and truncated. Returns the updated item.
        """
        now = self._clock()
        error_text = None if error is None else redact(error)[:_ERROR_MAX_CHARS]
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT attempts, status FROM outbox WHERE id = ?", (item_id,))
            if row is None:
                return None
            attempts = int(row["attempts"]) - (0 if counted else 1)
            if row["status"] == OutboxStatus.PENDING:
                if counted and attempts >= self.max_attempts:
                    await tx.execute(
                        "UPDATE outbox SET status = 'failed', claimed_until = NULL, lease_owner = NULL, "
                        "last_error = ? WHERE id = ?",
                        (error_text, item_id),
                    )
                else:
                    delay = self.backoff(attempts) if retry_after is None else max(retry_after, 0.0)
                    await tx.execute(
                        "UPDATE outbox SET next_attempt_at = ?, attempts = ?, claimed_until = NULL, "
                        "lease_owner = NULL, last_error = ? WHERE id = ?",
                        (now + delay, max(attempts, 0), error_text, item_id),
                    )
            fresh = await tx.fetchone("SELECT * FROM outbox WHERE id = ?", (item_id,))
        return None if fresh is None else OutboxItem.from_row(fresh)

    async def mark_failed(self, item_id: int, error: str | None = None) -> None:
        """Give up on an item at once (e.g. the user blocked the bot); later items of its lane may go."""
        error_text = None if error is None else redact(error)[:_ERROR_MAX_CHARS]
        await self._db.execute(
            "UPDATE outbox SET status = 'failed', claimed_until = NULL, lease_owner = NULL, last_error = ? "
            "WHERE id = ?",
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
