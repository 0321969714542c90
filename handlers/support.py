"""Escalation to human support (issue 6): the user's side, the support chat, and the delivery worker.

User side (group 0): "Talk to support" (the verdict's button) and /support open a ticket after a one-step
description (or Skip); while a ticket is open the user's messages are copied to staff. Support chat (group -1):
staff messages in a user's forum topic (or replies to a ticket's messages in a group without topics) are copied
to the user, threaded through the message map; /close, /reopen, /recheck, /ban, /unban and /tickets, each
authorised on every update. Everything for staff or users goes through the persistent outbox, drained by
`drain` (kicked after every enqueue and by a repeating job): ordered per chat, retried on 429 and network
errors, topics re-created when staff deleted them and reopened when closed. The words live in
`handlers.texts`; the card and the ticket logic in `bot.escalation`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
import weakref
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters, Update, User
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.app import Services, services_of
from bot.config import Settings
from bot.diagnosis.model import CampaignType
from bot.escalation import (
    CARD,
    CARD_MESSAGE_ID,
    NOTE,
    SUPPORT_KINDS,
    TO_SUPPORT,
    TO_USER,
    SupportDesk,
    display_name,
    topic_color,
    topic_name,
    when,
)
from bot.exchanges.catalog import CATALOG
from bot.secret_scan import looks_like_secret
from bot.security import redact_for_log
from handlers.common import delete_secret_message, safe_send
from handlers.errors import other_media, other_text
from handlers.render import esc
from handlers.texts import t
from storage.outbox import OutboxItem
from storage.support import Topic, TopicState

log = logging.getLogger(__name__)

DESCRIBE = "describe"
#: How long the description step waits before it quietly ends (a later message is then not taken for one).
DESCRIBE_TIMEOUT_SECONDS = 15 * 60
END = ConversationHandler.END
PRIVATE = filters.ChatType.PRIVATE
NEW = filters.UpdateType.MESSAGE & PRIVATE
STAFF_STATUSES = frozenset({"creator", "administrator", "member"})
#: How long a "is this person staff?" answer is trusted.
STAFF_CACHE_SECONDS = 30.0
#: How long the support chat's kind (forum or not) is trusted.
CHAT_CACHE_SECONDS = 300.0
#: The outbox lease: an item a crashed worker held becomes claimable again after this.
LEASE_SECONDS = 90.0
MAX_PARALLEL_CHATS = 8
TICK_SECONDS = 1.0
JOB_NAME = "support-outbox"
PRUNE_JOB_NAME = "support-prune"
KEEP_SENT_SECONDS = 7 * 24 * 3600
KEEP_LINKS_SECONDS = 90 * 24 * 3600
DESK_KEY = "support_desk"
#: Links for notes: replies to them reach the user, without threading to any of the user's messages.
NOTE_MESSAGE_ID = -1


class Dropped(Exception):
    """An outbox item that can never be delivered (the user blocked the bot, the message is gone)."""


class TryLater(Exception):
    """An outbox item that could not be delivered now for a reason other than a Telegram error."""


@dataclass
class Desk:
    """Per-application support state: the transport-free desk plus caches and locks of this process."""

    core: SupportDesk
    pending_check: dict[int, int | None] = field(default_factory=dict)
    staff_cache: dict[int, tuple[bool, float]] = field(default_factory=dict)
    forum: tuple[bool, float] | None = None
    topic_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = field(default_factory=weakref.WeakValueDictionary)
    draining: bool = False
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def chat_id(self) -> int:
        return self.core.support_chat_id

    def topic_lock(self, user_id: int) -> asyncio.Lock:
        lock = self.topic_locks.get(user_id)
        if lock is None:
            lock = asyncio.Lock()
            self.topic_locks[user_id] = lock
        return lock


def desk_for(services: Services) -> Desk | None:
    """The support desk, or None when SUPPORT_CHAT_ID is not set."""
    chat_id = services.settings.support_chat_id
    if chat_id is None:
        return None
    desk = services.extras.get(DESK_KEY)
    if desk is None:
        core = SupportDesk(
            services.db,
            support_chat_id=chat_id,
            users=services.users,
            checks=services.checks,
            version=services.version,
            clock=services.clock,
            outbound_ips=services.settings.hufi_outbound_ips,
        )
        desk = services.extras[DESK_KEY] = Desk(core)
    return desk


def desk_of(context: Any) -> Desk | None:
    return desk_for(services_of(context))


# -- the delivery worker ---------------------------------------------------------------------------------------------
def kick(app: Any) -> None:
    """Deliver what is due now (after an enqueue); a drain already running is woken up instead."""
    desk = desk_for(app.bot_data["services"])
    if desk is None or not app.running:
        return
    if desk.draining:
        desk.wakeup.set()
    else:
        app.create_task(drain(app), name="support-drain")


async def drain(app: Any) -> None:
    """Deliver every due outbox item: one item per chat at a time (so a chat's order holds), chats in parallel.

    Runs until nothing is due within a tick; a kick meanwhile wakes it, the repeating job restarts it later.
    """
    desk = desk_for(app.bot_data["services"])
    if desk is None or desk.draining:
        if desk is not None:
            desk.wakeup.set()
        return
    desk.draining = True
    running: set[asyncio.Task[None]] = set()
    try:
        while True:
            desk.wakeup.clear()
            while len(running) < MAX_PARALLEL_CHATS:
                item = await desk.core.outbox.claim_next(LEASE_SECONDS)
                if item is None:
                    break
                running.add(asyncio.create_task(_deliver(app.bot, desk, item)))
            timeout = TICK_SECONDS
            if not running:
                due = await desk.core.outbox.next_due_at()
                wait = None if due is None else due - desk.core.clock()
                if desk.wakeup.is_set():
                    continue
                if wait is None or wait > TICK_SECONDS or not app.running:
                    return  # the repeating job comes back for it
                timeout = max(wait, 0.01)
            waiter = asyncio.ensure_future(desk.wakeup.wait())
            done, _ = await asyncio.wait({*running, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            for task in done - {waiter}:
                running.discard(task)
                if task.exception() is not None:
                    log.error("support delivery crashed: %s", type(task.exception()).__name__)
    finally:
        desk.draining = False


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _deliver(bot: Bot, desk: Desk, item: OutboxItem) -> None:
    """Send one item and record the outcome: sent, retry later (Telegram's wait or backoff), or failed."""
    outbox = desk.core.outbox
    try:
        if item.kind in SUPPORT_KINDS:
            await _deliver_to_support(bot, desk, item)
        else:
            await _deliver_to_user(bot, desk, item)
    except RetryAfter as exc:
        wait = _seconds(exc.retry_after)
        log.info("outbox item %s (%s): flood limit, retry in %.0f s", item.id, item.kind, wait)
        await outbox.retry_later(item.id, f"429 retry after {wait:.0f}", retry_after=wait)
    except Dropped as exc:
        log.info("outbox item %s (%s) dropped: %s", item.id, item.kind, exc)
        await outbox.mark_failed(item.id, str(exc))
    except ChatMigrated as exc:
        log.error("the support chat became a supergroup: set SUPPORT_CHAT_ID=%s", exc.new_chat_id)
        await outbox.retry_later(item.id, "chat migrated")
    except (TelegramError, TryLater) as exc:
        # BadRequest is a NetworkError in PTB; both, Forbidden in the support chat and timeouts are retried with
        # backoff: the cause may be fixed (rights given back, network restored) and a ticket must not be lost.
        error = redact_for_log(exc)[:200]
        log.warning("outbox item %s (%s) failed (%s: %s); will retry", item.id, item.kind, type(exc).__name__, error)
        await outbox.retry_later(item.id, f"{type(exc).__name__}: {error}")
    except Exception as exc:  # noqa: BLE001 - a bug must not stop the worker or lose the item
        log.error("outbox item %s (%s) crashed: %s: %s", item.id, item.kind, type(exc).__name__, redact_for_log(exc))
        await outbox.retry_later(item.id, f"{type(exc).__name__}")
    else:
        await outbox.mark_sent(item.id)


def _topic_gone(exc: TelegramError) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("thread not found", "topic_id_invalid", "topic_deleted", "topic not found"))


def _topic_closed(exc: TelegramError) -> bool:
    return "topic_closed" in str(exc).lower()


async def is_forum(bot: Bot, desk: Desk, *, refresh: bool = False) -> bool:
    now = time.monotonic()
    if desk.forum is not None and desk.forum[1] > now and not refresh:
        return desk.forum[0]
    chat = await bot.get_chat(desk.chat_id)
    forum = bool(chat.is_forum)
    desk.forum = (forum, now + CHAT_CACHE_SECONDS)
    return forum


async def ensure_topic(bot: Bot, desk: Desk, user_id: int) -> tuple[Topic, bool]:
    """The user's forum topic, created if they have none (or staff deleted it); returns (topic, created).

    One lock per user plus the unique topic map: a burst of messages never creates two topics.
    """
    async with desk.topic_lock(user_id):
        topic = await desk.core.topics.get(user_id)
        if topic is not None and topic.chat_id == desk.chat_id and topic.state is not TopicState.DELETED:
            return topic, False
        user = await desk.core.users.get(user_id)
        created = await bot.create_forum_topic(
            desk.chat_id, name=topic_name(user, user_id), icon_color=topic_color(user_id)
        )
        log.info("created support topic %s for user %s", created.message_thread_id, user_id)
        return await desk.core.topics.set(user_id, desk.chat_id, created.message_thread_id), True


async def _reopen_topic(bot: Bot, desk: Desk, topic: Topic) -> bool:
    """Reopen a closed topic; False if it turned out to be deleted."""
    try:
        await bot.reopen_forum_topic(topic.chat_id, topic.thread_id)
    except BadRequest as exc:
        if _topic_gone(exc):
            await desk.core.topics.set_state(topic.user_id, TopicState.DELETED)
            return False
        if "not_modified" not in str(exc).lower():
            raise
    await desk.core.topics.set_state(topic.user_id, TopicState.OPEN)
    return True


async def _deliver_to_support(bot: Bot, desk: Desk, item: OutboxItem) -> None:
    user_id = int(item.payload["user_id"])
    forum = await is_forum(bot, desk)
    for _ in range(4):
        thread: int | None = None
        if forum:
            topic, created = await ensure_topic(bot, desk, user_id)
            if topic.state is TopicState.CLOSED:
                if item.kind == NOTE and await desk.core.tickets.get_open(user_id) is None:
                    log.info("note for user %s dropped: their ticket and topic are closed", user_id)
                    return
                if not await _reopen_topic(bot, desk, topic):
                    continue
            thread = topic.thread_id
            if created and item.kind != CARD:
                await _context_card(bot, desk, user_id, thread)
        try:
            await _send_to_support(bot, desk, item, user_id, thread, forum)
            return
        except BadRequest as exc:
            if forum and _topic_gone(exc):
                await desk.core.topics.set_state(user_id, TopicState.DELETED)
                continue
            if forum and _topic_closed(exc):
                await desk.core.topics.set_state(user_id, TopicState.CLOSED)
                continue
            if "not a forum" in str(exc).lower() or (not forum and "thread" in str(exc).lower()):
                forum = await is_forum(bot, desk, refresh=True)
                continue
            if "message to copy not found" in str(exc).lower() or "can't be copied" in str(exc).lower():
                raise Dropped("the user's message is gone") from None
            raise
    raise TryLater("the topic kept changing")


async def _context_card(bot: Bot, desk: Desk, user_id: int, thread: int) -> None:
    """Put the ticket's card first in a topic created for something else (the old topic was deleted)."""
    ticket = await desk.core.tickets.get_open(user_id) or await desk.core.latest_ticket(user_id)
    text = await desk.core.card(ticket, user_id, header="header_new_topic")
    sent = await bot.send_message(desk.chat_id, text, message_thread_id=thread)
    await desk.core.links.link(user_id, CARD_MESSAGE_ID, desk.chat_id, sent.message_id)


def _reply(message_id: int | None) -> ReplyParameters | None:
    return None if not message_id else ReplyParameters(message_id, allow_sending_without_reply=True)


async def _send_to_support(
    bot: Bot, desk: Desk, item: OutboxItem, user_id: int, thread: int | None, forum: bool
) -> None:
    payload = item.payload
    chat_id = desk.chat_id
    anchor = None if forum else await desk.core.last_card_message(user_id)
    if item.kind == CARD:
        sent = await bot.send_message(chat_id, payload["text"], message_thread_id=thread)
        await desk.core.links.link(user_id, CARD_MESSAGE_ID, chat_id, sent.message_id)
    elif item.kind == NOTE:
        sent = await bot.send_message(
            chat_id, payload["text"], message_thread_id=thread, reply_parameters=_reply(anchor)
        )
        await desk.core.links.link(user_id, NOTE_MESSAGE_ID, chat_id, sent.message_id)
    elif item.kind == TO_SUPPORT:
        copy = await bot.copy_message(
            chat_id,
            from_chat_id=user_id,
            message_id=int(payload["message_id"]),
            message_thread_id=thread,
            reply_parameters=_reply(payload.get("reply_to") or anchor),
        )
        await desk.core.links.link(user_id, int(payload["message_id"]), chat_id, copy.message_id)
    else:
        raise Dropped(f"unknown kind {item.kind}")


async def _deliver_to_user(bot: Bot, desk: Desk, item: OutboxItem) -> None:
    payload = item.payload
    user_id = int(payload["user_id"])
    try:
        if item.kind == TO_USER:
            copy = await bot.copy_message(
                user_id,
                from_chat_id=desk.chat_id,
                message_id=int(payload["message_id"]),
                reply_parameters=_reply(payload.get("reply_to")),
            )
            await desk.core.links.link(user_id, copy.message_id, desk.chat_id, int(payload["message_id"]))
        else:
            await bot.send_message(user_id, payload["text"])
    except Forbidden:
        await desk.core.users.set_blocked(user_id)
        await desk.core.note(user_id, t("note_user_blocked"))
        raise Dropped("the user blocked the bot") from None
    except BadRequest as exc:
        text = str(exc).lower()
        gone = "chat not found" in text or (item.kind == TO_USER and "message to copy not found" in text)
        if gone:
            reason = "the message was deleted first" if "copy" in text else "the user's chat is gone"
            await desk.core.note(user_id, t("note_not_delivered", reason=reason))
            raise Dropped(reason) from None
        raise


def start_support_worker(app: Any) -> bool:
    """Schedule the outbox worker (every second, plus an hourly prune). Idempotent; False if support is off.

    Call it once from `build_application` (or `post_init`): without it, queued items are only delivered when a
    new message kicks the worker, and nothing left over from before a restart goes out until then.
    """
    services: Services = app.bot_data["services"]
    if desk_for(services) is None:
        return False
    if app.job_queue is None:
        log.warning("no JobQueue: support messages are only delivered when something new is queued")
        return False
    if not app.job_queue.get_jobs_by_name(JOB_NAME):
        app.job_queue.run_repeating(_tick, interval=TICK_SECONDS, first=0.0, name=JOB_NAME)
        app.job_queue.run_repeating(_prune, interval=3600, first=600, name=PRUNE_JOB_NAME)
    return True


async def _tick(context: Any) -> None:
    kick(context.application)


async def _prune(context: Any) -> None:
    desk = desk_of(context)
    if desk is None:
        return
    now = desk.core.clock()
    await desk.core.outbox.prune(now - KEEP_SENT_SECONDS)
    await desk.core.links.prune(now - KEEP_LINKS_SECONDS)


async def support_numbers(services: Services) -> dict[str, int] | None:
    """Open tickets and undelivered support messages, for /status; None when support is off."""
    desk = desk_for(services)
    if desk is None:
        return None
    return {"open_tickets": await desk.core.tickets.count_open(), "outbox_pending": await desk.core.outbox.count()}


# -- start-up check ------------------------------------------------------------------------------------------------
async def verify_support_chat(bot: Bot, settings: Settings) -> list[str]:
    """What is wrong with the support chat set-up, one line each (empty when all is well); each is logged."""
    problems: list[str] = []
    chat_id = settings.support_chat_id
    if chat_id is None:
        problems.append(
            'SUPPORT_CHAT_ID is not set: "Talk to support" only points users to ' + settings.support_contact
        )
    else:
        problems = await _chat_problems(bot, chat_id)
    for problem in problems:
        log.warning("support chat: %s", problem)
    return problems


async def _chat_problems(bot: Bot, chat_id: int) -> list[str]:
    try:
        chat = await bot.get_chat(chat_id)
    except TelegramError as exc:
        return [f"the bot can't see the support chat {chat_id} ({type(exc).__name__}: {str(exc)[:100]})"]
    if chat.type not in ("group", "supergroup"):
        return [f"the support chat {chat_id} is a {chat.type}, not a group"]
    me = await bot.get_me()
    try:
        member = await bot.get_chat_member(chat_id, me.id)
    except TelegramError as exc:
        return [f"the bot can't read its own rights in the support chat ({type(exc).__name__})"]
    if member.status != "administrator":
        return [
            f"the bot is {member.status}, not an administrator, in the support chat: it may not see staff "
            "messages and can't delete keys pasted there"
        ]
    problems = []
    if chat.is_forum and not getattr(member, "can_manage_topics", False):
        problems.append("the bot lacks the right to manage topics in the support forum: it can't open a topic per user")
    if not getattr(member, "can_delete_messages", False):
        problems.append("the bot lacks the right to delete messages in the support chat: a key pasted there stays")
    return problems


# -- the user's side -------------------------------------------------------------------------------------------------
async def talk_to_support(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """ "Talk to support" and /support: ask for a short description (or add a newer check to the open ticket)."""
    query = update.callback_query
    if query is not None:
        await query.answer()
    services = services_of(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    desk = desk_for(services)
    if desk is None:
        await chat.send_message(t("support_unavailable", contact=services.settings.support_contact))
        return END
    await services.users.upsert(user.id, user.first_name, user.username, user.language_code)
    if await services.bans.is_banned(user.id):
        await chat.send_message(t("banned", contact=services.settings.support_contact))
        return END
    check_text = (query.data or "").partition(":")[2] if query is not None else ""
    check_id = int(check_text) if check_text.isdigit() else None
    ticket = await desk.core.tickets.get_open(user.id)
    if ticket is not None:
        attached = check_id is not None and await desk.core.attach_check(ticket, check_id)
        if attached:
            kick(context.application)
        text = t("support_already_open", ticket=ticket.id)
        await chat.send_message(text + ("\n" + t("support_added_check") if attached else ""))
        return END
    desk.pending_check[user.id] = check_id
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(t("btn_skip"), callback_data="support_skip")]])
    await chat.send_message(t("support_describe"), reply_markup=keyboard)
    return DESCRIBE


