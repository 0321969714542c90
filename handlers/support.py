"""Human support, the Telegram side: parse the update, call `bot.support`, render the answer.

User side (group 0): "Talk to support" (the verdict's button) and /support open a ticket after a one-step
description (or Skip); while a ticket is open (or was closed recently) the user's messages go to staff. The
description step is stored by the desk, and the database, not the conversation's state, says whether the user is in
it: after a restart a message goes where it would have gone before (the description, or a relay once the ticket is
open), whatever the persisted conversation state says. Support chat (its own group): staff messages in a user's
forum topic (or replies to a ticket's messages in a group without topics) go to the user; /close, /reopen,
/recheck, /ban, /unban and /tickets are for staff only (`handlers.policy.staff_only`), checked on every update.
Service messages (pins, topic renames, members joining) are never relayed: the Bot API can't copy them. When
Telegram upgrades the support group to a supergroup, its service messages make the bot follow it
(`bot.support.SupportChat`). Everything for staff or users is queued by the desk and sent by the delivery engine.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import ChatMigrated, TelegramError
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

from bot.config import Settings
from bot.diagnosis.model import CampaignType
from bot.exchanges.catalog import CATALOG
from bot.secret_scan import looks_like_secret
from bot.security import redact_for_log
from bot.services import services_of
from bot.support import Support, Ticket, TopicState, Words
from bot.support.card import display_name
from bot.support.delivery import TryLater
from bot.support.desk import DESCRIBE_TIMEOUT_SECONDS  # how long the step waits before it quietly ends
from handlers import callbacks
from handlers.card import when
from handlers.common import button, delete_secret_message, safe_send
from handlers.errors import other_media, other_text
from handlers.limits import relay_limited
from handlers.policy import (
    StaffRequest,
    for_user,
    language_of,
    not_banned,
    staff_only,
    support_unavailable,
    with_support,
)
from handlers.render import esc
from handlers.texts import t

log = logging.getLogger(__name__)

DESCRIBE = "describe"
END = ConversationHandler.END
PRIVATE = filters.ChatType.PRIVATE
NEW = filters.UpdateType.MESSAGE & PRIVATE
#: Service messages (a pin, a topic renamed, members joining, a group upgraded), which are never relayed: the Bot
#: API can't copy them ("Service messages ... can't be copied", https://core.telegram.org/bots/api#copymessage).
#: PTB's own list of them is used, so a new kind of service message is known as soon as PTB knows it.
SERVICE = filters.StatusUpdate.ALL
Context = ContextTypes.DEFAULT_TYPE


# -- start-up check ------------------------------------------------------------------------------------------------
async def verify_support_chat(bot: Bot, settings: Settings, support: Support | None = None) -> list[str]:
    """What is wrong with the support chat set-up, one line each (empty when all is well); each is logged.

    With `support`, the chat checked is where support is now, and an upgrade to a supergroup found here is followed.
    """
    problems: list[str] = []
    chat_id = support.chat_id if support is not None else settings.support_chat_id
    if chat_id is None:
        problems.append(
            'SUPPORT_CHAT_ID is not set: "Talk to support" only points users to ' + settings.support_contact
        )
    else:
        try:
            problems = await _chat_problems(bot, chat_id)
        except ChatMigrated as exc:
            if support is not None and await support.chat.follow(chat_id, exc.new_chat_id):
                return await verify_support_chat(bot, settings, support)
            problems = [
                f"the support chat {chat_id} was upgraded to a supergroup: set SUPPORT_CHAT_ID={exc.new_chat_id}"
            ]
    for problem in problems:
        log.warning("support chat: %s", problem)
    return problems


async def _chat_problems(bot: Bot, chat_id: int) -> list[str]:
    """The problems of the support chat; raises ChatMigrated when it became a supergroup."""
    try:
        chat = await bot.get_chat(chat_id)
    except ChatMigrated:
        raise
    except TelegramError as exc:
        return [f"the bot can't see the support chat {chat_id} ({type(exc).__name__}: {str(exc)[:100]})"]
    if chat.type not in ("group", "supergroup"):
        return [f"the support chat {chat_id} is a {chat.type}, not a group"]
    me = await bot.get_me()
    try:
        member = await bot.get_chat_member(chat_id, me.id)
    except ChatMigrated:
        raise
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
@button
@with_support(when_off=support_unavailable)
@not_banned
async def talk_to_support(update: Update, context: Context, support: Support) -> str | int:
    """ "Talk to support" and /support: ask for a short description (or add a newer check to the open ticket)."""
    query = update.callback_query
    services = services_of(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    await services.users.upsert(user.id, user.first_name, user.username, user.language_code)
    check_id = int(context.match.group(1)) if query is not None and context.match else None
    lang = language_of(context)
    ticket = await support.desk.open_ticket_of(user.id)
    if ticket is not None:
        attached = check_id is not None and await support.desk.attach_check(ticket, check_id)
        text = t(lang, "support_already_open", ticket=ticket.id)
        await chat.send_message(text + ("\n" + t(lang, "support_added_check") if attached else ""))
        return END
    await support.desk.ask_description(user.id, check_id)  # stored first: the step outlives a restart
    skip = InlineKeyboardButton(t(lang, "btn_skip"), callback_data=callbacks.SUPPORT_SKIP)
    await chat.send_message(t(lang, "support_describe"), reply_markup=InlineKeyboardMarkup([[skip]]))
    return DESCRIBE


async def _still_describing(update: Update, context: Context) -> bool:
    """Whether the user is in the description step by the database (the conversation's state may be older: a
    restart can leave it behind the ticket that was opened, or cancelled, or expired)."""
    support = services_of(context).support
    user = update.effective_user
    return support is not None and user is not None and await support.desk.describing(user.id) is not None


async def got_description(update: Update, context: Context) -> str | int:
    message = update.effective_message
    assert message is not None
    if looks_like_secret(message.text):  # the guard deletes these first; never store or relay one anyway
        await delete_secret_message(message, context, "what_pair")
        await safe_send(message.chat.send_message, t(language_of(context), "support_secret_relay"))
        return DESCRIBE
    if not await _still_describing(update, context):
        await user_message(update, context)  # the step ended before the bot restarted: a message like any other
        return END
    return await open_ticket(update, context, message.text)


@button
async def skip_description(update: Update, context: Context) -> str | int:
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError:
        pass
    if not await _still_describing(update, context) and await _already_open(update, context):
        return END
    return await open_ticket(update, context, None)


async def _already_open(update: Update, context: Context) -> bool:
    """Tell the user their ticket is already open, if it is (a step left behind by a restart)."""
    support, user, chat = services_of(context).support, update.effective_user, update.effective_chat
    if support is None or user is None or chat is None:
        return False
    ticket = await support.desk.open_ticket_of(user.id)
    if ticket is None:
        return False
    await chat.send_message(t(language_of(context), "support_already_open", ticket=ticket.id))
    return True


async def media_instead(update: Update, context: Context) -> str | int:
    """A photo or file instead of a description: open the ticket without one and pass the file on."""
    message = update.effective_message
    assert message is not None
    if not await _still_describing(update, context):
        await user_message(update, context)
        return END
    return await open_ticket(update, context, None, relay=message)


async def _support_cancelled(update: Update, context: Context) -> int:
    assert update.effective_chat is not None
    await update.effective_chat.send_message(t(language_of(context), "support_cancelled"))
    return END


@with_support(when_off=_support_cancelled)
async def cancel_support(update: Update, context: Context, support: Support) -> int:
    """/cancel in the description step: no ticket."""
    assert update.effective_user is not None
    if not await support.desk.cancel_description(update.effective_user.id) and await _already_open(update, context):
        return END
    return await _support_cancelled(update, context)


@with_support(when_off=support_unavailable)
@not_banned
async def open_ticket(
    update: Update, context: Context, support: Support, description: str | None, relay: Message | None = None
) -> int:
    """Store the ticket (its card goes to staff, the description step ends), pass a file on, and tell the user."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    ticket, _ = await support.desk.open_ticket(user.id, description)
    if relay is not None:
        await support.desk.relay_to_support(user.id, relay.message_id, None)
    await chat.send_message(t(language_of(context), "support_opened", ticket=ticket.id))
    log.info("ticket %s opened for user %s", ticket.id, user.id)
    return END


