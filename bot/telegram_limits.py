"""Telegram's flood limits, kept by what was sent, with answers to users ahead of everything else.

What Telegram publishes (Bot FAQ, https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
in one chat "avoid sending more than one message per second. We may allow short bursts that go over this limit";
to many users "not more than 30 messages per second or so"; "not more than 20 messages per minute to the same
group". Telegram's maintainer adds that `answerCallbackQuery` can be called without any limits and that editing a
message counts against the chat's limit (https://github.com/tdlib/telegram-bot-api/issues/648). From that:

* **overall**: at most 30 counted calls in any second, for the whole bot;
* **per private chat**: at most 30 counted calls in any 30 s (a burst is allowed, one a second on average; the
  burst size is our assumption, the same as the emulator's, `bot.sandbox.telegram_methods.PRIVATE_RATE`);
* **per group** (all topics of a supergroup share it): at most 20 counted calls in any 60 s;
* **counted**: every call that names a chat and puts something into it (send, copy, forward, edit, topic
  operations); not counted: calls without a chat (answerCallbackQuery, getMe, setMyCommands...), reads
  (`get*`), and deletions (`deleteMessage(s)`: they put nothing into the chat, and a message holding a secret
  must go at once, whatever else is queued; a user can't make them faster than they send messages).

A call counts from the moment it is released until one window after its reply arrived, so however late the event
loop runs, no window at Telegram's end holds more than the limit (the argument of `bot.exchanges.limiter`).

**Who goes first.** Each call has a priority (`Priority`): answers to a user's command or button press
(`ANSWER`, the default), a check's own messages, its progress message and its verdict (`VERDICT`), and progress
edits and queue notes (`PROGRESS`). When calls wait for the budget, the highest priority goes first, in arrival
order within a priority; a call held back only by its own chat's budget does not hold up other chats. So during a
burst of key checks every other user's /start is answered at once: the checks' messages wait, not the answers.
The priority is taken from the context (`with priority(Priority.VERDICT):` around a check's sends; tasks started
inside inherit it), or from `rate_limit_args`. Progress edits are coalesced by their sender: `turn()` waits for a
slot first and the sender then sends whatever text is latest (`handlers.common.LiveMessage`), so texts superseded
while waiting are dropped and never sent.

**Told to wait.** A 429 (`RetryAfter`) holds the chat it came from for the time Telegram asked, and the call is
tried again (up to `max_retries` times); 429s from two different chats within that time hold every call.

Why our own code and not a library: PTB's `AIORateLimiter` is one first-in-first-out queue (an answer to /start
waits behind every progress edit queued before it), has no private-chat limit, and pauses every call on any 429;
`aiolimiter` (the leaky bucket under it) and `pyrate-limiter` have no priorities and count a call when it is
released, not until its reply; an `asyncio.PriorityQueue` alone has no notion of a per-chat budget that must not
block other chats. What is kept here is the PTB interface (`telegram.ext.BaseRateLimiter`), so the Application
uses it like any rate limiter.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import logging
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

#: calls per window: the whole bot, one private chat, one group (see the module docstring for the sources)
OVERALL = (30, 1.0)
PRIVATE_CHAT = (30, 30.0)
GROUP_CHAT = (20, 60.0)
#: how many chats' budgets are kept before idle ones are dropped
KEEP_CHATS = 1024


class Priority(IntEnum):
    """Who goes first when calls wait for Telegram's budget (lower goes first)."""

    ANSWER = 0  # answers to a user's command or button press: everything not marked otherwise
    VERDICT = 1  # a check's own messages: the progress message and the verdict
    PROGRESS = 2  # progress edits and queue notes (coalesced by their sender)


_PRIORITY: contextvars.ContextVar[Priority] = contextvars.ContextVar("telegram_priority", default=Priority.ANSWER)


@contextmanager
def priority(level: Priority) -> Iterator[None]:
    """Bot API calls made inside the block (and in tasks started inside it) have priority `level`."""
    token = _PRIORITY.set(level)
    try:
        yield
    finally:
        _PRIORITY.reset(token)


def current_priority() -> Priority:
    return _PRIORITY.get()


def counts(endpoint: str, data: dict[str, Any] | None) -> bool:
    """Whether a call counts against the budgets (see the module docstring)."""
    if not data or data.get("chat_id") is None:
        return False
    name = endpoint.lower()
    return not (name.startswith(("get", "delete", "answer")))


def chat_key(data: dict[str, Any] | None) -> int | str | None:
    """The chat a call counts against: an int id, or '@username' for a public group or channel."""
    chat = (data or {}).get("chat_id")
    if chat is None:
        return None
    with contextlib.suppress(TypeError, ValueError):
        return int(chat)
    return str(chat)


def _is_private(chat: int | str) -> bool:
    return isinstance(chat, int) and chat > 0


