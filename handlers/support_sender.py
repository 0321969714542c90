"""The support engine's sender over the Bot API: `TelegramSender` implements `bot.support.sender.SupportSender`.

It renders what the engine hands over (the card through `handlers.card`, catalog keys through `handlers.texts`),
each in the language the engine stamped on it (the staff language for the support chat, the user's for a user),
and maps Telegram's errors onto the engine's `Failure`s. PTB picks the exception class from the HTTP status, so
the finer kinds come from the error text (the Bot API's own wording, see telegram-bot-api's Client.cpp).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Bot, ReplyParameters
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.i18n import DEFAULT_LANGUAGE
from bot.security import redact_for_log
from bot.support.card import SupportCard
from bot.support.sender import Failure, SendError, Words
from handlers.card import render_card
from handlers.render import esc
from handlers.texts import t

T = TypeVar("T")

#: Error texts of a BadRequest, in the order they are tried, and what they mean.
_BAD_REQUEST_TEXTS: tuple[tuple[tuple[str, ...], Failure], ...] = (
    (("thread not found", "topic_id_invalid", "topic_deleted", "topic not found"), Failure.TOPIC_GONE),
    (("topic_closed",), Failure.TOPIC_CLOSED),
    (("not a forum",), Failure.NOT_A_FORUM),
    (("not_modified", "not modified"), Failure.NOT_MODIFIED),
    (("message to copy not found",), Failure.COPY_NOT_FOUND),
    (("can't be copied",), Failure.CANNOT_COPY),
    (("chat not found",), Failure.CHAT_GONE),
    (("thread",), Failure.THREAD),
)


def send_error(exc: TelegramError) -> SendError:
    """What a Bot API error means to the support engine."""
    detail = redact_for_log(exc)[:200]
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
        return SendError(Failure.FLOOD, detail, retry_after=seconds)
    if isinstance(exc, ChatMigrated):
        return SendError(Failure.CHAT_MOVED, detail, new_chat_id=exc.new_chat_id)
    if isinstance(exc, Forbidden):
        return SendError(Failure.FORBIDDEN, detail)
    if isinstance(exc, BadRequest):
        text = str(exc).lower()
        for fragments, failure in _BAD_REQUEST_TEXTS:
            if any(fragment in text for fragment in fragments):
                return SendError(failure, detail)
    return SendError(Failure.TRANSIENT, f"{type(exc).__name__}: {detail}")


async def _call(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except TelegramError as exc:
        raise send_error(exc) from None


def _reply(message_id: int | None) -> ReplyParameters | None:
    return None if not message_id else ReplyParameters(message_id, allow_sending_without_reply=True)


def words_text(words: Words) -> str:
    """The catalog text for `words` in its language, its values escaped."""
    values = {name: esc(value) for name, value in words.values.items()}
    return t(words.language or DEFAULT_LANGUAGE, words.key, **values)


class TelegramSender:
    """`SupportSender` over a PTB `Bot`."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def is_forum(self, chat_id: int) -> bool:
        chat = await _call(lambda: self.bot.get_chat(chat_id))
        return bool(chat.is_forum)

    async def member_status(self, chat_id: int, user_id: int) -> str:
        member = await _call(lambda: self.bot.get_chat_member(chat_id, user_id))
        return str(member.status)

    async def create_topic(self, chat_id: int, name: str, color: int) -> int:
        topic = await _call(lambda: self.bot.create_forum_topic(chat_id, name=name, icon_color=color))
        return topic.message_thread_id

    async def reopen_topic(self, chat_id: int, thread_id: int) -> None:
        await _call(lambda: self.bot.reopen_forum_topic(chat_id, thread_id))

    async def close_topic(self, chat_id: int, thread_id: int) -> None:
        await _call(lambda: self.bot.close_forum_topic(chat_id, thread_id))

    async def send_card(self, chat_id: int, card: SupportCard, *, thread_id: int | None = None) -> int:
        return await self._send(chat_id, render_card(card, card.staff_language), thread_id=thread_id)

    async def send_words(
        self, chat_id: int, words: Words, *, thread_id: int | None = None, reply_to: int | None = None
    ) -> int:
        return await self._send(chat_id, words_text(words), thread_id=thread_id, reply_to=reply_to)

    async def copy_message(
        self,
        chat_id: int,
        from_chat_id: int,
        message_id: int,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
    ) -> int:
        copy = await _call(
            lambda: self.bot.copy_message(
                chat_id,
                from_chat_id=from_chat_id,
                message_id=message_id,
                message_thread_id=thread_id,
                reply_parameters=_reply(reply_to),
            )
        )
        return copy.message_id

    async def _send(self, chat_id: int, text: str, *, thread_id: int | None = None, reply_to: int | None = None) -> int:
        kwargs: dict[str, Any] = {"message_thread_id": thread_id}
        if reply_to:
            kwargs["reply_parameters"] = _reply(reply_to)
        sent = await _call(lambda: self.bot.send_message(chat_id, text, **kwargs))
        return sent.message_id
