"""Running the bot in production: long polling (default) or a webhook, with a clean stop on SIGINT/SIGTERM.

The start and stop themselves are `bot.lifecycle.running`, shared with the demo, the tests and the benchmarks;
what is added here is production's: the sandbox exchanges when EXCHANGE_SANDBOX is on, the signals, keeping every
exchange's markets warm, and the plain-text status for `python -m bot status`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from bot.app import local_request
from bot.config import Settings
from bot.exchanges.catalog import CATALOG, CheckStyle, cex_ids
from bot.exchanges.factory import ClientFactory
from bot.heartbeat import Heartbeat, assess, contact_interval, heartbeat_path
from bot.lifecycle import Polling, StartError, Webhook, running
from bot.status_page import StatusPage
from storage.db import Database

log = logging.getLogger(__name__)


def run_bot(settings: Settings) -> int:
    try:
        return asyncio.run(serve(settings, freeze_startup=True))
    except KeyboardInterrupt:
        return 0


def updates_for(settings: Settings) -> Polling | Webhook:
    """A webhook when WEBHOOK_URL is set, else long polling (a poll at least every `contact_interval` seconds, so
    the heartbeat stays well within HEARTBEAT_MAX_AGE_SECONDS)."""
    if not settings.webhook_url:
        return Polling(timeout=contact_interval(settings.heartbeat_max_age_seconds))
    secret = settings.webhook_secret_token.get_secret_value() if settings.webhook_secret_token else None
    return Webhook(
        url=settings.webhook_url,
        secret_token=secret or secrets.token_urlsafe(32),
        listen=settings.webhook_listen,
        port=settings.webhook_port,
    )


@asynccontextmanager
async def _exchanges(settings: Settings) -> AsyncIterator[Mapping[str, str] | None]:
    """The simulated exchanges' addresses when EXCHANGE_SANDBOX is on, with the staging keys on their books (else
    None: the real ones)."""
    if not settings.exchange_sandbox:
        yield None
        return
    from bot.sandbox.world import SandboxWorld

    async with SandboxWorld() as world:
        world.add_staging_keys()
        log.info("EXCHANGE_SANDBOX is on: every exchange is simulated on 127.0.0.1 (keys: python -m bot staging-keys)")
        yield world.url_overrides


def freeze_startup_objects() -> int:
    """Move every object alive now out of the cycle collector's reach (Python's `gc.freeze`,
    https://docs.python.org/3/library/gc.html#gc.freeze); how many.

    The imports alone (ccxt, telegram, aiohttp) leave about 230,000 objects that live as long as the process. A
    full collection walks all of them while holding the GIL, whichever thread triggers it: benchmark 6 measured
    the first keyed OKX check stalling the loop 105-165 ms that way. Frozen, they are never walked again; objects
    made later (checks, market templates) are collected as usual. Called once by `serve` when the bot is built,
    not in test processes, where frozen objects would hide from `gc.get_referrers` and leak checks.
    """
    gc.collect()  # what is garbage already is freed, not frozen
    gc.freeze()
    return gc.get_freeze_count()


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    url_overrides: Mapping[str, str] | None = None,
    freeze_startup: bool = False,
) -> int:
    """Start the bot and run until `stop` is set (or a signal arrives); the exit code. `freeze_startup`: once
    the bot is built, take the start-up objects out of the cycle collector's walks (`freeze_startup_objects`;
    `run_bot`, the production entry, does)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with _exchanges(settings) as sandbox:
        try:
            async with running(
                settings,
                updates=updates_for(settings),
                url_overrides=url_overrides or sandbox,
                heartbeat=Heartbeat(heartbeat_path(settings.database_path)),
            ) as bot:
                if freeze_startup:
                    log.info("start-up: %d objects frozen out of the cycle collector's walks", freeze_startup_objects())
                warm = asyncio.create_task(_keep_markets_warm(bot.services.factory), name="markets")
                try:
                    await stop.wait()
                    log.info("stopping")
                finally:
                    warm.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await warm
        except StartError as exc:
            print(exc, file=sys.stderr)
            return exc.exit_code
    return 0


async def _keep_markets_warm(factory: ClientFactory) -> None:
    """Load every exchange's markets at start and reload them a little before they expire, so no user waits."""
    specs = [CATALOG[eid] for eid in cex_ids() if CATALOG[eid].check_style is CheckStyle.PROBES]
    first = True
    while True:
        for spec in specs:
            try:
                # a refresh swaps the new markets in once they are loaded: checks meanwhile use the current ones
                await (factory.preload(spec) if first else factory.refresh_markets(spec))
            except Exception as exc:  # noqa: BLE001 - an exchange being down must not stop the others
                log.warning("could not load %s markets: %s", spec.id, type(exc).__name__)
        first = False
        await asyncio.sleep(max(60.0, factory.markets_ttl - 600))


async def collect_status(settings: Settings) -> tuple[str, bool]:
    """`python -m bot status`: the same checks as /status (getMe only when a token is set; the simulated exchanges
    when EXCHANGE_SANDBOX is on), and whether the bot itself is running (its heartbeat, as `status --self` reads
    it). Whatever is unreachable is a red line, never an exception."""
    from telegram import Bot

    try:
        db = await Database.open(settings.database_path)
    except Exception as exc:  # noqa: BLE001 - one line, whatever SQLite says
        return f"🔴 The database {settings.database_path} can't be opened: {type(exc).__name__}: {exc}"[:300], False
    requests = []
    try:
        get_me = None
        token = settings.telegram_bot_token.get_secret_value()
        if token:
            requests = [local_request(**settings.proxy_options) for _ in range(2)]
            bot = Bot(
                token, base_url=settings.telegram_api_base_url, request=requests[0], get_updates_request=requests[1]
            )

            async def get_me() -> object:  # initialize() is getMe; its failure is the check's red line
                await bot.initialize()
                return bot.bot

        async with _exchanges(settings) as sandbox:
            page = StatusPage(settings, factory=ClientFactory(url_overrides=sandbox), db=db, get_me=get_me)
            liveness = assess(heartbeat_path(settings.database_path), max_age=settings.heartbeat_max_age_seconds)
            try:
                text = await page.text(detailed=True, extra={"bot process": liveness.line})
                return text, await page.healthy()
            finally:
                await page.close()
    finally:
        for request in requests:  # a failed initialize leaves them open, and Bot.shutdown() won't close them
            await request.shutdown()
        await db.close()


async def print_status(settings: Settings) -> int:
    """`python -m bot status`: the same checks as /status, printed."""
    text, healthy = await collect_status(settings)
    print(text)
    return 0 if healthy else 1
