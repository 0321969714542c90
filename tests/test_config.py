"""Settings: defaults, .env files, one clear line per problem (the encryption key too), secrets never echoed."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

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
    assert Settings.from_env({}, env_file=None, require_token=False).telegram_bot_token.get_secret_value() == ""


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"# comment\nTELEGRAM_BOT_TOKEN='{TOKEN}'\nexport CHECKS_PER_HOUR=3\nSTAFF_USER_IDS=1, 2\n", "utf-8"
    )
    s = Settings.from_env({"CHECKS_PER_HOUR": "4"}, env_file=env_file)
    assert s.telegram_bot_token.get_secret_value() == TOKEN
    assert s.checks_per_hour == 4
    assert s.staff_user_ids == frozenset({1, 2})


def test_outbound_ips_and_flags_are_normalised() -> None:
    s = Settings.from_env(
        {"TELEGRAM_BOT_TOKEN": TOKEN, "HUFI_OUTBOUND_IPS": "1.2.3.4; 10.0.0.0/24", "EXCHANGE_SANDBOX": "yes"},
        env_file=None,
    )
    assert s.hufi_outbound_ips == ("1.2.3.4", "10.0.0.0/24") and s.exchange_sandbox


ZEROS_B64 = base64.b64encode(bytes(32)).decode()
GOOD_KEY = base64.urlsafe_b64encode(bytes(range(100, 132))).decode()


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (ZEROS_B64, "is not random"),
        ("00" * 32, "is not random"),
        ("ab" * 32, "is not random"),
        (base64.b64encode(b"x" * 16).decode(), "decodes to 16 bytes"),
        ("0f" * 31, "62 hex characters are 31 bytes"),
        ("not a key at all!", "is neither"),
    ],
)
def test_the_encryption_key_is_checked_with_the_rest(value: str, says: str) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_ENCRYPTION_KEY": value, "LOG_LEVEL": "LOUD"}
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env, env_file=None)
    problems = caught.value.problems
    assert len(problems) == 2 and any(p.startswith("LOG_LEVEL") for p in problems)
    key = next(p for p in problems if p.startswith("BOT_ENCRYPTION_KEY"))
    assert says in key and "\n" not in key
    assert value not in str(caught.value)


def test_good_encryption_keys_in_either_encoding() -> None:
    for value in (GOOD_KEY, GOOD_KEY.rstrip("="), bytes(range(7, 39)).hex()):
        s = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_ENCRYPTION_KEY": value}, env_file=None)
        assert s.bot_encryption_key is not None and s.bot_encryption_key.get_secret_value() == value
        assert value not in repr(s)


def test_settings_built_in_code_are_validated_but_read_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORT_CHAT_ID", "-1001")
    assert Settings().support_chat_id is None
    assert Settings.from_env(env_file=None, require_token=False).support_chat_id == -1001
    with pytest.raises(ValidationError):
        Settings(bot_encryption_key=ZEROS_B64)
    with pytest.raises(ValidationError):
        Settings(key_retention_minutes=31)


def test_a_bad_key_stops_the_bot_before_any_file_is_made(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_", "DATABASE_"))},
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "BOT_ENCRYPTION_KEY": ZEROS_B64,
        "DATABASE_PATH": str(data / "bot.sqlite3"),
        "CHECKS_PER_HOUR": "0",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert [line.split()[1] for line in lines] == ["BOT_ENCRYPTION_KEY", "CHECKS_PER_HOUR"]
    assert "Traceback" not in result.stderr and ZEROS_B64 not in result.stderr and TOKEN not in result.stderr
    assert not data.exists()  # neither the database nor the folder for it


def test_proxy_and_digest_settings_each_get_one_line_and_the_proxy_password_is_never_shown() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_PROXY_URL": "socks5://user:hunter2-proxy-pass@proxy.example:1080",
        "TELEGRAM_PROXY_FROM_ENV": "sometimes",
        "STATS_DIGEST_WEEKDAY": "someday",
        "STATS_DIGEST_HOUR": "25",
        "STATS_DIGEST_DAYS": "0",
        "STATS_TIMEZONE": "Mars/Olympus",
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env, env_file=None)
    problems = caught.value.problems
    names = [p.split()[0] for p in problems]
    assert names == [
        "TELEGRAM_PROXY_URL",
        "TELEGRAM_PROXY_FROM_ENV",
        "STATS_DIGEST_WEEKDAY",
        "STATS_DIGEST_HOUR",
        "STATS_DIGEST_DAYS",
        "STATS_TIMEZONE",
    ]
    assert "hunter2-proxy-pass" not in str(caught.value)


def test_proxy_options_reach_the_transport_and_the_digest_is_off_unless_a_day_is_set() -> None:
    s = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None)
    assert s.proxy_options == {"proxy": None, "proxy_from_env": False}
    assert s.stats_digest is None
    s = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_PROXY_URL": "http://proxy.example:3128",
            "STATS_DIGEST_WEEKDAY": "Mon",
            "STATS_TIMEZONE": "Europe/Berlin",
        },
        env_file=None,
    )
    assert s.proxy_options == {"proxy": "http://proxy.example:3128", "proxy_from_env": False}
    assert "proxy.example" not in repr(s)
    schedule = s.stats_digest
    assert schedule is not None and schedule.hour == 9 and schedule.days == 7 and str(schedule.tz) == "Europe/Berlin"


def test_limits_and_retention_have_defaults_and_one_line_each_when_wrong() -> None:
    s = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None)
    assert (s.checks_per_key_per_hour, s.checks_per_hour_global, s.relays_per_hour, s.retention_days) == (
        10,
        2000,
        60,
        90,
    )
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "CHECKS_PER_KEY_PER_HOUR": "0",
        "CHECKS_PER_HOUR_GLOBAL": "lots",
        "RELAYS_PER_HOUR": "-1",
        "RETENTION_DAYS": "0",
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env, env_file=None)
    assert sorted(p.split()[0] for p in caught.value.problems) == [
        "CHECKS_PER_HOUR_GLOBAL",
        "CHECKS_PER_KEY_PER_HOUR",
        "RELAYS_PER_HOUR",
        "RETENTION_DAYS",
    ]
    assert any("whole number of days between 1 and 3650" in p for p in caught.value.problems)
