"""/status: a traffic-light summary for everyone, details for staff."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.app import Services, services_of
from handlers.render import esc
from storage.outbox import OutboxRepository
from storage.support import TicketRepository


def is_staff(services: Services, user_id: int, chat_id: int) -> bool:
    settings = services.settings
    return user_id in settings.staff_user_ids or (
        settings.support_chat_id is not None and chat_id == settings.support_chat_id
    )


async def staff_facts(services: Services) -> dict[str, str]:
    facts = {
        "active vault entries": str(await services.vault.count_active()),
        "open tickets": str(await TicketRepository(services.db).count_open()),
        "outbox backlog": str(await OutboxRepository(services.db).count("pending")),
        "checks running": f"{services.check_service.running} (queue {services.check_service.queue_length})",
    }
    problems = services.extras.get("support_chat_problems")
    if problems is not None:
        facts["support chat"] = "; ".join(problems) if problems else "ok"
    return facts


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Everyone gets the summary; staff (support chat or STAFF_USER_IDS) get latencies, errors and bot facts."""
    services = services_of(context)
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    service = services.extras.get("status")
    if service is None:
        await chat.send_message("Status checks are starting; try again in a moment.")
        return
    await chat.send_chat_action("typing")
    detailed = is_staff(services, user.id, chat.id)
    extra = await staff_facts(services) if detailed else None
    text = await service.text(detailed=detailed, extra=extra)
    thread = update.effective_message.message_thread_id if update.effective_message else None
    await chat.send_message(esc(text), message_thread_id=thread)


def status_handlers() -> list[Any]:
    return [CommandHandler("status", status)]