async def _not_for_support(update: Update, context: Context) -> None:
    """The usual answer to text or media outside any flow."""
    message = update.effective_message
    assert message is not None
    await (other_text if message.text is not None else other_media)(update, context)


@with_support(when_off=_not_for_support)
async def user_message(update: Update, context: Context, support: Support) -> None:
    """A private message outside any flow: to support while a ticket is open (or recently closed), the description
    if the user is in that step (the conversation's state was lost in a restart), else the usual answer."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    if SERVICE.check_update(update):
        return  # a pin or another service message: nothing to answer or relay
    ticket = await support.desk.open_ticket_of(user.id)
    if ticket is None and await support.desk.describing(user.id) is not None:
        if looks_like_secret(message.text):
            await delete_secret_message(message, context, "what_pair")
            await safe_send(message.chat.send_message, t(language_of(context), "support_secret_relay"))
            return
        if message.text is not None:
            await open_ticket(update, context, message.text)
        else:
            await open_ticket(update, context, None, relay=message)
        return
    if ticket is None and await support.desk.reopenable(user.id) is None:
        await _not_for_support(update, context)
        return
    services = services_of(context)
    await services.users.upsert(user.id, user.first_name, user.username, user.language_code)
    await _relay_to_support(update, context, support, ticket)


@not_banned
@relay_limited
async def _relay_to_support(update: Update, context: Context, support: Support, ticket: Ticket | None) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    if looks_like_secret(message.text or message.caption):  # the guard deletes these first; belt and braces
        await delete_secret_message(message, context, "what_pair")
        await safe_send(message.chat.send_message, t(language_of(context), "support_secret_relay"))
        return
    reopened = ticket is None
    if ticket is None:
        ticket, _ = await support.desk.reopen(user.id)
        await support.desk.note(user.id, Words("note_reopened_by_user", {"ticket": ticket.id}))
    else:
        await support.desk.touch(ticket)
    reply = message.reply_to_message
    await support.desk.relay_to_support(user.id, message.message_id, reply.message_id if reply else None)
    if reopened:
        text = t(language_of(context), "support_reopened_by_message", ticket=ticket.id)
        await message.chat.send_message(text)


# -- the support chat ------------------------------------------------------------------------------------------------
def _real_reply(message: Message) -> Message | None:
    """The message this one answers; in a topic, the topic's creation message is not a real reply."""
    reply = message.reply_to_message
    if reply is None:
        return None
    if message.is_topic_message and (reply.message_id == message.message_thread_id or reply.forum_topic_created):
        return None
    return reply