async def got_description(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    message = update.effective_message
    assert message is not None
    if looks_like_secret(message.text):  # the guard deletes these first; never store or relay one anyway
        await delete_secret_message(message, context, "what_pair")
        await safe_send(message.chat.send_message, t("support_secret_relay"))
        return DESCRIBE
    return await _open(update, context, message.text)


async def skip_description(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    query = update.callback_query
    assert query is not None
    await query.answer()
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError:
        pass
    return await _open(update, context, None)


async def media_instead(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """A photo or file instead of a description: open the ticket without one and pass the file on."""
    message = update.effective_message
    assert message is not None
    return await _open(update, context, None, relay=message)


async def cancel_support(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.effective_user is not None and update.effective_chat is not None
    desk = desk_of(context)
    if desk is not None:
        desk.pending_check.pop(update.effective_user.id, None)
    await update.effective_chat.send_message(t("support_cancelled"))
    return END


async def _open(update: Update, context: Any, description: str | None, relay: Message | None = None) -> int:
    services = services_of(context)
    desk = desk_for(services)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    if desk is None:
        await chat.send_message(t("support_unavailable", contact=services.settings.support_contact))
        return END
    if await services.bans.is_banned(user.id):
        await chat.send_message(t("banned", contact=services.settings.support_contact))
        return END
    ticket, _ = await desk.core.open_ticket(user.id, description, desk.pending_check.pop(user.id, None))
    if relay is not None:
        await desk.core.relay_to_support(user.id, relay.message_id, None)
    kick(context.application)
    await chat.send_message(t("support_opened", ticket=ticket.id))
    log.info("ticket %s opened for user %s", ticket.id, user.id)
    return END


async def user_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A private message outside any flow: to support while a ticket is open (or recently closed), else the
    usual answer to text or media."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = services_of(context)
    desk = desk_for(services)
    ticket = await desk.core.tickets.get_open(user.id) if desk is not None else None
    if desk is None or (ticket is None and await desk.core.reopenable(user.id) is None):
        await (other_text if message.text is not None else other_media)(update, context)
        return
    await services.users.upsert(user.id, user.first_name, user.username, user.language_code)
    if await services.bans.is_banned(user.id):
        await message.chat.send_message(t("banned", contact=services.settings.support_contact))
        return
    if looks_like_secret(message.text or message.caption):  # the guard deletes these first; belt and braces
        await delete_secret_message(message, context, "what_pair")
        await safe_send(message.chat.send_message, t("support_secret_relay"))
        return
    reopened = ticket is None
    if ticket is None:
        ticket, _ = await desk.core.reopen(user.id)
        await desk.core.note(user.id, t("note_reopened_by_user", ticket=ticket.id))
    else:
        await desk.core.tickets.touch(ticket.id)
    reply = message.reply_to_message
    await desk.core.relay_to_support(user.id, message.message_id, reply.message_id if reply else None)
    kick(context.application)
    if reopened:
        await message.chat.send_message(t("support_reopened_by_message", ticket=ticket.id))


# -- the support chat ------------------------------------------------------------------------------------------------
async def is_staff(bot: Bot, services: Services, desk: Desk, user: User | None) -> bool:
    """A member of the support chat (and listed in STAFF_USER_IDS when that is set); asked on every update,
    remembered for STAFF_CACHE_SECONDS at most."""
    if user is None or user.is_bot:
        return False
    listed = services.settings.staff_user_ids
    if listed and user.id not in listed:
        return False
    now = time.monotonic()
    cached = desk.staff_cache.get(user.id)
    if cached is not None and cached[1] > now:
        return cached[0]
    try:
        member = await bot.get_chat_member(desk.chat_id, user.id)
        ok = member.status in STAFF_STATUSES
    except TelegramError:
        ok = False
    if len(desk.staff_cache) > 1000:
        desk.staff_cache.clear()
    desk.staff_cache[user.id] = (ok, now + STAFF_CACHE_SECONDS)
    return ok


def _real_reply(message: Message) -> Message | None:
    """The message this one answers; in a topic, the topic's creation message is not a real reply."""
    reply = message.reply_to_message
    if reply is None:
        return None
    if message.is_topic_message and (reply.message_id == message.message_thread_id or reply.forum_topic_created):
        return None
    return reply


async def _owner(desk: Desk, message: Message) -> tuple[int | None, int | None]:
    """Whose ticket a support-chat message belongs to, and which support message it replies to."""
    reply = _real_reply(message)
    reply_id = reply.message_id if reply is not None else None
    if message.is_topic_message and message.message_thread_id:
        owner = await desk.core.owner_of_thread(message.message_thread_id)
        if owner is not None:
            return owner, reply_id
    if reply_id is not None:
        owner = await desk.core.owner_of_message(reply_id)
        if owner is not None:
            return owner, reply_id
    return None, None


async def _answer_staff(bot: Bot, message: Message, text: str) -> None:
    """Answer in the support chat, in the same topic; a failure (flood limit, closed topic) is only logged."""
    try:
        await bot.send_message(
            message.chat_id,
            text,
            message_thread_id=message.message_thread_id if message.is_topic_message else None,
            reply_parameters=_reply(message.message_id),
        )
    except TelegramError as exc:
        log.info("answer in the support chat not sent: %s", type(exc).__name__)


async def support_chat_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every message in the support chat: topic events, staff commands, and staff answers to relay."""
    message = update.effective_message
    services = services_of(context)
    desk = desk_for(services)
    if message is None or desk is None or message.chat_id != desk.chat_id:
        return
    if message.forum_topic_closed or message.forum_topic_reopened:
        await _topic_event(context, desk, message)
        raise ApplicationHandlerStop
    command, args = _command(message, context.bot.username)
    if command is not None:
        action = STAFF_COMMANDS.get(command)
        if action is None:
            return  # e.g. /status: the other handlers answer it
        if not await is_staff(context.bot, services, desk, message.from_user):
            log.info("refused /%s from non-staff user %s", command, getattr(message.from_user, "id", None))
            await _answer_staff(context.bot, message, t("staff_only"))
            raise ApplicationHandlerStop
        await action(context, desk, message, command, args)
        raise ApplicationHandlerStop
    sender = message.from_user
    if sender is None or sender.is_bot:
        return
    user_id, reply_to = await _owner(desk, message)
    if user_id is None:
        return  # staff talking among themselves
    if not await is_staff(context.bot, services, desk, sender):
        log.info("not relaying a message from non-staff user %s", sender.id)
        raise ApplicationHandlerStop
    if await services.bans.is_banned(user_id):
        await _answer_staff(context.bot, message, t("note_user_banned"))
        raise ApplicationHandlerStop
    await desk.core.relay_to_user(user_id, message.message_id, reply_to)
    kick(context.application)
    raise ApplicationHandlerStop


def _command(message: Message, bot_username: str | None) -> tuple[str | None, list[str]]:
    text = message.text or ""
    if not text.startswith("/"):
        return None, []
    head, *args = text.split()
    name, _, target = head[1:].partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None, []
    return name.lower(), args


async def _target(desk: Desk, message: Message, args: list[str]) -> int | None:
    if args and args[0].isdigit():
        return int(args[0])
    user_id, _ = await _owner(desk, message)
    return user_id


async def _close_topic(bot: Bot, desk: Desk, user_id: int) -> None:
    topic = await desk.core.topics.get(user_id)
    if topic is None or topic.chat_id != desk.chat_id or topic.state is not TopicState.OPEN:
        return
    try:
        await bot.close_forum_topic(topic.chat_id, topic.thread_id)
    except BadRequest as exc:
        if _topic_gone(exc):
            await desk.core.topics.set_state(user_id, TopicState.DELETED)
            return
        if "not_modified" not in str(exc).lower():
            log.info("could not close topic %s: %s", topic.thread_id, str(exc)[:100])
            return
    except TelegramError as exc:
        log.info("could not close topic %s: %s", topic.thread_id, type(exc).__name__)
        return
    await desk.core.topics.set_state(user_id, TopicState.CLOSED)


async def cmd_close(context: Any, desk: Desk, message: Message, command: str, args: list[str]) -> None:
    """/close: close the ticket, tell the user, close the topic (their next message reopens it)."""
    user_id = await _target(desk, message, args)
    if user_id is None:
        await _answer_staff(context.bot, message, t("staff_need_user", command=command))
        return
    ticket = await desk.core.close(user_id)
    if ticket is None:
        await _answer_staff(context.bot, message, t("staff_no_open"))
        return
    await desk.core.tell_user(user_id, t("support_closed_user", ticket=ticket.id))
    kick(context.application)
    await _answer_staff(context.bot, message, t("staff_closed", ticket=ticket.id))
    await _close_topic(context.bot, desk, user_id)


async def cmd_reopen(context: Any, desk: Desk, message: Message, command: str, args: list[str]) -> None:
    """/reopen: open the user's ticket again (and its topic)."""
    user_id = await _target(desk, message, args)
    if user_id is None:
        await _answer_staff(context.bot, message, t("staff_need_user", command=command))
        return
    ticket, created = await desk.core.reopen(user_id)
    topic = await desk.core.topics.get(user_id)
    if topic is not None and topic.state is TopicState.CLOSED:
        try:
            await _reopen_topic(context.bot, desk, topic)
        except TelegramError as exc:
            log.info("could not reopen topic %s: %s", topic.thread_id, type(exc).__name__)
    if created:
        await desk.core.tell_user(user_id, t("support_reopened_user", ticket=ticket.id))
        kick(context.application)
    await _answer_staff(context.bot, message, t("staff_reopened", ticket=ticket.id))


async def cmd_recheck(context: Any, desk: Desk, message: Message, command: str, args: list[str]) -> None:
    """/recheck: run the check again with the user's kept key, and post the new card for staff."""
    services = services_of(context)
    user_id = await _target(desk, message, args)
    if user_id is None:
        await _answer_staff(context.bot, message, t("staff_need_user", command=command))
        return
    stored = await services.vault.get(user_id)
    if stored is None:
        minutes = services.settings.key_retention_minutes
        await _answer_staff(context.bot, message, t("staff_recheck_no_key", minutes=minutes))
        return
    spec = CATALOG.get(stored.exchange_id)
    name = spec.display_name if spec is not None else stored.exchange_id
    fingerprint = stored.credentials.fingerprint
    await _answer_staff(
        context.bot, message, t("staff_recheck_running", exchange=esc(name), fingerprint=esc(fingerprint))
    )
    campaign = CampaignType(stored.campaign_type) if stored.campaign_type in CampaignType.__members__ else None
    app = context.application

    async def recheck() -> None:
        try:
            result = await services.check_service.run(
                user_id, stored.exchange_id, stored.credentials, campaign_type=campaign, count_towards_limit=False
            )
            if result.check_id is None:
                raise TryLater("the check was not stored")
            await desk.core.enqueue_recheck_card(user_id, result.check_id)
        except Exception as exc:  # noqa: BLE001 - tell staff, never with the key
            error = redact_for_log(exc, stored.credentials.secrets())[:200]
            log.warning("staff re-check for user %s failed: %s", user_id, error)
            await desk.core.note(user_id, t("staff_recheck_failed", error=esc(type(exc).__name__)))
        kick(app)

    app.create_task(recheck(), name="support-recheck")


async def cmd_ban(context: Any, desk: Desk, message: Message, command: str, args: list[str]) -> None:
    """/ban: the user gets a polite refusal from now on and nothing is relayed either way."""
    services = services_of(context)
    user_id = await _target(desk, message, args)
    if user_id is None:
        await _answer_staff(context.bot, message, t("staff_need_user", command=command))
        return
    reason_words = args[1:] if args and args[0].isdigit() else args
    staff = message.from_user
    await services.bans.ban(user_id, staff.id if staff else None, " ".join(reason_words)[:200] or None)
    await desk.core.close(user_id)
    await _answer_staff(context.bot, message, t("staff_banned", user=user_id))
    await _close_topic(context.bot, desk, user_id)
    log.info("user %s banned by %s", user_id, staff.id if staff else None)


async def cmd_unban(context: Any, desk: Desk, message: Message, command: str, args: list[str]) -> None:
    services = services_of(context)
    user_id = await _target(desk, message, args)
    if user_id is None:
        await _answer_staff(context.bot, message, t("staff_need_user", command=command))
        return
    lifted = await services.bans.unban(user_id)
    await _answer_staff(context.bot, message, t("staff_unbanned" if lifted else "staff_not_banned", user=user_id))


async def cmd_tickets(context: Any, desk: Desk, message: Message, command: str, args: list[str]) -> None:
    """/tickets: the open tickets, oldest first, with a link to each topic."""
    summaries = await desk.core.open_tickets()
    if not summaries:
        await _answer_staff(context.bot, message, t("staff_tickets_none"))
        return
    lines = [t("staff_tickets_header", count=await desk.core.tickets.count_open())]
    for summary in summaries:
        ticket = summary.ticket
        cause = summary.check.cause if summary.check is not None and summary.check.cause else None
        topic = await desk.core.topics.get(ticket.user_id)
        link = ""
        if topic is not None and topic.state is not TopicState.DELETED and str(topic.chat_id).startswith("-100"):
            link = f' · <a href="https://t.me/c/{str(topic.chat_id)[4:]}/{topic.thread_id}">topic</a>'
        line = t(
            "staff_ticket_line",
            ticket=ticket.id,
            name=esc(display_name(summary.user, ticket.user_id)[:40]),
            user=ticket.user_id,
            opened=when(ticket.created_at),
            cause=esc(cause or t("staff_ticket_no_check")),
            link=link,
        )
        if sum(len(x) + 1 for x in lines) + len(line) > 3900:
            break
        lines.append(line)
    await _answer_staff(context.bot, message, "\n".join(lines))


STAFF_COMMANDS = {
    "close": cmd_close,
    "reopen": cmd_reopen,
    "recheck": cmd_recheck,
    "ban": cmd_ban,
    "unban": cmd_unban,
    "tickets": cmd_tickets,
}


async def _topic_event(context: Any, desk: Desk, message: Message) -> None:
    """Staff closed or reopened a user's topic in Telegram itself: the ticket follows."""
    thread = message.message_thread_id
    user_id = await desk.core.owner_of_thread(thread) if thread else None
    if user_id is None:
        return
    if message.forum_topic_closed:
        await desk.core.topics.set_state(user_id, TopicState.CLOSED)
        ticket = await desk.core.close(user_id)
        if ticket is not None:
            await desk.core.tell_user(user_id, t("support_closed_user", ticket=ticket.id))
    else:
        await desk.core.topics.set_state(user_id, TopicState.OPEN)
        ticket, created = await desk.core.reopen(user_id)
        if created:
            await desk.core.tell_user(user_id, t("support_reopened_user", ticket=ticket.id))
    kick(context.application)


# -- registration ----------------------------------------------------------------------------------------------------
def support_flow() -> ConversationHandler[Any]:
    """ "Talk to support" / support, then one step: a description, Skip, a file, or /cancel."""
    with warnings.catch_warnings():
        # per_message=False with CallbackQueryHandlers is deliberate: the step is per chat and user.
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("support", talk_to_support, filters=PRIVATE),
                CallbackQueryHandler(talk_to_support, pattern=r"^support:"),
            ],
            states={
                DESCRIBE: [
                    MessageHandler(NEW & filters.TEXT & ~filters.COMMAND, got_description),
                    MessageHandler(NEW & ~filters.TEXT & ~filters.COMMAND, media_instead),
                    CallbackQueryHandler(skip_description, pattern=r"^support_skip$"),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", cancel_support),
                CommandHandler("support", talk_to_support, filters=PRIVATE),
                CallbackQueryHandler(talk_to_support, pattern=r"^support:"),
            ],
            name="support_flow",
            persistent=True,
            allow_reentry=True,
            conversation_timeout=DESCRIBE_TIMEOUT_SECONDS,
        )


def support_handlers() -> list[Any]:
    """Private-chat side of support (group 0, before the fallbacks)."""
    return [
        support_flow(),
        MessageHandler(NEW & ~filters.COMMAND, user_message),
    ]


def support_chat_handlers() -> list[Any]:
    """Handlers for the support chat (its own group, so staff messages never reach the private-chat handlers)."""
    return [MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGE, support_chat_message)]
