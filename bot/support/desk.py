"""The ticket desk: tickets, and what must reach staff or users, stored before anything is sent.

A ticket is stored and its card queued in the persistent outbox in one transaction (together with the end of the
user's description step), so a 429, a network error or a crash never loses it or half-opens it; `Delivery` sends
what is queued. Relayed messages are queued as message ids only: their content never reaches the database. Every
method that queues something returns once it is in the outbox, and wakes the delivery (`on_queued`).

Conversations. Each item goes into a lane of the outbox (`support_lane`: everything about one user in the support
chat, their topic; `user_lane`: the user's private chat); order is kept within a lane (`storage.outbox`), and one
user's trouble never holds up another's. The description step ("Talk to support", then a description or Skip) is
a row in the database (`SupportRequestRepository`), so after a restart the user is exactly where they were.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.i18n import DEFAULT_LANGUAGE
from bot.support.card import WITH_DESCRIPTION, CardHeader, SupportCard, support_card
from bot.support.chat import SupportChat
from bot.support.sender import Words
from storage.checks import CheckRecord, CheckRepository
from storage.db import Database
from storage.outbox import OutboxRepository
from storage.support import (
    MessageMapRepository,
    SupportRequest,
    SupportRequestRepository,
    Ticket,
    TicketRepository,
)
from storage.users import UserRecord, UserRepository

DESCRIPTION_LIMIT = 500
#: How long the description step waits for the user; a later message is not taken for a description.
DESCRIBE_TIMEOUT_SECONDS = 15 * 60
#: A message from a user whose ticket was closed less than this long ago reopens it; later ones don't.
REOPEN_WINDOW_SECONDS = 7 * 24 * 3600
#: The message id standing for "the ticket itself" in the message map (a card, not a user's message).
CARD_MESSAGE_ID = 0
#: Links for notes: replies to them reach the user, without threading to any of the user's messages.
NOTE_MESSAGE_ID = -1
#: Outbox backoff for support traffic: 1, 2, 4 … s, at most 5 minutes, about an hour and a half in all.
OUTBOX_BACKOFF_BASE = 1.0
OUTBOX_BACKOFF_MAX = 300.0
OUTBOX_MAX_ATTEMPTS = 24

# Outbox kinds. Items for the support chat are ordered among themselves (one group, one budget), items for a user
# among that user's.
CARD, TO_SUPPORT, NOTE, TO_USER, USER_TEXT = "card", "to_support", "note", "to_user", "user_text"
SUPPORT_KINDS = frozenset({CARD, TO_SUPPORT, NOTE})


def support_lane(user_id: int) -> str:
    """The outbox lane of everything about one user in the support chat (their topic, or replies to their card)."""
    return f"support:{user_id}"


def user_lane(user_id: int) -> str:
    """The outbox lane of the user's private chat."""
    return f"user:{user_id}"


@dataclass(frozen=True, slots=True)
class TicketSummary:
    """An open ticket as /tickets lists it."""

    ticket: Ticket
    user: UserRecord | None
    check: CheckRecord | None


def support_outbox(db: Database, clock: Callable[[], float] = time.time) -> OutboxRepository:
    """The outbox with the backoff support traffic uses."""
    return OutboxRepository(
        db,
        clock,
        backoff_base=OUTBOX_BACKOFF_BASE,
        backoff_max=OUTBOX_BACKOFF_MAX,
        max_attempts=OUTBOX_MAX_ATTEMPTS,
        jitter=0.1,
    )


