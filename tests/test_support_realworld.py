"""The support desk against what the real Bot API server does (issue 13): the real Application, the stricter
emulator, fake MEXC, SQLite. Service messages and messages Telegram won't copy, one failing delivery among others,
the support group upgraded to a supergroup, anonymous administrators, a configured contact with angle brackets,
the longest /status, and the first staff reply recorded for insights."""

from __future__ import annotations

import html
import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.exchanges.catalog import cex_ids
from bot.health import (
    CAMPAIGN_LAUNCHER,
    DATABASE,
    RECORDING_ORACLE,
    TELEGRAM,
    HealthService,
    Outcome,
    State,
    exchange_check_name,
)
from bot.insights import DigestSchedule
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.world import SandboxWorld
from bot.status_page import PAGE_LIMIT
from handlers.stats import schedule_digest
from handlers.status import staff_facts
from tests.test_support import (
    STAFF_ID,
    SUPPORT,
    buttons,
    eventually,
    failing_check,
    group_messages,
    message_in_group,
    message_to_user,
    open_ticket,
    staff,
    support_env,
    texts_in,
)

#: A basic group (no -100 prefix): the support chat before staff turn Topics on.
BASIC = -4_001_234_567
ANONYMOUS = "Remain anonymous"


def lose_updates(api: TelegramEmulator, matches: Callable[[dict[str, Any]], bool]) -> int:
    """The bot never gets these pending updates (it was down for longer than Telegram keeps them, 24 h)."""
    before = len(api.pending)
    api.pending = deque(u for u in api.pending if not matches(u))
    return before - len(api.pending)


def bot_texts(api: TelegramEmulator, chat_id: int) -> list[str]:
    """What the bot said (sendMessage) in a chat, successful calls only."""
    return [
        c.params.get("text", "") for c in api.calls_to("sendMessage") if c.params.get("chat_id") == chat_id and c.ok
    ]


