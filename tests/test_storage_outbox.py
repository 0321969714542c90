"""The outbox: ordered per lane (conversation), retried with backoff, leased in an owner's name, and kept over
restarts; a failing item holds its lane only until its first retry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Database, OutboxRepository, OutboxStatus
from storage.outbox import HOLD_ATTEMPTS


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


async def test_retry_with_backoff_then_give_up(outbox: OutboxRepository, clock: Clock) -> None:
    a1 = await outbox.enqueue("copy", 1, {"n": 1})
    delays = []
    for attempt in range(1, 4):
        item = await outbox.claim_next()
        assert item is not None and item.id == a1 and item.attempts == attempt
        retried = await outbox.retry_later(a1, "timed out")
        assert retried is not None and retried.status is OutboxStatus.PENDING
        delays.append(retried.next_attempt_at - clock.now)
        assert await outbox.claim_next() is None  # not due before its backoff
        clock.now = retried.next_attempt_at
    assert delays == [2.0, 4.0, 8.0]
    item = await outbox.claim_next()
    assert item is not None and item.id == a1 and item.attempts == 4
    failed = await outbox.retry_later(a1, "still down")
    assert failed is not None and failed.status is OutboxStatus.FAILED and failed.last_error == "still down"


async def test_lanes_of_one_chat_are_independent(outbox: OutboxRepository) -> None:
    alice = await outbox.enqueue("copy", -100, {"n": 1}, lane="support:1")
    bob = await outbox.enqueue("copy", -100, {"n": 2}, lane="support:2")
    alice_2 = await outbox.enqueue("copy", -100, {"n": 3}, lane="support:1")
    first = await outbox.claim_next()
    second = await outbox.claim_next()
    assert first is not None and second is not None and (first.id, second.id) == (alice, bob)
    assert await outbox.claim_next() is None  # Alice's second waits for her first, in flight
    await outbox.retry_later(alice, "timed out")  # and for its first retry
    assert await outbox.claim_next() is None
    await outbox.mark_sent(bob)
    assert (await outbox.get(alice_2)).status is OutboxStatus.PENDING  # type: ignore[union-attr]


async def test_a_failing_item_holds_its_lane_until_its_first_retry_then_is_parked(
    outbox: OutboxRepository, clock: Clock
) -> None:
    """Order kept: a later item of the lane goes only after every earlier one was sent, gave up, or was tried
    HOLD_ATTEMPTS times; a parked item keeps its own retries and no longer holds anything."""
    assert HOLD_ATTEMPTS == 2
    a1 = await outbox.enqueue("copy", 1, {"n": 1})
    a2 = await outbox.enqueue("copy", 1, {"n": 2})
    # a blip: a1 fails once; a2 waits for a1's retry, which succeeds: the order is kept
    assert (await outbox.claim_next()).id == a1  # type: ignore[union-attr]
    retried = await outbox.retry_later(a1, "timed out")
    assert retried is not None
    assert await outbox.claim_next() is None
    assert await outbox.next_due_at() == retried.next_attempt_at
    clock.now = retried.next_attempt_at
    assert (await outbox.claim_next()).id == a1  # type: ignore[union-attr]
    assert await outbox.claim_next() is None  # a1's retry is in flight: a2 still waits
    # the retry fails too: a1 is parked with its own backoff, and a2 goes on at once
    parked = await outbox.retry_later(a1, "timed out")
    assert parked is not None and parked.status is OutboxStatus.PENDING and parked.next_attempt_at > clock.now
    nxt = await outbox.claim_next()
    assert nxt is not None and nxt.id == a2
    await outbox.mark_sent(a2)
    clock.now = parked.next_attempt_at
    again = await outbox.claim_next()
    assert again is not None and again.id == a1 and again.attempts == 3
    await outbox.mark_sent(a1)


async def test_a_flood_wait_holds_the_whole_chat_and_is_not_counted(outbox: OutboxRepository, clock: Clock) -> None:
    a1 = await outbox.enqueue("copy", -100, {"n": 1}, lane="support:1")
    b1 = await outbox.enqueue("copy", -100, {"n": 2}, lane="support:2")
    other = await outbox.enqueue("copy", 7, {"n": 3})
    item = await outbox.claim_next()
    assert item is not None and item.id == a1
    assert await outbox.hold_chat(-100, clock.now + 30) == 2
    flood = await outbox.retry_later(a1, "429", retry_after=30, counted=False)
    assert flood is not None and flood.attempts == 0 and flood.next_attempt_at == clock.now + 30
    nxt = await outbox.claim_next()
    assert nxt is not None and nxt.id == other  # another chat is not held
    assert await outbox.claim_next() is None  # b1 waits with the chat
    clock.now += 30
    assert [(await outbox.claim_next()).id for _ in range(2)] == [a1, b1]  # type: ignore[union-attr]


async def test_start_up_releases_the_leases_of_a_dead_owner(outbox: OutboxRepository) -> None:
    dead = await outbox.enqueue("copy", 1, {"n": 1})
    later = await outbox.enqueue("copy", 1, {"n": 2})
    mine = await outbox.enqueue("copy", 2, {"n": 3})
    assert (await outbox.claim_next(lease_seconds=90, owner="dead")).id == dead  # type: ignore[union-attr]
    assert (await outbox.claim_next(lease_seconds=90, owner="me")).id == mine  # type: ignore[union-attr]
    assert await outbox.claim_next(owner="me") is None  # "later" waits behind the dead process's lease
    assert await outbox.release_leases("me") == 1
    again = await outbox.claim_next(owner="me")
    assert again is not None and again.id == dead and again.attempts == 2 and again.lease_owner == "me"
    await outbox.mark_sent(dead)
    assert (await outbox.claim_next(owner="me")).id == later  # type: ignore[union-attr]
    assert (await outbox.get(mine)).lease_owner == "me"  # type: ignore[union-attr]


async def test_an_item_queued_in_a_rolled_back_transaction_does_not_exist(
    outbox: OutboxRepository, db: Database
) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await outbox.enqueue("copy", 1, {"n": 1}, tx=tx)
            raise RuntimeError("the ticket could not be stored")
    assert await outbox.count() == 0


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
