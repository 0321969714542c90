"""Small helpers shared by the handlers: safe sends and edits, and deleting a message that holds a secret."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Message
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.services import services_of
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


class LiveMessage:
    """A message that always converges on the latest text, one edit at a time, without holding up the caller.

    ``show`` returns at once. While an edit is in flight, newer texts replace each other and the next edit shows
    the latest one, so a burst of changes (three probes finishing within milliseconds) costs two edits instead of
    three, and a text equal to what is shown costs none (Telegram would refuse it as "not modified").
    ``settle`` waits until the latest text is on screen. An edit that fails is logged and not retried.
    ``LiveMessage.sending(send, text)`` starts with the message still being sent, so the caller's work can start
    at once; ``sent`` waits until it is in the chat (or failed to get there).
    """

    def __init__(self, message: Message | None, shown: str) -> None:
        self._message = message
        self._shown = shown
        self._wanted = shown
        self._task: asyncio.Task[None] | None = None
        self._sent = asyncio.Event()
        self._sent.set()
        self.edits = 0

    @classmethod
    def sending(cls, send: Awaitable[Message | None], text: str) -> LiveMessage:
        """A live message whose first version (`text`) `send` is posting right now."""
        live = cls(None, text)
        live._sent.clear()
        live._task = asyncio.create_task(live._send_then_pump(send))
        return live

    @property
    def message(self) -> Message | None:
        """The message, once sent (None if sending failed)."""
        return self._message

    def show(self, text: str) -> None:
        """Make `text` the next text to show."""
        self._wanted = text
        if self._message is not None and text != self._shown and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._pump())

    async def sent(self) -> Message | None:
        """Wait until the first version is in the chat; the message, or None if it could not be sent."""
        await self._sent.wait()
        return self._message

    async def settle(self, text: str | None = None) -> None:
        """Show `text` (if given) and wait until the latest text is on screen."""
        if text is not None:
            self.show(text)
        while self._task is not None and not self._task.done():  # a show() meanwhile may have started another
            await asyncio.shield(self._task)

    async def _send_then_pump(self, send: Awaitable[Message | None]) -> None:
        try:
            self._message = await send
        except Exception as exc:  # noqa: BLE001 - the caller goes on without live progress
            log.warning("live message not sent: %s", type(exc).__name__)
        finally:
            self._sent.set()
        if self._message is not None:
            await self._pump()

    async def _pump(self) -> None:
        while self._wanted != self._shown:
            text = self._wanted
            self.edits += 1
            try:
                await safe_edit(self._message, text)
            except Exception as exc:  # noqa: BLE001 - a display problem must not break the flow
                log.warning("live message edit failed: %s", type(exc).__name__)
            self._shown = text
