"""/status: a traffic-light summary for users, details for staff."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.app import services_of


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    assert update.effective_chat is not None and update.effective_user is not None
    report = services.extras.get("status_text")
    if report is None:
        await update.effective_chat.send_message("Status checks are not configured.")
        return
    text = await report(context.bot, update.effective_user.id, update.effective_chat.id)
    await update.effective_chat.send_message(text)


def status_handlers() -> list[Any]:
    return [CommandHandler("status", status)]
