"""The emulator's `hold` (a test helper of the restart tests): a call held at the server until the test lets it go,
never handled when dropped, or handled with only its answer held."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot
from telegram.error import NetworkError

from bot.sandbox.telegram_api import TelegramEmulator
from tests.telegram_harness import local_request


async def test_a_held_call_waits_for_release_and_a_dropped_one_never_happens() -> None:
    async with TelegramEmulator() as api:
        alice = api.default_user
        bot = Bot(api.token, base_url=api.base_url, request=local_request(), get_updates_request=local_request())
        async with bot:
            hold = api.hold("sendMessage", when=lambda p: p.get("text") == "first")
            first = asyncio.create_task(bot.send_message(alice.id, "first"))
            params = await hold.arrived()
            assert params["text"] == "first" and not api.transcript(alice)  # held before the server handled it
            assert (await bot.send_message(alice.id, "second")).text == "second"  # others are not held up
            hold.release()
            assert (await first).text == "first"
            assert [m["text"] for m in api.transcript(alice)] == ["second", "first"]

            dropped = api.hold("sendMessage")
            lost = asyncio.create_task(bot.send_message(alice.id, "lost"))
            await dropped.arrived()
            dropped.drop()
            with pytest.raises(NetworkError):
                await lost
            assert "lost" not in [m["text"] for m in api.transcript(alice)]
            assert not [c for c in api.calls_to("sendMessage") if c.params.get("text") == "lost"]

            answer = api.hold("sendMessage", answer_only=True)
            late = asyncio.create_task(bot.send_message(alice.id, "shown"))
            await answer.arrived()
            assert api.transcript(alice)[-1]["text"] == "shown" and not late.done()  # handled, the bot not told
            answer.drop()
            with pytest.raises(NetworkError):
                await late
