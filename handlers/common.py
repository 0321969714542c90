"""Small helpers shared by the handlers: safe sends and edits, and deleting a message that holds a secret."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Message
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.app import services_of
from handlers.texts import t

log = logging.getLogger(__name__)


async def delete_secret_message(message: Message, context: Any, what: str) -> bool:
    """Delete `message` (once per process) before anything else is done with it.

    If Telegram refuses (older than 48 h, already gone, no rights), the user is told to delete it and to treat
    the key as exposed. Returns True when the message is gone.
    """
    services = services_of(context)
    key = (message.chat_id, message.message_id)
    if key in services.deleted:
        return True
    services.mark_deleted(*key)
    try:
        await message.delete()
        return True
    except TelegramError as exc:
        log.warning("could not delete a message holding a secret in chat %s: %s", message.chat_id, type(exc).__name__)
        if message.chat.type == "private":
            await safe_send(message.chat.send_message, t("delete_failed", what=t(what)))
        return False


async def safe_send(send: Any, *args: Any, **kwargs: Any) -> Message | None:
    """Send, and log instead of raising when the user blocked the bot or the chat is gone."""
    try:
        return await send(*args, **kwargs)
    except Forbidden:
        log.info("user blocked the bot or left; message not delivered")
        return None


async def safe_edit(message: Message | None, text: str, **kwargs: Any) -> None:
    """Edit a message's text; an unchanged text or a vanished message is not an error."""
    if message is None:
        return
    try:
        await message.edit_text(text, **kwargs)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            log.info("edit failed: %s", str(exc)[:100])
    except Forbidden:
        log.info("user blocked the bot; edit dropped")
