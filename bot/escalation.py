"""Escalation to human support, transport-free: the diagnosis card staff see, and the ticket desk.

The desk stores a ticket first and only then queues what staff must see (the card, the user's messages, notes)
in the persistent outbox, so a 429, a network error or a restart never loses it; the Telegram adapter
(`handlers.support`) drains the outbox. Relayed messages are queued as message ids only: their content never
reaches the database. The card is built from the stored check (already redacted when stored) and every free
text in it is redacted, masked for anything credential-like, HTML-escaped and truncated, so it stays under
Telegram's 4096 characters and never shows a secret. No `telegram` import here.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.advice import cause_title, steps_for
from bot.advice.texts import lookup
from bot.diagnosis.model import Cause, Diagnosis, Permission
from bot.exchanges.catalog import CATALOG
from bot.exchanges.report import KeyCheckReport, ProbeStatus
from bot.secret_scan import mask_credential_tokens
from bot.security import MASK, redact
from storage.checks import CheckRecord, CheckRepository
from storage.db import Database
from storage.outbox import OutboxRepository
from storage.support import MessageMapRepository, Ticket, TicketRepository, TopicRepository
from storage.users import UserRecord, UserRepository

#: Telegram's limit for a message text; the card stays below it with room to spare.
MAX_MESSAGE_LENGTH = 4096
CARD_LIMIT = 3900
DETAIL_LIMIT = 600
OUTCOME_DETAIL_LIMIT = 180
DESCRIPTION_LIMIT = 500
#: A message from a user whose ticket was closed less than this long ago reopens it; later ones don't.
REOPEN_WINDOW_SECONDS = 7 * 24 * 3600
#: The message id standing for "the ticket itself" in the message map (a card, not a user's message).
CARD_MESSAGE_ID = 0
#: Outbox backoff for support traffic: 1, 2, 4 … s, at most 5 minutes, about an hour and a half in all.
OUTBOX_BACKOFF_BASE = 1.0
OUTBOX_BACKOFF_MAX = 300.0
OUTBOX_MAX_ATTEMPTS = 24

# Outbox kinds. Items for the support chat are ordered among themselves (one group, one budget), items for a user
# among that user's.
CARD, TO_SUPPORT, NOTE, TO_USER, USER_TEXT = "card", "to_support", "note", "to_user", "user_text"
SUPPORT_KINDS = frozenset({CARD, TO_SUPPORT, NOTE})

#: Topic icon colours Telegram accepts.
TOPIC_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)

#: The words of the card, as data (English).
CARD_TEXTS: dict[str, str] = {
    "header": "🆘 <b>Ticket #{ticket}</b>",
    "header_new_check": "📎 <b>Ticket #{ticket}: a newer check</b>",
    "header_recheck": "🔁 <b>Ticket #{ticket}: re-check requested by staff</b>",
    "header_recheck_no_ticket": "🔁 <b>Re-check requested by staff</b> (no open ticket)",
    "header_new_topic": "🧵 <b>Ticket #{ticket}</b> (new topic: the previous one was deleted)",
    "user": "👤 {name}{username} · id <code>{id}</code> · language {language}",
    "user_blocked": "⚠️ The user has blocked the bot: replies can't be delivered.",
    "description": "📝 {text}",
    "no_description": "📝 (no description)",
    "no_check": "🔎 No key check on record for this user.",
    "check": "🔎 Check #{id} at {time} · {exchange} · key <code>{fingerprint}</code>",
    "campaign": "Campaign type: {campaign}",
    "campaign_any": "not chosen",
    "perm_line": "{mark} {permission}{detail}",
    "perm_detail": " — {text}",
    "verdict_ok": "✅ Passes every check HuFi runs.",
    "cause": "Cause: <b>{title}</b> (<code>{cause}</code>)",
    "precheck": "Stopped before any request: <b>{title}</b> (<code>{cause}</code>)",
    "alternatives": "Or else: {items}",
    "code": "Exchange code: <code>{code}</code>",
    "detail": "Detail: <code>{detail}</code>",
    "qualifies": "Qualifies for: {types}",
    "qualifies_none": "Qualifies for no campaign type yet.",
    "steps": "Steps shown to the user:",
    "step": "{n}. {title}",
    "steps_more": "… and {count} more",
    "footer": "Bot {version} · card at {time}",
    "truncated": "… (shortened)",
}
_MARKS = {
    ProbeStatus.GRANTED: "✅",
    ProbeStatus.FAILED: "❌",
    ProbeStatus.NOT_CHECKED: "▫️",
    ProbeStatus.WAITING: "⏳",
}
_PERMISSION_NAMES = {
    Permission.VIEW_ACCOUNT_BALANCE: "Account balance",
    Permission.VIEW_DEPOSIT_ADDRESS: "ETH deposit address",
    Permission.VIEW_SPOT_TRADING_HISTORY: "Spot trade history",
}


def esc(text: object) -> str:
    return html.escape(str(text), quote=False)


def clean(text: object, limit: int) -> str:
    """Free text for staff: secrets redacted, credential-like tokens masked, shortened, HTML-escaped."""
    value = mask_credential_tokens(redact(text), MASK).strip()
    if len(value) > limit:
        value = value[: max(limit - 1, 0)].rstrip() + "…"
    return esc(value)


def when(timestamp: float | None) -> str:
    if timestamp is None:
        return "?"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def display_name(user: UserRecord | None, user_id: int) -> str:
    """The user's first name, or their id when the bot never saw them."""
    name = (user.first_name if user is not None else "").strip()
    return name or f"user {user_id}"


