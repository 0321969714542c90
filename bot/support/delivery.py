"""The outbox delivery engine: everything queued for staff or users goes out through here.

`kick()` after an enqueue (the desk does it) starts a drain, or wakes the one running; a ticker kicks every
TICK_SECONDS as well, so retries and items left over from before a restart go out without a new message.
A drain claims due items (each claim is a lease of LEASE_SECONDS: an item a crashed worker held becomes claimable
again after it) and sends them, one item per chat at a time so a chat's order holds, up to MAX_PARALLEL_CHATS
chats at once. Each item ends sent, retried later (the messenger's flood wait, else the outbox's backoff) or
failed (it can never be delivered: the user blocked the bot, the message is gone).

Items for the support chat go into the user's forum topic (`Topics`: created, reopened or re-created as needed)
or, in a group without topics, as replies under the user's latest card. Transport-free: the messenger is a
`SupportSender`; `stop()` waits for the deliveries in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot.security import redact_for_log
from bot.support.card import CardHeader, SupportCard
from bot.support.desk import (
    CARD,
    CARD_MESSAGE_ID,
    NOTE,
    NOTE_MESSAGE_ID,
    SUPPORT_KINDS,
    TO_SUPPORT,
    TO_USER,
    TicketDesk,
)
from bot.support.sender import Failure, SendError, SupportSender, Words
from bot.support.topics import Topics
from storage.outbox import OutboxItem
from storage.support import TopicState

log = logging.getLogger(__name__)

#: The outbox lease: an item a crashed worker held becomes claimable again after this.
LEASE_SECONDS = 90.0
MAX_PARALLEL_CHATS = 8
TICK_SECONDS = 1.0
PRUNE_EVERY_SECONDS = 3600.0
FIRST_PRUNE_SECONDS = 600.0
KEEP_SENT_SECONDS = 7 * 24 * 3600
KEEP_LINKS_SECONDS = 90 * 24 * 3600
#: How often a send to the support chat is tried again within one attempt when its topic keeps changing.
TOPIC_ROUNDS = 4


class Dropped(Exception):
    """An outbox item that can never be delivered (the user blocked the bot, the message is gone)."""


class TryLater(Exception):
    """An outbox item that could not be delivered now for a reason other than a messenger's error."""