async def _owner(support: Support, message: Message) -> tuple[int | None, int | None]:
    """Whose ticket a support-chat message belongs to, and which support message it replies to."""
    reply = _real_reply(message)
    reply_id = reply.message_id if reply is not None else None
    if message.is_topic_message and message.message_thread_id:
        owner = await support.topics.owner_of_thread(message.message_thread_id)
        if owner is not None:
            return owner, reply_id
    if reply_id is not None:
        owner = await support.desk.owner_of_message(reply_id)
        if owner is not None:
            return owner, reply_id
    return None, None


def _command(message: Message, bot_username: str | None) -> tuple[str | None, list[str]]:
    text = message.text or ""
    if not text.startswith("/"):
        return None, []
    head, *args = text.split()
    name, _, target = head[1:].partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None, []
    return name.lower(), args


async def _ignore(update: Update, context: Context) -> None:
    return None


async def _follow_upgrade(support: Support, message: Message) -> bool:
    """The support group was upgraded to a supergroup (`migrate_to_chat_id` in the old chat, `migrate_from_chat_id`
    in the new one): follow it. True when the message was one of these, about the support chat."""
    if message.migrate_to_chat_id and message.chat_id == support.chat_id:
        await support.chat.follow(message.chat_id, message.migrate_to_chat_id)
        return True
    if message.migrate_from_chat_id and support.chat_id in (message.migrate_from_chat_id, message.chat_id):
        await support.chat.follow(message.migrate_from_chat_id, message.chat_id)
        return True
    return False


