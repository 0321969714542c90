"""Telegram's webhook on the bot's own aiohttp server, so that other routes (the Mini App) can share its port.

PTB's `Updater.start_webhook` runs a tornado server of its own, which can't host other routes. `WebhookServer`
does the same job on aiohttp (already the bot's HTTP library), and takes more routes on the same application
(`mount`: the Mini App, `bot.webapp`), so one listening port answers both:

- `POST /<path>`: the `X-Telegram-Bot-Api-Secret-Token` header must equal the secret (compared in constant time),
  else 403 and the body is not read; the body must be `application/json` (else 415) and a valid update (else
  400); the update goes onto `application.update_queue`, where the running Application picks it up as it does
  for polling; the answer is 200 with an empty body. Unlike PTB's handler, nothing of the body is ever logged
  (PTB logs it at DEBUG, and a user's message may hold a key).
- Start: the server listens first, then `setWebhook` (the URL, the allowed updates, the secret token,
  `drop_pending_updates` False and PTB's `max_connections` 40), so Telegram's first delivery finds it;
  `deleteWebhook` only when pending updates are to be dropped, as PTB does.
- Stop: the server stops (a request in flight finishes first); the webhook stays set, as PTB leaves it, so
  Telegram keeps the updates that arrive meanwhile until the bot is back.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application, ExtBot

from bot.listening import start_site

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: PTB's default for setWebhook's max_connections
MAX_CONNECTIONS = 40
#: The largest update body accepted (an update with a 4096-character text and its entities is a few KB).
MAX_UPDATE_BYTES = 1024 * 1024
#: How long a stop waits for requests in flight (a Mini App check) before it cancels them.
SHUTDOWN_TIMEOUT = 30.0


class WebhookServer:
    """The webhook route (and whatever `mount` adds) on one aiohttp server at `listen`:`port`."""

    def __init__(
        self,
        application: App,
        *,
        url: str,
        secret_token: str,
        listen: str = "127.0.0.1",
        port: int = 8443,
        path: str = "telegram",
        allowed_updates: Sequence[str] | None = None,
        drop_pending_updates: bool = False,
        mount: Callable[[web.Application], object] | None = None,
    ) -> None:
        if not secret_token:
            raise ValueError("the webhook needs a secret token")
        self.application = application
        self.url = url
        self.listen = listen
        self.port = port
        self.path = "/" + path.strip("/")
        self.allowed_updates = list(allowed_updates) if allowed_updates is not None else None
        self.drop_pending_updates = drop_pending_updates
        self._secret = secret_token.encode()
        self._mount = mount
        self._runner: web.AppRunner | None = None
        self.received = 0  # updates queued, for tests and the logs

    def web_application(self) -> web.Application:
        """The aiohttp application: the webhook route, then what `mount` adds."""
        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        app.router.add_post(self.path, self._receive)
        if self._mount is not None:
            self._mount(app)
        return app

    async def start(self) -> None:
        """Listen, then tell Telegram where to deliver (see the module docstring)."""
        if self._runner is not None:
            raise RuntimeError("the webhook server is already running")
        # handler_cancellation off: a user closing the Mini App mid-check must not cancel the check
        runner = web.AppRunner(self.web_application(), handler_cancellation=False, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        site = web.TCPSite(runner, self.listen, self.port)
        try:
            await start_site(site, f"WEBHOOK_LISTEN/WEBHOOK_PORT {self.listen}:{self.port}")
            server = getattr(site, "_server", None)
            if self.port == 0 and server is not None and server.sockets:
                self.port = server.sockets[0].getsockname()[1]
            self._runner = runner
            await self._set_webhook()
        except BaseException:
            self._runner = None
            await runner.cleanup()
            raise
        log.info("webhook mode: listening on %s:%s", self.listen, self.port)

    async def _set_webhook(self) -> None:
        bot = self.application.bot
        if self.drop_pending_updates:
            await bot.delete_webhook(drop_pending_updates=True)
        await bot.set_webhook(
            url=self.url,
            allowed_updates=self.allowed_updates,
            drop_pending_updates=self.drop_pending_updates,
            max_connections=MAX_CONNECTIONS,
            secret_token=self._secret.decode(),
        )

    async def stop(self) -> None:
        """Stop listening (requests in flight finish first, up to SHUTDOWN_TIMEOUT); the webhook stays set."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.info("webhook: refused a request without the right secret token")
            return web.Response(status=403)
        if request.content_type != "application/json":
            return web.Response(status=415)
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, self.application.bot) if isinstance(data, dict) else None
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413)
        except Exception as exc:  # noqa: BLE001 - an unreadable update; its text could hold anything
            log.warning("webhook: an update could not be read: %s", type(exc).__name__)
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        bot = self.application.bot
        if isinstance(bot, ExtBot):
            bot.insert_callback_data(update)  # arbitrary callback data, as PTB's handler does
        await self.application.update_queue.put(update)
        self.received += 1
        log.debug("webhook: update %s queued", update.update_id)
        return web.Response(status=200)


__all__ = ["SECRET_HEADER", "WebhookServer"]
