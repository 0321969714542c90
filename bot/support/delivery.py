"""The outbox delivery engine: everything queued for staff or users goes out through here.

`kick()` after an enqueue (the desk does it) starts a drain, or wakes the one running; a ticker kicks every
TICK_SECONDS as well, so retries and items left over from before a restart go out without a new message.
A drain claims due items and sends them, up to MAX_PARALLEL_LANES at once. Each claim is a lease in this process's
name (`owner`); `start()` first releases the leases of any other owner: only one bot process runs against a
database (Telegram itself refuses two `getUpdates` pollers), so another owner is a process that died (`kill -9`,
a crash, a power cut) and nothing waits for its leases to run out.

Order is per conversation (`storage.outbox` lanes; the desk puts one user's support-chat items in one lane and
their private chat's in another): a conversation's messages go out in the order they were queued, a failing one
holds its conversation only until its first retry, and nothing else is ever held up by it. Each item ends

- sent;
- final, never retried: it can never be delivered (the user blocked the bot or deleted the message, the message
  can't be copied: a service message or another kind Telegram refuses to copy). Staff are told in the user's topic
  when something could not be relayed either way (except a message the user deleted themselves);
- waiting for the chat: a flood wait (429) holds every item of that chat until the time Telegram gave, uncounted;
- followed: the support group was upgraded to a supergroup (`SupportChat` follows and the item goes to the new
  chat at once, so it is delivered once);
- retried later with the outbox's backoff, and given up after its last attempt (staff are told when that was a
  message for the user).

Items for the support chat go into the user's forum topic (`Topics`: created, reopened or re-created as needed)
or, in a group without topics, as replies under the user's latest card. When messages start going somewhere the
ticket's card is not (a topic re-created, the group upgraded or given topics), the card is posted there first.
Transport-free: the messenger is a `SupportSender`; `stop()` waits for the deliveries in flight. Delivery is at
least once: a send that reached Telegram just before the process died is sent again after the restart (the Bot
API has no way to ask whether it did).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
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
from storage.outbox import OutboxItem, OutboxStatus
from storage.support import TopicState

log = logging.getLogger(__name__)

#: The outbox lease: an item a worker of this process holds longer than this (a hung request) is claimable again.
LEASE_SECONDS = 90.0
MAX_PARALLEL_LANES = 8
TICK_SECONDS = 1.0
PRUNE_EVERY_SECONDS = 3600.0
FIRST_PRUNE_SECONDS = 600.0
KEEP_SENT_SECONDS = 7 * 24 * 3600
KEEP_LINKS_SECONDS = 90 * 24 * 3600
#: How often a send to the support chat is tried again within one attempt when its topic or chat keeps changing.
TOPIC_ROUNDS = 4
#: A flood wait without a number (never seen from Telegram) waits this long.
DEFAULT_FLOOD_WAIT = 5.0

#: Why a message for the user can never be delivered, and the note staff get about it.
_FINAL_TO_USER: dict[Failure, str] = {
    Failure.CHAT_GONE: "note_not_delivered_chat_gone",
    Failure.COPY_NOT_FOUND: "note_not_delivered_deleted",
    Failure.CANNOT_COPY: "note_not_delivered_uncopyable",
}


def new_owner() -> str:
    """A lease owner id for this process: its pid and a random part (pids are reused after a restart)."""
    return f"{os.getpid()}-{secrets.token_hex(4)}"


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
        parallel_lanes: int = MAX_PARALLEL_LANES,
        tick_seconds: float = TICK_SECONDS,
        owner: str | None = None,
    ) -> None:
        self.desk = desk
        self.topics = topics
        self.sender = sender
        self.outbox = desk.outbox
        self.clock: Callable[[], float] = desk.clock
        self.lease_seconds = lease_seconds
        self.parallel_lanes = parallel_lanes
        self.tick_seconds = tick_seconds
        #: whose leases this process's claims are (see `start`)
        self.owner = owner or new_owner()
        self.running = False
        self._drain: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()

    # -- running ----------------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Release the leases of dead processes, then start delivering (and the ticker). Idempotent."""
        if self.running:
            return
        released = await self.outbox.release_leases(self.owner)
        if released:
            log.info("start-up: %d outbox item(s) leased by a process that is gone are due again", released)
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
        """Forget sent and failed items after a week, message links after 90 days, expired description steps."""
        now = self.clock()
        await self.outbox.prune(now - KEEP_SENT_SECONDS)
        await self.desk.links.prune(now - KEEP_LINKS_SECONDS)
        await self.desk.requests.prune(now - KEEP_SENT_SECONDS)

    async def drain(self) -> None:
        """Deliver every due item its conversation lets go, conversations in parallel.

        Runs until nothing is due within a tick; a kick meanwhile wakes it, the ticker restarts it later.
        """
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                self._wakeup.clear()
                while len(running) < self.parallel_lanes:
                    item = await self.outbox.claim_next(self.lease_seconds, self.owner)
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
        """Send one item and record the outcome: sent, final, waiting for its chat, or retried later."""
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
            await self._retry(item, f"TryLater: {exc}")
        except Exception as exc:  # noqa: BLE001 - a bug must not stop the worker or lose the item
            log.error(
                "outbox item %s (%s) crashed: %s: %s", item.id, item.kind, type(exc).__name__, redact_for_log(exc)
            )
            await self._retry(item, type(exc).__name__)
        else:
            await self.outbox.mark_sent(item.id)

    async def _failed(self, item: OutboxItem, exc: SendError) -> None:
        if exc.failure is Failure.FLOOD:
            wait = exc.retry_after if exc.retry_after is not None else DEFAULT_FLOOD_WAIT
            chat_id = self.desk.support_chat_id if item.kind in SUPPORT_KINDS else item.chat_id
            log.info("outbox item %s (%s): flood limit in chat %s, retry in %.0f s", item.id, item.kind, chat_id, wait)
            await self.outbox.hold_chat(chat_id, self.clock() + wait)
            await self.outbox.retry_later(item.id, f"429 retry after {wait:.0f}", retry_after=wait, counted=False)
            return
        # the cause may pass (rights given back, network restored) and a ticket must not be lost: retry
        detail = exc.detail[:200]
        log.warning("outbox item %s (%s) failed (%s: %s); will retry", item.id, item.kind, exc.failure, detail)
        await self._retry(item, f"{exc.failure}: {detail}")

    async def _retry(self, item: OutboxItem, error: str) -> None:
        """Park the item with its own retry time; after its last attempt, give up (and tell staff if it was theirs)."""
        updated = await self.outbox.retry_later(item.id, error)
        if updated is None or updated.status is not OutboxStatus.FAILED:
            return
        user_id = int(item.payload.get("user_id") or item.chat_id)
        if item.kind in SUPPORT_KINDS:
            log.error(
                "gave up on outbox item %s (%s) for user %s in the support chat: %s", item.id, item.kind, user_id, error
            )
        else:
            log.warning("gave up on outbox item %s (%s) for user %s: %s", item.id, item.kind, user_id, error)
            await self.desk.note(user_id, Words("note_not_delivered_gave_up"))

    # -- the support chat ---------------------------------------------------------------------------------------
    async def _to_support(self, item: OutboxItem) -> None:
        user_id = int(item.payload["user_id"])
        forum = await self.topics.is_forum()
        for _ in range(TOPIC_ROUNDS):
            chat_id = self.desk.support_chat_id
            try:
                if await self._send_to_support(item, user_id, chat_id, forum):
                    return
            except SendError as exc:
                failure = exc.failure
                if failure is Failure.CHAT_MOVED and exc.new_chat_id is not None:
                    await self.desk.chat.follow(chat_id, exc.new_chat_id)
                    if self.desk.support_chat_id == chat_id:
                        raise  # not the support chat that moved: retried later like any other failure
                    forum = await self.topics.is_forum(refresh=True)
                    continue
                if forum and failure is Failure.TOPIC_GONE:
                    await self.topics.mark(user_id, TopicState.DELETED)
                    continue
                if forum and failure is Failure.TOPIC_CLOSED:
                    await self.topics.mark(user_id, TopicState.CLOSED)
                    continue
                if failure is Failure.NOT_A_FORUM or (not forum and failure in (Failure.TOPIC_GONE, Failure.THREAD)):
                    forum = await self.topics.is_forum(refresh=True)
                    continue
                if failure is Failure.COPY_NOT_FOUND:
                    raise Dropped("the user deleted the message before it was copied") from None
                if failure is Failure.CANNOT_COPY:
                    await self.desk.note(user_id, Words("note_not_shown_uncopyable"))
                    raise Dropped("the user's message can't be copied") from None
                raise
        raise TryLater("the topic kept changing")

    async def _send_to_support(self, item: OutboxItem, user_id: int, chat_id: int, forum: bool) -> bool:
        """One try at the support chat as it is now; False when the topic changed under it (try again)."""
        thread: int | None = None
        anchor: int | None = None
        if forum:
            before = await self.topics.get(user_id)
            topic, created = await self.topics.ensure(user_id)
            if topic.state is TopicState.CLOSED:
                if item.kind == NOTE and await self.desk.open_ticket_of(user_id) is None:
                    log.info("note for user %s dropped: their ticket and topic are closed", user_id)
                    return True
                if not await self.topics.reopen(topic):
                    return False
            thread = topic.thread_id
            if created and item.kind != CARD:
                deleted_here = before is not None and before.chat_id == chat_id
                await self._context_card(user_id, chat_id, thread, CardHeader.NEW_TOPIC if deleted_here else None)
        elif item.kind != CARD:
            anchor = await self.desk.last_card_message(user_id)
            if anchor is None and await self.desk.links.to_support(user_id, CARD_MESSAGE_ID) is not None:
                anchor = await self._context_card(user_id, chat_id, None, None)  # the group changed under the card
        await self._send(item, user_id, chat_id, thread, anchor)
        return True

    async def _context_card(self, user_id: int, chat_id: int, thread: int | None, header: CardHeader | None) -> int:
        """Put the ticket's card first where the user's messages now go (a new topic, an upgraded group)."""
        ticket = await self.desk.open_ticket_of(user_id) or await self.desk.latest_ticket(user_id)
        card = await self.desk.card(ticket, user_id, header=header or CardHeader.AGAIN)
        sent = await self.sender.send_card(chat_id, card, thread_id=thread)
        await self.desk.links.link(user_id, CARD_MESSAGE_ID, chat_id, sent)
        return sent

    async def _send(self, item: OutboxItem, user_id: int, chat_id: int, thread: int | None, anchor: int | None) -> None:
        payload = item.payload
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

    # -- the user's chat ----------------------------------------------------------------------------------------
    async def _to_user(self, item: OutboxItem) -> None:
        payload = item.payload
        user_id = int(payload["user_id"])
        try:
            if item.kind == TO_USER:
                from_chat = int(payload.get("from_chat_id") or self.desk.support_chat_id)
                message_id = int(payload["message_id"])
                copy = await self.sender.copy_message(user_id, from_chat, message_id, reply_to=payload.get("reply_to"))
                await self.desk.links.link(user_id, copy, from_chat, message_id)
            else:
                await self.sender.send_words(user_id, Words.from_dict(payload["words"]))
        except SendError as exc:
            if exc.failure is Failure.FORBIDDEN:
                await self.desk.users.set_blocked(user_id)
                await self.desk.note(user_id, Words("note_user_blocked"))
                raise Dropped("the user blocked the bot") from None
            note = _FINAL_TO_USER.get(exc.failure)
            if note is not None and (item.kind == TO_USER or exc.failure is Failure.CHAT_GONE):
                await self.desk.note(user_id, Words(note))
                raise Dropped(f"{exc.failure}: {exc.detail[:100]}") from None
            raise
