"""The one error handler, and the answers to anything the other handlers don't take."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.security import redact_for_log
from handlers.common import answer_query, safe_send
from handlers.policy import ensure_language, language_of
from handlers.texts import t

log = logging.getLogger(__name__)
MAX_TEXT = 4000


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log a redacted summary (never the update's content) and tell the user something went wrong."""
    error = context.error
    handler = getattr(getattr(context, "_handler", None), "callback", None)
    log.error(
        "handler error: update=%s handler=%s error=%s: %s",
        getattr(update, "update_id", None),
        getattr(handler, "__name__", "?"),
        type(error).__name__,
        redact_for_log(error)[:300],
    )
    if isinstance(update, Update) and update.effective_chat is not None and update.effective_chat.type == "private":
        lang = await ensure_language(update, context)  # the error handler gets a context of its own
        await safe_send(update.effective_chat.send_message, t(lang, "error"))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await update.effective_chat.send_message(t(language_of(context), "unknown_command"))


async def other_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    too_long = len(message.text or "") > MAX_TEXT
    await message.chat.send_message(t(language_of(context), "too_long" if too_long else "unknown_input"))


async def other_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await update.effective_chat.send_message(t(language_of(context), "media_hint"))


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button no handler takes (forged data, an older bot version's, a step already passed): a short note,
    answered best effort (`answer_query`)."""
    query = update.callback_query
    if query is not None:
        await answer_query(query, context, t(language_of(context), "stale_button"))


def fallback_handlers() -> list[Any]:
    """The last handlers of the main group: private-chat leftovers and stale buttons."""

    private_new = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    return [
        MessageHandler(private_new & filters.COMMAND, unknown_command),
        MessageHandler(private_new & filters.TEXT, other_text),
        MessageHandler(private_new & ~filters.TEXT, other_media),
        CallbackQueryHandler(stale_button),
    ]
