"""``handlers.common.LiveMessage``: coalesced, non-blocking edits of one message, on a real Bot and the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, Message

from bot.sandbox.telegram_api import TelegramEmulator
from handlers.common import LiveMessage
from tests.telegram_harness import local_request


@pytest.fixture
async def api() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as api:
        yield api


@pytest.fixture
async def message(api: TelegramEmulator) -> AsyncIterator[Message]:
    async with Bot(api.token, base_url=api.base_url, request=local_request()) as bot:
        yield await bot.send_message(api.default_user.id, "state 0")


def edits(api: TelegramEmulator) -> list[str]:
    return [call.params["text"] for call in api.calls_to("editMessageText")]


async def test_changes_during_an_edit_coalesce_into_the_next(api: TelegramEmulator, message: Message) -> None:
    live = LiveMessage(message, "state 0")
    live.show("state 1")  # returns at once: nothing awaited yet
    assert edits(api) == []
    await asyncio.sleep(0)  # the edit of "state 1" starts
    live.show("state 2")
    live.show("state 3")
    await live.settle()
    assert edits(api) == ["state 1", "state 3"]  # state 2 was superseded while state 1 was in flight
    assert api.transcript(api.default_user.id)[-1]["text"] == "state 3"
    assert live.edits == 2


async def test_a_burst_before_the_first_edit_costs_one(api: TelegramEmulator, message: Message) -> None:
    live = LiveMessage(message, "state 0")
    for n in (1, 2, 3):
        live.show(f"state {n}")
    await live.settle()
    assert edits(api) == ["state 3"]


async def test_the_shown_text_is_never_sent_again(api: TelegramEmulator, message: Message) -> None:
    live = LiveMessage(message, "state 0")
    live.show("state 0")
    await live.settle("state 0")
    await live.settle("state 1")
    await live.settle("state 1")
    assert edits(api) == ["state 1"]
    assert all(call.ok for call in api.calls)


async def test_failed_edits_are_logged_not_raised(api: TelegramEmulator, message: Message) -> None:
    live = LiveMessage(message, "state 0")
    api.fail("editMessageText", (500, "Internal Server Error"))  # PTB raises NetworkError: not a BadRequest
    await live.settle("state 1")
    api.fail("editMessageText", (400, "Bad Request: message to edit not found"))
    await live.settle("state 2")
    await live.settle("state 3")
    assert [c.ok for c in api.calls_to("editMessageText")] == [False, False, True]
    assert api.transcript(api.default_user.id)[-1]["text"] == "state 3"


async def test_no_message_no_calls(api: TelegramEmulator) -> None:
    live = LiveMessage(None, "state 0")
    live.show("state 1")
    await live.settle("state 2")
    assert api.calls == [] and live.edits == 0


async def test_sending_then_live(api: TelegramEmulator) -> None:
    async with Bot(api.token, base_url=api.base_url, request=local_request()) as bot:
        api.slow("sendMessage", 0.2)
        live = LiveMessage.sending(bot.send_message(api.default_user.id, "state 0"), "state 0")
        live.show("state 1")  # while the message is still on its way
        live.show("state 2")
        assert live.message is None and api.calls_to("sendMessage") == []
        message = await live.sent()
        assert message is not None and live.message is message
        await live.settle()
    assert [c.method for c in api.calls] == ["getMe", "sendMessage", "editMessageText"]
    assert edits(api) == ["state 2"]
    assert api.transcript(api.default_user.id)[-1]["text"] == "state 2"


async def test_sending_that_fails_leaves_no_live_message(api: TelegramEmulator) -> None:
    async with Bot(api.token, base_url=api.base_url, request=local_request()) as bot:
        api.fail("sendMessage", (403, "Forbidden: bot was blocked by the user"))
        live = LiveMessage.sending(bot.send_message(api.default_user.id, "state 0"), "state 0")
        live.show("state 1")
        assert await live.sent() is None
        await live.settle("state 2")
    assert edits(api) == [] and live.edits == 0


async def test_slow_calls_are_overtaken(api: TelegramEmulator) -> None:
    async with Bot(api.token, base_url=api.base_url, request=local_request()) as bot:
        api.slow("sendMessage", 0.3, when=lambda params: params.get("text") == "slow")
        slow = asyncio.create_task(bot.send_message(api.default_user.id, "slow"))
        await asyncio.sleep(0.05)
        fast = await bot.send_message(api.default_user.id, "fast")
        assert not slow.done()
        assert (await slow).message_id > fast.message_id
        again = await bot.send_message(api.default_user.id, "slow")  # times=1: only the first was slow
    assert again.message_id > fast.message_id
    assert [c.params["text"] for c in api.calls_to("sendMessage")] == ["fast", "slow", "slow"]


async def test_changes_that_come_together_make_one_edit_and_settle_does_not_wait(
    api: TelegramEmulator, message: Message
) -> None:
    live = LiveMessage(message, "state 0", gather_for=30.0)
    live.show("state 1")  # the first probe finished
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    live.show("state 2")  # the second, a moment later
    assert edits(api) == []  # the edit waits for more changes
    await asyncio.wait_for(live.settle("state 3"), 5)  # the verdict is out: settle cuts the wait short
    assert edits(api) == ["state 3"] and live.edits == 1


async def test_after_caller_lets_what_the_caller_starts_next_go_first(api: TelegramEmulator) -> None:
    order: list[str] = []
    async with Bot(api.token, base_url=api.base_url, request=local_request()) as bot:

        async def send() -> Message:
            order.append("progress message")
            return await bot.send_message(api.default_user.id, "state 0")

        async def probe() -> None:
            order.append("exchange request")

        live = LiveMessage.sending(send(), "state 0", after_caller=True)
        started = asyncio.ensure_future(probe())  # the check the caller starts right after
        assert await live.sent() is not None
        await started
    assert order == ["exchange request", "progress message"]
