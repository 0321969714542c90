"""The bot process the benchmarks measure: `python -m bot run`, pointed at the simulated exchanges.

`python -m benchmarks._bot_child` runs the real CLI (`bot.__main__.main(["run"])`: settings from the environment,
logging, `bot.runner.serve` with its long polling, market warm-up and SIGTERM handling) with two changes:
`BENCH_URL_OVERRIDES` (JSON, exchange id -> base URL on 127.0.0.1) is handed to the lifecycle
(`bot.lifecycle.running`) as the sandbox does, and host lookups other than 127.0.0.1/localhost fail, so nothing can
leave the machine.
`BENCH_TELEGRAM_LIMITER=0` builds the Application without its Bot API limiter (`bot.telegram_limits`: Telegram's
flood limits, 30 calls/s overall and per-chat budgets, with answers first), to tell those limits apart from the
bot's own cost. `BENCH_TRANSPORT=httpx` swaps the
bot's Bot API transport (`bot.app.local_request`, aiohttp) for PTB's stock HTTPXRequest, to measure that choice.

`python -m benchmarks._bot_child bare` runs the baseline instead: a bare PTB Application with the same request
and update-processing settings and two trivial handlers (/start answers with one button; a button press is
answered and followed by one message), no database, no persistence, no rate limiter, served by the same
lifecycle (`bot.lifecycle.serving`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bot.app as app_module
import bot.runner as runner
from bot.__main__ import main
from bot.app import PerChatUpdateProcessor
from bot.lifecycle import ALLOWED_UPDATES, Polling, serving


def loopback_only() -> None:
    """Refuse to resolve any host but the loopback one: nothing this process does may leave the machine."""
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in (None, "127.0.0.1", "localhost", b"127.0.0.1", b"localhost"):
            raise OSError(f"benchmark guard: no lookups of {host!r}, only 127.0.0.1")
        return real(host, *args, **kwargs)

    socket.getaddrinfo = guarded  # type: ignore[assignment]


def httpx_request(**kwargs: Any) -> Any:
    """PTB's stock transport, proxy variables ignored as the bot's own transport does."""
    from telegram.request import HTTPXRequest

    kwargs.pop("proxy_from_env", None)  # the bot's own transport's option; the benchmarks use no proxy
    return HTTPXRequest(httpx_kwargs={"trust_env": False}, **kwargs)


def choose_transport() -> None:
    transport = os.environ.get("BENCH_TRANSPORT", "aiohttp")
    if transport == "httpx":
        app_module.local_request = httpx_request  # type: ignore[assignment]
    elif transport != "aiohttp":
        raise SystemExit(f"BENCH_TRANSPORT must be aiohttp or httpx, not {transport!r}")


def patch() -> None:
    overrides = json.loads(os.environ.get("BENCH_URL_OVERRIDES") or "{}")
    if not overrides:
        raise SystemExit("BENCH_URL_OVERRIDES is empty: the checks would go to the real exchanges")

    limiter = os.environ.get("BENCH_TELEGRAM_LIMITER", "1") != "0"
    lifecycle = runner.running

    def running(settings: Any, **kwargs: Any) -> Any:
        return lifecycle(settings, **{**kwargs, "url_overrides": overrides, "rate_limiter": limiter})

    runner.running = running  # type: ignore[assignment]


async def bare() -> int:
    """The baseline: PTB alone, with the bot's request and concurrency settings and trivial handlers."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Check a key", callback_data="check")]])
        await update.effective_chat.send_message("Welcome", reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None and update.effective_chat is not None
        await update.callback_query.answer()
        await update.effective_chat.send_message("Which exchange?")

    app = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"])
        .request(app_module.local_request(connection_pool_size=64))
        .get_updates_request(app_module.local_request())
        .concurrent_updates(PerChatUpdateProcessor())
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with serving(app, Polling(timeout=10, allowed_updates=ALLOWED_UPDATES)):
        await stop.wait()
    return 0


if __name__ == "__main__":
    loopback_only()
    choose_transport()
    if sys.argv[1:] == ["bare"]:
        sys.exit(asyncio.run(bare()))
    patch()
    sys.exit(main(["run"]))
