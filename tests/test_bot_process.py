"""The bot as a whole: errors inside handlers, the concurrency queue, `python -m bot run` start-up, and its heartbeat
as `python -m bot status --self` reads it (running, hung, stopped)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.config import Settings
from bot.runner import serve
from bot.sandbox.staging import staging_keys
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.telegram_model import Action
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


@pytest.mark.parametrize("server", ["webapp", "webhook"])
async def test_serve_on_a_port_in_use_exits_with_one_line_and_leaves_nothing_running(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Mini App's or the webhook's port is taken: one line that names the settings, exit code 4, and the bot
    stops what it had started (no update is taken from Telegram, no task is left behind)."""
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        async with TelegramEmulator() as api:
            extra: dict[str, object] = (
                {"webapp_url": "https://bot.example.org/webapp", "webapp_listen": "127.0.0.1", "webapp_port": port}
                if server == "webapp"
                else {
                    "webhook_url": "https://bot.example.org",
                    "webhook_listen": "127.0.0.1",
                    "webhook_port": port,
                    "webhook_secret_token": "s3cret-token_ok",
                }
            )
            settings = Settings(
                telegram_bot_token=api.token,
                telegram_api_base_url=api.base_url,
                database_path=tmp_path / "bot.sqlite3",
                bot_encryption_key=TEST_KEY,
                exchange_sandbox=True,
                **extra,  # type: ignore[arg-type]
            )
            before = set(asyncio.all_tasks())
            assert await asyncio.wait_for(serve(settings, stop=asyncio.Event()), 30) == 4
            assert api.calls_to("getUpdates") == []
            assert set(asyncio.all_tasks()) - before == set()
    finally:
        taken.close()
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    settings_named = "WEBAPP_LISTEN/WEBAPP_PORT" if server == "webapp" else "WEBHOOK_LISTEN/WEBHOOK_PORT"
    assert any(line.startswith("Could not listen on") and settings_named in line for line in lines), err
    assert "Traceback" not in err


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


# -- the heartbeat of a real `python -m bot run`, read by `status --self` --------------------------------------------
MAX_AGE = 5  # seconds of silence `status --self` accepts here; the bot then polls every second


async def _status_self(env: dict[str, str]) -> tuple[int, str]:
    """`python -m bot status --self` as the container runs it (without blocking the emulator's event loop)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "status",
        "--self",
        env=env,
        cwd=env["DATABASE_PATH"].rsplit("/", 1)[0],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def _said(api: TelegramEmulator, fragment: str) -> Action:
    """The bot's next message containing `fragment` (its other actions are passed over)."""
    while True:
        action = await api.next_action(timeout=30)
        if action.message is not None and fragment in (action.text or ""):
            return action


def _stopped(pid: int) -> bool:
    """The process is in the stopped state (SIGSTOP took effect)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


async def test_status_self_follows_a_real_bot_running_hung_and_stopped(tmp_path: Path) -> None:
    """The real `python -m bot run` (EXCHANGE_SANDBOX=true, a staging key passes), its heartbeat read by the real
    `status --self`: healthy, hung (SIGSTOP), healthy again (SIGCONT), stopped (SIGTERM)."""
    from bot.sandbox.hufi import FakeHufi

    async with TelegramEmulator() as api, FakeHufi() as hufi:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HUFI_", "WEBHOOK_"))},
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
            "BOT_ENCRYPTION_KEY": TEST_KEY,
            "EXCHANGE_SANDBOX": "true",
            "HUFI_RECORDING_ORACLE_URL": hufi.base_url,
            "HUFI_CAMPAIGN_LAUNCHER_URL": hufi.base_url,
            "HEARTBEAT_MAX_AGE_SECONDS": str(MAX_AGE),
        }
        beat = tmp_path / "bot.sqlite3.heartbeat"
        code, line = await _status_self(env)
        assert code == 1 and "no heartbeat at" in line  # nothing runs yet

        log = (tmp_path / "bot.log").open("wb")  # a file, not a pipe: a full pipe would hang the bot
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path, stderr=log
        )
        try:
            # the heartbeat is written when a getUpdates returns, before the next one is sent
            await api.wait_call("getUpdates", timeout=60, count=2)
            assert api.calls_to("getUpdates")[0].params.get("timeout") == 1  # a poll a second, for this limit
            code, line = await _status_self(env)
            assert code == 0, line
            assert line.startswith(f"✓ The bot is running (pid {bot.pid})") and "getUpdates" in line

            # staging: the simulated exchanges know the staging keys, so a check can pass
            good = staging_keys("mexc")[0]
            api.send_text("/check")
            api.press_button((await _said(api, "Which exchange")).message, "ex:mexc")
            api.press_button((await _said(api, "Which kind")).message, "ct:any")
            await _said(api, "Send me the")
            api.send_text(f"{good.api_key} {good.secret_to_send}")
            await _said(api, "passes every check")

            os.kill(bot.pid, signal.SIGSTOP)  # hung: the process is there, but its event loop gets nothing done
            # returns once the stop took effect (WNOWAIT: nothing is reaped)
            await asyncio.to_thread(os.waitid, os.P_PID, bot.pid, os.WSTOPPED | os.WNOWAIT)
            assert _stopped(bot.pid)
            last = json.loads(beat.read_text())["at"]
            await asyncio.sleep(max(0.0, last + MAX_AGE + 0.5 - time.time()))  # the silence the limit is about
            code, line = await _status_self(env)
            assert code == 1
            assert f"The bot (pid {bot.pid}) has not heard from Telegram" in line and "hung" in line
            assert len(line.strip().splitlines()) == 1 and "Traceback" not in line

            os.kill(bot.pid, signal.SIGCONT)  # it recovers by itself
            polls = len(api.calls_to("getUpdates"))
            await api.wait_call("getUpdates", timeout=30, count=polls + 2)
            code, line = await _status_self(env)
            assert code == 0, line

            bot.send_signal(signal.SIGTERM)  # a clean stop
            assert await asyncio.wait_for(bot.wait(), 30) == 0
            code, line = await _status_self(env)
            assert code == 1 and "The bot is not running: it stopped at" in line
        finally:
            if bot.returncode is None:
                os.kill(bot.pid, signal.SIGCONT)
                bot.kill()
                await bot.wait()
            log.close()
        logged = (tmp_path / "bot.log").read_text()
        assert "Traceback" not in logged
        # the production entry froze its start-up objects once the bot was built (bot.runner.freeze_startup_objects)
        frozen = [line for line in logged.splitlines() if "objects frozen out of the cycle collector" in line]
        assert len(frozen) == 1 and int(frozen[0].split("start-up: ")[1].split()[0]) > 100_000
