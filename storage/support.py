"""Escalation to humans: tickets, the per-user forum topic map, the message-id map for reply threading, the users
asked for a description (the step before a ticket), and where the support chat moved."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from storage.db import Database, Transaction

Clock = Callable[[], float]


class TicketStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class TopicState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    user_id: int
    status: TicketStatus
    description: str
    last_check_id: int | None
    created_at: float
    updated_at: float
    closed_at: float | None

    @property
    def is_open(self) -> bool:
        return self.status is TicketStatus.OPEN

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Ticket:
        return cls(
            id=int(row["id"]),
            user_id=int(row["user_id"]),
            status=TicketStatus(row["status"]),
            description=row["description"],
            last_check_id=row["last_check_id"],
            created_at=float(row["created_at"]),
            updated_at=float(row["updated_at"]),
            closed_at=None if row["closed_at"] is None else float(row["closed_at"]),
        )


@dataclass(frozen=True, slots=True)
class TicketTimes:
    """When a ticket was opened, first answered by staff and closed (for support insights; no user, no text)."""

    created_at: float
    first_staff_reply_at: float | None
    closed_at: float | None
    is_open: bool


class TicketRepository:
    """Support tickets; a user has at most one open ticket."""

    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock

    async def open(
        self, user_id: int, description: str | None = None, last_check_id: int | None = None
    ) -> tuple[Ticket, bool]:
        """The user's open ticket, created if there is none; returns (ticket, created).

        On an existing ticket, a given `description` or `last_check_id` replaces the stored one.
        """
        async with self._db.transaction() as tx:
            return await self.open_in(tx, user_id, description, last_check_id)

    async def open_in(
        self, tx: Transaction, user_id: int, description: str | None = None, last_check_id: int | None = None
    ) -> tuple[Ticket, bool]:
        """`open`, inside the caller's transaction (with what else must happen exactly when the ticket opens)."""
        now = self._clock()
        row = await tx.fetchone("SELECT * FROM tickets WHERE user_id = ? AND status = 'open'", (user_id,))
        if row is None:
            ticket_id = await tx.insert(
                "INSERT INTO tickets (user_id, status, description, last_check_id, created_at, updated_at) "
                "VALUES (?, 'open', ?, ?, ?, ?)",
                (user_id, description or "", last_check_id, now, now),
            )
            created = True
        else:
            ticket_id = int(row["id"])
            await tx.execute(
                "UPDATE tickets SET description = COALESCE(?, description), "
                "last_check_id = COALESCE(?, last_check_id), updated_at = ? WHERE id = ?",
                (description, last_check_id, now, ticket_id),
            )
            created = False
        fresh = await tx.fetchone("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        assert fresh is not None
        return Ticket.from_row(fresh), created

    async def get(self, ticket_id: int) -> Ticket | None:
        row = await self._db.fetchone("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        return None if row is None else Ticket.from_row(row)

    async def get_open(self, user_id: int) -> Ticket | None:
        row = await self._db.fetchone("SELECT * FROM tickets WHERE user_id = ? AND status = 'open'", (user_id,))
        return None if row is None else Ticket.from_row(row)

    async def touch(self, ticket_id: int) -> bool:
        """Note activity on the ticket (a message either way)."""
        return await self._db.execute("UPDATE tickets SET updated_at = ? WHERE id = ?", (self._clock(), ticket_id)) > 0

    async def close(self, ticket_id: int) -> bool:
        """Close an open ticket; False if it was not open."""
        now = self._clock()
        changed = await self._db.execute(
            "UPDATE tickets SET status = 'closed', closed_at = ?, updated_at = ? WHERE id = ? AND status = 'open'",
            (now, now, ticket_id),
        )
        return changed > 0

    async def close_for_user(self, user_id: int) -> Ticket | None:
        """Close the user's open ticket, if any, and return it closed."""
        ticket = await self.get_open(user_id)
        if ticket is None or not await self.close(ticket.id):
            return None
        return await self.get(ticket.id)

    async def list_open(self, limit: int = 50) -> list[Ticket]:
        """Open tickets, least recently active first."""
        rows = await self._db.fetchall(
            "SELECT * FROM tickets WHERE status = 'open' ORDER BY updated_at, id LIMIT ?", (int(limit),)
        )
        return [Ticket.from_row(row) for row in rows]

    async def count_open(self) -> int:
        return int(await self._db.fetchval("SELECT COUNT(*) FROM tickets WHERE status = 'open'"))

    async def mark_first_staff_reply(self, ticket_id: int, at: float | None = None) -> bool:
        """Record when staff first answered the ticket (a staff message relayed to the user).

        Only the first call per ticket counts; returns True when this call recorded it.
        """
        changed = await self._db.execute(
            "UPDATE tickets SET first_staff_reply_at = ? WHERE id = ? AND first_staff_reply_at IS NULL",
            (self._clock() if at is None else float(at), ticket_id),
        )
        return changed > 0

    async def mark_first_staff_reply_for_user(self, user_id: int, at: float | None = None) -> bool:
        """`mark_first_staff_reply` for the user's open ticket, if any (one statement, no read first)."""
        changed = await self._db.execute(
            "UPDATE tickets SET first_staff_reply_at = ? "
            "WHERE user_id = ? AND status = 'open' AND first_staff_reply_at IS NULL",
            (self._clock() if at is None else float(at), user_id),
        )
        return changed > 0

    async def times_between(self, start: float, end: float) -> list[TicketTimes]:
        """Tickets opened, first answered or closed from `start` to `end` (both included), and every open one."""
        rows = await self._db.fetchall(
            "SELECT created_at, first_staff_reply_at, closed_at, status FROM tickets "
            "WHERE (created_at >= :start AND created_at <= :end) "
            "OR (first_staff_reply_at >= :start AND first_staff_reply_at <= :end) "
            "OR (closed_at >= :start AND closed_at <= :end) OR status = 'open' "
            "ORDER BY created_at, id",
            {"start": start, "end": end},
        )
        return [
            TicketTimes(
                created_at=float(row["created_at"]),
                first_staff_reply_at=None
                if row["first_staff_reply_at"] is None
                else float(row["first_staff_reply_at"]),
                closed_at=None if row["closed_at"] is None else float(row["closed_at"]),
                is_open=row["status"] == "open",
            )
            for row in rows
        ]


@dataclass(frozen=True, slots=True)
class Topic:
    user_id: int
    chat_id: int
    thread_id: int
    state: TopicState
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Topic:
        return cls(
            user_id=int(row["user_id"]),
            chat_id=int(row["chat_id"]),
            thread_id=int(row["thread_id"]),
            state=TopicState(row["state"]),
            created_at=float(row["created_at"]),
            updated_at=float(row["updated_at"]),
        )


class TopicRepository:
    """One forum topic in the support chat per user (user id ↔ chat id + message_thread_id)."""

    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock

    async def set(self, user_id: int, chat_id: int, thread_id: int, state: TopicState = TopicState.OPEN) -> Topic:
        """Map the user to a topic, replacing the user's previous topic and any stale owner of this one."""
        now = self._clock()
        state = TopicState(state)
        async with self._db.transaction() as tx:
            await tx.execute(
                "DELETE FROM support_topics WHERE chat_id = ? AND thread_id = ? AND user_id != ?",
                (chat_id, thread_id, user_id),
            )
            await tx.execute(
                "INSERT INTO support_topics (user_id, chat_id, thread_id, state, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET chat_id = excluded.chat_id, "
                "thread_id = excluded.thread_id, state = excluded.state, created_at = excluded.created_at, "
                "updated_at = excluded.updated_at",
                (user_id, chat_id, thread_id, str(state), now, now),
            )
            row = await tx.fetchone("SELECT * FROM support_topics WHERE user_id = ?", (user_id,))
        assert row is not None
        return Topic.from_row(row)

    async def get(self, user_id: int) -> Topic | None:
        row = await self._db.fetchone("SELECT * FROM support_topics WHERE user_id = ?", (user_id,))
        return None if row is None else Topic.from_row(row)

    async def by_thread(self, chat_id: int, thread_id: int) -> Topic | None:
        """Who a topic in the support chat belongs to."""
        row = await self._db.fetchone(
            "SELECT * FROM support_topics WHERE chat_id = ? AND thread_id = ?", (chat_id, thread_id)
        )
        return None if row is None else Topic.from_row(row)

    async def set_state(self, user_id: int, state: TopicState) -> bool:
        """Mark the user's topic open, closed or deleted; False if the user has none."""
        changed = await self._db.execute(
            "UPDATE support_topics SET state = ?, updated_at = ? WHERE user_id = ?",
            (str(TopicState(state)), self._clock(), user_id),
        )
        return changed > 0

    async def remove(self, user_id: int) -> bool:
        return await self._db.execute("DELETE FROM support_topics WHERE user_id = ?", (user_id,)) > 0


@dataclass(frozen=True, slots=True)
class MessageLink:
    user_chat_id: int
    user_message_id: int
    support_chat_id: int
    support_message_id: int
    created_at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> MessageLink:
        return cls(
            user_chat_id=int(row["user_chat_id"]),
            user_message_id=int(row["user_message_id"]),
            support_chat_id=int(row["support_chat_id"]),
            support_message_id=int(row["support_message_id"]),
            created_at=float(row["created_at"]),
        )


class MessageMapRepository:
    """Pairs of (user chat, message) ↔ (support chat, message), for reply threading and edit sync."""

    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock

    async def link(
        self, user_chat_id: int, user_message_id: int, support_chat_id: int, support_message_id: int
    ) -> None:
        """Record that two messages are copies of each other (a support message maps to one user message)."""
        await self._db.execute(
            "INSERT INTO message_links (user_chat_id, user_message_id, support_chat_id, support_message_id, "
            "created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (support_chat_id, support_message_id) DO UPDATE SET "
            "user_chat_id = excluded.user_chat_id, user_message_id = excluded.user_message_id, "
            "created_at = excluded.created_at",
            (user_chat_id, user_message_id, support_chat_id, support_message_id, self._clock()),
        )

    async def to_support(self, user_chat_id: int, user_message_id: int) -> MessageLink | None:
        """The latest support-side copy of a user's message."""
        row = await self._db.fetchone(
            "SELECT * FROM message_links WHERE user_chat_id = ? AND user_message_id = ? ORDER BY id DESC LIMIT 1",
            (user_chat_id, user_message_id),
        )
        return None if row is None else MessageLink.from_row(row)

    async def to_user(self, support_chat_id: int, support_message_id: int) -> MessageLink | None:
        """The user-side message a support message stands for."""
        row = await self._db.fetchone(
            "SELECT * FROM message_links WHERE support_chat_id = ? AND support_message_id = ?",
            (support_chat_id, support_message_id),
        )
        return None if row is None else MessageLink.from_row(row)

    async def prune(self, before: float) -> int:
        """Forget links created before `before` (replies to such old messages just lose their threading)."""
        return await self._db.execute("DELETE FROM message_links WHERE created_at < ?", (before,))


@dataclass(frozen=True, slots=True)
class SupportRequest:
    """A user asked for a person and is asked to describe the problem; `check_id`: the check they asked about."""

    user_id: int
    check_id: int | None
    asked_at: float


class SupportRequestRepository:
    """Users in the description step, one row each: the step is in the database, so it outlives a restart."""

    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock

    async def ask(self, user_id: int, check_id: int | None) -> SupportRequest:
        """Record (or restart) the user's description step."""
        now = self._clock()
        await self._db.execute(
            "INSERT INTO support_requests (user_id, check_id, asked_at) VALUES (?, ?, ?) ON CONFLICT (user_id) "
            "DO UPDATE SET check_id = excluded.check_id, asked_at = excluded.asked_at",
            (user_id, check_id, now),
        )
        return SupportRequest(user_id, check_id, now)

    async def get(self, user_id: int, *, newer_than: float = 0.0) -> SupportRequest | None:
        """The user's description step, if it was asked after `newer_than`."""
        row = await self._db.fetchone(
            "SELECT * FROM support_requests WHERE user_id = ? AND asked_at > ?", (user_id, newer_than)
        )
        if row is None:
            return None
        check_id = None if row["check_id"] is None else int(row["check_id"])
        return SupportRequest(int(row["user_id"]), check_id, float(row["asked_at"]))

    async def drop(self, user_id: int) -> bool:
        """End the step (cancelled); False if there was none."""
        return await self._db.execute("DELETE FROM support_requests WHERE user_id = ?", (user_id,)) > 0

    @staticmethod
    async def take_in(tx: Transaction, user_id: int) -> None:
        """End the step inside the transaction that opens the ticket."""
        await tx.execute("DELETE FROM support_requests WHERE user_id = ?", (user_id,))

    async def prune(self, before: float) -> int:
        """Forget steps asked before `before` (they expired)."""
        return await self._db.execute("DELETE FROM support_requests WHERE asked_at < ?", (before,))


class ChatMoveRepository:
    """Where a support chat went when Telegram upgraded it to a supergroup (old id → new id)."""

    #: Telegram upgrades a basic group once; a longer chain means a loop in the data, so stop following it.
    MAX_HOPS = 8

    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock

    async def record(self, old_id: int, new_id: int) -> None:
        """Store the move, and move the pending outbox items addressed to the old id with it (one transaction)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO support_chat_moves (old_id, new_id, moved_at) VALUES (?, ?, ?) ON CONFLICT (old_id) "
                "DO UPDATE SET new_id = excluded.new_id, moved_at = excluded.moved_at",
                (old_id, new_id, self._clock()),
            )
            await tx.execute("UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND status = 'pending'", (new_id, old_id))

    async def resolve(self, chat_id: int) -> int:
        """Where `chat_id` is now (itself when it never moved)."""
        current, seen = chat_id, {chat_id}
        for _ in range(self.MAX_HOPS):
            moved = await self._db.fetchval("SELECT new_id FROM support_chat_moves WHERE old_id = ?", (current,))
            if moved is None or int(moved) in seen:
                break
            current = int(moved)
            seen.add(current)
        return current