@with_support(when_off=_ignore)
async def support_chat_message(update: Update, context: Context, support: Support) -> None:
    """Every message in the support chat: topic events, staff commands, and staff answers to relay."""
    message = update.effective_message
    if message is None:
        return
    if await _follow_upgrade(support, message):
        support.delivery.kick()  # what waits for the support chat goes to the new one now
        raise ApplicationHandlerStop
    if message.chat_id != support.chat_id:
        return
    request = StaffRequest(context, services_of(context), support, message)
    if message.forum_topic_closed or message.forum_topic_reopened:
        await topic_event(request)
        raise ApplicationHandlerStop
    if SERVICE.check_update(update):
        raise ApplicationHandlerStop  # pins, renames, members joining: never relayed (they can't be copied)
    command, args = _command(message, context.bot.username)
    if command is not None:
        action = STAFF_COMMANDS.get(command)
        if action is None:
            return  # e.g. /status: the other handlers answer it
        request.command, request.args = command, args
        request.owner, request.reply_to = await _owner(support, message)
        await action(request)
        raise ApplicationHandlerStop
    if message.from_user is None:
        return
    request.owner, request.reply_to = await _owner(support, message)
    if request.owner is None:
        return  # staff talking among themselves
    await relay_to_user(request)
    raise ApplicationHandlerStop


@staff_only(quiet=True)
async def relay_to_user(request: StaffRequest) -> None:
    """A staff answer in a user's topic (or a reply to one of their messages) goes to the user."""
    assert request.owner is not None
    if await request.services.bans.is_banned(request.owner):
        await request.answer(t(request.language, "note_user_banned"))
        return
    await request.support.desk.relay_to_user(request.owner, request.message.message_id, request.reply_to)


@staff_only()
@for_user
async def cmd_close(request: StaffRequest, user_id: int) -> None:
    """/close: close the ticket, tell the user, close the topic (their next message reopens it)."""
    support = request.support
    ticket = await support.desk.close(user_id)
    if ticket is None:
        await request.answer(t(request.language, "staff_no_open"))
        return
    await support.desk.tell_user(user_id, Words("support_closed_user", {"ticket": ticket.id}))
    await request.answer(t(request.language, "staff_closed", ticket=ticket.id))
    await support.topics.close(user_id)


@staff_only()
@for_user
async def cmd_reopen(request: StaffRequest, user_id: int) -> None:
    """/reopen: open the user's ticket again (and its topic)."""
    support = request.support
    ticket, created = await support.desk.reopen(user_id)
    await support.topics.reopen_for(user_id)
    if created:
        await support.desk.tell_user(user_id, Words("support_reopened_user", {"ticket": ticket.id}))
    await request.answer(t(request.language, "staff_reopened", ticket=ticket.id))


@staff_only()
@for_user
async def cmd_recheck(request: StaffRequest, user_id: int) -> None:
    """/recheck: run the check again with the user's kept key, and post the new card for staff."""
    services, support = request.services, request.support
    stored = await services.vault.get(user_id)
    if stored is None:
        minutes = services.settings.key_retention_minutes
        await request.answer(t(request.language, "staff_recheck_no_key", minutes=minutes))
        return
    spec = CATALOG.get(stored.exchange_id)
    name = spec.display_name if spec is not None else stored.exchange_id
    fingerprint = stored.credentials.fingerprint
    running = t(request.language, "staff_recheck_running", exchange=esc(name), fingerprint=esc(fingerprint))
    await request.answer(running)
    campaign = CampaignType(stored.campaign_type) if stored.campaign_type in CampaignType.__members__ else None

    async def recheck() -> None:
        try:
            result = await services.checks.run(
                user_id, stored.exchange_id, stored.credentials, campaign_type=campaign, count_towards_limit=False
            )
            if result.check_id is None:
                raise TryLater("the check was not stored")
            await support.desk.enqueue_recheck_card(user_id, result.check_id)
        except Exception as exc:  # noqa: BLE001 - tell staff, never with the key
            error = redact_for_log(exc, stored.credentials.secrets())[:200]
            log.warning("staff re-check for user %s failed: %s", user_id, error)
            await support.desk.note(user_id, Words("staff_recheck_failed", {"error": type(exc).__name__}))

    request.context.application.create_task(recheck(), name="support-recheck")


