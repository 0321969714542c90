"""A forum topic per user in the support chat: created on demand, reopened when closed, re-created when deleted.

The state of each user's topic is stored (`TopicState`: open, closed, deleted) and follows what the messenger
says: a send that finds the topic gone marks it deleted (the next send creates a new one), one that finds it
closed marks it closed (the next send reopens it). One lock per user plus the unique topic map make sure a burst
of messages never creates two topics. Whether the support chat has topics at all is asked once and remembered for
a few minutes (staff may switch topics on or off), and asked again when the chat moved (`SupportChat`): a topic of
the old chat counts as gone.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable

from bot.secret_scan import mask_credential_tokens
from bot.security import MASK
from bot.support.card import display_name
from bot.support.chat import SupportChat
from bot.support.sender import Failure, SendError, SupportSender
from storage.support import Topic, TopicRepository, TopicState
from storage.users import UserRecord, UserRepository

log = logging.getLogger(__name__)

#: How long the support chat's kind (forum or not) is trusted.
CHAT_CACHE_SECONDS = 300.0
#: Topic icon colours Telegram accepts.
TOPIC_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)


def topic_name(user: UserRecord | None, user_id: int) -> str:
    """The forum topic's name: name, @username and id (1-128 characters)."""
    name = mask_credential_tokens(display_name(user, user_id), MASK)[:60]
    username = f" @{user.username}" if user is not None and user.username else ""
    return f"{name}{username} · {user_id}"[:128]


def topic_color(user_id: int) -> int:
    return TOPIC_COLORS[abs(user_id) % len(TOPIC_COLORS)]


class Topics:
    """The users' topics in one support chat."""

    def __init__(
        self,
        sender: SupportSender,
        repo: TopicRepository,
        users: UserRepository,
        chat: SupportChat | int,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sender = sender
        self.repo = repo
        self.users = users
        self.chat = SupportChat(chat) if isinstance(chat, int) else chat
        self._monotonic = monotonic
        self._forum: tuple[int, bool, float] | None = None
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    @property
    def chat_id(self) -> int:
        """The support chat's id now."""
        return self.chat.id

    async def is_forum(self, *, refresh: bool = False) -> bool:
        """Whether the support chat has topics (remembered for CHAT_CACHE_SECONDS, and while the chat stays put)."""
        now, chat_id = self._monotonic(), self.chat_id
        if self._forum is not None and self._forum[0] == chat_id and self._forum[2] > now and not refresh:
            return self._forum[1]
        forum = await self.sender.is_forum(chat_id)
        self._forum = (chat_id, forum, now + CHAT_CACHE_SECONDS)
        return forum

    async def get(self, user_id: int) -> Topic | None:
        return await self.repo.get(user_id)

    async def owner_of_thread(self, thread_id: int) -> int | None:
        """The user whose topic `thread_id` is."""
        topic = await self.repo.by_thread(self.chat_id, thread_id)
        return topic.user_id if topic is not None else None

    async def mark(self, user_id: int, state: TopicState) -> None:
        """Record what happened to the user's topic (staff closed or reopened it, a send found it gone)."""
        await self.repo.set_state(user_id, state)

    def _lock(self, user_id: int) -> asyncio.Lock:
        lock = self._locks.get(user_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[user_id] = lock
        return lock

    async def ensure(self, user_id: int) -> tuple[Topic, bool]:
        """The user's topic, created if they have none (or it was deleted); returns (topic, created)."""
        async with self._lock(user_id):
            topic = await self.repo.get(user_id)
            chat_id = self.chat_id
            if topic is not None and topic.chat_id == chat_id and topic.state is not TopicState.DELETED:
                return topic, False
            user = await self.users.get(user_id)
            thread = await self.sender.create_topic(chat_id, topic_name(user, user_id), topic_color(user_id))
            log.info("created support topic %s for user %s", thread, user_id)
            return await self.repo.set(user_id, chat_id, thread), True

    async def reopen(self, topic: Topic) -> bool:
        """Reopen a closed topic; False if it turned out to be deleted (other failures raise SendError)."""
        try:
            await self.sender.reopen_topic(topic.chat_id, topic.thread_id)
        except SendError as exc:
            if exc.failure is Failure.TOPIC_GONE:
                await self.mark(topic.user_id, TopicState.DELETED)
                return False
            if exc.failure is not Failure.NOT_MODIFIED:
                raise
        await self.mark(topic.user_id, TopicState.OPEN)
        return True

    async def reopen_for(self, user_id: int) -> None:
        """Reopen the user's topic if it is closed; a failure is only logged."""
        topic = await self.repo.get(user_id)
        if topic is None or topic.chat_id != self.chat_id or topic.state is not TopicState.CLOSED:
            return
        try:
            await self.reopen(topic)
        except SendError as exc:
            log.info("could not reopen topic %s: %s", topic.thread_id, exc.failure)

    async def close(self, user_id: int) -> None:
        """Close the user's open topic (their next message reopens it); a failure is only logged."""
        topic = await self.repo.get(user_id)
        if topic is None or topic.chat_id != self.chat_id or topic.state is not TopicState.OPEN:
            return
        try:
            await self.sender.close_topic(topic.chat_id, topic.thread_id)
        except SendError as exc:
            if exc.failure is Failure.TOPIC_GONE:
                await self.mark(user_id, TopicState.DELETED)
                return
            if exc.failure is not Failure.NOT_MODIFIED:
                log.info("could not close topic %s: %s", topic.thread_id, exc)
                return
        await self.mark(user_id, TopicState.CLOSED)
