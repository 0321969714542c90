"""Settings, declared with pydantic-settings: typed fields read from the environment and an optional `.env` file.

`Settings.from_env()` reads and validates everything at start and raises `ConfigError` listing every problem at
once, one line per setting, named by its environment variable; no value of a secret setting (the token, the
encryption key, the webhook secret) is ever echoed, and those are `SecretStr`. `Settings(...)` built in code (the
demo, tests, benchmarks) is validated the same way but reads nothing from the environment.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from storage.vault import KEY_SIZE, VaultKeyError, parse_key

if TYPE_CHECKING:
    from bot.webapp.config import WebAppConfig

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_PATH = "./data/bot.sqlite3"
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: A random 32-byte key has about 30 different byte values; fewer than this means it was typed or made up.
MIN_DISTINCT_KEY_BYTES = 8
#: Settings whose values are never shown, not even in an error.
SECRET_SETTINGS = frozenset({"telegram_bot_token", "bot_encryption_key", "webhook_secret_token", "telegram_proxy_url"})
#: What a setting must look like, for errors pydantic finds itself (wrong type, out of range).
_EXPECTED = {
    "support_chat_id": "must be a chat id such as -1001234567890",
    "exchange_sandbox": "must be true or false",
    "key_retention_minutes": "must be a whole number between 0 and 30",
    "checks_per_hour": "must be a whole number between 1 and 1000",
    "checks_per_key_per_hour": "must be a whole number between 1 and 1000",
    "checks_per_hour_global": "must be a whole number between 1 and 1000000",
    "relays_per_hour": "must be a whole number between 1 and 10000",
    "retention_days": "must be a whole number of days between 1 and 3650",
    "max_concurrent_checks": "must be a whole number between 1 and 500",
    "webhook_port": "must be a whole number between 1 and 65535",
    "webapp_port": "must be a whole number between 0 and 65535 (0: any free port)",
    "telegram_proxy_from_env": "must be true or false",
    "stats_digest_hour": "must be a whole hour between 0 and 23",
    "stats_digest_days": "must be a whole number of days between 1 and 365",
    "heartbeat_max_age_seconds": "must be a whole number of seconds between 5 and 3600",
}


class ConfigError(ValueError):
    """One or more settings are wrong; `problems` has one line per setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Configuration problems:\n" + "\n".join(f"  - {p}" for p in problems))


#: The environment `from_env` reads (None: a `Settings(...)` built in code reads none).
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("settings_environ", default=None)


