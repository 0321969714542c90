"""The heartbeat file and `python -m bot status --self`: what each state of the file means, that the command reads
its two settings as `Settings` does, and that it stays light (no ccxt, telegram, pydantic or asyncio) and never
prints a traceback. The real bot process writing it: tests/test_bot_process.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import config, heartbeat
from bot.config import Settings
from bot.heartbeat import Heartbeat, assess, contact_interval, heartbeat_path, self_check_settings

ROOT = Path(__file__).resolve().parents[1]


def _beat(tmp_path: Path, now: float = 1000.0) -> Path:
    clock = iter([now, now, now + 5])
    beat = Heartbeat(tmp_path / "bot.sqlite3.heartbeat", clock=lambda: next(clock))
    beat.beat("getUpdates")
    return beat.path


def test_a_fresh_heartbeat_of_a_live_process_is_healthy(tmp_path: Path) -> None:
    path = _beat(tmp_path)
    result = assess(path, max_age=60, now=1010.0)
    assert result.ok
    assert f"pid {os.getpid()}" in result.line and "getUpdates 10 s ago" in result.line


def test_the_file_is_replaced_whole_and_rewritten_at_most_once_a_second(tmp_path: Path) -> None:
    times = iter([0.0, 100.0, 100.4, 101.5])
    beat = Heartbeat(tmp_path / "hb", clock=lambda: next(times))
    beat.beat("getUpdates")
    first = beat.path.read_text()
    beat.beat("getUpdates")  # 0.4 s later: not rewritten
    assert beat.path.read_text() == first
    beat.beat("getUpdates")
    assert json.loads(beat.path.read_text())["at"] == 101.5
    assert [p.name for p in tmp_path.iterdir()] == ["hb"]  # no temporary file left behind


def test_silence_longer_than_the_limit_is_a_hung_bot(tmp_path: Path) -> None:
    path = _beat(tmp_path)
    result = assess(path, max_age=60, now=1061.0)
    assert not result.ok
    assert "has not heard from Telegram for 61 s (limit 60 s)" in result.line and "hung" in result.line


def test_a_clean_stop_says_stopped(tmp_path: Path) -> None:
    clock = iter([1000.0, 1000.0, 1002.0])
    beat = Heartbeat(tmp_path / "hb", clock=lambda: next(clock))
    beat.beat("getUpdates")
    beat.stopped()
    result = assess(beat.path, max_age=60, now=1003.0)
    assert not result.ok and "stopped at" in result.line


def test_a_process_that_is_gone_is_not_running(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path = _beat(tmp_path)
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "pid": int(dead.stdout)}))
    result = assess(path, max_age=60, now=1001.0)
    assert not result.ok and f"pid {int(dead.stdout)}) is gone" in result.line


def test_a_process_on_another_host_is_judged_by_time_alone(tmp_path: Path) -> None:
    path = _beat(tmp_path)
    result = assess(path, max_age=60, now=1001.0, process_exists=lambda pid: False, host="another-container")
    assert result.ok


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "is damaged"),
        ('{"pid": "x", "at": 1}', "is damaged"),
        ("[1, 2]", "is damaged"),
        ('{"pid": 1}', "is damaged"),
    ],
)
def test_a_damaged_file_is_one_line(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "hb"
    path.write_text(content)
    result = assess(path, max_age=60)
    assert not result.ok and words in result.line


def test_missing_file_and_missing_folder_are_told_apart(tmp_path: Path) -> None:
    assert "no heartbeat at" in assess(tmp_path / "hb", max_age=60).line
    assert "does not exist" in assess(tmp_path / "nowhere" / "hb", max_age=60).line


def test_a_webhook_telegram_cannot_deliver_to_is_unhealthy(tmp_path: Path) -> None:
    beat = Heartbeat(tmp_path / "hb", clock=lambda: 1000.0)
    error = {"at": 990.0, "message": "Wrong response from the webhook: 502 Bad Gateway", "pending": 7}
    beat.beat("getWebhookInfo", webhook_error=error)
    result = assess(beat.path, max_age=60, now=1001.0)
    assert not result.ok and "502 Bad Gateway" in result.line and "7 waiting" in result.line
    beat.beat("getWebhookInfo")  # the error is gone: rewritten at once, even within the second
    assert assess(beat.path, max_age=60, now=1001.0).ok


def test_the_bot_hears_from_telegram_well_within_the_limit() -> None:
    assert contact_interval(120) == 10  # a long poll's full timeout
    assert contact_interval(20) == 5
    assert contact_interval(5) == 1


# -- the two settings -------------------------------------------------------------------------------------------
def test_defaults_match_the_settings() -> None:
    assert heartbeat.DEFAULT_DATABASE_PATH == config.DEFAULT_DATABASE_PATH
    defaults = Settings()
    assert heartbeat.DEFAULT_MAX_AGE_SECONDS == defaults.heartbeat_max_age_seconds
    field = Settings.model_fields["heartbeat_max_age_seconds"]
    bounds = {type(m).__name__: m for m in field.metadata}
    assert (bounds["Ge"].ge, bounds["Le"].le) == heartbeat.MAX_AGE_RANGE


@pytest.mark.parametrize(
    ("environ", "dotenv"),
    [
        ({}, ""),
        ({"DATABASE_PATH": "/srv/a/bot.db", "HEARTBEAT_MAX_AGE_SECONDS": "30"}, ""),
        ({}, "DATABASE_PATH=/srv/b/x.sqlite3\nHEARTBEAT_MAX_AGE_SECONDS=45\n"),
        ({"DATABASE_PATH": "/srv/env.db"}, "DATABASE_PATH=/srv/file.db\nheartbeat_max_age_seconds=50\n"),
        ({"database_path": "/srv/lower.db", "HEARTBEAT_MAX_AGE_SECONDS": "  "}, "HEARTBEAT_MAX_AGE_SECONDS=7\n"),
    ],
)
def test_status_self_reads_its_settings_as_settings_does(tmp_path: Path, environ: dict[str, str], dotenv: str) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(dotenv)
    settings = Settings.from_env(environ, env_file=env_file, require_token=False)
    path, max_age = self_check_settings(environ, env_file)
    assert path == heartbeat_path(settings.database_path)
    assert max_age == settings.heartbeat_max_age_seconds


def test_a_bad_limit_is_named_as_settings_would() -> None:
    with pytest.raises(heartbeat.SettingError, match="HEARTBEAT_MAX_AGE_SECONDS must be a whole number"):
        self_check_settings({"HEARTBEAT_MAX_AGE_SECONDS": "soon"}, None)
    with pytest.raises(config.ConfigError, match="HEARTBEAT_MAX_AGE_SECONDS must be a whole number"):
        Settings.from_env({"HEARTBEAT_MAX_AGE_SECONDS": "2"}, env_file=None, require_token=False)


# -- the command ----------------------------------------------------------------------------------------------------
def _status_self(tmp_path: Path, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_PATH", "HEARTBEAT_MAX_AGE_SECONDS")}
    return subprocess.run(
        [sys.executable, *extra, "-m", "bot", "status", "--self"],
        cwd=tmp_path,  # no .env here
        env={**base, "PYTHONPATH": str(ROOT), "DATABASE_PATH": str(tmp_path / "data" / "bot.sqlite3"), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_status_self_loads_neither_ccxt_nor_telegram_nor_pydantic(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    Heartbeat(tmp_path / "data" / "bot.sqlite3.heartbeat").beat("getUpdates")
    result = _status_self(tmp_path, "-X", "importtime")
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.startswith("✓ The bot is running")
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "bot.heartbeat" in imported  # the measurement is real
    for heavy in ("ccxt", "telegram", "pydantic", "aiohttp", "aiosqlite", "asyncio", "cryptography", "bot.config"):
        assert heavy not in imported, f"status --self imported {heavy}"


@pytest.mark.parametrize(
    ("setup", "env", "words", "code"),
    [
        ("no folder", {}, "does not exist", 1),
        ("no file", {}, "no heartbeat at", 1),
        ("damaged", {}, "is damaged", 1),
        ("unreadable limit", {"HEARTBEAT_MAX_AGE_SECONDS": "soon"}, "HEARTBEAT_MAX_AGE_SECONDS must be", 2),
    ],
)
def test_status_self_fails_with_one_line_and_no_traceback(
    tmp_path: Path, setup: str, env: dict[str, str], words: str, code: int
) -> None:
    if setup != "no folder":
        (tmp_path / "data").mkdir()
    if setup == "damaged":
        (tmp_path / "data" / "bot.sqlite3.heartbeat").write_bytes(b"\x00\xff garbage")
    result = _status_self(tmp_path, **env)
    assert result.returncode == code
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("✗ ") and words in lines[0]


def test_status_with_telegram_and_hufi_unreachable_prints_red_lines_not_a_traceback(tmp_path: Path) -> None:
    import socket

    with socket.socket() as closed:  # a port nothing listens on: connections are refused at once
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    nowhere = f"http://127.0.0.1:{port}"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "status"],
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_PATH": str(tmp_path / "data" / "bot.sqlite3"),
            "TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35,
            "TELEGRAM_API_BASE_URL": nowhere + "/bot",
            "HUFI_RECORDING_ORACLE_URL": nowhere,
            "HUFI_CAMPAIGN_LAUNCHER_URL": nowhere,
            "EXCHANGE_SANDBOX": "true",  # the exchanges' public APIs, simulated here
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "🔴" in result.stdout and "Telegram" in result.stdout
    assert "bot process: The bot is not running" in result.stdout


async def test_in_webhook_mode_the_bot_beats_on_each_look_at_its_webhook(tmp_path: Path) -> None:
    import socket

    from bot.lifecycle import Webhook, running
    from bot.sandbox.telegram_api import TelegramEmulator
    from tests.bot_harness import settings_for

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with TelegramEmulator() as api:
        settings = settings_for(api, tmp_path / "bot.sqlite3", heartbeat_max_age_seconds=5)
        beat = Heartbeat(heartbeat_path(settings.database_path))
        webhook = Webhook(url="https://bot.example.org", secret_token="s3cret", listen="127.0.0.1", port=port)
        async with running(settings, updates=webhook, heartbeat=beat):
            # the first answer is written before the second question is asked (a second later: 5 s // 4)
            await api.wait_call("getWebhookInfo", timeout=10, count=2)
            record = json.loads(beat.path.read_text())
            assert (record["state"], record["via"], record["pid"]) == ("running", "getWebhookInfo", os.getpid())
            assert assess(beat.path, max_age=5).ok
            assert api.calls_to("setWebhook")[0].params["url"] == "https://bot.example.org/telegram"
        assert "stopped at" in assess(beat.path, max_age=5).line
