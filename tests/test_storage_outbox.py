"""The outbox: ordered per chat, retried with backoff, leased, and kept over restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Database, OutboxRepository, OutboxStatus


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
def outbox(db: Database, clock: Clock) -> OutboxRepository:
    return OutboxRepository(db, clock, backoff_base=2.0, backoff_max=30.0, max_attempts=4)


async def test_delivery_is_ordered_per_chat(outbox: OutboxRepository) -> None:
    a1 = await outbox.enqueue("copy", 1, {"n": 1})
    a2 = await outbox.enqueue("copy", 1, {"n": 2})
    b1 = await outbox.enqueue("copy", 2, {"n": 3})

    first = await outbox.claim_next()
    assert first is not None and first.id == a1 and first.payload == {"n": 1} and first.attempts == 1
    second = await outbox.claim_next()
    assert second is not None and second.id == b1  # chat 1 waits for a1; chat 2 is not held up
    assert await outbox.claim_next() is None
    await outbox.mark_sent(a1)
    third = await outbox.claim_next()
    assert third is not None and third.id == a2
    await outbox.mark_sent(a2)
    await outbox.mark_sent(b1)
    assert await outbox.count(OutboxStatus.SENT) == 3
    assert await outbox.count() == 0
    sent = await outbox.get(a1)
    assert sent is not None and sent.status is OutboxStatus.SENT and sent.sent_at is not None


async def test_retry_with_backoff_keeps_chat_order(outbox: OutboxRepository, clock: Clock) -> None:
    a1 = await outbox.enqueue("copy", 1, {"n": 1})
    a2 = await outbox.enqueue("copy", 1, {"n": 2})
    b1 = await outbox.enqueue("copy", 2, {"n": 3})

    delays = []
    for attempt in range(1, 4):
        item = await outbox.claim_next()
        assert item is not None and item.id == a1 and item.attempts == attempt
        retried = await outbox.retry_later(a1, "timed out")
        assert retried is not None and retried.status is OutboxStatus.PENDING
        delays.append(retried.next_attempt_at - clock.now)
        # While a1 waits, a2 must not overtake it, but chat 2 goes ahead.
        other = await outbox.claim_next()
        if attempt == 1:
            assert other is not None and other.id == b1
            await outbox.mark_sent(b1)
        else:
            assert other is None
        clock.now = retried.next_attempt_at
    assert delays == [2.0, 4.0, 8.0]

    item = await outbox.claim_next()
    assert item is not None and item.id == a1 and item.attempts == 4
    failed = await outbox.retry_later(a1, "still down")
    assert failed is not None and failed.status is OutboxStatus.FAILED and failed.last_error == "still down"
    # A failed item no longer blocks its chat.
    nxt = await outbox.claim_next()
    assert nxt is not None and nxt.id == a2


async def test_retry_after_and_cap(outbox: OutboxRepository, clock: Clock) -> None:
    assert outbox.backoff(1) == 2.0
    assert outbox.backoff(20) == 30.0
    item_id = await outbox.enqueue("send", 1, {})
    await outbox.claim_next()
    retried = await outbox.retry_later(item_id, retry_after=17)
    assert retried is not None and retried.next_attempt_at == clock.now + 17
    assert await outbox.next_due_at() == clock.now + 17
    assert await outbox.retry_later(404) is None


async def test_mark_failed_and_error_is_redacted(outbox: OutboxRepository) -> None:
    token = "123456789:AAEhBOweik9ai2o4wWkxLM-abcdefghijkl"
    item_id = await outbox.enqueue("send", 1, {"text": "hi"})
    await outbox.claim_next()
    await outbox.mark_failed(item_id, f"Forbidden: bot was blocked, url /bot{token}/sendMessage")
    item = await outbox.get(item_id)
    assert item is not None and item.status is OutboxStatus.FAILED
    assert item.last_error is not None and token not in item.last_error
    assert await outbox.count(OutboxStatus.FAILED) == 1


async def test_lease_expires_after_a_crash(outbox: OutboxRepository, clock: Clock) -> None:
    item_id = await outbox.enqueue("send", 1, {})
    assert (await outbox.claim_next(lease_seconds=30)) is not None
    assert await outbox.claim_next() is None
    clock.now += 31
    again = await outbox.claim_next()
    assert again is not None and again.id == item_id and again.attempts == 2


async def test_not_before(outbox: OutboxRepository, clock: Clock) -> None:
    await outbox.enqueue("reminder", 1, {}, not_before=clock.now + 100)
    assert await outbox.claim_next() is None
    assert await outbox.next_due_at() == clock.now + 100
    clock.now += 100
    assert await outbox.claim_next() is not None


async def test_survives_reopen(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "bot.sqlite3"
    async with await Database.open(path) as db:
        outbox = OutboxRepository(db, clock)
        first = await outbox.enqueue("copy", 5, {"text": "héllo"})
        second = await outbox.enqueue("copy", 5, {"text": "world"})
        assert (await outbox.claim_next(lease_seconds=60)) is not None  # in flight when the bot dies
    clock.now += 61
    async with await Database.open(path) as db:
        outbox = OutboxRepository(db, clock)
        assert await outbox.count() == 2
        item = await outbox.claim_next()
        assert item is not None and item.id == first and item.payload == {"text": "héllo"}
        await outbox.mark_sent(first)
        item = await outbox.claim_next()
        assert item is not None and item.id == second
        await outbox.mark_sent(second)
        clock.now += 10
        assert await outbox.prune(clock.now) == 2
        assert await outbox.next_due_at() is None