class TicketDesk:
    """Tickets and the queue of what staff and users must receive."""

    def __init__(
        self,
        db: Database,
        *,
        support_chat_id: SupportChat | int,
        users: UserRepository,
        check_history: CheckRepository,
        outbox: OutboxRepository,
        version: str,
        clock: Callable[[], float] = time.time,
        outbound_ips: Sequence[str] = (),
        on_queued: Callable[[], None] = lambda: None,
        staff_language: str = DEFAULT_LANGUAGE,
    ) -> None:
        self.db = db
        self.chat = SupportChat(support_chat_id) if isinstance(support_chat_id, int) else support_chat_id
        self.users = users
        self.check_history = check_history
        self.outbox = outbox
        self.version = version
        self.clock = clock
        self.outbound_ips = tuple(outbound_ips)
        self.on_queued = on_queued
        #: the support chat's language (STAFF_LANGUAGE): cards and notes are worded in it
        self.staff_language = staff_language
        self.tickets = TicketRepository(db, clock)
        self.links = MessageMapRepository(db, clock)
        self.requests = SupportRequestRepository(db, clock)

    @property
    def support_chat_id(self) -> int:
        """The support chat's id now (it follows an upgrade to a supergroup)."""
        return self.chat.id

    # -- lookups ----------------------------------------------------------------------------------------------
    async def open_ticket_of(self, user_id: int) -> Ticket | None:
        return await self.tickets.get_open(user_id)

    async def latest_ticket(self, user_id: int) -> Ticket | None:
        """The user's newest ticket, open or closed."""
        row = await self.db.fetchone("SELECT * FROM tickets WHERE user_id = ? ORDER BY id DESC LIMIT 1", (user_id,))
        return None if row is None else Ticket.from_row(row)

    async def reopenable(self, user_id: int) -> Ticket | None:
        """The user's newest ticket if it was closed recently enough for a new message to reopen it."""
        ticket = await self.latest_ticket(user_id)
        if ticket is None or ticket.is_open or ticket.closed_at is None:
            return None
        return ticket if self.clock() - ticket.closed_at <= REOPEN_WINDOW_SECONDS else None

    async def own_check(self, user_id: int, check_id: int | None) -> CheckRecord | None:
        """Check `check_id` if it belongs to `user_id` (a user can't attach someone else's check)."""
        if check_id is None:
            return None
        record = await self.check_history.get(check_id)
        return record if record is not None and record.user_id == user_id else None

    async def latest_check(self, user_id: int) -> CheckRecord | None:
        recent = await self.check_history.recent(user_id, limit=1)
        return recent[0] if recent else None

    async def card(
        self, ticket: Ticket | None, user_id: int, *, header: CardHeader = CardHeader.NEW, check_id: int | None = None
    ) -> SupportCard:
        """The ticket's card (with the given check, else the ticket's last one)."""
        check_id = check_id if check_id is not None else (ticket.last_check_id if ticket is not None else None)
        return support_card(
            header=header,
            ticket_id=ticket.id if ticket is not None else None,
            user_id=user_id,
            user=await self.users.get(user_id),
            description=ticket.description if ticket is not None and header in WITH_DESCRIPTION else None,
            check=await self.own_check(user_id, check_id),
            version=self.version,
            now=self.clock(),
            outbound_ips=self.outbound_ips,
            staff_language=self.staff_language,
        )

    async def open_tickets(self, limit: int = 30) -> list[TicketSummary]:
        """Open tickets, oldest first, with the user and the attached check."""
        tickets = sorted(await self.tickets.list_open(limit=200), key=lambda t: (t.created_at, t.id))[:limit]
        return [
            TicketSummary(t, await self.users.get(t.user_id), await self.own_check(t.user_id, t.last_check_id))
            for t in tickets
        ]

    async def count_open(self) -> int:
        return await self.tickets.count_open()

    # -- the description step ---------------------------------------------------------------------------------
    async def ask_description(self, user_id: int, check_id: int | None) -> SupportRequest:
        """The user asked for a person (about check `check_id`, if any): their next message is the description."""
        return await self.requests.ask(user_id, check_id)

    async def describing(self, user_id: int) -> SupportRequest | None:
        """The user's description step, if they are in it (asked less than DESCRIBE_TIMEOUT_SECONDS ago)."""
        return await self.requests.get(user_id, newer_than=self.clock() - DESCRIBE_TIMEOUT_SECONDS)

    async def cancel_description(self, user_id: int) -> bool:
        """The user changed their mind: no ticket. False if they were not in the step."""
        return await self.requests.drop(user_id)

    # -- tickets ----------------------------------------------------------------------------------------------
    async def open_ticket(
        self, user_id: int, description: str | None, check_id: int | None = None
    ) -> tuple[Ticket, bool]:
        """Store the ticket (or update the open one), end the user's description step and queue the card for staff,
        in one transaction. `check_id` defaults to the check the description step was about, else the user's
        latest. Returns (ticket, created)."""
        if check_id is None:
            request = await self.requests.get(user_id)
            check_id = request.check_id if request is not None else None
        check = await self.own_check(user_id, check_id) or await self.latest_check(user_id)
        user = await self.users.get(user_id)
        async with self.db.transaction() as tx:
            ticket, created = await self.tickets.open_in(
                tx, user_id, (description or "")[:DESCRIPTION_LIMIT], check.id if check else None
            )
            await self.requests.take_in(tx, user_id)
            header = CardHeader.NEW if created else CardHeader.NEW_CHECK
            card = support_card(
                header=header,
                ticket_id=ticket.id,
                user_id=user_id,
                user=user,
                description=ticket.description if header in WITH_DESCRIPTION else None,
                check=check,
                version=self.version,
                now=self.clock(),
                outbound_ips=self.outbound_ips,
                staff_language=self.staff_language,
            )
            payload = {"user_id": user_id, "ticket_id": ticket.id, "card": card.model_dump(mode="json")}
            await self.outbox.enqueue(CARD, self.support_chat_id, payload, lane=support_lane(user_id), tx=tx)
        self.on_queued()
        return ticket, created

    async def attach_check(self, ticket: Ticket, check_id: int) -> bool:
        """Attach a newer check of the user to their open ticket and queue its card; False if nothing changed."""
        check = await self.own_check(ticket.user_id, check_id)
        if check is None or check.id == ticket.last_check_id:
            return False
        updated, _ = await self.tickets.open(ticket.user_id, last_check_id=check.id)
        await self.enqueue_card(updated, CardHeader.NEW_CHECK)
        return True

    async def touch(self, ticket: Ticket) -> None:
        await self.tickets.touch(ticket.id)

    async def reopen(self, user_id: int) -> tuple[Ticket, bool]:
        """The user's open ticket, else their last one opened again under its own number (a new one when they
        have none); returns (ticket, reopened): False when it was open already."""
        current = await self.tickets.get_open(user_id)
        if current is not None:
            return current, False
        previous = await self.latest_ticket(user_id)
        if previous is None:
            return await self.tickets.open(user_id)
        # one statement: a ticket opened meanwhile (the unique open-per-user index) leaves this one closed
        await self.db.execute(
            "UPDATE tickets SET status = 'open', closed_at = NULL, updated_at = ? WHERE id = ? AND NOT EXISTS "
            "(SELECT 1 FROM tickets WHERE user_id = ? AND status = 'open')",
            (self.clock(), previous.id, user_id),
        )
        reopened = await self.tickets.get_open(user_id)
        assert reopened is not None
        return reopened, reopened.id == previous.id

    async def close(self, user_id: int) -> Ticket | None:
        """Close the user's open ticket (None if there was none)."""
        return await self.tickets.close_for_user(user_id)

    # -- queueing -----------------------------------------------------------------------------------------------
    async def enqueue_card(
        self, ticket: Ticket, header: CardHeader = CardHeader.NEW, *, check_id: int | None = None
    ) -> int:
        card = await self.card(ticket, ticket.user_id, header=header, check_id=check_id)
        return await self._to_support(
            CARD, ticket.user_id, {"ticket_id": ticket.id, "card": card.model_dump(mode="json")}
        )

    async def enqueue_recheck_card(self, user_id: int, check_id: int) -> int:
        """Queue the card of a re-check staff asked for (attached to the open ticket, if any)."""
        ticket = await self.tickets.get_open(user_id)
        if ticket is not None:
            ticket, _ = await self.tickets.open(user_id, last_check_id=check_id)
        header = CardHeader.RECHECK if ticket is not None else CardHeader.RECHECK_NO_TICKET
        card = await self.card(ticket, user_id, header=header, check_id=check_id)
        payload = {"ticket_id": ticket.id if ticket else None, "card": card.model_dump(mode="json")}
        return await self._to_support(CARD, user_id, payload)

    async def relay_to_support(self, user_id: int, message_id: int, reply_to_user_message: int | None) -> int:
        """Queue a copy of the user's message for staff, threaded under the staff message it answers if any."""
        reply_to = None
        if reply_to_user_message is not None:
            link = await self.links.to_support(user_id, reply_to_user_message)
            reply_to = link.support_message_id if link is not None else None
        return await self._to_support(TO_SUPPORT, user_id, {"message_id": message_id, "reply_to": reply_to})

    async def note(self, user_id: int, words: Words) -> int:
        """Queue a note from the bot for staff, in the user's topic (or under their ticket), in the staff language."""
        if words.language is None:
            words = Words(words.key, words.values, self.staff_language)
        return await self._to_support(NOTE, user_id, {"words": words.to_dict()})

    async def relay_to_user(self, user_id: int, support_message_id: int, reply_to_support_message: int | None) -> int:
        """Queue a copy of a staff message for the user, as a reply to the user's message it answers if any.

        This is staff answering: the ticket's first staff reply is recorded (for support insights) with the first.
        """
        chat_id = self.support_chat_id
        reply_to = None
        if reply_to_support_message is not None:
            link = await self.links.to_user(chat_id, reply_to_support_message)
            if link is not None and link.user_chat_id == user_id and link.user_message_id > CARD_MESSAGE_ID:
                reply_to = link.user_message_id
        payload = {"user_id": user_id, "from_chat_id": chat_id, "message_id": support_message_id, "reply_to": reply_to}
        item = await self.outbox.enqueue(TO_USER, user_id, payload, lane=user_lane(user_id))
        await self.tickets.mark_first_staff_reply_for_user(user_id)
        return self._queued(item)

    async def tell_user(self, user_id: int, words: Words) -> int:
        """Queue a message from the bot to the user (ticket closed, reopened), in the user's language."""
        if words.language is None:
            words = Words(words.key, words.values, await self.users.language(user_id))
        payload = {"user_id": user_id, "words": words.to_dict()}
        return self._queued(await self.outbox.enqueue(USER_TEXT, user_id, payload, lane=user_lane(user_id)))

    async def _to_support(self, kind: str, user_id: int, payload: dict[str, Any]) -> int:
        item = await self.outbox.enqueue(
            kind, self.support_chat_id, {"user_id": user_id, **payload}, lane=support_lane(user_id)
        )
        return self._queued(item)

    def _queued(self, item_id: int) -> int:
        self.on_queued()
        return item_id

    # -- who is who --------------------------------------------------------------------------------------------
    async def owner_of_message(self, support_message_id: int) -> int | None:
        """Whose ticket a support-chat message belongs to, by the message map."""
        link = await self.links.to_user(self.support_chat_id, support_message_id)
        return link.user_chat_id if link is not None else None

    async def last_card_message(self, user_id: int) -> int | None:
        """The support-chat message id of the user's latest card (what relays reply to in a group without topics);
        None when there is none in the support chat as it is now (a card in the group before its upgrade is not)."""
        link = await self.links.to_support(user_id, CARD_MESSAGE_ID)
        return link.support_message_id if link is not None and link.support_chat_id == self.support_chat_id else None
