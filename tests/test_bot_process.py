"""The bot as a whole: errors inside handlers, the concurrency queue, and `python -m bot run` start-up."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from bot.runner import serve
from bot.sandbox.telegram_api import TelegramEmulator
from tests.bot_harness import TEST_KEY, bot_env

ROOT = Path(__file__).resolve().parents[1]


async def test_a_handler_error_is_logged_redacted_and_the_user_gets_a_short_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with bot_env(tmp_path) as env:
        planted = "Pl4nted" + "Secr3t" * 4
        account = env.world.fakes["mexc"].add_account(secret=planted)

        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError(f"database exploded while holding {planted}")

        env.services.checks.run = broken  # type: ignore[method-assign]
        env.api.send_text("/check")
        picker = await env.wait_text("Which exchange")
        env.api.press_button(picker.message, "ex:mexc")
        campaign = await env.wait_text("Which kind")
        env.api.press_button(campaign.message, "ct:any")
        await env.wait_text("Send me the")
        caplog.set_level(logging.ERROR)
        env.api.send_text(f"{account.api_key} {planted}")
        for _ in range(10):  # the harness also forwards the handler error to the emulator; skip past it
            try:
                await env.wait_text("something went wrong")
                break
            except RuntimeError:
                continue
        sent = [c.params.get("text", "") for c in env.api.calls if c.method == "sendMessage"]
        assert any("something went wrong" in s for s in sent)
        assert all(planted not in s for s in sent)
    errors = [r.getMessage() for r in caplog.records if r.name == "handlers.errors"]
    assert errors and all(planted not in e for e in errors)
    assert "RuntimeError" in errors[0]


async def test_checks_beyond_the_cap_wait_in_a_queue_and_see_their_position(tmp_path: Path) -> None:
    async with bot_env(tmp_path, max_concurrent_checks=1) as env:
        fake = env.world.fakes["mexc"]
        fake.latency = 0.3
        users = [env.api.add_user(f"User{i}") for i in range(3)]
        accounts = [fake.add_account() for _ in users]
        await env.services.factory.preload(__import__("bot.exchanges.catalog", fromlist=["x"]).get_spec("mexc"))
        for user in users:
            env.api.send_text("/check", user)
            picker = await env.wait_text("Which exchange")
            env.api.press_button(picker.message, "ex:mexc", user=user)
            campaign = await env.wait_text("Which kind")
            env.api.press_button(campaign.message, "ct:any", user=user)
            await env.wait_text("Send me the")
        for user, account in zip(users, accounts, strict=True):
            env.api.send_text(f"{account.api_key} {account.secret}", user)
        queued = await env.wait_text("number 1 in the queue", wait=10)
        assert queued is not None
        verdicts = 0
        while verdicts < 3:
            action = await env.api.next_action(timeout=10)
            if "passes every check" in (action.text or ""):
                verdicts += 1


def _run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_without_a_token_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    result = _run_cli({"TELEGRAM_BOT_TOKEN": "", "DATABASE_PATH": str(tmp_path / "db.sqlite3")}, "run")
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_with_a_malformed_token_is_a_clear_error(tmp_path: Path) -> None:
    result = _run_cli({"TELEGRAM_BOT_TOKEN": "hello", "DATABASE_PATH": str(tmp_path / "db.sqlite3")}, "run")
    assert result.returncode == 2
    assert "does not look like a bot token" in result.stderr
    assert "hello" not in result.stderr


async def test_serve_polls_sets_the_command_menu_and_stops_cleanly(tmp_path: Path) -> None:
    async with TelegramEmulator() as api:
        settings = Settings(
            telegram_bot_token=api.token,
            telegram_api_base_url=api.base_url,
            database_path=tmp_path / "bot.sqlite3",
            bot_encryption_key=TEST_KEY,
            exchange_sandbox=True,  # simulated exchanges: the markets warm-up stays on 127.0.0.1
        )
        stop = asyncio.Event()
        task = asyncio.create_task(serve(settings, stop=stop))
        await api.wait_call("getUpdates", timeout=10)
        commands = [c["command"] for c in api.calls_to("setMyCommands")[0].params["commands"]]
        assert "check" in commands and "forget" in commands
        api.send_text("/start")
        await api.next_action("sendMessage", timeout=5)
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0


async def test_serve_with_a_token_the_api_refuses_exits_with_a_message(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    async with TelegramEmulator() as api:
        settings = Settings(
            telegram_bot_token="123456:" + "A" * 35,
            telegram_api_base_url=api.base_url,
            database_path=tmp_path / "bot.sqlite3",
            bot_encryption_key=TEST_KEY,
        )
        assert await serve(settings, stop=asyncio.Event()) == 2
    assert "refused TELEGRAM_BOT_TOKEN" in capsys.readouterr().err
