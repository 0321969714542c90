"""Small helpers shared by the handlers: every button's answer (`button`), safe sends and edits, and deleting a
message that holds a secret."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.services import services_of
from bot.telegram_limits import Priority, turn
from handlers.policy import language_of
from handlers.texts import t

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
Context = ContextTypes.DEFAULT_TYPE

#: What the real server says when the message is already gone (the user deleted it): nothing to warn about.
#: (telegram-bot-api Client.cpp; PTB drops the "Bad Request: " prefix.)
ALREADY_DELETED = "message to delete not found"


async def delete_secret_message(message: Message, context: Any, what: str) -> bool:
    """Delete `message` (once per process) before anything else is done with it.

    Gone already ("message to delete not found": the user deleted it first) is what we wanted. If Telegram
    refuses for another reason (older than 48 h, no rights, the network), the user is told to delete it and to
    treat the key as exposed. Returns True when the message is gone.
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
        if isinstance(exc, BadRequest) and ALREADY_DELETED in exc.message.lower():
            log.info("a message holding a secret in chat %s was already deleted by its sender", message.chat_id)
            return True
        log.warning("could not delete a message holding a secret in chat %s: %s", message.chat_id, type(exc).__name__)
        if message.chat.type == "private":
            lang = language_of(context)
            await safe_send(message.chat.send_message, t(lang, "delete_failed", what=t(lang, what)))
        return False


# -- buttons ---------------------------------------------------------------------------------------------------------
async def answer_query(query: CallbackQuery, context: Any, text: str | None = None) -> bool:
    """Answer a button press (stops the spinner, shows `text` as a toast): best effort, never raises.

    A press is answered once (`bot.presses.Presses.claim_answer`): one that waited too long for its turn was
    answered empty already by the update processor (`bot.app.PerChatUpdateProcessor`), and its toast is not
    shown. A press answered too late gets 400 "query is too old and response timeout expired or query ID is
    invalid" (sent before a restart); what the button does must still happen, so the failure is only logged.
    True when this answer got through.
    """
    if not services_of(context).presses.claim_answer(query.id):
        log.info("button press answered already: it waited for its turn%s", " (its note is not shown)" if text else "")
        return False
    try:
        await query.answer(text[:200] if text else None)
        return True
    except TelegramError as exc:
        log.info("button press not answered (%s: %s)", type(exc).__name__, str(exc)[:80])
        return False


def button(
    handler: Callable[Concatenate[Update, Context, P], Awaitable[R]],
) -> Callable[Concatenate[Update, Context, P], Awaitable[R | None]]:
    """Every button handler's wrapper: answer the press first (best effort: a late press still does what the
    button says), and one press is one action: the same button pressed again while its action ran (the repeat
    arrived before the action finished, `bot.presses`) is answered with a short note and does nothing.

    Handlers never call `query.answer()` themselves. A handler that also serves a command runs unchanged for it.
    Put it outermost (before `not_banned`, `with_support`), so every press is answered exactly once.
    """

    @functools.wraps(handler)
    async def pressed(update: Update, context: Context, *args: P.args, **kwargs: P.kwargs) -> R | None:
        query = update.callback_query
        if query is None:
            return await handler(update, context, *args, **kwargs)
        presses = services_of(context).presses
        with presses.action((query.from_user.id, query.data), update.update_id) as first:
            if not first:
                log.info("repeated press of %s by user %s ignored", handler.__name__, query.from_user.id)
                await answer_query(query, context, t(language_of(context), "button_repeat"))
                return None
            await answer_query(query, context)
            return await handler(update, context, *args, **kwargs)

    return pressed


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

    ``gather_for`` (seconds): an edit waits that long after a change before it takes its turn, so changes that
    come together (a check's parallel probes, which finish within milliseconds of each other when the exchange
    answers them alike) cost one edit, sent after whatever the caller does next; ``settle`` cuts the wait short.
    """

    def __init__(self, message: Message | None, shown: str, *, gather_for: float = 0.0) -> None:
        self._message = message
        self._shown = shown
        self._wanted = shown
        self._task: asyncio.Task[None] | None = None
        self._sent = asyncio.Event()
        self._sent.set()
        self._settling = asyncio.Event()
        self._gather_for = gather_for
        self.edits = 0

    @classmethod
    def sending(
        cls, send: Awaitable[Message | None], text: str, *, gather_for: float = 0.0, after_caller: bool = False
    ) -> LiveMessage:
        """A live message whose first version (`text`) `send` is posting right now. `after_caller`: `send`
        starts one turn of the event loop later, after what the caller starts next has had its first turn (a
        check's requests to the exchange, the longer wait, leave before the progress message)."""
        live = cls(None, text, gather_for=gather_for)
        live._sent.clear()
        live._task = asyncio.create_task(live._send_then_pump(send, after_caller=after_caller))
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
        self._settling.set()
        if text is not None:
            self.show(text)
        while self._task is not None and not self._task.done():  # a show() meanwhile may have started another
            await asyncio.shield(self._task)

    async def _send_then_pump(self, send: Awaitable[Message | None], *, after_caller: bool = False) -> None:
        try:
            if after_caller:
                try:
                    await asyncio.sleep(0)  # an ordering nicety only: nothing depends on it for correctness
                except asyncio.CancelledError:
                    getattr(send, "close", lambda: None)()  # never started: no "never awaited" warning
                    raise
            self._message = await send
        except Exception as exc:  # noqa: BLE001 - the caller goes on without live progress
            log.warning("live message not sent: %s", type(exc).__name__)
        finally:
            self._sent.set()
        if self._message is not None:
            await self._pump()

    async def _pump(self) -> None:
        message = self._message
        assert message is not None
        while self._wanted != self._shown:
            if self._gather_for > 0 and not self._settling.is_set():
                with contextlib.suppress(TimeoutError):  # changes that come together make one edit
                    await asyncio.wait_for(self._settling.wait(), self._gather_for)
            # progress edits go last among the bot's calls (`bot.telegram_limits`); the text is read once the
            # turn has come, so whatever was superseded while waiting is never sent
            async with turn(message.get_bot(), message.chat_id, Priority.PROGRESS):
                text = self._wanted
                if text == self._shown:
                    break
                self.edits += 1
                try:
                    await safe_edit(message, text)
                except Exception as exc:  # noqa: BLE001 - a display problem must not break the flow
                    log.warning("live message edit failed: %s", type(exc).__name__)
                self._shown = text