@staff_only()
@for_user
async def cmd_ban(request: StaffRequest, user_id: int) -> None:
    """/ban: the user gets a polite refusal from now on and nothing is relayed either way."""
    reason_words = request.args[1:] if request.typed_user is not None else request.args
    staff_id = request.staff_id
    await request.services.bans.ban(user_id, staff_id, " ".join(reason_words)[:200] or None)
    await request.support.desk.close(user_id)
    await request.answer(t(request.language, "staff_banned", user=user_id))
    await request.support.topics.close(user_id)
    log.info("user %s banned by %s", user_id, staff_id if staff_id is not None else "an anonymous administrator")


@staff_only()
@for_user
async def cmd_unban(request: StaffRequest, user_id: int) -> None:
    lifted = await request.services.bans.unban(user_id)
    await request.answer(t(request.language, "staff_unbanned" if lifted else "staff_not_banned", user=user_id))


@staff_only()
async def cmd_tickets(request: StaffRequest) -> None:
    """/tickets: the open tickets, oldest first, with a link to each topic."""
    desk = request.support.desk
    summaries = await desk.open_tickets()
    if not summaries:
        await request.answer(t(request.language, "staff_tickets_none"))
        return
    lines = [t(request.language, "staff_tickets_header", count=await desk.count_open())]
    for summary in summaries:
        ticket = summary.ticket
        cause = summary.check.cause if summary.check is not None and summary.check.cause else None
        topic = await request.support.topics.get(ticket.user_id)
        link = ""
        if topic is not None and topic.state is not TopicState.DELETED and str(topic.chat_id).startswith("-100"):
            url = f"https://t.me/c/{str(topic.chat_id)[4:]}/{topic.thread_id}"
            link = f' · <a href="{url}">{t(request.language, "staff_ticket_topic")}</a>'
        line = t(
            request.language,
            "staff_ticket_line",
            ticket=ticket.id,
            name=esc(display_name(summary.user, ticket.user_id)[:40]),
            user=ticket.user_id,
            opened=when(ticket.created_at),
            cause=esc(cause or t(request.language, "staff_ticket_no_check")),
            link=link,
        )
        if sum(len(x) + 1 for x in lines) + len(line) > 3900:
            break
        lines.append(line)
    await request.answer("\n".join(lines))


STAFF_COMMANDS = {
    "close": cmd_close,
    "reopen": cmd_reopen,
    "recheck": cmd_recheck,
    "ban": cmd_ban,
    "unban": cmd_unban,
    "tickets": cmd_tickets,
}


async def topic_event(request: StaffRequest) -> None:
    """Staff closed or reopened a user's topic in Telegram itself: the ticket follows."""
    support, message = request.support, request.message
    thread = message.message_thread_id
    user_id = await support.topics.owner_of_thread(thread) if thread else None
    if user_id is None:
        return
    if message.forum_topic_closed:
        await support.topics.mark(user_id, TopicState.CLOSED)
        ticket = await support.desk.close(user_id)
        if ticket is not None:
            await support.desk.tell_user(user_id, Words("support_closed_user", {"ticket": ticket.id}))
    else:
        await support.topics.mark(user_id, TopicState.OPEN)
        ticket, created = await support.desk.reopen(user_id)
        if created:
            await support.desk.tell_user(user_id, Words("support_reopened_user", {"ticket": ticket.id}))


# -- registration ----------------------------------------------------------------------------------------------------
def support_flow() -> ConversationHandler[Any]:
    """ "Talk to support" / support, then one step: a description, Skip, a file, or /cancel."""
    with warnings.catch_warnings():
        # per_message=False with CallbackQueryHandlers is deliberate: the step is per chat and user.
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("support", talk_to_support, filters=PRIVATE),
                CallbackQueryHandler(talk_to_support, pattern=callbacks.TALK_TO_SUPPORT),
            ],
            states={
                DESCRIBE: [
                    MessageHandler(NEW & filters.TEXT & ~filters.COMMAND, got_description),
                    MessageHandler(NEW & ~filters.TEXT & ~filters.COMMAND & ~SERVICE, media_instead),
                    CallbackQueryHandler(skip_description, pattern=callbacks.SKIP_DESCRIPTION),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", cancel_support),
                CommandHandler("support", talk_to_support, filters=PRIVATE),
                CallbackQueryHandler(talk_to_support, pattern=callbacks.TALK_TO_SUPPORT),
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