def topic_name(user: UserRecord | None, user_id: int) -> str:
    """The forum topic's name: name, @username and id (1-128 characters)."""
    name = mask_credential_tokens(display_name(user, user_id), MASK)[:60]
    username = f" @{user.username}" if user is not None and user.username else ""
    return f"{name}{username} · {user_id}"[:128]


def topic_color(user_id: int) -> int:
    return TOPIC_COLORS[abs(user_id) % len(TOPIC_COLORS)]


def _outcome_detail(report: KeyCheckReport, perm: Permission) -> str:
    outcome = report.outcomes[perm]
    parts: list[str] = []
    if outcome.diagnosis is not None and outcome.status is ProbeStatus.FAILED:
        parts.append(str(outcome.diagnosis.cause))
        if outcome.diagnosis.code:
            parts.append(f"code {outcome.diagnosis.code}")
    if outcome.error_type:
        message = f"{outcome.error_type}: {outcome.error_message or ''}".rstrip(": ")
        parts.append(message)
    elif outcome.summary and outcome.status is ProbeStatus.GRANTED:
        parts.append(outcome.summary)
    if not parts:
        return ""
    return CARD_TEXTS["perm_detail"].format(text=clean(" · ".join(parts), OUTCOME_DETAIL_LIMIT))


def _check_lines(check: CheckRecord, outbound_ips: Sequence[str]) -> tuple[list[str], list[str]]:
    """The check part of the card, split into what must stay and the steps (dropped first when too long)."""
    report = check.to_report()
    spec = CATALOG.get(report.exchange_id)
    exchange = spec.display_name if spec is not None else report.exchange_id
    lines = [
        CARD_TEXTS["check"].format(
            id=check.id, time=when(check.created_at), exchange=esc(exchange), fingerprint=esc(report.key_fingerprint)
        )
    ]
    campaign = lookup("en", "campaign_names", check.campaign_type) if check.campaign_type else None
    lines.append(
        CARD_TEXTS["campaign"].format(campaign=esc(campaign or check.campaign_type or CARD_TEXTS["campaign_any"]))
    )
    for perm in Permission:
        outcome = report.outcomes[perm]
        lines.append(
            CARD_TEXTS["perm_line"].format(
                mark=_MARKS.get(outcome.status, "?"),
                permission=_PERMISSION_NAMES[perm],
                detail=_outcome_detail(report, perm),
            )
        )
    verdict = report.verdict
    steps: list[str] = []
    if report.ok:
        lines.append(CARD_TEXTS["verdict_ok"])
    else:
        diag = verdict or Diagnosis(Cause.UNKNOWN)
        key = "precheck" if report.precheck is not None else "cause"
        title = cause_title(diag.cause, exchange_id=report.exchange_id)
        lines.append(CARD_TEXTS[key].format(title=esc(title), cause=esc(diag.cause)))
        if diag.alternatives:
            items = "; ".join(
                f"{esc(cause_title(c, exchange_id=report.exchange_id))} (<code>{esc(c)}</code>)"
                for c in diag.alternatives
            )
            lines.append(CARD_TEXTS["alternatives"].format(items=items))
        if diag.code:
            lines.append(CARD_TEXTS["code"].format(code=clean(diag.code, 120)))
        if diag.detail:
            lines.append(CARD_TEXTS["detail"].format(detail=clean(diag.detail, DETAIL_LIMIT)))
        granted = report.granted if report.precheck is None else []
        missing = report.missing if report.precheck is None else None
        shown = steps_for(diag, report.exchange_id, outbound_ips=outbound_ips, granted=granted, missing=missing or None)
        if shown:
            steps.append(CARD_TEXTS["steps"])
            steps += [CARD_TEXTS["step"].format(n=i, title=esc(s.title)) for i, s in enumerate(shown, 1)]
    if report.precheck is None:
        qualified = [
            lookup("en", "campaign_names", ct.value) or ct.value for ct, ok in report.campaign_types.items() if ok
        ]
        lines.append(
            CARD_TEXTS["qualifies"].format(types=esc(", ".join(qualified)))
            if qualified
            else CARD_TEXTS["qualifies_none"]
        )
    return lines, steps


