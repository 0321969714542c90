"""The support delivery engine (bot.support) without Telegram: a fake sender, a real SQLite outbox, a clock the test
moves. Ordering per chat with chats in parallel, retries (flood waits, backoff, giving up), leases, topics that
are closed or deleted under the engine, and the staff rule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.support.card import SupportCard
from bot.support.delivery import Delivery
from bot.support.desk import CARD, TicketDesk
from bot.support.sender import Failure, SendError, Words
from bot.support.staff import StaffRule
from bot.support.topics import Topics
from storage.checks import CheckRepository
from storage.db import Database
from storage.outbox import OutboxRepository, OutboxStatus
from storage.support import TopicRepository, TopicState
from storage.users import UserRepository

SUPPORT = -100_555
ALICE, BOB, CAROL = 11, 22, 33


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Sent:
    method: str
    chat_id: int
    thread_id: int | None
    what: Any
    message_id: int


@dataclass
class FakeSender:
    """A messenger that records what it is asked to do; failures and gates are set per (method, chat)."""

    forum: bool = True
    sent: list[Sent] = field(default_factory=list)
    failures: dict[tuple[str, int | None], list[SendError]] = field(default_factory=dict)
    gates: dict[int, asyncio.Event] = field(default_factory=dict)
    topics_created: list[int] = field(default_factory=list)
    statuses: dict[int, str] = field(default_factory=dict)
    member_lookups: int = 0
    _ids: int = 1000
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    #: set when a call reaches a closed gate
    held: asyncio.Event = field(default_factory=asyncio.Event)

    def fail(self, method: str, chat_id: int | None, *errors: SendError) -> None:
        self.failures.setdefault((method, chat_id), []).extend(errors)

    async def _act(self, method: str, chat_id: int, what: Any = None, thread_id: int | None = None) -> int:
        gate = self.gates.get(chat_id)
        if gate is not None and not gate.is_set():
            self.held.set()
            await gate.wait()
        for key in ((method, chat_id), (method, None)):
            if self.failures.get(key):
                raise self.failures[key].pop(0)
        self._ids += 1
        self.sent.append(Sent(method, chat_id, thread_id, what, self._ids))
        self._arrived.set()
        return self._ids

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        async def enough() -> None:
            while len(self.sent) < count:
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(enough(), timeout)

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    # -- SupportSender ----------------------------------------------------------------------------------------
    async def is_forum(self, chat_id: int) -> bool:
        return self.forum

    async def member_status(self, chat_id: int, user_id: int) -> str:
        self.member_lookups += 1
        for key in (("member_status", chat_id), ("member_status", None)):
            if self.failures.get(key):
                raise self.failures[key].pop(0)
        return self.statuses.get(user_id, "left")

    async def create_topic(self, chat_id: int, name: str, color: int) -> int:
        thread = await self._act("create_topic", chat_id, name)
        self.topics_created.append(thread)
        return thread

    async def reopen_topic(self, chat_id: int, thread_id: int) -> None:
        await self._act("reopen_topic", chat_id, thread_id)

    async def close_topic(self, chat_id: int, thread_id: int) -> None:
        await self._act("close_topic", chat_id, thread_id)

    async def send_card(self, chat_id: int, card: SupportCard, *, thread_id: int | None = None) -> int:
        return await self._act("send_card", chat_id, card, thread_id)

    async def send_words(
        self, chat_id: int, words: Words, *, thread_id: int | None = None, reply_to: int | None = None
    ) -> int:
        return await self._act("send_words", chat_id, words, thread_id)

    async def copy_message(
        self,
        chat_id: int,
        from_chat_id: int,
        message_id: int,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
    ) -> int:
        return await self._act("copy_message", chat_id, message_id, thread_id)


@dataclass
class Engine:
    db: Database
    clock: Clock
    sender: FakeSender
    desk: TicketDesk
    topics: Topics
    delivery: Delivery
    outbox: OutboxRepository

    async def statuses(self) -> list[str]:
        return [row["status"] for row in await self.db.fetchall("SELECT status FROM outbox ORDER BY id")]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    db = await Database.open(tmp_path / "bot.sqlite3")
    clock = Clock()
    sender = FakeSender()
    users = UserRepository(db, clock)
    outbox = OutboxRepository(db, clock, backoff_base=1.0, backoff_max=300.0, max_attempts=3)
    history = CheckRepository(db, clock)
    desk = TicketDesk(
        db, support_chat_id=SUPPORT, users=users, check_history=history, outbox=outbox, version="t", clock=clock
    )
    topics = Topics(sender, TopicRepository(db, clock), users, SUPPORT)
    # a tick shorter than the shortest backoff: a drain returns instead of waiting for a retry in real time
    delivery = Delivery(desk, topics, sender, lease_seconds=60.0, tick_seconds=0.5)
    try:
        yield Engine(db, clock, sender, desk, topics, delivery, outbox)
    finally:
        await delivery.stop()
        await db.close()


# -- order ------------------------------------------------------------------------------------------------------------
async def test_each_chat_in_order_and_one_slow_chat_holds_up_no_other(engine: Engine) -> None:
    for n in range(3):
        await engine.desk.tell_user(BOB, Words("bob", {"n": n}))
    for n in range(3):
        await engine.desk.tell_user(CAROL, Words("carol", {"n": n}))
    for n in range(3):
        await engine.desk.relay_to_support(ALICE, 500 + n, None)
    engine.sender.gates[BOB] = gate = asyncio.Event()
    drain = asyncio.create_task(engine.delivery.drain())
    # Carol's and the support chat's items all go while Bob's first one hangs
    await engine.sender.wait_for(1 + 3 + 3)  # the topic, three copies, Carol's three
    assert engine.sender.to(BOB) == []
    gate.set()
    await drain
    assert [s.what.values["n"] for s in engine.sender.to(BOB)] == [0, 1, 2]
    assert [s.what.values["n"] for s in engine.sender.to(CAROL)] == [0, 1, 2]
    copies = [s for s in engine.sender.to(SUPPORT) if s.method == "copy_message"]
    assert [s.what for s in copies] == [500, 501, 502]
    assert await engine.statuses() == ["sent"] * 9


async def test_a_burst_for_one_user_opens_one_topic(engine: Engine) -> None:
    for n in range(5):
        await engine.desk.relay_to_support(ALICE, 700 + n, None)
    await engine.delivery.drain()
    assert len(engine.sender.topics_created) == 1
    thread = engine.sender.topics_created[0]
    copies = [s for s in engine.sender.to(SUPPORT) if s.method == "copy_message"]
    assert [s.what for s in copies] == [700, 701, 702, 703, 704] and {s.thread_id for s in copies} == {thread}


# -- retries ----------------------------------------------------------------------------------------------------------
async def test_a_flood_wait_is_honoured_and_the_chat_waits_behind_it(engine: Engine) -> None:
    engine.sender.fail("send_words", BOB, SendError(Failure.FLOOD, "Too Many Requests", retry_after=30))
    await engine.desk.tell_user(BOB, Words("first"))
    await engine.desk.tell_user(BOB, Words("second"))
    await engine.desk.tell_user(CAROL, Words("other"))
    await engine.delivery.drain()
    assert [s.what.key for s in engine.sender.sent] == ["other"]
    first = (await engine.db.fetchall("SELECT * FROM outbox ORDER BY id"))[0]
    assert first["attempts"] == 1 and first["next_attempt_at"] == engine.clock.now + 30
    assert first["last_error"] == "429 retry after 30"
    engine.clock.now += 29
    await engine.delivery.drain()
    assert engine.sender.to(BOB) == []
    engine.clock.now += 1
    await engine.delivery.drain()
    assert [s.what.key for s in engine.sender.to(BOB)] == ["first", "second"]


async def test_transient_failures_back_off_then_give_up(engine: Engine) -> None:
    engine.sender.fail("send_words", BOB, *[SendError(Failure.TRANSIENT, "NetworkError: reset")] * 3)
    engine.sender.fail("send_words", CAROL, SendError(Failure.TRANSIENT, "TimedOut"))
    await engine.desk.tell_user(BOB, Words("never"))
    await engine.desk.tell_user(CAROL, Words("later"))
    await engine.delivery.drain()
    assert engine.sender.sent == []
    engine.clock.now += 1  # backoff 1 s after the first failure
    await engine.delivery.drain()
    assert [s.what.key for s in engine.sender.sent] == ["later"]
    engine.clock.now += 2  # then 2 s
    await engine.delivery.drain()
    assert await engine.statuses() == ["failed", "sent"]  # three attempts, then the item is given up
    row = await engine.db.fetchone("SELECT * FROM outbox WHERE status = 'failed'")
    assert row is not None and row["attempts"] == 3 and "NetworkError" in row["last_error"]


async def test_a_user_who_blocked_the_bot_is_dropped_and_staff_are_told(engine: Engine) -> None:
    await engine.desk.users.upsert(BOB, "Bob", None, "en")
    engine.sender.fail("send_words", BOB, SendError(Failure.FORBIDDEN, "bot was blocked by the user"))
    await engine.desk.tell_user(BOB, Words("support_closed_user", {"ticket": 1}))
    await engine.delivery.drain()
    await engine.delivery.drain()  # the note queued by the failure
    assert (await engine.statuses())[0] == "failed"
    user = await engine.desk.users.get(BOB)
    assert user is not None and user.blocked_bot
    notes = [s.what for s in engine.sender.to(SUPPORT) if s.method == "send_words"]
    assert notes == [Words("note_user_blocked")]


async def test_a_message_deleted_before_it_was_copied_is_dropped(engine: Engine) -> None:
    engine.sender.fail("copy_message", SUPPORT, SendError(Failure.COPY_NOT_FOUND, "message to copy not found"))
    await engine.desk.relay_to_support(ALICE, 900, None)
    await engine.desk.relay_to_support(ALICE, 901, None)
    await engine.delivery.drain()
    assert await engine.statuses() == ["failed", "sent"]  # dropped at once: the next message is not held up
    assert [s.what for s in engine.sender.to(SUPPORT) if s.method == "copy_message"] == [901]


# -- leases -----------------------------------------------------------------------------------------------------------
async def test_an_item_leased_by_another_worker_waits_for_its_lease(engine: Engine) -> None:
    await engine.desk.tell_user(BOB, Words("held"))
    await engine.desk.tell_user(BOB, Words("after"))
    held = await engine.outbox.claim_next(lease_seconds=60)  # a worker that crashed holding it
    assert held is not None
    await engine.delivery.drain()
    assert engine.sender.sent == []  # neither the held item nor the one behind it
    engine.clock.now += 60
    await engine.delivery.drain()
    assert [s.what.key for s in engine.sender.sent] == ["held", "after"]  # delivered once each
    assert (await engine.outbox.get(held.id)).attempts == 2  # type: ignore[union-attr]


async def test_stop_waits_for_the_delivery_in_flight(engine: Engine) -> None:
    engine.sender.gates[BOB] = gate = asyncio.Event()
    engine.delivery.start()
    await engine.desk.tell_user(BOB, Words("in flight"))
    engine.delivery.kick()
    await asyncio.wait_for(engine.sender.held.wait(), 5)  # the delivery is in flight, held at the gate
    row = await engine.db.fetchone("SELECT id FROM outbox WHERE claimed_until IS NOT NULL")
    assert row is not None
    claimed = int(row["id"])
    stopping = asyncio.create_task(engine.delivery.stop())
    await asyncio.sleep(0)
    assert not stopping.done()
    gate.set()
    await asyncio.wait_for(stopping, 5)
    assert (await engine.outbox.get(claimed)).status is OutboxStatus.SENT  # type: ignore[union-attr]
    engine.delivery.kick()  # stopped: nothing starts
    assert engine.delivery._drain is None or engine.delivery._drain.done()


# -- topics -----------------------------------------------------------------------------------------------------------
async def test_a_deleted_topic_is_created_again_with_the_card_first(engine: Engine) -> None:
    ticket, _ = await engine.desk.open_ticket(ALICE, "my key fails", None)
    await engine.delivery.drain()
    first_thread = engine.sender.topics_created[0]
    engine.sender.fail("copy_message", SUPPORT, SendError(Failure.TOPIC_GONE, "message thread not found"))
    await engine.desk.relay_to_support(ALICE, 42, None)
    await engine.delivery.drain()
    second_thread = engine.sender.topics_created[1]
    assert second_thread != first_thread
    last_two = engine.sender.to(SUPPORT)[-2:]
    assert [s.method for s in last_two] == ["send_card", "copy_message"]
    assert last_two[0].what.header == "header_new_topic" and last_two[0].what.ticket_id == ticket.id
    assert {s.thread_id for s in last_two} == {second_thread}


async def test_a_closed_topic_is_reopened_and_a_note_for_a_closed_ticket_is_dropped(engine: Engine) -> None:
    await engine.desk.open_ticket(ALICE, None, None)
    await engine.delivery.drain()
    await engine.topics.mark(ALICE, TopicState.CLOSED)
    await engine.desk.relay_to_support(ALICE, 43, None)
    await engine.delivery.drain()
    assert [s.method for s in engine.sender.to(SUPPORT)][-2:] == ["reopen_topic", "copy_message"]
    topic = await engine.topics.get(ALICE)
    assert topic is not None and topic.state is TopicState.OPEN
    await engine.desk.close(ALICE)
    await engine.topics.mark(ALICE, TopicState.CLOSED)
    before = len(engine.sender.sent)
    await engine.desk.note(ALICE, Words("note_user_blocked"))
    await engine.delivery.drain()
    assert len(engine.sender.sent) == before and (await engine.statuses())[-1] == "sent"


async def test_without_topics_relays_reply_under_the_card(engine: Engine) -> None:
    engine.sender.forum = False
    await engine.desk.open_ticket(ALICE, None, None)
    await engine.desk.relay_to_support(ALICE, 44, None)
    await engine.delivery.drain()
    assert engine.sender.topics_created == []
    card, copy = engine.sender.to(SUPPORT)
    assert card.method == "send_card" and card.thread_id is None and isinstance(card.what, SupportCard)
    assert copy.method == "copy_message" and copy.thread_id is None
    kinds = [row["kind"] for row in await engine.db.fetchall("SELECT kind FROM outbox ORDER BY id")]
    assert kinds[0] == CARD


# -- the staff rule ---------------------------------------------------------------------------------------------------
async def test_staff_are_members_of_the_support_chat_and_listed_when_a_list_is_set() -> None:
    sender = FakeSender(statuses={ALICE: "administrator", BOB: "member", CAROL: "left"})
    now = [0.0]
    rule = StaffRule(sender, SUPPORT, monotonic=lambda: now[0])
    assert await rule.is_staff(ALICE) and await rule.is_staff(BOB) and not await rule.is_staff(CAROL)
    assert not await rule.is_staff(ALICE, is_bot=True) and not await rule.is_staff(None)
    listed = StaffRule(sender, SUPPORT, frozenset({BOB}), monotonic=lambda: now[0])
    lookups = sender.member_lookups
    assert not await listed.is_staff(ALICE)  # a member, but not listed: no lookup needed
    assert sender.member_lookups == lookups
    assert await listed.is_staff(BOB)
    sender.statuses[BOB] = "left"
    assert await listed.is_staff(BOB)  # remembered for a while
    now[0] += 31
    assert not await listed.is_staff(BOB)  # then asked again
    assert not await StaffRule(sender, None, frozenset({BOB})).is_staff(BOB)  # no support chat: nobody
    sender.fail("member_status", None, SendError(Failure.TRANSIENT, "TimedOut"))
    assert not await StaffRule(sender, SUPPORT).is_staff(ALICE)  # a failed lookup is "not staff"