class Window:
    """At most `limit` calls in any `period` seconds, each counted from its release until `period` after its end."""

    __slots__ = ("ended", "in_flight", "limit", "period")

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.in_flight = 0
        self.ended: deque[float] = deque()

    def _expire(self, now: float) -> None:
        horizon = now - self.period
        while self.ended and self.ended[0] <= horizon:
            self.ended.popleft()

    def free_at(self, now: float) -> float | None:
        """When the next call may go: `now` or earlier if at once, a later time, or None (after a call in
        flight ends)."""
        self._expire(now)
        if self.in_flight + len(self.ended) < self.limit:
            return now
        return self.ended[0] + self.period if self.ended else None

    def take(self) -> None:
        self.in_flight += 1

    def give_back(self, now: float, *, sent: bool = True) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        if sent:
            self.ended.append(now)

    def idle(self, now: float) -> bool:
        self._expire(now)
        return not self.in_flight and not self.ended


@dataclass(eq=False)
class Slot:
    """One granted call: its place in the overall budget and in its chat's."""

    chat: int | str | None
    level: Priority
    used: bool = False


@dataclass(eq=False)
class _Waiter:
    chat: int | str
    level: Priority
    future: asyncio.Future[Slot]
    since: float


@dataclass
class Stats:
    """What the limiter did, for the benchmarks and tests."""

    granted: Counter[Priority] = field(default_factory=Counter)
    waited: Counter[Priority] = field(default_factory=Counter)  # calls that had to wait
    wait_seconds: Counter[Priority] = field(default_factory=Counter)
    free: int = 0  # calls that count against nothing
    retried: int = 0  # calls tried again after a 429
    most_waiting: int = 0


_GRANTED: contextvars.ContextVar[Slot | None] = contextvars.ContextVar("telegram_slot", default=None)


