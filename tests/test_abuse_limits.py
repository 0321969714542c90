"""Limits beyond the account and retention, on a real SQLite file (storage/moderation.py, migration V4_ABUSE)."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from pathlib import Path

import pytest

from bot.exchanges.report import KeyCheckReport
from storage import (
    AbuseLimiter,
    CheckRepository,
    Database,
    Limits,
    RateLimitLedger,
    Retention,
    TicketRepository,
    derive_limit_key,
    key_mac,
)
from storage.moderation import DAY, HOUR, LEDGER_KEEP_SECONDS

VAULT_KEY = bytes(range(32))


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with await Database.open(tmp_path / "bot.sqlite3") as database:
        yield database


def test_the_limit_key_is_derived_not_the_vault_key() -> None:
    limit_key = derive_limit_key(VAULT_KEY)
    assert len(limit_key) == 32 and limit_key != VAULT_KEY
    assert derive_limit_key(VAULT_KEY) == limit_key and derive_limit_key(bytes(32)) != limit_key


def test_key_mac_is_keyed_and_normalised() -> None:
    limit_key = derive_limit_key(VAULT_KEY)
    key = "3f2b8c1e-9a7d-4e6f-8b5c-1d2e3f4a5b6c"
    mac = key_mac(limit_key, key)
    assert len(mac) == 32 and key not in mac
    assert mac not in (hashlib.sha256(key.encode()).hexdigest(), hashlib.md5(key.encode()).hexdigest())
    assert key_mac(limit_key, f"  {key.upper()}\n") == mac  # retyped in capitals, with spaces: the same key
    assert key_mac(derive_limit_key(bytes(32)), key) != mac


async def test_per_key_limit_spans_accounts(db: Database) -> None:
    clock = Clock()
    limiter = AbuseLimiter(db, derive_limit_key(VAULT_KEY), Limits(checks_per_key_per_hour=3), clock)
    key = f"KEY{uuid.uuid4().hex}"
    for user in (1, 2, 3):  # three Telegram accounts, one key
        assert (await limiter.admit_check(user, key)).allowed
        clock.now += 60
    refused = await limiter.admit_check(4, key)
    assert (refused.allowed, refused.limit, refused.used, refused.allowed_count) == (False, "key", 3, 3)
    assert refused.retry_after == pytest.approx(HOUR - 180)
    assert (await limiter.admit_check(4, f"OTHER{uuid.uuid4().hex}")).allowed  # another key goes on
    clock.now += HOUR - 170  # the first check left the window
    assert (await limiter.admit_check(4, key)).allowed


async def test_the_key_is_never_stored(db: Database, tmp_path: Path) -> None:
    limiter = AbuseLimiter(db, derive_limit_key(VAULT_KEY))
    key = f"CANARYKEY{uuid.uuid4().hex}"
    await limiter.admit_check(1, key)
    assert await db.fetchval("SELECT key_mac FROM key_events") == limiter.mac(key)
    await db.wal_checkpoint()
    raw = (tmp_path / "bot.sqlite3").read_bytes()
    for form in (
        key,
        key.lower(),
        hashlib.sha256(key.encode()).hexdigest(),
        hashlib.sha256(key.lower().encode()).hexdigest(),
    ):
        assert form.encode() not in raw


async def test_user_limit_comes_first_and_counts_with_the_ledger(db: Database) -> None:
    clock = Clock()
    limiter = AbuseLimiter(db, derive_limit_key(VAULT_KEY), Limits(checks_per_user_per_hour=2), clock)
    ledger = RateLimitLedger(db, clock)
    await ledger.record(1)  # a check recorded the old way counts too
    assert (await limiter.admit_check(1, "k1" * 10)).allowed
    refused = await limiter.admit_check(1, "k2" * 10)
    assert (refused.allowed, refused.limit) == (False, "user")
    assert await ledger.count_since(1, clock.now - HOUR) == 2  # the refusal was not counted


async def test_global_ceiling(db: Database) -> None:
    clock = Clock()
    limiter = AbuseLimiter(db, derive_limit_key(VAULT_KEY), Limits(checks_per_hour=5), clock)
    for user in range(5):
        assert (await limiter.admit_check(user, f"key{user}" * 4)).allowed
        clock.now += 1
    refused = await limiter.admit_check(99, "fresh" * 4)
    assert (refused.allowed, refused.limit, refused.minutes) == (False, "global", 60)
    assert await limiter.checks_in_last_hour() == 5


async def test_admit_without_recording(db: Database) -> None:
    limiter = AbuseLimiter(db, derive_limit_key(VAULT_KEY), Limits(checks_per_key_per_hour=1))
    for _ in range(3):
        assert (await limiter.admit_check(1, "same" * 5, record=False)).allowed
    assert await db.fetchval("SELECT COUNT(*) FROM key_events") == 0


async def test_relay_limit_per_user(db: Database) -> None:
    clock = Clock()
    limiter = AbuseLimiter(db, derive_limit_key(VAULT_KEY), Limits(relays_per_user=3, relay_window_seconds=600), clock)
    for _ in range(3):
        assert (await limiter.admit_relay(7)).allowed
        clock.now += 10
    refused = await limiter.admit_relay(7)
    assert (refused.allowed, refused.limit, refused.retry_after) == (False, "relay", pytest.approx(570))
    assert (await limiter.admit_relay(8)).allowed  # other users' support traffic goes on
    clock.now += 571
    assert (await limiter.admit_relay(7)).allowed
    # relays never count as checks
    assert await RateLimitLedger(db, clock).count_since(7, 0) == 0


async def test_concurrent_admissions_never_exceed_the_limit(db: Database) -> None:
    import asyncio

    limiter = AbuseLimiter(db, derive_limit_key(VAULT_KEY), Limits(checks_per_key_per_hour=4))
    results = await asyncio.gather(*(limiter.admit_check(u, "racekey" * 3) for u in range(20)))
    assert sum(r.allowed for r in results) == 4


def test_limiter_refuses_a_short_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        AbuseLimiter(None, b"short")  # type: ignore[arg-type]


async def test_retention_deletes_old_reports_texts_and_ledger_rows(db: Database, tmp_path: Path) -> None:
    clock = Clock(100 * DAY)
    checks = CheckRepository(db, clock)
    tickets = TicketRepository(db, clock)
    old_text = f"OLDTEXT{uuid.uuid4().hex}"
    old_check = await checks.add(1, KeyCheckReport("okx", key_fingerprint="abcd…wxyz"))
    old_ticket, _ = await tickets.open(1, old_text, last_check_id=old_check)
    await tickets.close(old_ticket.id)
    limiter = AbuseLimiter(db, derive_limit_key(VAULT_KEY), clock=clock)
    await limiter.admit_check(1, "somekey" * 3)
    await limiter.admit_relay(1)

    clock.now += 91 * DAY
    new_check = await checks.add(2, KeyCheckReport("gate", key_fingerprint="1234…7890"))
    new_ticket, _ = await tickets.open(2, "recent text", last_check_id=new_check)
    await limiter.admit_relay(2)

    result = await Retention(db, days=90, clock=clock).purge()
    assert (result.checks, result.ticket_texts, result.ledger_rows) == (1, 1, 3)
    assert await checks.get(old_check) is None and await checks.get(new_check) is not None
    kept = await tickets.get(old_ticket.id)
    assert kept is not None and kept.description == "" and kept.last_check_id is None
    recent = await tickets.get(new_ticket.id)
    assert recent is not None and recent.description == "recent text"
    assert await db.fetchval("SELECT COUNT(*) FROM rate_events") == 1  # today's relay
    # gone from the files too, WAL included
    for name in ("bot.sqlite3", "bot.sqlite3-wal"):
        file = tmp_path / name
        assert not file.exists() or old_text.encode() not in file.read_bytes()
    assert (await Retention(db, days=90, clock=clock).purge()).total == 0


async def test_retention_days_are_configurable(db: Database) -> None:
    clock = Clock(10 * DAY)
    checks = CheckRepository(db, clock)
    await checks.add(1, KeyCheckReport("okx"))
    clock.now += 8 * DAY
    assert (await Retention(db, days=90, clock=clock).purge()).checks == 0
    assert (await Retention(db, days=7, clock=clock).purge()).checks == 1
    with pytest.raises(ValueError):
        Retention(db, days=0)


async def test_ledger_keep_outlasts_every_window() -> None:
    assert LEDGER_KEEP_SECONDS > HOUR and LEDGER_KEEP_SECONDS > Limits().relay_window_seconds


async def test_migration_v4_adds_the_tables(db: Database) -> None:
    names = {row[0] for row in await db.fetchall("SELECT name FROM sqlite_master")}
    assert {"key_events", "key_events_by_key", "rate_events_by_kind", "checks_by_age", "tickets_by_age"} <= names
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("INSERT INTO key_events (key_mac, at) VALUES ('short', 1)")
