"""Telegram's budgets with priorities (bot/telegram_limits.py): who goes first, what counts, and for how long.

The limiter runs on a clock the tests move (`recheck` tells it); calls are PTB's callbacks replaced by functions
that record their turn, except in the last tests, where a real ExtBot talks to the Bot API emulator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bot.sandbox.telegram_api import TelegramEmulator
from bot.telegram_limits import Priority, TelegramLimits, counts, priority
from handlers.common import LiveMessage
from tests.telegram_harness import local_request


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Calls:
    """Calls through one limiter; each records its name when its turn comes (and may wait for a gate)."""

    def __init__(self, limiter: TelegramLimits) -> None:
        self.limiter = limiter
        self.order: list[str] = []
        self.done: dict[str, asyncio.Event] = {}

    def start(
        self,
        name: str,
        chat: int | str | None,
        level: Priority | None = None,
        *,
        endpoint: str = "sendMessage",
        gate: asyncio.Event | None = None,
        fail: Callable[[], BaseException | None] | None = None,
    ) -> asyncio.Task[Any]:
        self.done[name] = asyncio.Event()

        async def callback() -> bool:
            if fail is not None and (error := fail()) is not None:
                raise error
            self.order.append(name)
            if gate is not None:
                await gate.wait()
            self.done[name].set()
            return True

        data = {} if chat is None else {"chat_id": chat}
        return asyncio.create_task(self.limiter.process_request(callback, (), {}, endpoint, data, level))

    async def finished(self, name: str) -> None:
        await asyncio.wait_for(self.done[name].wait(), 5)


async def idle() -> None:
    """Let every ready task run a few times (nothing here waits on time)."""
    for _ in range(30):
        await asyncio.sleep(0)


async def until(condition: Callable[[], bool]) -> None:
    """Wait until `condition` holds (it becomes true when the bot's HTTP round trip or task gets there)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while not condition():
        assert loop.time() < deadline, "condition never held"
        await asyncio.sleep(0.001)


async def waiting(limiter: TelegramLimits, n: int) -> None:
    await until(lambda: limiter.waiting == n)


async def test_answers_go_first_then_verdicts_then_progress_edits() -> None:
    clock = Clock()
    limiter = TelegramLimits(overall=(1, 1.0), clock=clock)
    calls = Calls(limiter)
    await calls.start("first", 1)  # the bot's whole budget for this second
    calls.start("progress", 2, Priority.PROGRESS, endpoint="editMessageText")
    calls.start("verdict", 3, Priority.VERDICT)
    calls.start("progress 2", 4, Priority.PROGRESS, endpoint="editMessageText")
    with priority(Priority.VERDICT):
        calls.start("verdict 2", 5)  # its priority from the context
    calls.start("answer", 6)  # an answer to someone's /start, arriving last
    await waiting(limiter, 5)
    for expected in ("answer", "verdict", "verdict 2", "progress", "progress 2"):
        clock.now += 1.0  # the previous call ended a second ago
        limiter.recheck()
        await calls.finished(expected)
        assert calls.order[-1] == expected
    assert limiter.stats.granted == {Priority.ANSWER: 2, Priority.VERDICT: 2, Priority.PROGRESS: 2}


async def test_a_chat_held_back_by_its_own_budget_does_not_hold_up_other_chats() -> None:
    clock = Clock()
    limiter = TelegramLimits(overall=(10, 1.0), private_chat=(1, 30.0), clock=clock)
    calls = Calls(limiter)
    await calls.start("chat 1, first", 1)
    calls.start("chat 1, second", 1)  # over chat 1's budget: it waits
    await waiting(limiter, 1)
    await calls.start("chat 2", 2)  # queued behind it, but another chat: goes at once
    calls.start("chat 1, third", 1, Priority.ANSWER)
    await waiting(limiter, 2)
    assert calls.order == ["chat 1, first", "chat 2"]
    for name in ("chat 1, second", "chat 1, third"):  # one each 30 s, in the chat's own order
        clock.now += 30.0
        limiter.recheck()
        await calls.finished(name)
    assert calls.order == ["chat 1, first", "chat 2", "chat 1, second", "chat 1, third"]


async def test_a_call_counts_until_a_window_after_its_reply() -> None:
    clock = Clock()
    limiter = TelegramLimits(overall=(1, 1.0), clock=clock)
    calls = Calls(limiter)
    reply = asyncio.Event()
    slow = calls.start("slow", 1, gate=reply)  # released at t=0, its reply late
    calls.start("next", 2)
    await waiting(limiter, 1)
    clock.now = 10.0  # long after its release: it may have reached Telegram just now
    limiter.recheck()
    await idle()
    assert calls.order == ["slow"] and limiter.waiting == 1
    reply.set()
    await slow  # its reply arrived at t=10
    clock.now = 10.5
    limiter.recheck()
    await idle()
    assert limiter.waiting == 1
    clock.now = 11.0
    limiter.recheck()
    await calls.finished("next")


@pytest.mark.parametrize(
    ("endpoint", "chat"),
    [("answerCallbackQuery", None), ("deleteMessage", 7), ("getChatMember", -100), ("getMe", None)],
)
async def test_calls_that_put_nothing_into_a_chat_never_wait(endpoint: str, chat: int | None) -> None:
    clock = Clock()
    limiter = TelegramLimits(overall=(1, 1.0), clock=clock)
    calls = Calls(limiter)
    gate = asyncio.Event()
    calls.start("in flight", 7, gate=gate)  # the whole budget, held
    calls.start("queued", 8, Priority.PROGRESS)
    await waiting(limiter, 1)
    await calls.start("free", chat, endpoint=endpoint)  # a secret's deletion, a button's answer: at once
    assert not counts(endpoint, {"chat_id": chat})
    gate.set()


async def test_groups_have_twenty_a_minute_and_private_chats_are_not_held_by_them() -> None:
    clock = Clock()
    limiter = TelegramLimits(clock=clock)
    calls = Calls(limiter)
    for n in range(20):
        await calls.start(f"group {n}", -100123)
    calls.start("group 21", -100123)
    await waiting(limiter, 1)
    await calls.start("private", 5)
    clock.now += 60.0
    limiter.recheck()
    await calls.finished("group 21")


async def test_a_429_holds_its_chat_for_the_time_asked_and_the_call_is_tried_again() -> None:
    clock = Clock()
    limiter = TelegramLimits(clock=clock)
    calls = Calls(limiter)
    refusals = [RetryAfter(5)]
    held = calls.start("refused once", 1, fail=lambda: refusals.pop() if refusals else None)
    await waiting(limiter, 1)  # tried, refused, waiting for its chat
    await calls.start("other chat", 2)  # not held
    clock.now += 5.0
    limiter.recheck()
    assert await held is True
    assert calls.order == ["other chat", "refused once"] and limiter.stats.retried == 1


async def test_429s_from_two_chats_hold_every_call() -> None:
    clock = Clock()
    limiter = TelegramLimits(clock=clock)
    calls = Calls(limiter)
    first, second = [RetryAfter(3)], [RetryAfter(3)]
    a = calls.start("a", 1, fail=lambda: first.pop() if first else None)
    await waiting(limiter, 1)
    b = calls.start("b", 2, fail=lambda: second.pop() if second else None)
    await waiting(limiter, 2)
    calls.start("c", 3)  # Telegram's overall limit, it seems: this one waits too
    await waiting(limiter, 3)
    clock.now += 3.0
    limiter.recheck()
    await asyncio.gather(a, b, calls.finished("c"))
    assert sorted(calls.order) == ["a", "b", "c"]


async def test_a_call_refused_more_often_than_allowed_raises() -> None:
    clock = Clock()
    limiter = TelegramLimits(clock=clock, max_retries=0)
    calls = Calls(limiter)
    with pytest.raises(RetryAfter):
        await calls.start("refused", 1, fail=lambda: RetryAfter(1))


async def test_a_waiting_call_that_is_cancelled_gives_its_place_up() -> None:
    clock = Clock()
    limiter = TelegramLimits(overall=(1, 1.0), clock=clock)
    calls = Calls(limiter)
    await calls.start("first", 1)
    gone = calls.start("gone", 2)
    calls.start("next", 3, Priority.PROGRESS)
    await waiting(limiter, 2)
    gone.cancel()
    clock.now += 1.0
    limiter.recheck()
    await calls.finished("next")
    assert calls.order == ["first", "next"]
    await limiter.shutdown()


# -- a real bot and the emulator --------------------------------------------------------------------------------------
@pytest.fixture
async def api() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as api:
        yield api


async def test_progress_edits_send_the_latest_text_once_their_turn_comes(api: TelegramEmulator) -> None:
    """Texts superseded while the edit waited for its turn are never sent (coalesced, dropped)."""
    clock = Clock()
    limiter = TelegramLimits(overall=(1, 1.0), clock=clock)
    async with ExtBot(api.token, base_url=api.base_url, request=local_request(), rate_limiter=limiter) as bot:
        message = await bot.send_message(api.default_user.id, "state 0")  # this second's budget
        live = LiveMessage(message, "state 0")
        live.show("state 1")
        await waiting(limiter, 1)  # the edit waits for its turn
        live.show("state 2")
        live.show("state 3")
        clock.now += 1.0
        limiter.recheck()
        await asyncio.wait_for(live.settle(), 5)
        edits = [c.params["text"] for c in api.calls_to("editMessageText")]
        assert edits == ["state 3"] and live.edits == 1
        assert limiter.stats.granted[Priority.PROGRESS] == 1
        live.show("state 0")  # back to what was shown before: superseded before its turn, nothing to send
        live.show("state 3")
        await asyncio.wait_for(live.settle(), 5)
        assert len(api.calls_to("editMessageText")) == 1


async def test_a_real_429_from_the_emulator_is_waited_out(api: TelegramEmulator) -> None:
    api.private_rate = (2, 60.0)  # the emulator refuses the third message in a minute
    limiter = TelegramLimits(private_chat=(30, 30.0), max_retries=1)
    async with ExtBot(api.token, base_url=api.base_url, request=local_request(), rate_limiter=limiter) as bot:
        await bot.send_message(api.default_user.id, "one")
        await bot.send_message(api.default_user.id, "two")
        sending = asyncio.create_task(bot.send_message(api.default_user.id, "three"))
        await waiting(limiter, 1)  # refused with "retry after N": the chat is held, the call waits to try again
        refused = api.calls_to("sendMessage")[2]
        assert refused.error is not None and "retry after" in str(refused.error)
        assert limiter.stats.retried == 1 and not sending.done()
        await calls_elsewhere(bot, api)  # another chat is not held
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending


async def calls_elsewhere(bot: ExtBot[Any], api: TelegramEmulator) -> None:
    other = api.add_user("Other")
    await asyncio.wait_for(bot.send_message(other.id, "not held"), 5)
