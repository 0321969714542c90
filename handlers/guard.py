"""The secret guard: runs before every other handler, deletes anything that looks like a credential.

In a private chat inside the key flow the flow handles the message (it deletes every answer anyway); outside
the flow, in edits, captions and groups, the guard deletes the message, warns without echoing any part of it,
and stops further handling of that update.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, BaseHandler, ContextTypes, MessageHandler, filters

from bot.secret_scan import looks_like_secret
from handlers.common import delete_secret_message, safe_send
from handlers.texts import t

log = logging.getLogger(__name__)


def guard_handlers(flow: BaseHandler[Any, Any, Any]) -> list[BaseHandler[Any, Any, Any]]:
    """Handlers for the guard's group (it runs before every other). `flow` is the key-flow ConversationHandler,
    asked whether it takes the update."""

    async def guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        text = message.text or message.caption or ""
        if not looks_like_secret(text):
            return
        chat = message.chat
        if chat.type != ChatType.PRIVATE:
            await _group_paste(update, context)
            raise ApplicationHandlerStop
        edited = update.edited_message is not None
        if not edited and message.text is not None and flow.check_update(update):
            return  # the flow deletes and uses it
        await delete_secret_message(message, context, "what_pair")
        await safe_send(chat.send_message, t("secret_in_edit" if edited else "secret_outside_flow"))
        log.info("guard deleted a secret-looking message in a private chat (update %s)", update.update_id)
        raise ApplicationHandlerStop

    return [MessageHandler(filters.TEXT | filters.CAPTION, guard)]


async def _group_paste(update: Update, context: Any) -> None:
    message = update.effective_message
    assert message is not None
    deleted = await delete_secret_message(message, context, "what_pair")
    me = await context.bot.get_me()
    link = f"https://t.me/{me.username}?start=check" if me.username else "a private chat with me"
    await safe_send(
        message.chat.send_message,
        t("group_secret", deleted=t("group_secret_deleted" if deleted else "group_secret_not_deleted"), link=link),
        message_thread_id=message.message_thread_id if message.is_topic_message else None,
    )
    log.warning(
        "secret-looking message in group %s (deleted=%s, update %s)", message.chat_id, deleted, update.update_id
    )