class _MappingEnv(EnvSettingsSource):
    """Environment variables from a given mapping (os.environ, or a test's dict)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._environ.items() if v and v.strip()}


def _parts(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


def _short(value: object) -> str:
    return repr(str(value)[:30])


class Settings(BaseSettings):
    """Every setting of the bot (README, "Configuration"); the field names are the variable names in lower case."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", case_sensitive=False, env_ignore_empty=True, str_strip_whitespace=True
    )

    telegram_bot_token: SecretStr = SecretStr("")
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    support_chat_id: int | None = None
    staff_user_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    database_path: Path = Path(DEFAULT_DATABASE_PATH)
    bot_encryption_key: SecretStr | None = None
    exchange_sandbox: bool = False
    hufi_recording_oracle_url: str = "https://ro.hu.finance"
    hufi_campaign_launcher_url: str = "https://cl.hu.finance"
    hufi_outbound_ips: Annotated[tuple[str, ...], NoDecode] = ()
    log_level: str = "INFO"
    key_retention_minutes: int = Field(30, ge=0, le=30)
    checks_per_hour: int = Field(10, ge=1, le=1000)
    #: checks of one API key per hour, whichever Telegram account sends it (counted by an HMAC of the key)
    checks_per_key_per_hour: int = Field(10, ge=1, le=1000)
    #: checks per hour of every user together (the ceiling that keeps the bot's IPs in good standing)
    checks_per_hour_global: int = Field(2000, ge=1, le=1_000_000)
    #: messages one user may have relayed to the support chat per hour
    relays_per_hour: int = Field(60, ge=1, le=10_000)
    #: check reports and ticket texts are deleted after this many days
    retention_days: int = Field(90, ge=1, le=3650)
    max_concurrent_checks: int = Field(20, ge=1, le=500)
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_secret_token: SecretStr | None = None
    support_contact: str = "https://hu.finance"
    #: the language of the support chat: the card, staff answers, /stats (a code of bot.i18n.LANGUAGES)
    staff_language: str = "en"
    #: every Bot API request through this HTTP(S) proxy (may carry a password: never shown)
    telegram_proxy_url: SecretStr | None = None
    #: use the standard HTTPS_PROXY / ALL_PROXY / NO_PROXY variables for the Bot API (off: they are ignored)
    telegram_proxy_from_env: bool = False
    #: the weekly insights digest: a day name (mon ... sun) turns it on
    stats_digest_weekday: str | None = None
    stats_digest_hour: int = Field(9, ge=0, le=23)
    stats_digest_days: int = Field(7, ge=1, le=365)
    #: the time zone of the insights' day boundaries and of the digest's hour (an IANA name)
    stats_timezone: str = "UTC"
    #: the Mini App (issue 21): its public HTTPS address (unset: no "Enter the key securely" button), and where its
    #: server listens in polling mode (in webhook mode it shares the webhook's server and port)
    webapp_url: str | None = None
    webapp_listen: str = "127.0.0.1"
    webapp_port: int = Field(8081, ge=0, le=65535)
    #: `status --self` fails when the running bot has not heard from Telegram for longer (bot.heartbeat)
    heartbeat_max_age_seconds: int = Field(120, ge=5, le=3600)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = _ENVIRON.get()
        if environ is None:
            return (init_settings,)
        return (init_settings, _MappingEnv(settings_cls, environ), dotenv_settings)

    # -- validation (each message names what is expected; the variable's name is put in front) ------------------
    @field_validator("telegram_bot_token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value().strip()
        if token and not _TOKEN_RE.match(token):
            raise ValueError("does not look like a bot token (digits, a colon, then 30+ characters)")
        return SecretStr(token)

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("staff_user_ids", mode="before")
    @classmethod
    def _staff(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        ids: set[int] = set()
        for part in _parts(value):
            if not re.fullmatch(r"[0-9]{1,18}", part):
                raise ValueError(f"must be numeric Telegram user ids, separated by commas (got {_short(part)})")
            ids.add(int(part))
        return frozenset(ids)

    @field_validator("hufi_outbound_ips", mode="before")
    @classmethod
    def _ips(cls, value: Any) -> tuple[str, ...]:
        parts = _parts(value) if isinstance(value, str) else [str(v) for v in value]
        ips = []
        for part in parts:
            try:
                ips.append(str(ipaddress.ip_network(part, strict=False)).removesuffix("/32"))
            except ValueError:
                raise ValueError(f"has an entry that is not an IP address: {_short(part)}") from None
        return tuple(ips)

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> str:
        level = str(value).strip().upper()
        if level not in _LEVELS:
            raise ValueError(f"must be one of {', '.join(_LEVELS)}")
        return level

    @field_validator("staff_language", mode="before")
    @classmethod
    def _staff_language(cls, value: Any) -> str:
        from bot.i18n.languages import LANGUAGES, parse

        language = parse(str(value))
        if language is None:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)} (got {_short(value)})")
        return language

    @field_validator("hufi_recording_oracle_url", "hufi_campaign_launcher_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value and not value.startswith("https://"):
            raise ValueError("must be an https:// address (Telegram only delivers to HTTPS)")
        return value or None

    @field_validator("webhook_secret_token")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not _SECRET_TOKEN_RE.match(value.get_secret_value().strip()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("bot_encryption_key")
    @classmethod
    def _encryption_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        text = value.get_secret_value().strip()
        key_problem(text)
        return SecretStr(text)

    @field_validator("telegram_proxy_url")
    @classmethod
    def _proxy_url(cls, value: SecretStr | None) -> SecretStr | None:
        from bot.telegram_request import proxy_from

        if value is None or not value.get_secret_value().strip():
            return None
        try:
            proxy_from(value.get_secret_value(), False)
        except ValueError as exc:
            raise ValueError(str(exc).removeprefix("TELEGRAM_PROXY_URL").strip()) from None
        return value

    @field_validator("stats_digest_weekday")
    @classmethod
    def _digest_weekday(cls, value: str | None) -> str | None:
        from bot.insights.schedule import ScheduleError, parse_weekday

        if value is None or not value.strip():
            return None
        try:
            parse_weekday(value)
        except ScheduleError:
            raise ValueError(f"must be a day name, mon to sun (got {_short(value)})") from None
        return value.strip().lower()

    @field_validator("stats_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from bot.insights.period import PeriodError, parse_timezone

        try:
            parse_timezone(value)
        except PeriodError:
            raise ValueError(f"must be a time zone name such as UTC or Europe/Berlin (got {_short(value)})") from None
        return value

    @field_validator("webapp_url")
    @classmethod
    def _webapp_url(cls, value: str | None) -> str | None:
        from bot.webapp.config import WebAppConfig

        if not value:
            return None
        try:
            WebAppConfig(url=value)
        except ValueError as exc:
            raise ValueError(str(exc).removeprefix("WEBAPP_URL").strip()) from None
        return value

    # -- derived ------------------------------------------------------------------------------------------------
    @property
    def webapp(self) -> WebAppConfig:
        """The Mini App's `bot.webapp.WebAppConfig` (its `enabled` is False when WEBAPP_URL is not set)."""
        from bot.webapp.config import WebAppConfig

        return WebAppConfig(url=self.webapp_url, listen=self.webapp_listen, port=self.webapp_port)

    @property
    def proxy_options(self) -> dict[str, Any]:
        """The Bot API transport's proxy arguments (`bot.telegram_request.proxy_from`)."""
        from bot.telegram_request import proxy_from

        url = self.telegram_proxy_url.get_secret_value() if self.telegram_proxy_url else None
        return dict(proxy_from(url, self.telegram_proxy_from_env))

    @property
    def stats_digest(self) -> Any:
        """The weekly digest's `bot.insights.DigestSchedule`, or None when STATS_DIGEST_WEEKDAY is not set."""
        from bot.insights.schedule import DigestSchedule

        return DigestSchedule.from_settings(
            self.stats_digest_weekday, self.stats_digest_hour, self.stats_timezone, days=self.stats_digest_days
        )

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
        """Read and validate settings (the environment wins over the `.env` file); raises ConfigError listing
        every problem."""
        env_path = Path(env_file) if env_file is not None and Path(env_file).is_file() else None
        problems: list[str] = []
        settings: Settings | None = None
        with _reading(os.environ if environ is None else environ):
            try:
                settings = cls(_env_file=env_path)  # type: ignore[call-arg]
            except ValidationError as exc:
                problems = problems_of(exc)
        token_problem = any(p.startswith("TELEGRAM_BOT_TOKEN") for p in problems)
        if (
            require_token
            and not token_problem
            and (settings is None or not settings.telegram_bot_token.get_secret_value())
        ):
            with _reading(os.environ if environ is None else environ):
                raw = _token_given(cls, env_path)
            if not raw:
                problems.insert(0, "TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)")
        if problems:
            raise ConfigError(problems)
        assert settings is not None
        return settings


@contextmanager
def _reading(environ: Mapping[str, str]) -> Iterator[None]:
    token = _ENVIRON.set(environ)
    try:
        yield
    finally:
        _ENVIRON.reset(token)


def _token_given(cls: type[Settings], env_path: Path | None) -> bool:
    """Whether a token was given at all (when other settings failed, the model was not built)."""
    environ = _ENVIRON.get() or {}
    if any(k.lower() == "telegram_bot_token" and v.strip() for k, v in environ.items()):
        return True
    if env_path is None:
        return False
    from dotenv import dotenv_values

    return any(k.lower() == "telegram_bot_token" and (v or "").strip() for k, v in dotenv_values(env_path).items())


def key_problem(text: str) -> None:
    """Raise ValueError naming what is wrong with an encryption key (never quoting it): its encoding, its length,
    or that it is not random."""
    try:
        key = parse_key(text)
    except VaultKeyError:
        raise ValueError(_key_encoding_problem(text)) from None
    distinct = len(set(key))
    if distinct < MIN_DISTINCT_KEY_BYTES:
        raise ValueError(
            f"is not random: its {KEY_SIZE} bytes take only {distinct} different value(s) (all zeros, or a typed "
            'pattern?); generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )


def _key_encoding_problem(text: str) -> str:
    hint = 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
    if text and all(c in "0123456789abcdefABCDEF" for c in text) and len(text) % 2 == 0:
        return (
            f"must be {KEY_SIZE} bytes: {len(text)} hex characters are {len(text) // 2} bytes, not {KEY_SIZE}; {hint}"
        )
    padded = text + "=" * (-len(text) % 4)
    for altchars in (None, b"-_"):
        try:
            raw = base64.b64decode(padded, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            continue
        return f"must be {KEY_SIZE} bytes: this base64 value decodes to {len(raw)} bytes; {hint}"
    return (
        f"must be {KEY_SIZE} random bytes as base64 (standard or URL-safe) or as {2 * KEY_SIZE} hex characters; "
        f"the value given ({len(text)} characters) is neither; {hint}"
    )


def problems_of(error: ValidationError) -> list[str]:
    """One line per setting, named by its environment variable; secret values are never shown."""
    lines: dict[str, str] = {}
    for item in error.errors(include_input=True, include_url=False):
        name = str(item["loc"][0]) if item.get("loc") else "?"
        if name in lines:
            continue
        if item["type"] == "value_error":
            what = str(item.get("ctx", {}).get("error", item["msg"]))
        else:
            what = _EXPECTED.get(name, str(item["msg"]).lower())
            given = item.get("input")
            if name not in SECRET_SETTINGS and isinstance(given, str | int):
                what += f" (got {_short(given)})"
        lines[name] = f"{name.upper()} {what}"
    return list(lines.values())