def card_text(
    *,
    ticket_id: int | None,
    user_id: int,
    user: UserRecord | None,
    description: str | None,
    check: CheckRecord | None,
    version: str,
    now: float,
    header: str = "header",
    outbound_ips: Sequence[str] = (),
) -> str:
    """The diagnosis card staff see first in a ticket (Telegram HTML, under 4096 characters, no secret)."""
    head = CARD_TEXTS[header].format(ticket=ticket_id if ticket_id is not None else "?")
    name = clean(display_name(user, user_id), 80)
    username = f" @{esc(user.username)}" if user is not None and user.username else ""
    language = esc((user.language_code if user is not None else None) or "?")
    lines = [head, CARD_TEXTS["user"].format(name=name, username=username, id=user_id, language=language)]
    if user is not None and user.blocked_bot:
        lines.append(CARD_TEXTS["user_blocked"])
    if description is not None:
        lines.append(
            CARD_TEXTS["description"].format(text=clean(description, DESCRIPTION_LIMIT))
            if description.strip()
            else CARD_TEXTS["no_description"]
        )
    steps: list[str] = []
    if check is None:
        lines.append(CARD_TEXTS["no_check"])
    else:
        check_lines, steps = _check_lines(check, outbound_ips)
        lines += ["", *check_lines]
    footer = CARD_TEXTS["footer"].format(version=esc(version), time=when(now))
    return _fit(lines, steps, footer)


def _fit(lines: list[str], steps: list[str], footer: str) -> str:
    """Join the card, dropping steps (then shortening lines) until it is under CARD_LIMIT."""

    def joined(body: list[str], tail: list[str]) -> str:
        parts = body + (["", *tail] if tail else []) + ["", footer]
        return "\n".join(parts)

    text = joined(lines, steps)
    while len(text) > CARD_LIMIT and len(steps) > 1:
        kept = steps[:-2] if len(steps) > 2 else steps[:1]
        dropped = len(steps) - len(kept)
        steps = [*kept, CARD_TEXTS["steps_more"].format(count=dropped)] if len(kept) > 1 else []
        text = joined(lines, steps)
    if len(text) > CARD_LIMIT:
        steps = []
        while lines and len(joined([*lines, CARD_TEXTS["truncated"]], steps)) > CARD_LIMIT:
            lines = lines[:-1]
        text = joined([*lines, CARD_TEXTS["truncated"]], steps)
    return text[:MAX_MESSAGE_LENGTH]