class Delivery:
    """Drains the support outbox through a `SupportSender`."""

    def __init__(
        self,
        desk: TicketDesk,
        topics: Topics,
        sender: SupportSender,
        *,
        lease_seconds: float = LEASE_SECONDS,
        parallel_chats: int = MAX_PARALLEL_CHATS,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        self.desk = desk
        self.topics = topics
        self.sender = sender
        self.outbox = desk.outbox
        self.clock: Callable[[], float] = desk.clock
        self.lease_seconds = lease_seconds
        self.parallel_chats = parallel_chats
        self.tick_seconds = tick_seconds
        self.running = False
        self._drain: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()

    # -- running ----------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start delivering (and the ticker that retries and prunes). Idempotent."""
        if self.running:
            return
        self.running = True
        self._ticker = asyncio.create_task(self._tick(), name="support-ticker")

    async def stop(self) -> None:
        """Stop: no new drain starts; the deliveries in flight finish and are recorded."""
        self.running = False
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        self._wakeup.set()
        await self.settled()

    async def settled(self) -> None:
        """Wait until no drain is running (everything due now was tried)."""
        while self._drain is not None and not self._drain.done():
            await asyncio.shield(self._drain)

    def kick(self) -> None:
        """Deliver what is due now; a drain already running is woken up instead."""
        if not self.running:
            return
        if self._drain is not None and not self._drain.done():
            self._wakeup.set()
        else:
            self._drain = asyncio.create_task(self._drain_logged(), name="support-drain")

    async def _drain_logged(self) -> None:
        try:
            await self.drain()
        except Exception as exc:  # noqa: BLE001 - the ticker starts another drain; the items stay queued
            log.error("support outbox drain failed: %s: %s", type(exc).__name__, redact_for_log(exc))

    async def _tick(self) -> None:
        until_prune = FIRST_PRUNE_SECONDS
        while True:
            self.kick()
            await asyncio.sleep(self.tick_seconds)
            until_prune -= self.tick_seconds
            if until_prune <= 0:
                until_prune = PRUNE_EVERY_SECONDS
                try:
                    await self.prune()
                except Exception as exc:  # noqa: BLE001 - pruning must not stop the ticker
                    log.warning("pruning the support outbox failed: %s", type(exc).__name__)

    async def prune(self) -> None:
        """Forget sent and failed items after a week, message links after 90 days."""
        now = self.clock()
        await self.outbox.prune(now - KEEP_SENT_SECONDS)
        await self.desk.links.prune(now - KEEP_LINKS_SECONDS)

    async def drain(self) -> None:
        """Deliver every due item: one per chat at a time (a chat's order holds), chats in parallel.

        Runs until nothing is due within a tick; a kick meanwhile wakes it, the ticker restarts it later.
        """
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                self._wakeup.clear()
                while len(running) < self.parallel_chats:
                    item = await self.outbox.claim_next(self.lease_seconds)
                    if item is None:
                        break
                    running.add(asyncio.create_task(self.deliver(item)))
                timeout = self.tick_seconds
                if not running:
                    due = await self.outbox.next_due_at()
                    wait = None if due is None else due - self.clock()
                    if self._wakeup.is_set():
                        continue
                    if wait is None or wait > self.tick_seconds or not self.running:
                        return  # the ticker comes back for it
                    timeout = max(wait, 0.01)
                waiter = asyncio.ensure_future(self._wakeup.wait())
                done, _ = await asyncio.wait({*running, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                for task in done - {waiter}:
                    running.discard(task)
                    if task.exception() is not None:
                        log.error("support delivery crashed: %s", type(task.exception()).__name__)
        finally:
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    # -- one item ---------------------------------------------------------------------------------------------
    async def deliver(self, item: OutboxItem) -> None:
        """Send one item and record the outcome: sent, retry later, or failed."""
        try:
            if item.kind in SUPPORT_KINDS:
                await self._to_support(item)
            else:
                await self._to_user(item)
        except SendError as exc:
            await self._failed(item, exc)
        except Dropped as exc:
            log.info("outbox item %s (%s) dropped: %s", item.id, item.kind, exc)
            await self.outbox.mark_failed(item.id, str(exc))
        except TryLater as exc:
            log.warning("outbox item %s (%s) failed (%s); will retry", item.id, item.kind, exc)
            await self.outbox.retry_later(item.id, f"TryLater: {exc}")
        except Exception as exc:  # noqa: BLE001 - a bug must not stop the worker or lose the item
            log.error(
                "outbox item %s (%s) crashed: %s: %s", item.id, item.kind, type(exc).__name__, redact_for_log(exc)
            )
            await self.outbox.retry_later(item.id, type(exc).__name__)
        else:
            await self.outbox.mark_sent(item.id)

    async def _failed(self, item: OutboxItem, exc: SendError) -> None:
        if exc.failure is Failure.FLOOD:
            wait = exc.retry_after or 0.0
            log.info("outbox item %s (%s): flood limit, retry in %.0f s", item.id, item.kind, wait)
            await self.outbox.retry_later(item.id, f"429 retry after {wait:.0f}", retry_after=wait)
        elif exc.failure is Failure.CHAT_MOVED:
            log.error("the support chat became a supergroup: set SUPPORT_CHAT_ID=%s", exc.new_chat_id)
            await self.outbox.retry_later(item.id, "chat migrated")
        else:
            # the cause may pass (rights given back, network restored) and a ticket must not be lost: retry
            detail = exc.detail[:200]
            log.warning("outbox item %s (%s) failed (%s: %s); will retry", item.id, item.kind, exc.failure, detail)
            await self.outbox.retry_later(item.id, f"{exc.failure}: {detail}")

    async def _to_support(self, item: OutboxItem) -> None:
        user_id = int(item.payload["user_id"])
        forum = await self.topics.is_forum()
        for _ in range(TOPIC_ROUNDS):
            thread: int | None = None
            if forum:
                topic, created = await self.topics.ensure(user_id)
                if topic.state is TopicState.CLOSED:
                    if item.kind == NOTE and await self.desk.open_ticket_of(user_id) is None:
                        log.info("note for user %s dropped: their ticket and topic are closed", user_id)
                        return
                    if not await self.topics.reopen(topic):
                        continue
                thread = topic.thread_id
                if created and item.kind != CARD:
                    await self._context_card(user_id, thread)
            try:
                await self._send_to_support(item, user_id, thread, forum)
                return
            except SendError as exc:
                failure = exc.failure
                if forum and failure is Failure.TOPIC_GONE:
                    await self.topics.mark(user_id, TopicState.DELETED)
                    continue
                if forum and failure is Failure.TOPIC_CLOSED:
                    await self.topics.mark(user_id, TopicState.CLOSED)
                    continue
                if failure is Failure.NOT_A_FORUM or (not forum and failure in (Failure.TOPIC_GONE, Failure.THREAD)):
                    forum = await self.topics.is_forum(refresh=True)
                    continue
                if failure in (Failure.COPY_NOT_FOUND, Failure.CANNOT_COPY):
                    raise Dropped("the user's message is gone") from None
                raise
        raise TryLater("the topic kept changing")

    async def _context_card(self, user_id: int, thread: int) -> None:
        """Put the ticket's card first in a topic created for something else (the old topic was deleted)."""
        ticket = await self.desk.open_ticket_of(user_id) or await self.desk.latest_ticket(user_id)
        card = await self.desk.card(ticket, user_id, header=CardHeader.NEW_TOPIC)
        sent = await self.sender.send_card(self.desk.support_chat_id, card, thread_id=thread)
        await self.desk.links.link(user_id, CARD_MESSAGE_ID, self.desk.support_chat_id, sent)

    async def _send_to_support(self, item: OutboxItem, user_id: int, thread: int | None, forum: bool) -> None:
        payload = item.payload
        chat_id = self.desk.support_chat_id
        anchor = None if forum else await self.desk.last_card_message(user_id)
        if item.kind == CARD:
            sent = await self.sender.send_card(chat_id, SupportCard.model_validate(payload["card"]), thread_id=thread)
            await self.desk.links.link(user_id, CARD_MESSAGE_ID, chat_id, sent)
        elif item.kind == NOTE:
            words = Words.from_dict(payload["words"])
            sent = await self.sender.send_words(chat_id, words, thread_id=thread, reply_to=anchor)
            await self.desk.links.link(user_id, NOTE_MESSAGE_ID, chat_id, sent)
        elif item.kind == TO_SUPPORT:
            message_id = int(payload["message_id"])
            copy = await self.sender.copy_message(
                chat_id, user_id, message_id, thread_id=thread, reply_to=payload.get("reply_to") or anchor
            )
            await self.desk.links.link(user_id, message_id, chat_id, copy)
        else:
            raise Dropped(f"unknown kind {item.kind}")

    async def _to_user(self, item: OutboxItem) -> None:
        payload = item.payload
        user_id = int(payload["user_id"])
        chat_id = self.desk.support_chat_id
        try:
            if item.kind == TO_USER:
                message_id = int(payload["message_id"])
                copy = await self.sender.copy_message(user_id, chat_id, message_id, reply_to=payload.get("reply_to"))
                await self.desk.links.link(user_id, copy, chat_id, message_id)
            else:
                await self.sender.send_words(user_id, Words.from_dict(payload["words"]))
        except SendError as exc:
            if exc.failure is Failure.FORBIDDEN:
                await self.desk.users.set_blocked(user_id)
                await self.desk.note(user_id, Words("note_user_blocked"))
                raise Dropped("the user blocked the bot") from None
            gone = exc.failure is Failure.CHAT_GONE or (item.kind == TO_USER and exc.failure is Failure.COPY_NOT_FOUND)
            if gone:
                reason = (
                    "the message was deleted first"
                    if exc.failure is Failure.COPY_NOT_FOUND
                    else "the user's chat is gone"
                )
                await self.desk.note(user_id, Words("note_not_delivered", {"reason": reason}))
                raise Dropped(reason) from None
            raise
