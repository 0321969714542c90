"""Escalation to human support (issue 6): "Talk to support", /support, the support chat. Filled in by that work."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.app import services_of
from handlers.texts import t


async def talk_to_support(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Until escalation is built: say where else to reach HuFi."""
    if update.callback_query:
        await update.callback_query.answer()
    assert update.effective_chat is not None
    contact = services_of(context).settings.support_contact
    await update.effective_chat.send_message(t("support_unavailable", contact=contact))


def support_handlers() -> list[Any]:
    """Private-chat side of support (group 0, before the fallbacks)."""
    return [
        CommandHandler("support", talk_to_support, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(talk_to_support, pattern=r"^support:"),
    ]


def support_chat_handlers() -> list[Any]:
    """Handlers for the support chat (its own group, so staff messages never reach the private-chat handlers)."""
    return []
