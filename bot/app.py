"""The one place where services are built and handlers are registered.

`open_services(settings)` builds everything the handlers use (database, repositories, vault, drafts, key checker,
check service) with dependencies passed in, so tests and the demo swap the exchange factory or the clock.
`build_application(settings, services)` builds the python-telegram-bot Application with every handler.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, BaseUpdateProcessor, Defaults

from bot import __version__
from bot.checks import CheckService
from bot.config import Settings
from bot.exchanges.factory import ClientFactory
from bot.exchanges.probes import KeyChecker
from bot.telegram_request import AiohttpRequest
from storage.checks import CheckRepository
from storage.db import Database
from storage.moderation import BanRepository, RateLimitLedger
from storage.persistence import SqliteConversationPersistence
from storage.users import UserRepository
from storage.vault import Vault, load_or_create_key

log = logging.getLogger(__name__)

#: How long what a user typed so far in the key flow is kept (encrypted) before they must start again.
DRAFT_TTL_SECONDS = 15 * 60

COMMANDS: tuple[tuple[str, str], ...] = (
    ("check", "Check an exchange API key the way HuFi does"),
    ("status", "Is HuFi, an exchange or this bot down?"),
    ("forget", "Delete any key kept for “check again”"),
    ("support", "Talk to HuFi support"),
    ("cancel", "Stop the current step"),
    ("help", "What this bot does"),
)


@dataclass
class Services:
    """Everything handlers need. Built once; never holds a secret."""

    settings: Settings
    db: Database
    users: UserRepository
    checks: CheckRepository
    bans: BanRepository
    ledger: RateLimitLedger
    vault: Vault
    drafts: Vault
    factory: ClientFactory
    checker: KeyChecker
    check_service: CheckService
    clock: Callable[[], float] = time.time
    started_at: float = field(default_factory=time.time)
    version: str = __version__
    #: (chat id, message id) of messages already deleted by the secret guard in this process
    deleted: set[tuple[int, int]] = field(default_factory=set)
    extras: dict[str, Any] = field(default_factory=dict)

    def mark_deleted(self, chat_id: int, message_id: int) -> None:
        if len(self.deleted) > 10_000:
            self.deleted.clear()
        self.deleted.add((chat_id, message_id))

    async def close(self) -> None:
        status = self.extras.pop("status", None)
        if status is not None:
            await status.close()
        await self.db.close()


async def open_services(
    settings: Settings,
    *,
    factory: ClientFactory | None = None,
    url_overrides: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> Services:
    """Open the database, wipe expired keys, and build the services."""
    secret = settings.bot_encryption_key.get_secret_value() if settings.bot_encryption_key else None
    db = await Database.open(settings.database_path)
    try:
        key = load_or_create_key(secret, settings.data_dir)
        vault = Vault(db, key, ttl_seconds=settings.key_retention_seconds, clock=clock)
        drafts = Vault(db, key, ttl_seconds=DRAFT_TTL_SECONDS, clock=clock, table="drafts")
        wiped = await vault.wipe_expired() + await drafts.wipe_expired()
        if wiped:
            log.info("start-up: wiped %d expired key entries", wiped)
    except Exception:
        await db.close()
        raise
    factory = factory or ClientFactory(url_overrides=url_overrides)
    checker = KeyChecker(factory)
    checks = CheckRepository(db, clock)
    ledger = RateLimitLedger(db, clock)
    service = CheckService(
        checker,
        checks_repo=checks,
        ledger=ledger,
        vault=vault,
        checks_per_hour=settings.checks_per_hour,
        max_concurrent=settings.max_concurrent_checks,
        clock=clock,
    )
    return Services(
        settings=settings,
        db=db,
        users=UserRepository(db, clock),
        checks=checks,
        bans=BanRepository(db, clock),
        ledger=ledger,
        vault=vault,
        drafts=drafts,
        factory=factory,
        checker=checker,
        check_service=service,
        clock=clock,
    )


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of one chat are handled one after another, in order; different chats run concurrently.

    PTB's default handles every update in sequence, so one user's key check (an exchange round trip) would
    hold up everybody else. The conversation flow needs order only within a chat, which a FIFO lock per chat
    keeps (asyncio.Lock wakes waiters in arrival order, and PTB starts the update tasks in arrival order).
    """

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            left = self._users[key] - 1
            if left:
                self._users[key] = left
            else:
                del self._users[key]
                del self._locks[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


def services_of(context: Any) -> Services:
    """The services from a handler's context."""
    return context.application.bot_data["services"]


def local_request(**kwargs: Any) -> AiohttpRequest:
    """The bot's HTTP transport to the Bot API (aiohttp; proxy environment variables are ignored)."""
    return AiohttpRequest(**kwargs)


def build_application(
    settings: Settings,
    services: Services,
    *,
    rate_limiter: bool = True,
    updater: bool = True,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The Application with its persistence, defaults, jobs and every handler registered."""
    from handlers import register_all

    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_base_url.replace("/bot", "/file/bot"))
        .request(local_request(connection_pool_size=64))
        .get_updates_request(local_request())
        .persistence(SqliteConversationPersistence(services.db))
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    if not updater:
        builder = builder.updater(None)
    app = builder.build()
    app.bot_data["services"] = services
    register_all(app)
    from handlers.support import start_support_worker

    start_support_worker(app)
    if app.job_queue is not None:
        app.job_queue.run_repeating(_wipe_expired, interval=60, first=60, name="wipe-expired-keys")
    return app


async def _post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    from bot.status import StatusService

    services: Services = app.bot_data["services"]
    from handlers.support import verify_support_chat

    await app.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
    if services.settings.support_enabled:
        problems = await verify_support_chat(app.bot, services.settings)
        services.extras["support_chat_problems"] = problems
        for problem in problems:
            log.warning("support chat: %s", problem)
    if "status" not in services.extras:
        services.extras["status"] = StatusService(
            services.settings,
            factory=services.factory,
            db=services.db,
            get_me=app.bot.get_me,
            started_at=services.started_at,
        )
        directory = services.extras["status"].health.directory
        if directory is not None and app.job_queue is not None:

            async def read_exchange_list(context: Any) -> None:
                await directory.ensure_fresh()

            app.job_queue.run_once(read_exchange_list, when=0, name="hufi-exchange-list")


async def _post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services: Services = app.bot_data["services"]
    await services.close()


async def _wipe_expired(context: Any) -> None:
    services = services_of(context)
    wiped = await services.vault.wipe_expired() + await services.drafts.wipe_expired()
    if wiped:
        log.info("wiped %d expired key entries", wiped)
