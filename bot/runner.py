"""Running the bot: long polling (default) or a webhook, with a clean stop on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import sys

from telegram.error import InvalidToken, NetworkError

from bot.app import _post_init, build_application, open_services
from bot.config import Settings
from bot.exchanges.catalog import CATALOG, CheckStyle, cex_ids
from bot.exchanges.factory import ClientFactory

log = logging.getLogger(__name__)


def run_bot(settings: Settings) -> int:
    try:
        return asyncio.run(serve(settings))
    except KeyboardInterrupt:
        return 0


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> int:
    """Start the bot and run until `stop` is set (or a signal arrives)."""
    overrides = None
    world = None
    if settings.exchange_sandbox:
        from bot.sandbox.world import SandboxWorld

        world = SandboxWorld()
        overrides = await world.start()
        log.info("EXCHANGE_SANDBOX is on: every exchange is simulated on 127.0.0.1")
    services = await open_services(settings, url_overrides=overrides)
    app = build_application(settings, services)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        try:
            await app.initialize()
        except (InvalidToken, NetworkError) as exc:
            # a failed initialize leaves the HTTP clients open, and shutdown() won't close them
            for request in {id(r): r for r in app.bot._request}.values():
                with contextlib.suppress(Exception):
                    await request.shutdown()
            if isinstance(exc, InvalidToken):
                print("The Bot API refused TELEGRAM_BOT_TOKEN: check the token from @BotFather.", file=sys.stderr)
                return 2
            print(
                f"Could not reach the Bot API at {settings.telegram_api_base_url}: {type(exc).__name__}",
                file=sys.stderr,
            )
            return 3
        await _post_init(app)
        await app.start()
        assert app.updater is not None
        if settings.webhook_url:
            given = settings.webhook_secret_token.get_secret_value() if settings.webhook_secret_token else None
            token = given or secrets.token_urlsafe(32)
            await app.updater.start_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path="telegram",
                webhook_url=settings.webhook_url.rstrip("/") + "/telegram",
                secret_token=token,
                drop_pending_updates=False,
            )
            log.info("webhook mode on %s:%s", settings.webhook_listen, settings.webhook_port)
        else:
            await app.updater.start_polling(
                poll_interval=0.0,
                timeout=10,
                allowed_updates=["message", "edited_message", "callback_query", "my_chat_member"],
            )
            log.info("polling for updates")
        warm = asyncio.create_task(_keep_markets_warm(services.factory), name="markets")
        await stop.wait()
        log.info("stopping")
        warm.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await warm
        await app.updater.stop()
        await app.stop()
        return 0
    finally:
        with contextlib.suppress(Exception):
            await app.shutdown()
        await services.close()
        if world is not None:
            await world.stop()


async def _keep_markets_warm(factory: ClientFactory) -> None:
    """Load every exchange's markets at start and reload them a little before they expire, so no user waits."""
    specs = [CATALOG[eid] for eid in cex_ids() if CATALOG[eid].check_style is CheckStyle.PROBES]
    first = True
    while True:
        for spec in specs:
            if not first:
                factory.forget_markets(spec.id)  # a check arriving now loads them itself (once, under a lock)
            try:
                await factory.preload(spec)
            except Exception as exc:  # noqa: BLE001 - an exchange being down must not stop the others
                log.warning("could not load %s markets: %s", spec.id, type(exc).__name__)
        first = False
        await asyncio.sleep(max(60.0, factory.markets_ttl - 600))


async def print_status(settings: Settings, *, self_only: bool = False) -> int:
    """`python -m bot status`: the same checks as /status, printed."""
    from bot.status import collect_status

    text, healthy = await collect_status(settings, self_only=self_only)
    print(text)
    return 0 if healthy else 1
