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
            token = settings.webhook_secret_token or secrets.token_urlsafe(32)
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
        await stop.wait()
        log.info("stopping")
        await app.updater.stop()
        await app.stop()
        return 0
    finally:
        with contextlib.suppress(Exception):
            await app.shutdown()
        await services.close()
        if world is not None:
            await world.stop()


async def print_status(settings: Settings, *, self_only: bool = False) -> int:
    """`python -m bot status`: the same checks as /status, printed."""
    from bot.status import collect_status

    text, healthy = await collect_status(settings, self_only=self_only)
    print(text)
    return 0 if healthy else 1