class TelegramLimits(BaseRateLimiter[Priority]):
    """Telegram's overall, private-chat and group budgets with priorities (see the module docstring).

    `clock` and the windows are for tests; `max_retries` is how often a call refused with 429 is tried again.
    """

    def __init__(
        self,
        *,
        overall: tuple[int, float] = OVERALL,
        private_chat: tuple[int, float] = PRIVATE_CHAT,
        group_chat: tuple[int, float] = GROUP_CHAT,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._overall = Window(*overall)
        self._private = private_chat
        self._group = group_chat
        self.max_retries = max_retries
        self._clock = clock
        self._chats: dict[int | str, Window] = {}
        self._held: dict[int | str, float] = {}  # chat -> held until (a 429)
        self._held_all = -float("inf")
        self._last_429: tuple[int | str, float] | None = None
        self._queues: dict[Priority, deque[_Waiter]] = {p: deque() for p in Priority}
        self._waiting = 0
        self._wake = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None
        self._seq = itertools.count()
        self.stats = Stats()

    # -- PTB's interface ---------------------------------------------------------------------------------------
    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        """Stop handing out slots; calls still waiting are cancelled."""
        task, self._dispatcher = self._dispatcher, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for queue in self._queues.values():
            while queue:
                waiter = queue.popleft()
                if not waiter.future.done():
                    waiter.future.cancel()
        self._waiting = 0

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Priority | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Run one Bot API call when Telegram's budgets allow it, highest priority first (see the module
        docstring); a 429 holds its chat and the call is tried again."""
        level = Priority(rate_limit_args) if rate_limit_args is not None else _PRIORITY.get()
        chat = chat_key(data) if counts(endpoint, data) else None
        for attempt in range(self.max_retries + 1):
            try:
                if chat is None:
                    self.stats.free += 1
                    await self._hold_wait(None)
                    return await callback(*args, **kwargs)
                async with self._slot(chat, level):
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == self.max_retries:
                    raise
                self.stats.retried += 1
                self._told_to_wait(chat, _seconds(exc))
        raise AssertionError("unreachable")  # pragma: no cover

    def recheck(self) -> None:
        """Read the clock again now (a test that moves its own clock tells the waiting calls)."""
        self._wake.set()

    @property
    def waiting(self) -> int:
        """Calls waiting for a slot now."""
        return self._waiting

    # -- slots ---------------------------------------------------------------------------------------------------
    @asynccontextmanager
    async def turn(self, chat_id: int | str, level: Priority = Priority.PROGRESS) -> AsyncIterator[None]:
        """Wait for a slot for one call into `chat_id` at `level`, then run the block: the first counted call it
        makes into that chat uses the slot without waiting again. A block that makes no call gives the slot back
        unused. For senders that coalesce (a progress message sends its latest text once its turn came)."""
        chat = chat_key({"chat_id": chat_id})
        assert chat is not None
        slot = await self._acquire(chat, level)
        token = _GRANTED.set(slot)
        try:
            yield
        finally:
            _GRANTED.reset(token)
            if not slot.used:
                self._release(slot, sent=False)

    @asynccontextmanager
    async def _slot(self, chat: int | str, level: Priority) -> AsyncIterator[None]:
        granted = _GRANTED.get()
        if granted is not None and not granted.used and granted.chat == chat:
            granted.used = True  # the turn already waited for this call
            try:
                yield
            finally:
                self._release(granted)
            return
        slot = await self._acquire(chat, level)
        slot.used = True
        try:
            yield
        finally:
            self._release(slot)

    def _chat_window(self, chat: int | str) -> Window:
        window = self._chats.get(chat)
        if window is None:
            if len(self._chats) >= KEEP_CHATS:
                now = self._clock()
                for key in [k for k, w in self._chats.items() if w.idle(now)]:
                    del self._chats[key]
            window = self._chats[chat] = Window(*(self._private if _is_private(chat) else self._group))
        return window

    def _ready(self, chat: int | str, now: float) -> float | None:
        """When a call into `chat` may go as far as the chat is concerned (<= now: at once; None: after an end)."""
        held = max(self._held.get(chat, -float("inf")), self._held_all)
        at = self._chat_window(chat).free_at(now)
        if at is None:
            return None if held <= now else held
        return max(at, held)

    def _grant(self, chat: int | str, level: Priority) -> Slot:
        self._overall.take()
        self._chat_window(chat).take()
        self.stats.granted[level] += 1
        return Slot(chat, level)

    def _release(self, slot: Slot, *, sent: bool = True) -> None:
        now = self._clock()
        self._overall.give_back(now, sent=sent)
        if slot.chat is not None:
            self._chat_window(slot.chat).give_back(now, sent=sent)
        self._wake.set()

    async def _acquire(self, chat: int | str, level: Priority) -> Slot:
        now = self._clock()
        if not self._waiting:
            at, ready = self._overall.free_at(now), self._ready(chat, now)
            if at is not None and at <= now and ready is not None and ready <= now:
                return self._grant(chat, level)  # nobody waits and the budgets allow it: at once
        future: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(chat, level, future, now)
        self._queues[level].append(waiter)
        self._waiting += 1
        self.stats.most_waiting = max(self.stats.most_waiting, self._waiting)
        self._wake.set()
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="telegram-limits")
        try:
            slot = await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release(future.result(), sent=False)  # granted, but the caller is gone
            raise
        self.stats.waited[level] += 1
        self.stats.wait_seconds[level] += self._clock() - now
        return slot

    async def _dispatch(self) -> None:
        """Hand out slots while calls wait: the highest priority first, oldest first within one; a waiter held
        back by its own chat is passed over. Re-reads the clock before every grant."""
        while self._waiting:
            self._wake.clear()
            now = self._clock()
            overall = self._overall.free_at(now)
            if overall is None or overall > now or self._held_all > now:
                await self._nap(None if overall is None else max(overall, self._held_all) - now)
                continue
            waiter, next_at = self._pick(now)
            if waiter is not None:
                waiter.future.set_result(self._grant(waiter.chat, waiter.level))
                continue
            await self._nap(None if next_at is None else next_at - now)

    def _pick(self, now: float) -> tuple[_Waiter | None, float | None]:
        """The first waiter that may go now (removed from its queue), else the earliest time one may."""
        earliest: float | None = None
        for level in Priority:
            queue = self._queues[level]
            blocked: set[int | str] = set()
            for waiter in list(queue):
                if waiter.future.done():  # cancelled while waiting
                    queue.remove(waiter)
                    self._waiting -= 1
                    continue
                if waiter.chat in blocked:
                    continue  # its chat's earlier call waits already: keep the chat's order
                at = self._ready(waiter.chat, now)
                if at is not None and at <= now:
                    queue.remove(waiter)
                    self._waiting -= 1
                    return waiter, None
                blocked.add(waiter.chat)
                if at is not None:
                    earliest = at if earliest is None else min(earliest, at)
        return None, earliest

    async def _nap(self, seconds: float | None) -> None:
        if seconds is None:
            await self._wake.wait()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(seconds, 0.0))

    # -- 429 -------------------------------------------------------------------------------------------------------
    def _told_to_wait(self, chat: int | str | None, seconds: float) -> None:
        now = self._clock()
        until = now + seconds
        if chat is None:
            return  # a call without a chat just waits (`_hold_wait` in the retry)
        self._held[chat] = max(self._held.get(chat, -float("inf")), until)
        last = self._last_429
        if last is not None and last[0] != chat and now - last[1] <= seconds:
            self._held_all = max(self._held_all, until)  # two chats refused in a row: Telegram's overall limit
            log.warning("Telegram asked two chats to wait: every call waits %.0f s", seconds)
        else:
            log.info("Telegram asked a chat to wait %.0f s", seconds)
        self._last_429 = (chat, now)
        self._wake.set()

    async def _hold_wait(self, chat: int | str | None) -> None:
        """A call that counts against nothing still waits out a hold of every call."""
        wait = self._held_all - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)


def _seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


def limits_of(bot: Any) -> TelegramLimits | None:
    """The bot's `TelegramLimits`, if it has one."""
    limiter = getattr(bot, "rate_limiter", None)
    return limiter if isinstance(limiter, TelegramLimits) else None


@asynccontextmanager
async def turn(bot: Any, chat_id: int | str, level: Priority = Priority.PROGRESS) -> AsyncIterator[None]:
    """`TelegramLimits.turn` when `bot` has that limiter, else nothing to wait for."""
    limiter = limits_of(bot)
    if limiter is None:
        yield
        return
    async with limiter.turn(chat_id, level):
        yield


__all__ = ["Priority", "Stats", "TelegramLimits", "counts", "limits_of", "priority", "turn"]
