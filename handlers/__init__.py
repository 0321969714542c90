"""Telegram adapters only: parse the update, call a service, render. Registered from `bot.app` alone."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from handlers.errors import fallback_handlers, on_error
from handlers.guard import guard_handlers
from handlers.private import key_flow, private_handlers
from handlers.status import status_handlers
from handlers.support import support_chat_handlers, support_handlers

GUARD_GROUP, SUPPORT_CHAT_GROUP, MAIN_GROUP = -2, -1, 0


def register_all(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Every handler of the bot. Within a group only the first matching handler runs, so the fallbacks come
    last in the main group; the secret guard runs before everything in its own group."""
    main = private_handlers()
    flow = next(h for h in main if h.__class__.__name__ == "ConversationHandler")
    app.add_handlers(support_chat_handlers(), group=SUPPORT_CHAT_GROUP)
    app.add_handlers(guard_handlers(flow), group=GUARD_GROUP)
    app.add_handlers([*main, *status_handlers(), *support_handlers(), *fallback_handlers()], group=MAIN_GROUP)
    app.add_error_handler(on_error)


__all__ = ["key_flow", "register_all"]
