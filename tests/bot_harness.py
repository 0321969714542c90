"""The whole bot for end-to-end tests: Bot API emulator + simulated exchanges + real Application + SQLite file."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.lifecycle import Polling
from bot.lifecycle import running as running_bot
from bot.sandbox.hufi import FakeHufi
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.telegram_model import Action
from bot.sandbox.world import SandboxWorld
from bot.services import Services
from tests.telegram_harness import forward_errors

TEST_KEY = "dGVzdC1rZXktZm9yLXRoZS12YXVsdC0zMi1ieXRlcyE="  # base64 of 32 bytes, tests only


def settings_for(api: TelegramEmulator, db_path: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "telegram_bot_token": api.token,
        "telegram_api_base_url": api.base_url,
        "database_path": db_path,
        "bot_encryption_key": TEST_KEY,
    }
    return Settings(**{**base, **overrides})


@dataclass
class BotEnv:
    api: TelegramEmulator
    world: SandboxWorld
    hufi: FakeHufi | None
    settings: Settings
    services: Services
    app: Any

    async def wait_text(self, fragment: str, *, wait: float = 5.0) -> Action:
        """Pop the bot's actions until one shows a message containing `fragment`."""
        seen: list[str] = []
        while True:
            try:
                action = await self.api.next_action(timeout=wait)
            except AssertionError as exc:
                raise AssertionError(f"never saw {fragment!r}; saw {seen}") from exc
            text = action.text or ""
            if action.message is not None and fragment in text:
                return action
            seen.append(f"{action.method}: {text[:80]!r}")
            if len(seen) > 60:
                raise AssertionError(f"never saw {fragment!r}; saw {seen}")

    async def wait_method(self, method: str, *, wait: float = 5.0) -> Action:
        while True:
            action = await self.api.next_action(timeout=wait)
            if action.method == method:
                return action


async def to_key_question(env: BotEnv, exchange: str = "mexc", campaign: str = "any") -> None:
    """/check, the exchange's button, the campaign's button: the flow waits for the key."""
    env.api.send_text("/check")
    picker = await env.wait_text("Which exchange")
    env.api.press_button(picker.message, f"ex:{exchange}")
    asked = await env.wait_text("Which kind of HuFi campaign")
    env.api.press_button(asked.message, f"ct:{campaign}")
    await env.wait_text("Send me the")


@asynccontextmanager
async def bot_env(
    tmp_path: Path, exchanges: list[str] | None = None, *, clock_hook: list[float] | None = None, **settings: Any
) -> AsyncIterator[BotEnv]:
    """Start the emulator, the simulated exchanges and the real bot; stop everything afterwards."""
    async with TelegramEmulator() as api, SandboxWorld(exchanges) as world, FakeHufi() as hufi:
        settings.setdefault("hufi_recording_oracle_url", hufi.base_url)
        settings.setdefault("hufi_campaign_launcher_url", hufi.base_url)
        async with running(api, world, tmp_path / "bot.sqlite3", clock_hook=clock_hook, hufi=hufi, **settings) as env:
            yield env


@asynccontextmanager
async def running(
    api: TelegramEmulator,
    world: SandboxWorld,
    db_path: Path,
    *,
    clock_hook: list[float] | None = None,
    hufi: FakeHufi | None = None,
    **settings: Any,
) -> AsyncIterator[BotEnv]:
    """The bot alone (start it again on the same database to simulate a restart).

    `clock_hook`: a one-element list holding the time the bot's services see (tests move it forward).
    """
    config = settings_for(api, db_path, **settings)
    clock = (lambda: clock_hook[0]) if clock_hook is not None else time.time
    updates = Polling(timeout=1.0, allowed_updates=["message", "edited_message", "callback_query"])
    async with running_bot(
        config, updates=updates, url_overrides=world.url_overrides, clock=clock, rate_limiter=False
    ) as bot:
        forward_errors(api, bot.app)
        yield BotEnv(api, world, hufi, config, bot.services, bot.app)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
