"""Services: every service and repository the handlers use, as typed fields, built in one place.

`open_services(settings, ...)` opens the database, wipes expired keys and builds everything, with its dependencies
passed in (the exchange client factory, the clock, and the messenger's side: `sender` for support, `get_me` for
/status), so tests, the demo and the benchmarks swap what they need. Handlers reach it with `services_of(context)`
and only use it: they construct nothing and never ask whether a service exists. The one thing decided here and
not everywhere else is whether human support is on: `support` is a `Support` when SUPPORT_CHAT_ID is set, else
None (the staff rule then says "nobody is staff").

Adding a service:
1. write it in the core (`bot/...`), transport-free, its dependencies as constructor arguments;
2. add a typed field to `Services` and build it in `open_services` (one line, from what is already here);
3. if it has something to start or stop, call it from `Services.start` / `Services.stop`, and release what it holds
   in `Services.close`;
4. handlers use `services_of(context).your_service`; tests get it as `env.services.your_service`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot import __version__
from bot.checks import CheckService
from bot.config import Settings
from bot.exchanges.factory import ClientFactory
from bot.exchanges.probes import KeyChecker
from bot.limits import RelayLimit
from bot.presses import Presses
from bot.status_page import StatusPage
from bot.support import Support, SupportChat
from bot.support.delivery import Delivery
from bot.support.desk import TicketDesk, support_outbox
from bot.support.sender import SupportSender
from bot.support.staff import StaffRule
from bot.support.topics import Topics
from bot.webapp import CheckSubmitter, WebAppService
from storage.checks import CheckRepository
from storage.db import Database
from storage.moderation import AbuseLimiter, BanRepository, Limits, RateLimitLedger, Retention, derive_limit_key
from storage.support import ChatMoveRepository, TopicRepository
from storage.users import UserRepository
from storage.vault import Vault, load_or_create_key

log = logging.getLogger(__name__)

#: How long what a user typed so far in the key flow is kept (encrypted) before they must start again.
DRAFT_TTL_SECONDS = 15 * 60
#: How many deleted messages the secret guard remembers (it deletes each at most once per process).
DELETED_MEMORY = 10_000


@dataclass(frozen=True, eq=False)
class Services:
    """Everything handlers need. Built once by `open_services`; never holds a secret in clear."""

    settings: Settings
    db: Database
    users: UserRepository
    bans: BanRepository
    #: when each user checked a key (the per-user hourly limit)
    ledger: RateLimitLedger
    #: the limits: per user, per API key (by HMAC), the global hourly ceiling, relays to support per user
    abuse: AbuseLimiter
    #: the relay limit as handlers use it (tells a user once when they are over it)
    relays: RelayLimit
    #: deletes check reports and ticket texts after RETENTION_DAYS (the expiry job calls it)
    retention: Retention
    #: keys kept encrypted for "check again"
    vault: Vault
    #: what a user typed so far in the key flow, kept encrypted
    drafts: Vault
    #: finished checks, stored without credentials
    check_history: CheckRepository
    #: exchange clients (shared markets, sandbox URLs)
    factory: ClientFactory
    #: runs HuFi's probes against an exchange
    key_checker: KeyChecker
    #: who may check now, the queue, storing the result, keeping the key
    checks: CheckService
    #: /status and `python -m bot status`
    status_page: StatusPage
    #: who is staff (members of the support chat, and listed when STAFF_USER_IDS is set)
    staff: StaffRule
    #: human support; None when SUPPORT_CHAT_ID is not set
    support: Support | None
    #: the Mini App form for keys (issue 21); `enabled` is False when WEBAPP_URL is not set
    webapp: WebAppService
    clock: Callable[[], float] = time.time
    started_at: float = field(default_factory=time.time)
    version: str = __version__
    #: (chat id, message id) of messages already deleted by the secret guard in this process
    deleted: set[tuple[int, int]] = field(default_factory=set)
    #: button presses: when each update arrived, which button actions run (one press is one action)
    presses: Presses = field(default_factory=Presses)

    def mark_deleted(self, chat_id: int, message_id: int) -> None:
        if len(self.deleted) > DELETED_MEMORY:
            self.deleted.clear()
        self.deleted.add((chat_id, message_id))

    async def start(self) -> None:
        """Start background work (support delivery, the Mini App's server); the messenger is up."""
        if self.support is not None:
            await self.support.start()
        await self.webapp.start()

    async def stop(self) -> None:
        """Stop background work; what is in flight finishes."""
        await self.webapp.stop()
        if self.support is not None:
            await self.support.stop()

    async def close(self) -> None:
        """Release everything (after `stop`)."""
        await self.status_page.close()
        await self.db.close()


async def open_services(
    settings: Settings,
    *,
    sender: SupportSender | None = None,
    get_me: Callable[[], Awaitable[object]] | None = None,
    factory: ClientFactory | None = None,
    url_overrides: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    webapp_demo_user: Mapping[str, Any] | None = None,
) -> Services:
    """Open the database, wipe expired keys, and build every service.

    `sender`: the messenger's side of support (without it support stays off); `get_me`: the Bot API's getMe for
    /status; `factory` or `url_overrides`: where exchange clients go (the sandbox, a test's fakes);
    `webapp_demo_user`: the offline demo's Telegram user, for whom the Mini App's stand-in script signs initData
    (never set in production).
    """
    secret = settings.bot_encryption_key.get_secret_value() if settings.bot_encryption_key else None
    key = load_or_create_key(secret, settings.data_dir)
    db = await Database.open(settings.database_path)
    try:
        vault = Vault(db, key, ttl_seconds=settings.key_retention_seconds, clock=clock)
        drafts = Vault(db, key, ttl_seconds=DRAFT_TTL_SECONDS, clock=clock, table="drafts")
        wiped = await vault.wipe_expired() + await drafts.wipe_expired()
        if wiped:
            log.info("start-up: wiped %d expired key entries", wiped)
        retention = Retention(db, settings.retention_days, clock)
        await retention.purge()
    except Exception:
        await db.close()
        raise
    factory = factory or ClientFactory(url_overrides=url_overrides)
    key_checker = KeyChecker(factory)
    users = UserRepository(db, clock)
    check_history = CheckRepository(db, clock)
    ledger = RateLimitLedger(db, clock)
    abuse = AbuseLimiter(db, derive_limit_key(key), limits_of(settings), clock)
    started_at = time.time()
    support = None
    if settings.support_chat_id is not None and sender is not None:
        chat = SupportChat(settings.support_chat_id, ChatMoveRepository(db, clock))
        await chat.load()  # the supergroup the support group became, if an earlier run followed it
        support = _support(settings, db, sender, users, check_history, clock, chat)
    checks = CheckService(
        key_checker,
        history=check_history,
        limiter=abuse,
        vault=vault,
        max_concurrent=settings.max_concurrent_checks,
        clock=clock,
    )
    bans = BanRepository(db, clock)
    submitter = CheckSubmitter(
        checks, bans=bans, drafts=drafts, support_contact=settings.support_contact, user_language=users.language
    )
    webapp = WebAppService(
        settings.webapp,
        bot_token=settings.telegram_bot_token.get_secret_value(),
        submitter=submitter,
        demo_user=webapp_demo_user,
    )
    return Services(
        settings=settings,
        db=db,
        users=users,
        bans=bans,
        ledger=ledger,
        abuse=abuse,
        relays=RelayLimit(abuse, clock),
        retention=retention,
        vault=vault,
        drafts=drafts,
        check_history=check_history,
        factory=factory,
        key_checker=key_checker,
        checks=checks,
        status_page=StatusPage(settings, factory=factory, db=db, get_me=get_me, started_at=started_at),
        staff=StaffRule(sender, support.chat if support is not None else None, settings.staff_user_ids),
        support=support,
        webapp=webapp,
        clock=clock,
        started_at=started_at,
    )


def limits_of(settings: Settings) -> Limits:
    """The limits from CHECKS_PER_HOUR, CHECKS_PER_KEY_PER_HOUR, CHECKS_PER_HOUR_GLOBAL and RELAYS_PER_HOUR."""
    return Limits(
        checks_per_user_per_hour=settings.checks_per_hour,
        checks_per_key_per_hour=settings.checks_per_key_per_hour,
        checks_per_hour=settings.checks_per_hour_global,
        relays_per_user=settings.relays_per_hour,
        relay_window_seconds=3600.0,
    )


def _support(
    settings: Settings,
    db: Database,
    sender: SupportSender,
    users: UserRepository,
    check_history: CheckRepository,
    clock: Callable[[], float],
    chat: SupportChat,
) -> Support:
    desk = TicketDesk(
        db,
        support_chat_id=chat,
        users=users,
        check_history=check_history,
        outbox=support_outbox(db, clock),
        version=__version__,
        clock=clock,
        outbound_ips=settings.hufi_outbound_ips,
        staff_language=settings.staff_language,
    )
    topics = Topics(sender, TopicRepository(db, clock), users, chat)
    return Support(desk, topics, Delivery(desk, topics, sender))


def services_of(context: Any) -> Services:
    """The services, from a handler's or a job's context (or from the Application itself)."""
    application = getattr(context, "application", context)
    return application.bot_data["services"]
