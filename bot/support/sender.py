"""The support engine's only link to a messenger: a small sender interface, and the failures it reports.

`handlers.support_sender.TelegramSender` implements it over the Bot API; the engine's tests use a fake. The engine
hands the sender *what* to say (a `SupportCard`, or `Words`: a key of the edge's message catalog with its values)
and the sender words and renders it, so the core never writes markup and never holds a language.

A sender raises `SendError` with a `Failure` saying what went wrong in the messenger's terms (the adapter maps the
Bot API's error texts onto these); anything else it raises is treated as a bug and retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.support.card import SupportCard


class Failure(StrEnum):
    """Why a send failed, as far as the engine needs to know."""

    FLOOD = "flood"  # too many requests: `retry_after` says when to try again
    CHAT_MOVED = "chat_moved"  # a group became a supergroup: `new_chat_id` says where it went
    FORBIDDEN = "forbidden"  # the user blocked the bot, or the bot was removed from the chat
    TOPIC_GONE = "topic_gone"  # the forum topic (message thread) no longer exists
    TOPIC_CLOSED = "topic_closed"
    NOT_A_FORUM = "not_a_forum"  # the chat has no topics (any more)
    THREAD = "thread"  # another problem with the thread id
    NOT_MODIFIED = "not_modified"  # nothing to change (e.g. reopening an open topic)
    COPY_NOT_FOUND = "copy_not_found"  # the message to copy was deleted
    CANNOT_COPY = "cannot_copy"  # the message can't be copied (a service message)
    CHAT_GONE = "chat_gone"  # the chat does not exist (any more)
    TRANSIENT = "transient"  # anything else: a network error, a timeout, a refusal that may pass


class SendError(Exception):
    """A send that failed; `detail` is already redacted (it is logged and stored)."""

    def __init__(
        self, failure: Failure, detail: str = "", *, retry_after: float | None = None, new_chat_id: int | None = None
    ) -> None:
        super().__init__(f"{failure}: {detail}" if detail else str(failure))
        self.failure = failure
        self.detail = detail
        self.retry_after = retry_after
        self.new_chat_id = new_chat_id


@dataclass(frozen=True, slots=True)
class Words:
    """Something to say, by the key of the edge's message catalog and plain values (the edge escapes them).
    `language`: the language to say it in, when it is for a user (a code of `bot.i18n`, stamped by the desk when it
    queues the words); None: the staff language (notes for the support chat)."""

    key: str
    values: Mapping[str, str | int] = field(default_factory=dict)
    #: how it is said, not what: two `Words` with the same key and values are equal whatever their language
    language: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "values": dict(self.values)}
        if self.language is not None:
            data["language"] = self.language
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Words:
        language = data.get("language")
        return cls(str(data["key"]), dict(data.get("values") or {}), str(language) if language else None)


class SupportSender(Protocol):
    """What the support engine asks of a messenger. Every method raises `SendError` on failure."""

    async def is_forum(self, chat_id: int) -> bool:
        """Whether the chat has topics."""
        ...

    async def member_status(self, chat_id: int, user_id: int) -> str:
        """The user's status in the chat: "creator", "administrator", "member", "restricted", "left", "kicked"."""
        ...

    async def create_topic(self, chat_id: int, name: str, color: int) -> int:
        """Create a forum topic; returns its thread id."""
        ...

    async def reopen_topic(self, chat_id: int, thread_id: int) -> None: ...

    async def close_topic(self, chat_id: int, thread_id: int) -> None: ...

    async def send_card(self, chat_id: int, card: SupportCard, *, thread_id: int | None = None) -> int:
        """Render and send a diagnosis card; returns the message id."""
        ...

    async def send_words(
        self, chat_id: int, words: Words, *, thread_id: int | None = None, reply_to: int | None = None
    ) -> int:
        """Word and send a message; returns the message id."""
        ...

    async def copy_message(
        self,
        chat_id: int,
        from_chat_id: int,
        message_id: int,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
    ) -> int:
        """Copy a message (its content never passes through the engine); returns the copy's message id."""
        ...
