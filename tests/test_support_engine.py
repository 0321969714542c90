"""The support delivery engine (bot.support) without Telegram: a fake sender, a real SQLite outbox, a clock the test
moves. Ordering per conversation with conversations in parallel, retries (flood waits, backoff, giving up), final
failures, leases of dead processes, the support chat moving, topics that are closed or deleted under the engine,
and the staff rule (anonymous administrators included)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.support.card import CardHeader, SupportCard
from bot.support.chat import SupportChat
from bot.support.delivery import Delivery
from bot.support.desk import CARD, TicketDesk
from bot.support.sender import Failure, SendError, Words
from bot.support.staff import StaffRule, StaffVerdict
from bot.support.topics import Topics
from storage.checks import CheckRepository
from storage.db import Database
from storage.outbox import OutboxRepository, OutboxStatus
from storage.support import ChatMoveRepository, TopicRepository, TopicState
from storage.users import UserRepository

SUPPORT = -100_555
UPGRADED = -100_777
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
    looked_up_in: list[int] = field(default_factory=list)
    copy_failures: dict[int, list[SendError]] = field(default_factory=dict)
    _ids: int = 1000
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    #: set when a call reaches a closed gate
    held: asyncio.Event = field(default_factory=asyncio.Event)

    def fail(self, method: str, chat_id: int | None, *errors: SendError) -> None:
        self.failures.setdefault((method, chat_id), []).extend(errors)

    def fail_copy(self, message_id: int, *errors: SendError) -> None:
        """Copies of this one message fail (one error per try)."""
        self.copy_failures.setdefault(message_id, []).extend(errors)

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
        self.looked_up_in.append(chat_id)
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
        if self.copy_failures.get(message_id):
            raise self.copy_failures[message_id].pop(0)
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
    chat = SupportChat(SUPPORT, ChatMoveRepository(db, clock))
    desk = TicketDesk(
        db, support_chat_id=chat, users=users, check_history=history, outbox=outbox, version="t", clock=clock
    )
    topics = Topics(sender, TopicRepository(db, clock), users, chat)
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
    # a flood wait is the chat's: not counted as an attempt of the item
    assert first["attempts"] == 0 and first["next_attempt_at"] == engine.clock.now + 30
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
    await engine.delivery.drain()  # the note queued when the item was given up
    assert await engine.statuses() == ["failed", "sent", "sent"]  # three attempts, then the item is given up
    row = await engine.db.fetchone("SELECT * FROM outbox WHERE status = 'failed'")
    assert row is not None and row["attempts"] == 3 and "NetworkError" in row["last_error"]
    notes = [s.what for s in engine.sender.to(SUPPORT) if s.method == "send_words"]
    assert notes == [Words("note_not_delivered_gave_up")]  # staff are told, in Bob's topic


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


async def test_a_message_that_cant_be_copied_is_final_and_staff_are_told(engine: Engine) -> None:
    """Either way: a staff message the user can't get, a user message staff can't see; nothing is retried and
    nothing behind it waits."""
    cannot = SendError(Failure.CANNOT_COPY, "the message can't be copied")
    engine.sender.fail("copy_message", BOB, cannot)
    engine.sender.fail("copy_message", SUPPORT, cannot)
    await engine.desk.relay_to_user(BOB, 50, None)  # e.g. a staff message of a kind bots can't copy
    await engine.desk.tell_user(BOB, Words("support_closed_user", {"ticket": 1}))
    await engine.desk.relay_to_support(ALICE, 60, None)
    await engine.desk.relay_to_support(ALICE, 61, None)
    await engine.delivery.drain()
    await engine.delivery.drain()  # the notes queued by the failures
    rows = await engine.db.fetchall("SELECT kind, status, attempts FROM outbox ORDER BY id")
    assert [(r["kind"], r["status"], r["attempts"]) for r in rows[:4]] == [
        ("to_user", "failed", 1),
        ("user_text", "sent", 1),
        ("to_support", "failed", 1),
        ("to_support", "sent", 1),
    ]
    assert [s.what.key for s in engine.sender.to(BOB)] == ["support_closed_user"]
    notes = {s.what.key for s in engine.sender.to(SUPPORT) if s.method == "send_words"}
    assert notes == {"note_not_delivered_uncopyable", "note_not_shown_uncopyable"}
    assert await engine.db.fetchval("SELECT COUNT(*) FROM outbox WHERE status = 'pending'") == 0


async def test_one_users_failing_message_never_holds_up_another_users(engine: Engine) -> None:
    """Per-item failure: Alice's copy fails again and again (parked with its own retries); Bob's card and
    messages in the same support chat go at once, and Alice's next message goes after her first one's retry."""
    engine.sender.forum = False
    # Alice's first message, at its first try and at its retry
    engine.sender.fail_copy(70, *[SendError(Failure.TRANSIENT, "Internal Server Error")] * 2)
    await engine.desk.relay_to_support(ALICE, 70, None)
    await engine.desk.relay_to_support(ALICE, 71, None)
    await engine.desk.open_ticket(BOB, "my key", None)
    await engine.desk.relay_to_support(BOB, 80, None)
    await engine.delivery.drain()
    sent = [(s.method, s.what if s.method == "copy_message" else None) for s in engine.sender.to(SUPPORT)]
    assert sent == [("send_card", None), ("copy_message", 80)]  # Bob's, while Alice's first waits for its retry
    engine.clock.now += 1.1  # Alice's first retry (backoff 1 s, jitter off): fails again, now parked
    await engine.delivery.drain()
    copies = [s.what for s in engine.sender.to(SUPPORT) if s.method == "copy_message"]
    assert copies == [80, 71]  # her second went on after that retry
    engine.clock.now += 2.1
    await engine.delivery.drain()
    copies = [s.what for s in engine.sender.to(SUPPORT) if s.method == "copy_message"]
    assert copies == [80, 71, 70]  # the parked one arrived on its own retry, late
    assert await engine.statuses() == ["sent"] * 4


# -- leases -----------------------------------------------------------------------------------------------------------
async def test_start_releases_what_a_dead_process_had_leased(engine: Engine) -> None:
    await engine.desk.relay_to_support(ALICE, 90, None)
    await engine.desk.relay_to_support(ALICE, 91, None)
    held = await engine.outbox.claim_next(lease_seconds=90, owner="a process killed with -9")
    assert held is not None
    await engine.delivery.start()
    await engine.sender.wait_for(3)  # the topic, then both copies: nobody waits 90 s for the dead lease
    await engine.delivery.settled()
    copies = [s.what for s in engine.sender.to(SUPPORT) if s.method == "copy_message"]
    assert copies == [90, 91]
    assert await engine.statuses() == ["sent", "sent"]


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
    await engine.delivery.start()
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


# -- the support chat moves -------------------------------------------------------------------------------------------
async def test_an_upgraded_support_chat_is_followed_and_the_card_sent_once(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    engine.sender.forum = False
    moved = SendError(Failure.CHAT_MOVED, "group chat was upgraded", new_chat_id=UPGRADED)
    engine.sender.fail("send_card", SUPPORT, moved)
    engine.sender.fail("copy_message", SUPPORT, moved)  # a delivery in parallel reports the same move
    await engine.desk.open_ticket(ALICE, "help", None)
    await engine.desk.relay_to_support(BOB, 5, None)
    with caplog.at_level("WARNING", logger="bot.support.chat"):
        await engine.delivery.drain()
    assert engine.desk.support_chat_id == UPGRADED and engine.topics.chat_id == UPGRADED
    assert [(s.method, s.chat_id) for s in engine.sender.sent] == [("send_card", UPGRADED), ("copy_message", UPGRADED)]
    assert await engine.statuses() == ["sent", "sent"]
    moves = [r for r in caplog.records if r.name == "bot.support.chat"]
    assert len(moves) == 1 and moves[0].levelname == "WARNING"
    assert f"SUPPORT_CHAT_ID={UPGRADED}" in moves[0].getMessage()
    # stored: a restart starts in the new chat (pending items moved with it)
    await engine.desk.note(ALICE, Words("note_user_blocked"))
    assert await engine.db.fetchval("SELECT chat_id FROM outbox ORDER BY id DESC LIMIT 1") == UPGRADED
    again = SupportChat(SUPPORT, ChatMoveRepository(engine.db, engine.clock))
    assert await again.load() == UPGRADED and again.moved


async def test_after_the_move_the_card_goes_first_where_messages_now_go(engine: Engine) -> None:
    engine.sender.forum = False
    await engine.desk.open_ticket(ALICE, "help", None)
    await engine.delivery.drain()
    await engine.desk.chat.follow(SUPPORT, UPGRADED)
    engine.sender.forum = True  # Topics were turned on: that is what upgraded the group
    await engine.desk.relay_to_support(ALICE, 6, None)
    await engine.delivery.drain()
    card, copy = engine.sender.to(UPGRADED)[-2:]
    assert card.method == "send_card" and card.what.header is CardHeader.AGAIN and card.what.description == "help"
    assert copy.method == "copy_message" and copy.thread_id == card.thread_id == engine.sender.topics_created[0]


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


async def test_anonymous_administrators_posting_as_the_support_chat() -> None:
    sender = FakeSender(statuses={ALICE: "administrator"})
    open_rule = StaffRule(sender, SUPPORT)
    listed = StaffRule(sender, SUPPORT, frozenset({ALICE}))
    anonymous_bot = 1087968824  # GroupAnonymousBot
    assert await open_rule.verdict(anonymous_bot, is_bot=True, as_chat=SUPPORT) is StaffVerdict.STAFF
    assert await open_rule.is_staff(anonymous_bot, is_bot=True, as_chat=SUPPORT)
    assert await listed.verdict(anonymous_bot, is_bot=True, as_chat=SUPPORT) is StaffVerdict.UNIDENTIFIED
    assert not await listed.is_staff(anonymous_bot, is_bot=True, as_chat=SUPPORT)
    assert await open_rule.verdict(anonymous_bot, is_bot=True, as_chat=-100_999) is StaffVerdict.NOT_STAFF  # a channel
    assert await open_rule.verdict(anonymous_bot, is_bot=True) is StaffVerdict.NOT_STAFF  # a bot as itself
    assert await StaffRule(None, None).verdict(None, as_chat=SUPPORT) is StaffVerdict.NOT_STAFF  # no support chat
    assert sender.member_lookups == 0


async def test_the_staff_rule_follows_the_support_chat_when_it_moves() -> None:
    sender = FakeSender(statuses={ALICE: "member"})
    sender.fail("member_status", SUPPORT, SendError(Failure.CHAT_MOVED, "upgraded", new_chat_id=UPGRADED))
    chat = SupportChat(SUPPORT)
    rule = StaffRule(sender, chat)
    assert await rule.is_staff(ALICE)
    assert chat.id == UPGRADED and sender.looked_up_in == [SUPPORT, UPGRADED]
    assert await rule.verdict(None, as_chat=UPGRADED) is StaffVerdict.STAFF  # posted as the group it is now
