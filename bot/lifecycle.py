"""One lifecycle for every way the bot runs: production (`bot.runner`), the demo, the tests and the benchmarks.

`running(settings, ...)` is the bot: it builds the Bot, opens the services (`bot.services`), builds the Application
(`bot.app`) and serves it; on leaving, everything stops in reverse and the services are closed.
`serving(app, updates)` is the PTB part, for any Application (the tests' bare ones too): `initialize`, the
`post_init` hook, `start`, then long polling or a webhook; on leaving `updater.stop`, `stop`, `post_stop`,
`shutdown`, `post_shutdown` — what `Application.run_polling` does, without owning the event loop or the signals.
The webhook is served by `bot.webhook.WebhookServer` (aiohttp) instead of PTB's own tornado server, so the Mini App
(`Services.webapp`) shares its port.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application

from bot.app import build_application, handled_updates, make_bot, telegram_sender
from bot.config import Settings
from bot.exchanges.factory import ClientFactory
from bot.services import Services, open_services
from bot.webhook import WebhookServer

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
#: The update types the bot asks for.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


@dataclass(frozen=True)
class Polling:
    """Long polling (`timeout` seconds per request; `allowed_updates` None is Telegram's default set)."""

    timeout: float = 10.0
    allowed_updates: list[str] | None = field(default_factory=lambda: list(ALLOWED_UPDATES))


@dataclass(frozen=True)
class Webhook:
    """Updates pushed by Telegram to `url` + "/" + `path`, served on `listen`:`port`, checked by `secret_token`.

    `routes` adds more routes to the same server, on the same port (the Mini App).
    """

    url: str
    secret_token: str
    listen: str = "127.0.0.1"
    port: int = 8443
    path: str = "telegram"
    allowed_updates: list[str] | None = field(default_factory=lambda: list(ALLOWED_UPDATES))
    routes: Callable[[web.Application], object] | None = None


class StartError(Exception):
    """The Bot API could not be used at start (a refused token, an unreachable server); `exit_code` for the CLI."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@asynccontextmanager
async def serving(app: App, updates: Polling | Webhook | None = None) -> AsyncIterator[App]:
    """Run `app` for the duration of the block, as `run_polling`/`run_webhook` would (`updates` None: no updater)."""
    try:
        await app.initialize()
    except (InvalidToken, NetworkError) as exc:
        # a failed initialize leaves the HTTP clients open, and shutdown() won't close them
        for request in {id(r): r for r in app.bot._request}.values():
            with contextlib.suppress(Exception):
                await request.shutdown()
        if isinstance(exc, InvalidToken):
            raise StartError("The Bot API refused TELEGRAM_BOT_TOKEN: check the token from @BotFather.", 2) from None
        raise StartError(f"Could not reach the Bot API at {app.bot.base_url}: {type(exc).__name__}", 3) from None
    try:
        if app.post_init:
            await app.post_init(app)
        await app.start()
        webhook: WebhookServer | None = None
        try:
            if updates is not None:
                webhook = await _receive(app, updates)
            yield app
        finally:
            if webhook is not None:
                await webhook.stop()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
                if app.post_stop:
                    await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


async def _receive(app: App, updates: Polling | Webhook) -> WebhookServer | None:
    if isinstance(updates, Webhook):
        webhook = WebhookServer(
            app,
            url=updates.url.rstrip("/") + "/" + updates.path,
            secret_token=updates.secret_token,
            listen=updates.listen,
            port=updates.port,
            path=updates.path,
            allowed_updates=updates.allowed_updates,
            drop_pending_updates=False,
            mount=updates.routes,
        )
        await webhook.start()
        return webhook
    else:
        assert app.updater is not None, "polling needs an Application with an Updater"
        await app.updater.start_polling(
            poll_interval=0.0, timeout=updates.timeout, allowed_updates=updates.allowed_updates
        )
        log.info("polling for updates")
    return None


@dataclass(frozen=True)
class RunningBot:
    """The bot while it runs: its services and Application."""

    services: Services
    app: App

    async def settled(self, update_ids: Iterable[int] = ()) -> None:
        """Wait until these updates are handled and what they queued for delivery has been tried."""
        handled = handled_updates(self.app)
        if handled is not None:
            for update_id in update_ids:
                await handled.wait(update_id)
        if self.services.support is not None:
            await self.services.support.delivery.settled()


@asynccontextmanager
async def running(
    settings: Settings,
    *,
    updates: Polling | Webhook | None = None,
    url_overrides: Mapping[str, str] | None = None,
    factory: ClientFactory | None = None,
    clock: Callable[[], float] = time.time,
    rate_limiter: bool = True,
    webapp_demo_user: Mapping[str, Any] | None = None,
) -> AsyncIterator[RunningBot]:
    """The whole bot, started (long polling unless `updates` says otherwise) for the duration of the block.

    `webapp_demo_user`: the offline demo's user, for the Mini App's stand-in script (`open_services`).
    Raises `StartError` when the Bot API refuses the token or can't be reached.
    """
    bot = make_bot(settings, rate_limiter=rate_limiter)
    services = await open_services(
        settings,
        sender=telegram_sender(bot),
        get_me=bot.get_me,
        factory=factory,
        url_overrides=url_overrides,
        clock=clock,
        webapp_demo_user=webapp_demo_user,
    )
    try:
        app = build_application(services, bot)
        updates = updates or Polling()
        if isinstance(updates, Webhook) and services.webapp.enabled:
            updates = replace(updates, routes=services.webapp.share())  # one server, one port for both
        async with serving(app, updates):
            yield RunningBot(services, app)
    finally:
        await services.stop()  # already stopped by post_stop, unless start-up failed half-way
        await services.close()