@dataclass(frozen=True, slots=True)
class TicketSummary:
    """An open ticket as /tickets lists it."""

    ticket: Ticket
    user: UserRecord | None
    check: CheckRecord | None


class SupportDesk:
    """Tickets and what must reach staff or users, stored before anything is sent.

    Every method that queues something returns once it is in the outbox; the caller kicks the delivery worker.
    """

    def __init__(
        self,
        db: Database,
        *,
        support_chat_id: int,
        users: UserRepository,
        checks: CheckRepository,
        version: str,
        clock: Callable[[], float] = time.time,
        outbound_ips: Sequence[str] = (),
    ) -> None:
        self.db = db
        self.support_chat_id = support_chat_id
        self.users = users
        self.checks = checks
        self.version = version
        self.clock = clock
        self.outbound_ips = tuple(outbound_ips)
        self.tickets = TicketRepository(db, clock)
        self.topics = TopicRepository(db, clock)
        self.links = MessageMapRepository(db, clock)
        self.outbox = OutboxRepository(
            db,
            clock,
            backoff_base=OUTBOX_BACKOFF_BASE,
            backoff_max=OUTBOX_BACKOFF_MAX,
            max_attempts=OUTBOX_MAX_ATTEMPTS,
            jitter=0.1,
        )

    # -- lookups ----------------------------------------------------------------------------------------------
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
        record = await self.checks.get(check_id)
        return record if record is not None and record.user_id == user_id else None

    async def latest_check(self, user_id: int) -> CheckRecord | None:
        recent = await self.checks.recent(user_id, limit=1)
        return recent[0] if recent else None

    async def card(
        self, ticket: Ticket | None, user_id: int, *, header: str = "header", check_id: int | None = None
    ) -> str:
        check_id = check_id if check_id is not None else (ticket.last_check_id if ticket is not None else None)
        check = await self.own_check(user_id, check_id)
        return card_text(
            ticket_id=ticket.id if ticket is not None else None,
            user_id=user_id,
            user=await self.users.get(user_id),
            description=ticket.description if ticket is not None and header in ("header", "header_new_topic") else None,
            check=check,
            version=self.version,
            now=self.clock(),
            header=header,
            outbound_ips=self.outbound_ips,
        )

    # -- tickets ----------------------------------------------------------------------------------------------
    async def open_ticket(self, user_id: int, description: str | None, check_id: int | None) -> tuple[Ticket, bool]:
        """Store the ticket (or update the open one), then queue its card for staff. Returns (ticket, created)."""
        check = await self.own_check(user_id, check_id) or await self.latest_check(user_id)
        ticket, created = await self.tickets.open(
            user_id, description=(description or "")[:DESCRIPTION_LIMIT], last_check_id=check.id if check else None
        )
        await self.enqueue_card(ticket, "header" if created else "header_new_check")
        return ticket, created

    async def attach_check(self, ticket: Ticket, check_id: int) -> bool:
        """Attach a newer check of the user to their open ticket and queue its card; False if nothing changed."""
        check = await self.own_check(ticket.user_id, check_id)
        if check is None or check.id == ticket.last_check_id:
            return False
        updated, _ = await self.tickets.open(ticket.user_id, last_check_id=check.id)
        await self.enqueue_card(updated, "header_new_check")
        return True

    async def reopen(self, user_id: int) -> tuple[Ticket, bool]:
        """The user's open ticket, or a new one carrying on from the last (its check); returns (ticket, created)."""
        current = await self.tickets.get_open(user_id)
        if current is not None:
            return current, False
        previous = await self.latest_ticket(user_id)
        return await self.tickets.open(
            user_id,
            description=previous.description if previous else None,
            last_check_id=previous.last_check_id if previous else None,
        )

    async def close(self, user_id: int) -> Ticket | None:
        return await self.tickets.close_for_user(user_id)

    async def open_tickets(self, limit: int = 30) -> list[TicketSummary]:
        """Open tickets, oldest first, with the user and the attached check."""
        tickets = sorted(await self.tickets.list_open(limit=200), key=lambda t: (t.created_at, t.id))[:limit]
        return [
            TicketSummary(t, await self.users.get(t.user_id), await self.own_check(t.user_id, t.last_check_id))
            for t in tickets
        ]

    # -- queueing -----------------------------------------------------------------------------------------------
    async def enqueue_card(self, ticket: Ticket, header: str = "header", *, check_id: int | None = None) -> int:
        text = await self.card(ticket, ticket.user_id, header=header, check_id=check_id)
        return await self._to_support(CARD, ticket.user_id, {"ticket_id": ticket.id, "text": text})

    async def enqueue_recheck_card(self, user_id: int, check_id: int) -> int:
        ticket = await self.tickets.get_open(user_id)
        if ticket is not None:
            ticket, _ = await self.tickets.open(user_id, last_check_id=check_id)
        header = "header_recheck" if ticket is not None else "header_recheck_no_ticket"
        text = await self.card(ticket, user_id, header=header, check_id=check_id)
        return await self._to_support(CARD, user_id, {"ticket_id": ticket.id if ticket else None, "text": text})

    async def relay_to_support(self, user_id: int, message_id: int, reply_to_user_message: int | None) -> int:
        """Queue a copy of the user's message for staff, threaded under the staff message it answers if any."""
        reply_to = None
        if reply_to_user_message is not None:
            link = await self.links.to_support(user_id, reply_to_user_message)
            reply_to = link.support_message_id if link is not None else None
        return await self._to_support(TO_SUPPORT, user_id, {"message_id": message_id, "reply_to": reply_to})

    async def note(self, user_id: int, text: str) -> int:
        """Queue a note from the bot for staff, in the user's topic (or under their ticket)."""
        return await self._to_support(NOTE, user_id, {"text": text})

    async def relay_to_user(self, user_id: int, support_message_id: int, reply_to_support_message: int | None) -> int:
        """Queue a copy of a staff message for the user, as a reply to the user's message it answers if any."""
        reply_to = None
        if reply_to_support_message is not None:
            link = await self.links.to_user(self.support_chat_id, reply_to_support_message)
            if link is not None and link.user_chat_id == user_id and link.user_message_id != CARD_MESSAGE_ID:
                reply_to = link.user_message_id
        payload = {"user_id": user_id, "message_id": support_message_id, "reply_to": reply_to}
        return await self.outbox.enqueue(TO_USER, user_id, payload)

    async def tell_user(self, user_id: int, text: str) -> int:
        """Queue a message from the bot to the user (ticket closed, reopened)."""
        return await self.outbox.enqueue(USER_TEXT, user_id, {"user_id": user_id, "text": text})

    async def _to_support(self, kind: str, user_id: int, payload: dict[str, Any]) -> int:
        return await self.outbox.enqueue(kind, self.support_chat_id, {"user_id": user_id, **payload})

    # -- who is who --------------------------------------------------------------------------------------------
    async def owner_of_thread(self, thread_id: int) -> int | None:
        topic = await self.topics.by_thread(self.support_chat_id, thread_id)
        return topic.user_id if topic is not None else None

    async def owner_of_message(self, support_message_id: int) -> int | None:
        link = await self.links.to_user(self.support_chat_id, support_message_id)
        return link.user_chat_id if link is not None else None

    async def last_card_message(self, user_id: int) -> int | None:
        """The support-chat message id of the user's latest card (what relays reply to in a group without topics)."""
        link = await self.links.to_support(user_id, CARD_MESSAGE_ID)
        return link.support_message_id if link is not None else None
