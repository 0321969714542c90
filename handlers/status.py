"""/status: a traffic-light summary for everyone, details for staff (by the one staff rule)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.health import status_text
from bot.i18n import DEFAULT_LANGUAGE
from bot.services import Services, services_of
from bot.status_page import pages
from handlers.policy import is_staff, language_of
from handlers.render import esc


async def staff_facts(services: Services, language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """The bot's own numbers, for staff, named in `language`."""

    def say(key: str, **values: object) -> str:
        return status_text(language, key, **values)

    facts = {say("fact_vault"): str(await services.vault.count_active())}
    support = services.support
    if support is not None:
        facts[say("fact_tickets")] = str(await support.desk.count_open())
        facts[say("fact_outbox")] = str(await support.desk.outbox.count())
    facts[say("fact_running")] = say(
        "fact_running_value", running=services.checks.running, queue=services.checks.queue_length
    )
    if support is not None and support.chat.moved:
        facts[say("fact_moved")] = say("fact_moved_value", chat=support.chat_id)
    if support is not None and support.chat_problems is not None:
        problems = support.chat_problems
        facts[say("fact_support_chat")] = "; ".join(problems) if problems else say("fact_ok")
    return facts


async def status_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Everyone gets the summary; staff get latencies, errors and the bot's own numbers (in as many messages as
    Telegram's length limit needs)."""
    services = services_of(context)
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    assert chat is not None and user is not None
    await chat.send_chat_action("typing")
    detailed = await is_staff(services, user, message)
    lang = language_of(context)
    extra = await staff_facts(services, lang) if detailed else None
    text = await services.status_page.text(detailed=detailed, extra=extra, language=lang)
    thread = message.message_thread_id if message is not None and message.is_topic_message else None
    for page in pages(text):
        await chat.send_message(esc(page), message_thread_id=thread)


def status_handlers() -> list[Any]:
    return [CommandHandler("status", status_command)]
