"""Storage on aiosqlite: schema and migrations, one repository per concern, the encrypted key vault and the
conversation-state persistence. Open one `Database` and share it::

    db = await Database.open(settings.database_path)
    repos = Repositories.create(db)
    vault = Vault(db, load_or_create_key(os.environ.get("BOT_ENCRYPTION_KEY"), db_path.parent), ttl_seconds)
    await vault.wipe_expired()
    persistence = SqliteConversationPersistence(db)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from storage.checks import CheckRecord, CheckRepository, SecretInReportError
from storage.db import DEFAULT_DATABASE_PATH, Database, MigrationError, Transaction
from storage.migrations import MIGRATIONS, SCHEMA_VERSION
from storage.moderation import (
    DEFAULT_RETENTION_DAYS,
    AbuseLimiter,
    Ban,
    BanRepository,
    Decision,
    Limits,
    PurgeResult,
    RateLimitLedger,
    Retention,
    derive_limit_key,
    key_mac,
)
from storage.outbox import OutboxItem, OutboxRepository, OutboxStatus
from storage.persistence import SqliteConversationPersistence
from storage.support import (
    MessageLink,
    MessageMapRepository,
    Ticket,
    TicketRepository,
    TicketStatus,
    Topic,
    TopicRepository,
    TopicState,
)
from storage.users import UserRecord, UserRepository
from storage.vault import (
    DEFAULT_VAULT_TTL_SECONDS,
    KEY_FILE_NAME,
    StoredKey,
    Vault,
    VaultKeyError,
    load_or_create_key,
    parse_key,
)


@dataclass(frozen=True, slots=True)
class Repositories:
    """Every repository over one database (the vault is separate: it needs the key and the TTL)."""

    users: UserRepository
    checks: CheckRepository
    tickets: TicketRepository
    topics: TopicRepository
    messages: MessageMapRepository
    outbox: OutboxRepository
    bans: BanRepository
    rate_limits: RateLimitLedger

    @classmethod
    def create(cls, db: Database, clock: Callable[[], float] = time.time) -> Repositories:
        return cls(
            users=UserRepository(db, clock),
            checks=CheckRepository(db, clock),
            tickets=TicketRepository(db, clock),
            topics=TopicRepository(db, clock),
            messages=MessageMapRepository(db, clock),
            outbox=OutboxRepository(db, clock),
            bans=BanRepository(db, clock),
            rate_limits=RateLimitLedger(db, clock),
        )


__all__ = [
    "DEFAULT_DATABASE_PATH",
    "DEFAULT_RETENTION_DAYS",
    "DEFAULT_VAULT_TTL_SECONDS",
    "KEY_FILE_NAME",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "AbuseLimiter",
    "Ban",
    "BanRepository",
    "CheckRecord",
    "CheckRepository",
    "Database",
    "Decision",
    "Limits",
    "MessageLink",
    "MessageMapRepository",
    "MigrationError",
    "OutboxItem",
    "OutboxRepository",
    "OutboxStatus",
    "PurgeResult",
    "RateLimitLedger",
    "Repositories",
    "Retention",
    "SecretInReportError",
    "SqliteConversationPersistence",
    "StoredKey",
    "Ticket",
    "TicketRepository",
    "TicketStatus",
    "Topic",
    "TopicRepository",
    "TopicState",
    "Transaction",
    "UserRecord",
    "UserRepository",
    "Vault",
    "VaultKeyError",
    "derive_limit_key",
    "key_mac",
    "load_or_create_key",
    "parse_key",
]
