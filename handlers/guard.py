"""The secret guard: runs before every other handler, deletes anything that looks like a credential.

It reads every text a message can carry (`message_texts`: text and commands, captions, poll questions and
options, venue and contact fields), in new messages, edits and every chat. In a private chat, an answer to the
key flow is left to the flow (it deletes every answer first anyway). Anything else (a command with a secret after
it, `/check <key> <secret>` or `/cancel <secret>` in or outside the flow, a paste outside the flow, an edit, a
caption, a support description or a message for support) is deleted, answered without echoing any part of it,
and handled no further: a command is not run with a secret in its arguments, where a handler or a conversation's
timeout job would hold it; the user is asked to send it on its own. In a group the guard deletes the message
where it can, warns and points to the private chat.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, BaseHandler, ContextTypes, MessageHandler, filters

from bot.secret_scan import looks_like_secret
from handlers.common import delete_secret_message, safe_send
from handlers.policy import language_of
from handlers.texts import t

log = logging.getLogger(__name__)


def message_texts(message: Message) -> list[str]:
    """Every text a message carries that a person typed: text (commands included), caption, a poll's question and
    options, a venue's title and address, a shared contact's names and vCard."""
    texts = [message.text, message.caption]
    if message.poll is not None:
        texts += [message.poll.question, *(option.text for option in message.poll.options)]
    if message.venue is not None:
        texts += [message.venue.title, message.venue.address]
    if message.contact is not None:
        texts += [message.contact.first_name, message.contact.last_name, message.contact.vcard]
    return [text for text in texts if text]


def is_command(message: Message) -> bool:
    """A message that starts with a bot command ("/check ..."), as Telegram marks it or as typed."""
    text = message.text or ""
    entities = message.entities or ()
    return text.startswith("/") or any(e.type == MessageEntity.BOT_COMMAND and e.offset == 0 for e in entities)


def guard_handlers(flow: BaseHandler[Any, Any, Any]) -> list[BaseHandler[Any, Any, Any]]:
    """Handlers for the guard's group (it runs before every other). `flow` is the key-flow ConversationHandler,
    asked whether it takes the update."""

    async def guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        if not any(looks_like_secret(text) for text in message_texts(message)):
            return
        chat = message.chat
        if chat.type != ChatType.PRIVATE:
            await _group_paste(update, context)
            raise ApplicationHandlerStop
        edited = update.edited_message is not None
        command = is_command(message)
        if not edited and not command and message.text is not None and flow.check_update(update):
            return  # an answer to the key flow: the flow deletes and uses it
        await delete_secret_message(message, context, "what_pair")
        note = "secret_in_edit" if edited else "secret_in_command" if command else "secret_outside_flow"
        await safe_send(chat.send_message, t(language_of(context), note))
        log.info("guard deleted a secret-looking message in a private chat (update %s)", update.update_id)
        raise ApplicationHandlerStop

    return [MessageHandler(filters.ALL, guard)]


async def _group_paste(update: Update, context: Any) -> None:
    message = update.effective_message
    assert message is not None
    deleted = await delete_secret_message(message, context, "what_pair")
    me = await context.bot.get_me()
    lang = language_of(context)
    link = f"https://t.me/{me.username}?start=check" if me.username else t(lang, "group_secret_no_link")
    deleted_words = t(lang, "group_secret_deleted" if deleted else "group_secret_not_deleted")
    await safe_send(
        message.chat.send_message,
        t(lang, "group_secret", deleted=deleted_words, link=link),
        message_thread_id=message.message_thread_id if message.is_topic_message else None,
    )
    log.warning(
        "secret-looking message in group %s (deleted=%s, update %s)", message.chat_id, deleted, update.update_id
    )