async def message_in_group_of(env: Any, chat_id: int, fragment: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        return next((m for m in env.api.transcript(chat_id) if fragment in (m.get("text") or "")), None)

    return await eventually(find, 5.0, f"{fragment!r} in chat {chat_id}")


async def ticket_in(env: Any, chat_id: int, description: str) -> dict[str, Any]:
    """Alice's failing check, "Talk to support" and a description; her card as it arrived in `chat_id`."""
    alice = env.api.default_user
    _, verdict = await failing_check(env, alice)
    env.api.press_button(verdict, next(b for b in buttons(verdict) if b.startswith("support:")))
    await message_to_user(env, alice, "Describe the problem")
    env.api.send_text(description, alice)
    await message_to_user(env, alice, "is with HuFi support")
    return await message_in_group_of(env, chat_id, f"· id {alice.id} ·")


async def outbox_rows(env: Any) -> list[tuple[str, str, int]]:
    """The outbox as (kind, status, attempts), once the deliveries in flight are recorded."""
    await env.services.support.delivery.settled()
    rows = await env.services.db.fetchall("SELECT kind, status, attempts FROM outbox ORDER BY id")
    return [(r["kind"], r["status"], r["attempts"]) for r in rows]


# -- 1. messages that can't be copied ----------------------------------------------------------------------------------
async def test_service_messages_in_a_topic_are_never_relayed_and_hold_nothing_up(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        api, alice = env.api, env.api.default_user
        _, thread = await open_ticket(env, description=None)
        first = api.send_text("Checking your key now", staff(env), SUPPORT, thread=thread)
        await message_to_user(env, alice, "Checking your key now")
        # what staff do in Telegram itself: each brings a service message into the topic (or the group)
        pin = api.pin_message(first, staff(env))
        rename = api.rename_topic(SUPPORT, thread, "Alice · MEXC trade history", staff(env))
        joined = api.add_members(SUPPORT, api.add_user("Nina"))
        found = api.send_text("Found it: enable trade history reading", staff(env), SUPPORT, thread=thread)
        await message_to_user(env, alice, "Found it")
        api.send_text("/close", staff(env), SUPPORT, thread=thread)
        await message_to_user(env, alice, "was closed")
        copies = [c for c in api.calls_to("copyMessage") if c.params["chat_id"] == alice.id]
        assert [c.params["message_id"] for c in copies] == [first["message_id"], found["message_id"]]
        assert all(c.ok for c in copies)
        service_ids = {pin["message_id"], rename["message_id"], joined["message_id"]}
        assert not [c for c in api.calls_to("copyMessage") if c.params["message_id"] in service_ids]
        assert {status for _, status, _ in await outbox_rows(env)} == {"sent"}
        assert not [t for t in texts_in(group_messages(env)) if "Not delivered" in t]


async def test_a_message_telegram_wont_copy_is_final_and_staff_are_told(tmp_path: Path) -> None:
    """A giveaway is content, not a service message, and still can't be copied: tried once, never again, nothing
    behind it waits, and staff get a short note in the topic, whichever way it was going."""
    async with support_env(tmp_path) as env:
        api, alice = env.api, env.api.default_user
        _, thread = await open_ticket(env, description=None)
        channel = api.add_channel("HuFi news")
        giveaway = {
            "giveaway": {"chats": [channel.to_dict()], "winners_selection_date": int(time.time()), "winner_count": 3}
        }
        api.inject_service(SUPPORT, giveaway, staff(env), thread=thread)  # staff forward a giveaway
        note = await message_in_group(env, "Telegram does not let bots copy this kind of message")
        assert note["message_thread_id"] == thread
        api.send_text("Did you see the giveaway?", staff(env), SUPPORT, thread=thread)
        await message_to_user(env, alice, "Did you see the giveaway?")
        api.inject_service(alice.id, giveaway, alice)  # and the user forwards one to the bot
        note = await message_in_group(env, "I can't show here")
        assert note["message_thread_id"] == thread
        api.send_text("Yes, thanks")
        await message_in_group(env, "Yes, thanks")
        failed = [(kind, attempts) for kind, status, attempts in await outbox_rows(env) if status == "failed"]
        assert failed == [("to_user", 1), ("to_support", 1)]
        assert not [row for row in await outbox_rows(env) if row[1] == "pending"]


# -- 2. one failure holds up nobody else -------------------------------------------------------------------------------
async def test_one_failing_delivery_holds_up_no_other_and_the_conversation_keeps_its_order(tmp_path: Path) -> None:
    """Alice's message can't be copied into the support chat for a while (500). Bob's ticket and messages go at
    once; Alice's next message waits only for her first one's retry (order kept within her conversation), then
    goes; her first arrives on its own retry once Telegram takes it again."""
    async with support_env(tmp_path) as env:
        api, alice = env.api, env.api.default_user
        bob = api.add_user("Bob", username="bob")
        await open_ticket(env, description=None)

        def alices_screenshot(params: dict[str, Any]) -> bool:
            original = api.chat(alice.id).messages.get(params.get("message_id"), {})
            return params.get("from_chat_id") == alice.id and original.get("text") == "my settings page"

        api.fail("copyMessage", (500, "Internal Server Error"), times=None, when=alices_screenshot)
        stuck = api.send_text("my settings page")
        then = api.send_text("and the error says 10072")
        await open_ticket(env, bob, description="Bob's key fails too")
        api.send_text("Bob again", bob)
        await message_in_group(env, "Bob again")
        await message_in_group(env, "and the error says 10072")
        copies = [c for c in api.calls_to("copyMessage") if c.params.get("from_chat_id") == alice.id]
        tries = [c for c in copies if c.params["message_id"] == stuck["message_id"]]
        then_call = next(c for c in copies if c.params["message_id"] == then["message_id"] and c.ok)
        assert len([c for c in tries if c.time < then_call.time]) == 2  # the first try and its retry, both failed
        assert "my settings page" not in texts_in(group_messages(env))
        api.clear_failures()
        late = await message_in_group(env, "my settings page", timeout=15)
        assert late["message_id"] > next(m for m in group_messages(env) if m.get("text") == "Bob again")["message_id"]
        statuses = {status for _, status, _ in await outbox_rows(env)}
        assert statuses == {"sent"}


# -- 3. the support group upgraded to a supergroup ---------------------------------------------------------------------
async def test_an_upgrade_seen_only_through_errors_is_followed_stored_and_used_for_everything(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.support.chat")
    async with TelegramEmulator() as api, SandboxWorld(["mexc"]) as world:
        old = api.add_group("HuFi support", forum=False, supergroup=False, chat_id=BASIC)
        sam = api.add_user("Sam", username="sam_staff", user_id=STAFF_ID)
        api.set_member(old, sam, "administrator")
        nina = api.add_user("Nina")
        api.set_member(old, nina, "member")
        async with support_env(tmp_path, api=api, world=world, support_chat_id=BASIC) as env:
            alice = api.default_user
            new = api.upgrade_group(BASIC, forum=True)  # staff turn Topics on
            assert lose_updates(api, lambda u: "migrate" in str(u.get("message", {}).keys())) == 2
            thread = (await ticket_in(env, new.id, "HuFi says my key can't be authorized"))["message_thread_id"]
            cards = [m for m in api.transcript(new) if "Ticket #1" in (m.get("text") or "")]
            assert len(cards) == 1 and cards[0]["message_thread_id"] == thread
            assert [c for c in api.calls if c.params.get("chat_id") == BASIC and c.method == "sendMessage"]
            assert not [m for m in api.transcript(old) if m["from"]["id"] == api.bot.id]
            # staff messages in the new chat are relayed, staff commands work there
            api.send_text("We see it, one moment", sam, new, thread=thread)
            await message_to_user(env, alice, "one moment")
            api.send_text("/status", sam, new, thread=thread)
            status = await eventually(lambda: [t for t in bot_texts(api, new.id) if "Last check" in t], 15, "/status")
            assert "uptime" in status[0] and f"SUPPORT_CHAT_ID={new.id}" in status[0]
            api.send_text("/stats", nina, new)
            await eventually(lambda: [t for t in bot_texts(api, new.id) if "Only support staff" in t], what="/stats")
        moves = [r for r in caplog.records if r.name == "bot.support.chat"]
        assert len(moves) == 1 and moves[0].levelname == "WARNING"
        assert f"set SUPPORT_CHAT_ID={new.id}" in moves[0].getMessage()
        # a restart with the old SUPPORT_CHAT_ID goes straight to the new chat (and says so once more)
        caplog.clear()
        calls_before = len(api.calls)
        async with support_env(tmp_path, api=api, world=world, support_chat_id=BASIC) as env2:
            api.send_text("Any news?")
            copy = await message_in_group_of(env2, new.id, "Any news?")
            assert copy["message_thread_id"] == thread
            assert env2.services.support is not None and env2.services.support.chat_id == new.id
            digest = schedule_digest(env2.app, DigestSchedule.from_settings("mon", "9", "UTC", days=7))
            assert digest is not None
            await digest.run(env2.app)  # what the JobQueue does on Monday at 9
            photos = await eventually(lambda: api.calls_to("sendPhoto"), 60, "the weekly digest")
            assert [c.params["chat_id"] for c in photos] == [new.id] and photos[0].ok
            assert not [c for c in api.calls[calls_before:] if c.params.get("chat_id") == BASIC]
        assert len([r for r in caplog.records if r.name == "bot.support.chat"]) == 1
        cards = [m for m in api.transcript(new) if "Ticket #1" in (m.get("text") or "")]
        assert len(cards) == 1


async def test_an_upgrade_announced_by_service_messages_is_followed_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.support.chat")
    async with TelegramEmulator() as api, SandboxWorld(["mexc"]) as world:
        old = api.add_group("HuFi support", forum=False, supergroup=False, chat_id=BASIC)
        sam = api.add_user("Sam", username="sam_staff", user_id=STAFF_ID)
        api.set_member(old, sam, "administrator")
        async with support_env(tmp_path, api=api, world=world, support_chat_id=BASIC) as env:
            alice = api.default_user
            await ticket_in(env, BASIC, "my key fails")
            card = next(m for m in api.transcript(old) if "Ticket #1" in (m.get("text") or ""))
            new = api.upgrade_group(BASIC, forum=True)
            await eventually(lambda: env.services.support.chat_id == new.id, what="the move followed")  # type: ignore[union-attr]
            api.send_text("Is anyone there?")
            copy = await message_in_group_of(env, new.id, "Is anyone there?")
            thread = copy["message_thread_id"]
            again = [m for m in api.transcript(new, thread) if "Ticket #1" in (m.get("text") or "")]
            assert len(again) == 1 and "again" in again[0]["text"] and "my key fails" in again[0]["text"]
            api.send_text("Yes, here", sam, new, thread=thread)
            await message_to_user(env, alice, "Yes, here")
            assert not [c for c in api.calls if c.params.get("chat_id") == BASIC and not c.ok]
            assert card["chat"]["id"] == BASIC
        moves = [r for r in caplog.records if r.name == "bot.support.chat"]
        assert len(moves) == 1 and f"SUPPORT_CHAT_ID={new.id}" in moves[0].getMessage()


# -- 4. anonymous administrators ---------------------------------------------------------------------------------------
async def test_anonymous_admins_are_staff_when_no_list_is_set(tmp_path: Path) -> None:
    async with support_env(tmp_path, staff_user_ids=frozenset()) as env:
        api, alice = env.api, env.api.default_user
        boss = api.add_user("Boss")
        api.set_member(SUPPORT, boss, "administrator", anonymous=True)
        _, thread = await open_ticket(env, description=None)
        api.send_as_chat("Hello from HuFi support", SUPPORT, thread=thread, signature="Boss")
        await message_to_user(env, alice, "Hello from HuFi support")
        api.send_as_chat("/status", SUPPORT, thread=thread)
        status = await eventually(lambda: [t for t in bot_texts(api, SUPPORT) if "Last check" in t], 15, "/status")
        assert "uptime" in status[0]
        api.send_as_chat("/close", SUPPORT, thread=thread)
        await message_to_user(env, alice, "was closed")
        assert await env.services.db.fetchval("SELECT status FROM tickets WHERE id = 1") == "closed"
        assert not [t for t in bot_texts(api, SUPPORT) if ANONYMOUS in t]


async def test_anonymous_admins_are_told_how_to_post_as_themselves_when_a_list_is_set(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:  # STAFF_USER_IDS = {Sam}
        api, alice = env.api, env.api.default_user
        _, thread = await open_ticket(env, description=None)
        hello = api.send_as_chat("Hello from HuFi support", SUPPORT, thread=thread)
        answer = await message_in_group(env, ANONYMOUS)
        assert answer["reply_to_message"]["message_id"] == hello["message_id"] and answer["message_thread_id"] == thread
        api.send_as_chat("/close", SUPPORT, thread=thread)
        await eventually(lambda: len([t for t in bot_texts(api, SUPPORT) if ANONYMOUS in t]) == 2, what="2nd answer")
        api.send_text("Sam here", staff(env), SUPPORT, thread=thread)  # staff posting as themselves still work
        await message_to_user(env, alice, "Sam here")
        assert not [m for m in api.transcript(alice.id) if "Hello from HuFi" in (m.get("text") or "")]
        assert await env.services.db.fetchval("SELECT status FROM tickets WHERE id = 1") == "open"
        # /status and /stats by the one rule too: the public status and no picture, each with the same answer
        api.send_as_chat("/status", SUPPORT, thread=thread)
        await eventually(lambda: len([t for t in bot_texts(api, SUPPORT) if ANONYMOUS in t]) == 3, what="/status")
        public = [t for t in bot_texts(api, SUPPORT) if "Last check" in t]
        assert public and "uptime" not in public[-1], "staff details went to someone the rule can't identify"
        api.send_as_chat("/stats", SUPPORT, thread=thread)
        await eventually(lambda: len([t for t in bot_texts(api, SUPPORT) if ANONYMOUS in t]) == 4, what="/stats")
        assert api.calls_to("sendPhoto") == []


# -- 5. configured texts are escaped -----------------------------------------------------------------------------------
async def test_a_contact_with_angle_brackets_is_shown_as_written(tmp_path: Path) -> None:
    contact = "HuFi Support <support@hu.finance>"
    async with support_env(tmp_path, support_chat_id=None, support_contact=contact) as env:
        api, alice = env.api, env.api.default_user
        api.send_text("/support")
        unavailable = await message_to_user(env, alice, "not connected")
        assert contact in unavailable["text"]
        await env.services.bans.ban(alice.id, None, None)
        api.send_text("/check")
        refusal = await message_to_user(env, alice, "can't help you")
        assert contact in refusal["text"]
        assert not [c for c in api.calls_to("sendMessage") if not c.ok]


# -- 7. the longest /status --------------------------------------------------------------------------------------------
async def test_the_longest_status_for_staff_fits_in_telegrams_limit(tmp_path: Path) -> None:
    """The worst case: every check (HuFi, all twelve exchanges, the bot) failed with a long error text and is
    answering again with a long detail, so each shows two long lines, and every fact is there. The bot's real
    health service runs these checks (they stand in for the exchanges, which the sandbox can't all make fail
    this way); the text is longer than one message can hold."""
    long_text = "Service Unavailable: the matching engine is being upgraded, please retry later " * 4
    failing = {"now": True}

    def probe() -> Any:
        async def run() -> Outcome:
            return Outcome(State.DOWN if failing["now"] else State.OK, long_text, "http" if failing["now"] else "")

        return run

    names = [RECORDING_ORACLE, CAMPAIGN_LAUNCHER, *map(exchange_check_name, cex_ids()), TELEGRAM, DATABASE]
    async with support_env(tmp_path) as env:
        api, page = env.api, env.services.status_page
        await page.health.close()
        page.health = HealthService({name: probe() for name in names})
        await page.health.snapshot()
        failing["now"] = False
        await page.health.snapshot(force=True)  # answering again: each check shows its detail and its last error
        assert env.services.support is not None
        env.services.support.chat_problems = ["the bot lacks the right to manage topics " * 6]
        whole_text = await page.text(detailed=True, extra=await staff_facts(env.services))
        assert len(whole_text) > 4096
        api.send_text("/status", staff(env), SUPPORT)
        parts = await eventually(
            lambda: (
                (p := [c for c in api.calls_to("sendMessage") if c.params.get("chat_id") == SUPPORT])
                and "database size" in p[-1].params["text"]
                and p
            ),
            15,
            "/status for staff",
        )
        assert all(c.ok for c in parts), [c.error for c in parts]
        assert len(parts) == 2 and all(len(c.params["text"]) <= PAGE_LIMIT for c in parts)
        shown = "\n".join(c.params["text"] for c in parts)
        assert shown.count("last error") == len(names)
        assert {line for line in whole_text.splitlines() if "uptime" not in line} <= set(
            html.unescape(shown).splitlines()
        )


# -- insights: the first staff reply -----------------------------------------------------------------------------------
async def test_the_first_staff_reply_is_recorded_and_nothing_else_counts(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        api, alice, db = env.api, env.api.default_user, env.services.db

        async def first_reply() -> Any:
            return await db.fetchval("SELECT first_staff_reply_at FROM tickets WHERE user_id = ?", (alice.id,))

        account, thread = await open_ticket(env, description=None)
        api.send_text("/tickets", staff(env), SUPPORT, thread=thread)  # a staff command: not an answer
        await message_in_group(env, "Open tickets: 1")
        api.send_text("/recheck", staff(env), SUPPORT, thread=thread)  # a card: not an answer
        await message_in_group(env, "re-check requested by staff")
        assert await first_reply() is None
        before = time.time()
        api.send_text("Try the new key", staff(env), SUPPORT, thread=thread)
        await message_to_user(env, alice, "Try the new key")
        recorded = await first_reply()
        assert recorded is not None and recorded >= before
        api.send_text("Any luck?", staff(env), SUPPORT, thread=thread)
        await message_to_user(env, alice, "Any luck?")
        assert await first_reply() == recorded  # only the first counts
        api.send_text("/close", staff(env), SUPPORT, thread=thread)
        await message_to_user(env, alice, "was closed")
        assert await first_reply() == recorded
        assert account is not None


async def test_close_and_notes_alone_leave_no_first_reply(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        api, alice, db = env.api, env.api.default_user, env.services.db
        _, thread = await open_ticket(env, description=None)
        api.send_text("/close", staff(env), SUPPORT, thread=thread)
        await message_to_user(env, alice, "was closed")
        api.send_text("It broke again")  # reopens (the same ticket): a note for staff, and a message to the user
        await message_in_group(env, "ticket #1 reopened")
        await message_to_user(env, alice, "reopened your request #1")
        rows = await db.fetchall("SELECT id, first_staff_reply_at FROM tickets ORDER BY id")
        assert [(r["id"], r["first_staff_reply_at"]) for r in rows] == [(1, None)]
