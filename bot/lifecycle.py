"""One lifecycle for every way the bot runs: production (`bot.runner`), the demo, the tests and the benchmarks.

`running(settings, ...)` is the bot: it builds the Bot, opens the services (`bot.services`), builds the Application
(`bot.app`) and serves it; on leaving, everything stops in reverse and the services are closed.
`serving(app, updates)` is the PTB part, for any Application (the tests' bare ones too): `initialize`, the
`post_init` hook, `start`, then long polling or a webhook; on leaving `updater.stop`, `stop`, `post_stop`,
`shutdown`, `post_shutdown` — what `Application.run_polling` does, without owning the event loop or the signals.
The webhook is served by `bot.webhook.WebhookServer` (aiohttp) instead of PTB's own tornado server, so the Mini App
(`Services.webapp`) shares its port.

With a `Heartbeat` (production's `bot.runner` passes one), the bot reports every contact with Telegram to it:
each successful getUpdates (`PollWatch` wraps long polling's transport), or in webhook mode a getWebhookInfo
every `bot.heartbeat.contact_interval` seconds; on a clean stop it writes "stopped". `python -m bot status --self`
reads that file (`bot.heartbeat`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any

from aiohttp import web
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.app import build_application, handled_updates, local_request, make_bot, telegram_sender
from bot.config import Settings
from bot.exchanges.factory import ClientFactory
from bot.heartbeat import Heartbeat, contact_interval
from bot.listening import PortUnavailable
from bot.services import Services, open_services
from bot.webhook import WebhookServer
from handlers.check_tasks import check_tasks

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
    """The bot could not start: the Bot API refused the token (exit code 2) or could not be reached (3), or a port
    the bot serves on (the webhook's, the Mini App's) could not be opened (4). `exit_code` for the CLI."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class PollWatch(BaseRequest):
    """Long polling's transport, unchanged, calling `on_success` after every getUpdates Telegram answered."""

    __slots__ = ("_inner", "_on_success")

    def __init__(self, inner: BaseRequest, on_success: Callable[[], None]) -> None:
        self._inner = inner
        self._on_success = on_success

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, payload = await self._inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status == HTTPStatus.OK:
            try:
                self._on_success()
            except OSError as exc:  # a full disk must not stop the polling; the health check will see it
                log.warning("could not write the heartbeat: %s", exc.strerror or type(exc).__name__)
        return status, payload


async def _watch_webhook(bot: Bot, heartbeat: Heartbeat, interval: float) -> None:
    """Webhook mode: ask Telegram about the webhook every `interval` seconds; each answer is a heartbeat, and a
    recent delivery error with updates waiting is recorded in it (status --self reports it)."""
    while True:
        try:
            info = await bot.get_webhook_info()
        except TelegramError as exc:
            log.warning("getWebhookInfo failed: %s", type(exc).__name__)
        else:
            error = None
            last = info.last_error_date.timestamp() if info.last_error_date is not None else None
            if last is not None and time.time() - last <= 4 * interval and info.pending_update_count:
                error = {"at": last, "message": info.last_error_message, "pending": info.pending_update_count}
            try:
                heartbeat.beat("getWebhookInfo", webhook_error=error)
            except OSError as exc:
                log.warning("could not write the heartbeat: %s", exc.strerror or type(exc).__name__)
        await asyncio.sleep(interval)


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
        webhook: WebhookServer | None = None
        try:
            try:
                if app.post_init:
                    await app.post_init(app)  # starts the Mini App's own server, if it has one
                await app.start()
                if updates is not None:
                    webhook = await _receive(app, updates)
            except PortUnavailable as exc:  # the Mini App's or the webhook's port
                raise StartError(
                    f"Could not listen on {exc}. Stop what already uses the port, or set another one.", 4
                ) from None
            yield app
        finally:
            if webhook is not None:
                await webhook.stop()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                # no more updates come in: the key checks running as tasks finish, or are cancelled after a grace
                await app.update_queue.join()  # updates already fetched are handled (and may start checks)
                await check_tasks(app).finish()
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
        """Wait until these updates are handled, the key checks they started have ended, and what they queued for
        delivery has been tried."""
        update_ids = list(update_ids)
        handled = handled_updates(self.app)
        if handled is not None:
            for update_id in update_ids:
                await handled.wait(update_id)
        await check_tasks(self.app).settled(update_ids)
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
    heartbeat: Heartbeat | None = None,
) -> AsyncIterator[RunningBot]:
    """The whole bot, started (long polling unless `updates` says otherwise) for the duration of the block.

    Raises `StartError` when the Bot API refuses the token or can't be reached. `webapp_demo_user`: the offline
    demo's user, for the Mini App's stand-in script (`open_services`). `heartbeat`: told of every contact with
    Telegram, and of a clean stop (see the module docstring).
    """
    updates = updates or Polling()
    polls = None
    if heartbeat is not None and isinstance(updates, Polling):
        polls = PollWatch(local_request(**settings.proxy_options), lambda: heartbeat.beat("getUpdates"))
    bot = make_bot(settings, rate_limiter=rate_limiter, get_updates_request=polls)
    services = await open_services(
        settings,
        sender=telegram_sender(bot),
        get_me=bot.get_me,
        factory=factory,
        url_overrides=url_overrides,
        clock=clock,
        webapp_demo_user=webapp_demo_user,
    )
    watch: asyncio.Task[None] | None = None
    try:
        app = build_application(services, bot)
        if isinstance(updates, Webhook) and services.webapp.enabled:
            updates = replace(updates, routes=services.webapp.share())  # one server, one port for both
        async with serving(app, updates):
            if heartbeat is not None and isinstance(updates, Webhook):
                interval = contact_interval(settings.heartbeat_max_age_seconds)
                watch = asyncio.create_task(_watch_webhook(bot, heartbeat, interval), name="webhook-heartbeat")
            try:
                yield RunningBot(services, app)
            finally:
                if watch is not None:
                    watch.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watch
        if heartbeat is not None:
            heartbeat.stopped()
    finally:
        await services.stop()  # already stopped by post_stop, unless start-up failed half-way
        await services.close()
