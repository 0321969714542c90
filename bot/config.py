"""Settings from the environment (and an optional .env file), validated once at start.

Every problem is reported at once, one clear line each, and no value of a secret setting is ever echoed.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_PATH = "./data/bot.sqlite3"
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """One or more settings are wrong; `problems` has one line per setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Configuration problems:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Settings:
    telegram_bot_token: str = field(default="", repr=False)
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    support_chat_id: int | None = None
    staff_user_ids: frozenset[int] = frozenset()
    database_path: Path = Path(DEFAULT_DATABASE_PATH)
    bot_encryption_key: str | None = field(default=None, repr=False)
    exchange_sandbox: bool = False
    hufi_recording_oracle_url: str = "https://ro.hu.finance"
    hufi_campaign_launcher_url: str = "https://cl.hu.finance"
    hufi_outbound_ips: tuple[str, ...] = ()
    log_level: str = "INFO"
    key_retention_minutes: int = 30
    checks_per_hour: int = 10
    max_concurrent_checks: int = 20
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret_token: str | None = field(default=None, repr=False)
    support_contact: str = "https://hu.finance"

    @property
    def data_dir(self) -> Path:
        return self.database_path.parent

    @property
    def key_retention_seconds(self) -> int:
        return self.key_retention_minutes * 60

    @property
    def support_enabled(self) -> bool:
        return self.support_chat_id is not None

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        env_file: str | Path | None = ".env",
        require_token: bool = True,
    ) -> Settings:
        """Read and validate settings; raises ConfigError listing every problem."""
        env: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            env.update(read_env_file(Path(env_file)))
        env.update(os.environ if environ is None else environ)
        problems: list[str] = []

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value and value.strip() else None

        def integer(name: str, default: int, low: int, high: int) -> int:
            raw = get(name)
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                problems.append(f"{name} must be a whole number (got {raw[:20]!r})")
                return default
            if not low <= value <= high:
                problems.append(f"{name} must be between {low} and {high} (got {value})")
                return default
            return value

        token = get("TELEGRAM_BOT_TOKEN") or ""
        if require_token and not token:
            problems.append("TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)")
        elif token and not _TOKEN_RE.match(token):
            problems.append("TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then 30+ characters)")

        base_url = get("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL
        if not base_url.startswith(("http://", "https://")):
            problems.append("TELEGRAM_API_BASE_URL must start with http:// or https://")

        support_chat_id = None
        if raw := get("SUPPORT_CHAT_ID"):
            try:
                support_chat_id = int(raw)
            except ValueError:
                problems.append(f"SUPPORT_CHAT_ID must be a chat id such as -1001234567890 (got {raw[:30]!r})")

        staff: set[int] = set()
        for part in (get("STAFF_USER_IDS") or "").replace(";", ",").split(","):
            if part.strip():
                try:
                    staff.add(int(part))
                except ValueError:
                    problems.append(f"STAFF_USER_IDS must be numeric Telegram user ids (got {part.strip()[:20]!r})")

        ips: list[str] = []
        for part in (get("HUFI_OUTBOUND_IPS") or "").replace(";", ",").split(","):
            if part.strip():
                try:
                    ips.append(str(ipaddress.ip_network(part.strip(), strict=False)).removesuffix("/32"))
                except ValueError:
                    problems.append(f"HUFI_OUTBOUND_IPS has an entry that is not an IP address: {part.strip()[:40]!r}")

        level = (get("LOG_LEVEL") or "INFO").upper()
        if level not in _LEVELS:
            problems.append(f"LOG_LEVEL must be one of {', '.join(_LEVELS)}")
            level = "INFO"

        sandbox_raw = (get("EXCHANGE_SANDBOX") or "false").lower()
        if sandbox_raw not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            problems.append("EXCHANGE_SANDBOX must be true or false")

        webhook_url = get("WEBHOOK_URL")
        if webhook_url and not webhook_url.startswith("https://"):
            problems.append("WEBHOOK_URL must be an https:// address (Telegram only delivers to HTTPS)")
        secret_token = get("WEBHOOK_SECRET_TOKEN")
        if secret_token and not _SECRET_TOKEN_RE.match(secret_token):
            problems.append("WEBHOOK_SECRET_TOKEN must be 1-256 characters of A-Z, a-z, 0-9, _ and -")

        settings = cls(
            telegram_bot_token=token,
            telegram_api_base_url=base_url,
            support_chat_id=support_chat_id,
            staff_user_ids=frozenset(staff),
            database_path=Path(get("DATABASE_PATH") or DEFAULT_DATABASE_PATH),
            bot_encryption_key=get("BOT_ENCRYPTION_KEY"),
            exchange_sandbox=sandbox_raw in ("1", "true", "yes", "on"),
            hufi_recording_oracle_url=(get("HUFI_RECORDING_ORACLE_URL") or cls.hufi_recording_oracle_url).rstrip("/"),
            hufi_campaign_launcher_url=(get("HUFI_CAMPAIGN_LAUNCHER_URL") or cls.hufi_campaign_launcher_url).rstrip(
                "/"
            ),
            hufi_outbound_ips=tuple(ips),
            log_level=level,
            key_retention_minutes=integer("KEY_RETENTION_MINUTES", 30, 0, 30),
            checks_per_hour=integer("CHECKS_PER_HOUR", 10, 1, 1000),
            max_concurrent_checks=integer("MAX_CONCURRENT_CHECKS", 20, 1, 500),
            webhook_url=webhook_url,
            webhook_listen=get("WEBHOOK_LISTEN") or "127.0.0.1",
            webhook_port=integer("WEBHOOK_PORT", 8443, 1, 65535),
            webhook_secret_token=secret_token,
            support_contact=get("SUPPORT_CONTACT") or cls.support_contact,
        )
        if problems:
            raise ConfigError(problems)
        return settings


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments ignored; optional quotes around the value."""
    values: dict[str, str] = {}
    for line in path.read_text("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values
