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
`BENCH_TRACE=<file>` records when each step of a key check happens in the bot (`benchmarks._trace`).

`python -m benchmarks._bot_child bare` runs the baseline instead: a bare PTB Application with the same request
and update-processing settings and two trivial handlers (/start answers with one button; a button press is
answered and followed by one message), no database, no persistence, no rate limiter, served by the same
lifecycle (`bot.lifecycle.serving`).

`python -m benchmarks._bot_child floor` and `... peer` measure the parts benchmark 1 (`benchmarks.verdict_latency`)
compares the bot with, in a fresh process of their own as the bot has, so that the emulator's and the fake
exchange's request handling (in the benchmark process) runs on another core and event loop for them as it does for
the bot. Both read their job as one line of JSON on stdin and print their timings (seconds) as JSON lines on
stdout, and log nothing else there. Each does one untimed run first (connections, first-use imports), which is
not counted.

* `floor`: measures on request, so the benchmark can interleave it with the bot's checks while the bot's process
  stays up (the machine's load then weighs on both alike): after its warm-up it prints `{"ready": true}`, then
  answers each line `rtt` (a bare ExtBot sendMessage + deleteMessage round trip to the emulator, the bot's
  transport `bot.app.local_request`, no limiter) or `check` (one run of the bot's own `KeyChecker.check` on one
  key, built as the bot builds it: `bot.services.open_services` from the environment's settings and
  BENCH_URL_OVERRIDES, so the same client factory and shared request limiter, the exchange's markets loaded once
  untimed and the start-up objects frozen as `python -m bot run` does) with one JSON line, until `quit`.
* `peer`: `runs` checks shaped as HuFi's own (a new ccxt client per check with the markets of one loaded
  template, the three probes in parallel), with ccxt's throttler on (`throttle`: true, ccxt's default) or off.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
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
    overrides = url_overrides()

    limiter = os.environ.get("BENCH_TELEGRAM_LIMITER", "1") != "0"
    lifecycle = runner.running

    def running(settings: Any, **kwargs: Any) -> Any:
        return lifecycle(settings, **{**kwargs, "url_overrides": overrides, "rate_limiter": limiter})

    runner.running = running  # type: ignore[assignment]


async def bare() -> int:
    """The baseline: PTB alone, with the bot's request and concurrency settings and trivial handlers."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.error import BadRequest
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Check a key", callback_data="check")]])
        await update.effective_chat.send_message("Welcome", reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None and update.effective_chat is not None
        try:
            await update.callback_query.answer()
        except BadRequest:  # past Telegram's answer window (a slow run): the reply still goes, as the bot's does
            pass
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


def url_overrides() -> dict[str, str]:
    overrides = json.loads(os.environ.get("BENCH_URL_OVERRIDES") or "{}")
    if not overrides:
        raise SystemExit("BENCH_URL_OVERRIDES is empty: the checks would go to the real exchanges")
    return overrides


async def floor(job: dict[str, Any]) -> dict[str, Any]:
    """The honest floor's parts, one at a time on request, so the benchmark can interleave them with the bot's
    checks (see the module docstring): lines on stdin (`rtt`, `check`, `quit`), one JSON line each on stdout."""
    from telegram.ext import ExtBot

    from bot.config import Settings
    from bot.exchanges.catalog import get_spec
    from bot.exchanges.credentials import Credentials
    from bot.services import open_services

    settings = Settings.from_env(env_file=None)
    exchange = job["exchange"]
    creds = Credentials(job["api_key"], job["secret"])
    token = settings.telegram_bot_token.get_secret_value()
    services = await open_services(settings, url_overrides=url_overrides())

    async def round_trip(bot: Any) -> dict[str, float]:
        started = time.perf_counter()
        message = await bot.send_message(job["chat_id"], "round trip")
        send = time.perf_counter() - started
        started = time.perf_counter()
        await bot.delete_message(job["chat_id"], message.message_id)
        return {"send_rtt": send, "delete_rtt": time.perf_counter() - started}

    async def check() -> dict[str, float]:
        started = time.perf_counter()
        report = await services.key_checker.check(exchange, creds)
        elapsed = time.perf_counter() - started
        if not report.ok:
            raise SystemExit("the checker failed a good key")
        return {"checker": elapsed}

    try:
        async with ExtBot(token, base_url=settings.telegram_api_base_url, request=app_module.local_request()) as bot:
            await services.factory.preload(get_spec(exchange))  # untimed, as the bot's start-up warm-up
            runner.freeze_startup_objects()
            await round_trip(bot)  # warm-up runs (connections, first use): not counted
            await check()
            reply({"ready": True})
            while (command := (await asyncio.to_thread(sys.stdin.readline)).strip()) not in ("", "quit"):
                reply(await round_trip(bot) if command == "rtt" else await check())
        return {"markets_loads": services.factory.markets_loads}
    finally:
        await services.close()


def reply(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


async def peer(job: dict[str, Any]) -> dict[str, Any]:
    """HuFi-shaped checks: a client per check with shared markets, the three probes in parallel (see the module
    docstring); seconds until the last probe answered (ccxt's default close sleep is not counted)."""
    import ccxt.async_support as ccxt_async

    from bot.exchanges.catalog import get_spec
    from bot.exchanges.factory import rewrite_urls
    from bot.exchanges.probes import trades_call

    spec = get_spec(job["exchange"])
    base_url = url_overrides()[spec.id]
    template = getattr(ccxt_async, spec.id)({"enableRateLimit": False})
    template.urls["api"] = rewrite_urls(template.urls["api"], base_url)
    try:
        await template.load_markets()  # the shared markets, loaded once, untimed
    finally:
        await template.close()
    runner.freeze_startup_objects()
    config: dict[str, object] = {"apiKey": job["api_key"], "secret": job["secret"], "timeout_on_exit": 0}
    if not job["throttle"]:
        config["enableRateLimit"] = False
    times = []
    for n in range(job["runs"] + 1):  # the first is not counted
        await asyncio.sleep(job["gap"])
        started = time.perf_counter()
        client = getattr(ccxt_async, spec.id)(dict(config))
        client.urls["api"] = rewrite_urls(client.urls["api"], base_url)
        try:
            client.set_markets_from_exchange(template)
            symbol, since, limit, params = trades_call(spec.trades, int(time.time() * 1000))
            await asyncio.gather(
                client.fetch_balance(),
                client.fetch_deposit_address("ETH", dict(spec.deposit_params)),
                client.fetch_my_trades(symbol, since, limit, params),
            )
            if n:
                times.append(time.perf_counter() - started)
        finally:
            await client.close()
    return {"peer": times}


def measure(mode: str) -> int:
    """`floor` or `peer`: the job from stdin's first line, results to stdout, one line of JSON each."""
    job = json.loads(sys.stdin.readline())
    result = asyncio.run(floor(job) if mode == "floor" else peer(job))
    reply(result)
    return 0


if __name__ == "__main__":
    loopback_only()
    choose_transport()
    if sys.argv[1:] == ["bare"]:
        sys.exit(asyncio.run(bare()))
    if sys.argv[1:] in (["floor"], ["peer"]):
        sys.exit(measure(sys.argv[1]))
    if os.environ.get("BENCH_TRACE"):
        from benchmarks._trace import install

        install(os.environ["BENCH_TRACE"])
    patch()
    sys.exit(main(["run"]))
