"""Key checks run as tasks (handlers/check_tasks.py): the handler returns while the check waits, the demo's prompt
still waits for the verdict, a stopping bot finishes or cancels them cleanly, and the check's Bot API calls carry
their priorities (bot/telegram_limits.py). The real Application over HTTP, the emulator, a gated fake MEXC."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import handlers.check_tasks
from bot.app import handled_updates
from bot.lifecycle import Polling, RunningBot
from bot.lifecycle import running as running_bot
from bot.sandbox.exchanges.mexc import FakeMexc
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.world import SandboxWorld
from bot.telegram_limits import Priority, limits_of
from handlers.check_tasks import check_tasks
from tests.bot_harness import BotEnv, running, settings_for, to_key_question
from tests.telegram_harness import forward_errors


class GatedMexc(FakeMexc):
    """The fake MEXC whose balance endpoint, once gated, holds each request until the test opens the gate."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gated = False
        self.arrived = asyncio.Event()
        self.gate = asyncio.Event()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if self.gated and request.path == "/api/v3/account":
            self.arrived.set()
            await self.gate.wait()
        return await super()._dispatch(request)


@asynccontextmanager
async def gated_env(tmp_path: Path, **settings: Any) -> AsyncIterator[tuple[BotEnv, GatedMexc]]:
    async with TelegramEmulator() as api:
        world = SandboxWorld(["mexc"])
        fake = world.fakes["mexc"] = GatedMexc()
        async with world:
            try:
                async with running(api, world, tmp_path / "bot.sqlite3", **settings) as env:
                    yield env, fake
            finally:
                fake.gate.set()


async def key_step(env: BotEnv) -> None:
    await to_key_question(env)


def texts(env: BotEnv) -> list[str]:
    return [m.get("text", "") for m in env.api.transcript(env.api.default_user.id)]


async def test_the_handler_returns_while_the_check_waits_and_the_chat_is_answered_meanwhile(tmp_path: Path) -> None:
    async with gated_env(tmp_path) as (env, fake):
        account = fake.add_account()
        await key_step(env)
        fake.gated = True
        env.api.send_text(f"{account.api_key} {account.secret}")
        key_update = env.api.pending[-1]["update_id"]
        await fake.arrived.wait()  # the check is under way, held at the exchange
        handled = handled_updates(env.app)
        assert handled is not None
        await asyncio.wait_for(handled.wait(key_update), 5)  # its handler is done: no update slot held
        assert len(check_tasks(env.app)) == 1
        env.api.send_text("/start")  # the same chat is answered while its check runs
        await env.wait_text("read-only")
        assert not any("passes every check" in t for t in texts(env))
        fake.gate.set()
        await env.wait_text("passes every check")
        await asyncio.wait_for(check_tasks(env.app).settled([key_update]), 5)
        assert len(check_tasks(env.app)) == 0


async def test_settled_counts_the_check_the_update_started(tmp_path: Path) -> None:
    """The demo shows its prompt after the answer (`RunningBot.settled`): the answer includes the verdict."""
    async with gated_env(tmp_path) as (env, fake):
        account = fake.add_account()
        await key_step(env)
        fake.gated = True
        env.api.send_text(f"{account.api_key} {account.secret}")
        key_update = env.api.pending[-1]["update_id"]
        settled = asyncio.create_task(RunningBot(env.services, env.app).settled([key_update]))
        await fake.arrived.wait()
        await asyncio.sleep(0)
        assert not settled.done()  # the check can't have ended: the exchange holds it
        fake.gate.set()
        await asyncio.wait_for(settled, 5)
        assert any("passes every check" in t for t in texts(env))


async def test_a_stopping_bot_cancels_a_check_that_does_not_finish_and_tells_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers.check_tasks, "STOP_GRACE_SECONDS", 0.0)
    async with gated_env(tmp_path) as (env, fake):
        account = fake.add_account()
        await key_step(env)
        fake.gated = True
        env.api.send_text(f"{account.api_key} {account.secret}")
        await fake.arrived.wait()
        (task,) = list(check_tasks(env.app)._tasks)
    # the bot stopped: the check was cancelled, its slot given back, and the user told to try again
    assert task.cancelled()
    assert env.services.checks.running == 0 and env.services.checks.queue_length == 0
    said = texts(env)
    assert "something went wrong" in said[-1] and not any("passes every check" in t for t in said)


async def test_a_check_that_ends_in_time_is_not_cancelled_by_a_stop(tmp_path: Path) -> None:
    async with gated_env(tmp_path) as (env, fake):
        account = fake.add_account()
        await key_step(env)
        env.api.send_text(f"{account.api_key} {account.secret}")
        await env.wait_text("passes every check")
    assert not any("something went wrong" in t for t in texts(env))


async def test_a_checks_messages_and_edits_carry_their_priorities(tmp_path: Path) -> None:
    """With the production limiter: the progress message and the verdict are VERDICT calls, the progress edits
    PROGRESS, and the flow's answers ANSWER."""
    async with TelegramEmulator() as api, SandboxWorld(["mexc"]) as world:
        config = settings_for(api, tmp_path / "bot.sqlite3")
        updates = Polling(timeout=1.0, allowed_updates=["message", "callback_query"])
        async with running_bot(config, updates=updates, url_overrides=world.url_overrides) as bot:
            forward_errors(api, bot.app)
            env = BotEnv(api, world, None, config, bot.services, bot.app)
            limiter = limits_of(bot.app.bot)
            assert limiter is not None  # the production bot uses bot.telegram_limits
            account = world.fakes["mexc"].add_account()
            await key_step(env)
            before = dict(limiter.stats.granted)
            assert set(before) == {Priority.ANSWER}  # /check, and the two presses' edits
            api.send_text(f"{account.api_key} {account.secret}")
            key_update = api.pending[-1]["update_id"]
            await env.wait_text("passes every check")
            await RunningBot(bot.services, bot.app).settled([key_update])
            granted = limiter.stats.granted
            assert granted[Priority.VERDICT] == 2  # the progress message and the verdict
            assert granted[Priority.PROGRESS] >= 1  # the progress edits
            assert granted[Priority.ANSWER] == before[Priority.ANSWER]  # the key's deletion is not counted
            assert limiter.stats.free >= 2  # the deletion of the key message and the button answers


async def test_a_repeated_press_of_check_again_while_its_check_runs_is_one_action(tmp_path: Path) -> None:
    from bot.diagnosis.model import Permission

    async with gated_env(tmp_path) as (env, fake):
        account = fake.add_account()
        account.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
        await key_step(env)
        env.api.send_text(f"{account.api_key} {account.secret}")
        verdict = await env.wait_text("Step 1 of")
        again = next(
            b["callback_data"]
            for row in verdict.message["reply_markup"]["inline_keyboard"]
            for b in row
            if b["callback_data"].startswith("again:")
        )
        fake.gated = True
        env.api.press_button(verdict.message, again)
        await fake.arrived.wait()  # the re-check runs (a task: the press's handler has returned)
        answered = len(env.api.calls_to("answerCallbackQuery"))
        env.api.press_button(verdict.message, again)
        repeat = await env.api.wait_call("answerCallbackQuery", count=answered + 1, timeout=5)
        assert "Already on it" in str(repeat.params.get("text"))
        assert len(check_tasks(env.app)) == 1
        fake.gate.set()
        await env.wait_text("Step 1 of")
        assert await env.services.db.fetchval("SELECT COUNT(*) FROM checks") == 2
