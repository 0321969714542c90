"""Settings: defaults, .env files, one clear line per problem, secrets never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings

TOKEN = "123456789:" + "A" * 35


def test_defaults_with_only_a_token() -> None:
    s = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None)
    assert s.telegram_api_base_url == "https://api.telegram.org/bot"
    assert s.database_path == Path("./data/bot.sqlite3")
    assert s.key_retention_minutes == 30 and s.checks_per_hour == 10 and s.max_concurrent_checks == 20
    assert s.support_chat_id is None and not s.support_enabled and not s.exchange_sandbox
    assert "AAAA" not in repr(s)


def test_every_problem_is_reported_at_once_without_echoing_secrets() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "secret-looking-but-wrong",
        "SUPPORT_CHAT_ID": "support",
        "STAFF_USER_IDS": "12,abc",
        "HUFI_OUTBOUND_IPS": "1.2.3.4,not-an-ip",
        "LOG_LEVEL": "LOUD",
        "KEY_RETENTION_MINUTES": "90",
        "EXCHANGE_SANDBOX": "maybe",
        "WEBHOOK_URL": "http://example.org/hook",
        "WEBHOOK_SECRET_TOKEN": "has spaces!",
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env, env_file=None)
    problems = caught.value.problems
    assert len(problems) == 9
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "SUPPORT_CHAT_ID",
        "STAFF_USER_IDS",
        "HUFI_OUTBOUND_IPS",
        "LOG_LEVEL",
        "KEY_RETENTION_MINUTES",
        "EXCHANGE_SANDBOX",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET_TOKEN",
    ):
        assert any(p.startswith(name) for p in problems), name
    text = str(caught.value)
    assert "secret-looking-but-wrong" not in text and "has spaces!" not in text


def test_missing_token_is_required_only_for_running() -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set"):
        Settings.from_env({}, env_file=None)
    assert Settings.from_env({}, env_file=None, require_token=False).telegram_bot_token == ""


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"# comment\nTELEGRAM_BOT_TOKEN='{TOKEN}'\nexport CHECKS_PER_HOUR=3\nSTAFF_USER_IDS=1, 2\n", "utf-8"
    )
    s = Settings.from_env({"CHECKS_PER_HOUR": "4"}, env_file=env_file)
    assert s.telegram_bot_token == TOKEN
    assert s.checks_per_hour == 4
    assert s.staff_user_ids == frozenset({1, 2})


def test_outbound_ips_and_flags_are_normalised() -> None:
    s = Settings.from_env(
        {"TELEGRAM_BOT_TOKEN": TOKEN, "HUFI_OUTBOUND_IPS": "1.2.3.4; 10.0.0.0/24", "EXCHANGE_SANDBOX": "yes"},
        env_file=None,
    )
    assert s.hufi_outbound_ips == ("1.2.3.4", "10.0.0.0/24") and s.exchange_sandbox
