"""Users, checks, tickets, forum topics, the message map, bans and the rate-limit ledger."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.diagnosis.model import Cause, Diagnosis, Permission
from bot.exchanges.report import KeyCheckReport, ProbeOutcome, ProbeStatus
from storage import Database, Repositories, TicketStatus, TopicState


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


@pytest.fixture
def repos(db: Database, clock: Clock) -> Repositories:
    return Repositories.create(db, clock)


async def test_users_upsert_and_blocked_flag(repos: Repositories, clock: Clock) -> None:
    await repos.users.upsert(1, "Ann", "ann", "en")
    first = await repos.users.get(1)
    assert first is not None and first.first_name == "Ann" and not first.blocked_bot
    assert await repos.users.set_blocked(1)
    assert (await repos.users.get(1)).blocked_bot  # type: ignore[union-attr]
    clock.now += 50
    await repos.users.upsert(1, "Anna", None, "de")
    user = await repos.users.get(1)
    assert user is not None
    assert (user.first_name, user.username, user.language_code) == ("Anna", None, "de")
    assert (user.first_seen, user.last_seen) == (first.first_seen, first.last_seen + 50)
    assert not user.blocked_bot  # writing to the bot means it is not blocked
    assert not await repos.users.set_blocked(404)
    assert await repos.users.get(404) is None
    assert await repos.users.count() == 1
    assert await repos.users.count(active_since=clock.now + 1) == 0


def _report(exchange: str = "binance", *, ok: bool = False) -> KeyCheckReport:
    report = KeyCheckReport(exchange_id=exchange, key_fingerprint="abcd…wxyz")
    for perm in Permission:
        if ok or perm is not Permission.VIEW_DEPOSIT_ADDRESS:
            report.set_outcome(ProbeOutcome(perm, ProbeStatus.GRANTED, summary="ok"))
        else:
            diag = Diagnosis(Cause.PERMISSION_MISSING, code="-2015", detail="[REDACTED]")
            report.set_outcome(ProbeOutcome(perm, ProbeStatus.FAILED, diagnosis=diag, error_type="PermissionDenied"))
            report.diagnosis = diag
    return report


async def test_checks_store_and_list(repos: Repositories, clock: Clock) -> None:
    failed = _report()
    first = await repos.checks.add(1, failed, "MARKET_MAKING")
    clock.now += 10
    second = await repos.checks.add(1, _report("okx", ok=True))
    await repos.checks.add(2, _report())

    record = await repos.checks.get(first)
    assert record is not None
    assert (record.user_id, record.exchange_id, record.key_fingerprint) == (1, "binance", "abcd…wxyz")
    assert (record.campaign_type, record.cause, record.ok) == ("MARKET_MAKING", "permission_missing", False)
    assert record.to_report().to_dict() == failed.to_dict()

    recent = await repos.checks.recent(1)
    assert [r.id for r in recent] == [second, first]
    assert recent[0].cause == "ok" and recent[0].ok
    assert [r.id for r in await repos.checks.recent(1, exchange_id="binance")] == [first]
    assert len(await repos.checks.recent(1, limit=1)) == 1
    assert await repos.checks.get(999) is None
    assert await repos.checks.count_since(clock.now) == 2


async def test_checks_guard_skips_short_values_only(repos: Repositories) -> None:
    report = _report()
    report.evidence["note"] = "0 trades found for key XYZ-LONG-SECRET-123"
    # A short passphrase that happens to be a common word does not block storing.
    assert await repos.checks.add(1, report, forbidden=["trades", None, ""]) > 0
    with pytest.raises(ValueError, match="credential"):
        await repos.checks.add(1, report, forbidden=["XYZ-LONG-SECRET-123"])


async def test_one_open_ticket_per_user(repos: Repositories, db: Database, clock: Clock) -> None:
    check_id = await repos.checks.add(1, _report())
    ticket, created = await repos.tickets.open(1, "deposit address fails", check_id)
    assert created and ticket.is_open and ticket.last_check_id == check_id
    clock.now += 5
    again, created = await repos.tickets.open(1, None, None)
    assert not created and again.id == ticket.id
    assert again.description == "deposit address fails" and again.last_check_id == check_id
    assert again.updated_at == ticket.updated_at + 5
    clock.now += 1
    other, _ = await repos.tickets.open(2, "other user")
    assert other.id != ticket.id
    assert await repos.tickets.count_open() == 2
    assert [t.id for t in await repos.tickets.list_open()] == [ticket.id, other.id]  # least recently active first

    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("INSERT INTO tickets (user_id, status, created_at, updated_at) VALUES (1, 'open', 0, 0)")

    closed = await repos.tickets.close_for_user(1)
    assert closed is not None and closed.status is TicketStatus.CLOSED and closed.closed_at == clock.now
    assert await repos.tickets.get_open(1) is None
    assert not await repos.tickets.close(ticket.id)
    new, created = await repos.tickets.open(1, "again")
    assert created and new.id != ticket.id
    assert await repos.tickets.touch(new.id)
    assert await repos.tickets.close_for_user(3) is None


async def test_ticket_keeps_nothing_dangling_when_check_is_deleted(repos: Repositories, db: Database) -> None:
    check_id = await repos.checks.add(1, _report())
    ticket, _ = await repos.tickets.open(1, "x", check_id)
    await db.execute("DELETE FROM checks WHERE id = ?", (check_id,))
    assert (await repos.tickets.get(ticket.id)).last_check_id is None  # type: ignore[union-attr]


async def test_topic_map_unique_per_user(repos: Repositories) -> None:
    topic = await repos.topics.set(1, -100, 11)
    assert topic.state is TopicState.OPEN
    assert await repos.topics.by_thread(-100, 11) == topic
    # The user's topic was deleted and a new one created: the map follows, one row per user.
    await repos.topics.set(1, -100, 12)
    assert (await repos.topics.get(1)).thread_id == 12  # type: ignore[union-attr]
    assert await repos.topics.by_thread(-100, 11) is None
    # A thread id belongs to one user only.
    await repos.topics.set(2, -100, 12)
    assert (await repos.topics.by_thread(-100, 12)).user_id == 2  # type: ignore[union-attr]
    assert await repos.topics.get(1) is None
    assert await repos.topics.set_state(2, TopicState.CLOSED)
    assert (await repos.topics.get(2)).state is TopicState.CLOSED  # type: ignore[union-attr]
    assert not await repos.topics.set_state(1, TopicState.DELETED)
    with pytest.raises(ValueError):
        await repos.topics.set_state(2, "archived")  # type: ignore[arg-type]
    assert await repos.topics.remove(2)


async def test_message_map_both_directions(repos: Repositories, clock: Clock) -> None:
    await repos.messages.link(42, 5, -100, 900)
    clock.now += 1
    await repos.messages.link(42, 5, -100, 901)  # the same user message copied again
    await repos.messages.link(42, 7, -100, 905)
    to_support = await repos.messages.to_support(42, 5)
    assert to_support is not None and to_support.support_message_id == 901
    to_user = await repos.messages.to_user(-100, 900)
    assert to_user is not None and (to_user.user_chat_id, to_user.user_message_id) == (42, 5)
    assert await repos.messages.to_user(-100, 1) is None
    assert await repos.messages.prune(clock.now) == 1
    assert await repos.messages.to_user(-100, 900) is None


async def test_bans(repos: Repositories, clock: Clock) -> None:
    assert not await repos.bans.is_banned(1)
    await repos.bans.ban(1, banned_by=7, reason="spam")
    assert await repos.bans.is_banned(1)
    clock.now += 1
    await repos.bans.ban(1, banned_by=8)
    ban = await repos.bans.get(1)
    assert ban is not None and (ban.banned_by, ban.reason, ban.at) == (8, None, clock.now)
    assert [b.user_id for b in await repos.bans.list_bans()] == [1]
    assert await repos.bans.unban(1)
    assert not await repos.bans.unban(1)
    assert not await repos.bans.is_banned(1)


async def test_rate_limit_ledger(repos: Repositories, clock: Clock) -> None:
    ledger = repos.rate_limits
    start = clock.now
    for _ in range(3):
        await ledger.record(1)
        clock.now += 60
    await ledger.record(2)
    await ledger.record(1, kind="escalate")
    assert await ledger.count_since(1, start) == 3
    assert await ledger.count_since(1, start + 60) == 2
    assert await ledger.count_since(1, start, kind="escalate") == 1
    assert await ledger.count_since(2, start) == 1
    assert await ledger.oldest_since(1, start + 1) == start + 60
    assert await ledger.oldest_since(3, start) is None
    assert await ledger.prune(start + 61) == 2
    assert await ledger.count_since(1, 0) == 1
