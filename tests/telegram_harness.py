"""Run a real python-telegram-bot ``Application`` against the Bot API emulator, over its real HTTP stack.

Usage in a test module::

    from bot.sandbox.telegram_api import TelegramEmulator
    from tests.telegram_harness import running_app

    @pytest.fixture
    async def api():
        async with TelegramEmulator() as api:
            yield api

    async def test_start(api):
        async with running_app(api, handlers=[CommandHandler("start", start)]):
            api.send_text("/start")
            reply = await api.next_action("sendMessage")

``running_app(api, app=None, ...)`` builds an Application with ``configure(api, ApplicationBuilder())`` unless
given one, adds ``handlers``, registers an error handler that forwards handler exceptions to ``api.push_error``
(so ``next_action`` raises them at once instead of timing out), then runs it with the project's one lifecycle
(``bot.lifecycle.serving``: what ``run_polling`` does) with ``Polling(timeout=poll_timeout, allowed_updates=...)``
(default None: Telegram's default set, without ``chat_member`` updates, as a bare ``run_polling()``). Stop the
emulator after the app (the fixture above does). Both HTTP clients are the bot's own (``bot.app.local_request``),
which ignore proxy variables, so they can't divert calls to 127.0.0.1. The whole bot runs through
``tests.bot_harness`` instead (``bot.lifecycle.running``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import Application, ApplicationBuilder, BaseHandler, ContextTypes

from bot.app import local_request
from bot.lifecycle import Polling, serving
from bot.sandbox.telegram_api import TelegramEmulator

__all__ = ["configure", "forward_errors", "local_request", "running_app"]


def configure(api: TelegramEmulator, builder: ApplicationBuilder, token: str | None = None) -> ApplicationBuilder:
    """Point a builder at the emulator: token, base URLs and proxy-free requests for both clients."""
    return (
        builder.token(token or api.token)
        .base_url(api.base_url)
        .base_file_url(api.file_url)
        .request(local_request())
        .get_updates_request(local_request())
    )


def forward_errors(api: TelegramEmulator, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Forward every handler exception to the emulator, where ``next_action`` raises it."""

    async def push_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            api.push_error(context.error)

    app.add_error_handler(push_error)


@asynccontextmanager
async def running_app(
    api: TelegramEmulator,
    app: Application[Any, Any, Any, Any, Any, Any] | None = None,
    *,
    handlers: Iterable[BaseHandler[Any, Any, Any]] = (),
    errors_to_api: bool = True,
    poll_timeout: float = 1.0,
    allowed_updates: list[str] | None = None,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Run ``app`` (default: a bare one built for ``api``) with polling for the duration of the block."""
    app = app or configure(api, ApplicationBuilder()).build()
    for handler in handlers:
        app.add_handler(handler)
    if errors_to_api:
        forward_errors(api, app)
    async with serving(app, Polling(timeout=poll_timeout, allowed_updates=allowed_updates)):
        yield app
