"""Support escalation end to end in a forum supergroup: the real bot, the Bot API emulator, fake MEXC, SQLite."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.diagnosis.model import Permission
from bot.sandbox.telegram_api import TelegramEmulator, User
from bot.sandbox.world import SandboxWorld
from tests.bot_harness import BotEnv, running

SUPPORT = -1001234567890
STAFF_ID = 700000001
OTHER_STAFF_ID = 700000002


@asynccontextmanager
async def support_env(
    tmp_path: Path,
    *,
    forum: bool = True,
    api: TelegramEmulator | None = None,
    world: SandboxWorld | None = None,
    **settings: Any,
) -> AsyncIterator[BotEnv]:
    """The bot with a support chat (forum or not) and one staff member, the outbox worker running."""
    async with _emulator(api) as api_, _world(world) as world_:
        if SUPPORT not in api_.chats:
            api_.add_group("HuFi support", forum=forum, chat_id=SUPPORT)
            staff = api_.add_user("Sam", username="sam_staff", user_id=STAFF_ID)
            api_.set_member(SUPPORT, staff, "administrator")
        settings.setdefault("support_chat_id", SUPPORT)
        settings.setdefault("staff_user_ids", frozenset({STAFF_ID}))
        async with running(api_, world_, tmp_path / "bot.sqlite3", **settings) as env:
            yield env


@asynccontextmanager
async def _emulator(api: TelegramEmulator | None) -> AsyncIterator[TelegramEmulator]:
    if api is not None:
        yield api
        return
    async with TelegramEmulator() as fresh:
        yield fresh


@asynccontextmanager
async def _world(world: SandboxWorld | None) -> AsyncIterator[SandboxWorld]:
    if world is not None:
        yield world
        return
    async with SandboxWorld(["mexc"]) as fresh:
        yield fresh


def staff(env: BotEnv) -> User:
    return env.api.users[STAFF_ID]


async def eventually(check: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:  # noqa: ASYNC109
    """Poll `check` until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def group_messages(env: BotEnv, thread: int | None = None) -> list[dict[str, Any]]:
    return env.api.transcript(SUPPORT, thread)


def texts_in(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in messages]


async def message_in_group(env: BotEnv, fragment: str, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
    def find() -> dict[str, Any] | None:
        return next((m for m in group_messages(env) if fragment in (m.get("text") or m.get("caption") or "")), None)

    return await eventually(find, timeout, f"{fragment!r} in the support chat")


async def message_to_user(
    env: BotEnv,
    user: User,
    fragment: str,
    timeout: float = 5.0,  # noqa: ASYNC109
    after: int = 0,
) -> dict[str, Any]:
    """The first bot message in the user's chat (after message id `after`) containing `fragment`."""

    def find() -> dict[str, Any] | None:
        return next(
            (
                m
                for m in env.api.transcript(user.id)
                if m["message_id"] > after
                and m["from"]["id"] == env.api.bot.id
                and fragment in (m.get("text") or m.get("caption") or "")
            ),
            None,
        )

    return await eventually(find, timeout, f"{fragment!r} in the chat of user {user.id}")


def buttons(message: dict[str, Any]) -> list[str]:
    return [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def failing_check(env: BotEnv, user: User | None = None) -> tuple[Any, dict[str, Any]]:
    """Run a check of a MEXC key lacking trade history; returns (fake account, verdict message)."""
    user = user or env.api.default_user
    account = env.world.fakes["mexc"].add_account()
    account.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
    start = env.api.send_text("/check", user)["message_id"]
    picker = await message_to_user(env, user, "Which exchange", after=start)
    env.api.press_button(picker, "ex:mexc")
    campaign = await message_to_user(env, user, "Which kind of HuFi campaign", after=start)
    env.api.press_button(campaign, "ct:MARKET_MAKING")
    await message_to_user(env, user, "Send me the", after=start)
    env.api.send_text(f"{account.api_key} {account.secret}", user)
    verdict = await message_to_user(env, user, "Step 1 of", after=start)
    return account, verdict


async def open_ticket(
    env: BotEnv, user: User | None = None, description: str | None = "HuFi says my key can't be authorized"
) -> tuple[Any, int]:
    """A failing check, then "Talk to support" with a description; returns (account, topic thread id)."""
    user = user or env.api.default_user
    account, verdict = await failing_check(env, user)
    support = next(b for b in buttons(verdict) if b.startswith("support:"))
    env.api.press_button(verdict, support)
    prompt = await message_to_user(env, user, "Describe the problem")
    if description is None:
        env.api.press_button(prompt, "support_skip")
    else:
        env.api.send_text(description, user)
    await message_to_user(env, user, "is with HuFi support")
    card = await message_in_group(env, f"· id {user.id} ·")
    return account, card.get("message_thread_id", 0)


def everything_the_bot_said(env: BotEnv) -> list[str]:
    """Every Bot API call's parameters and every message visible in the support chat, as text."""
    calls = [json.dumps(call.params, ensure_ascii=False) for call in env.api.calls]
    return calls + [json.dumps(m, ensure_ascii=False) for m in group_messages(env)]


# -- the card ------------------------------------------------------------------------------------------------------
async def test_ticket_card_in_its_own_topic_has_the_diagnosis_and_no_secret(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        account, thread = await open_ticket(env)
        topic = env.api.chat(SUPPORT).topics[thread]
        assert "Alice" in topic.name and str(env.api.default_user.id) in topic.name
        card = next(m for m in group_messages(env, thread) if "Ticket #" in (m.get("text") or ""))
        text = card["text"]
        for fragment in (
            "Ticket #1",
            "Alice @alice",
            f"id {env.api.default_user.id}",
            "language English (en)",
            "HuFi says my key can't be authorized",
            "MEXC",
            account.api_key[:4],
            "Market making",
            "✅ Account balance",
            "❌ Spot trade history",
            "permission_missing",
            "Steps shown to the user:",
            "Bot 0.1.0",
        ):
            assert fragment in text, fragment
        assert len(text) < 4096
        # "Talk to support" after a newer check adds its card to the open ticket
        _, verdict = await failing_check(env)
        env.api.press_button(verdict, next(b for b in buttons(verdict) if b.startswith("support:")))
        await message_to_user(env, env.api.default_user, "I added the results of this check")
        newer = await message_in_group(env, "a newer check")
        assert newer["message_thread_id"] == thread and "Check #2" in newer["text"]
        said = everything_the_bot_said(env)
        db_rows = await env.services.db.fetchall("SELECT payload_json FROM outbox")
        stored = [row["payload_json"] for row in db_rows]
        for secret in (account.api_key, account.secret):
            assert not [s for s in said + stored if secret in s]


async def test_support_without_a_support_chat_says_where_else_to_go(tmp_path: Path) -> None:
    async with support_env(tmp_path, support_chat_id=None) as env:
        env.api.send_text("/support")
        answer = await message_to_user(env, env.api.default_user, "not connected")
        assert "hu.finance" in answer["text"]


# -- relays ----------------------------------------------------------------------------------------------------------
async def test_relay_both_ways_threads_replies(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        api, alice = env.api, env.api.default_user
        _, thread = await open_ticket(env, description=None)
        question = api.send_text("Is my IP list wrong?")
        copy = await message_in_group(env, "Is my IP list wrong?")
        assert copy["message_thread_id"] == thread
        # staff answer as a reply to the copy: the user sees a reply to their own message
        api.send_text("Yes: add HuFi's addresses", staff(env), SUPPORT, reply_to=copy)
        answer = await message_to_user(env, alice, "add HuFi's addresses")
        assert answer["reply_to_message"]["message_id"] == question["message_id"]
        # the user answers the staff message: the copy in the topic replies to the staff message
        api.reply(answer, "Done, thanks")
        thanks = await message_in_group(env, "Done, thanks")
        staff_message = next(m for m in group_messages(env, thread) if m.get("text") == "Yes: add HuFi's addresses")
        assert thanks["reply_to_message"]["message_id"] == staff_message["message_id"]
        # a plain staff message in the topic (its implicit reply to the topic start is not a reply)
        api.send_text("Anything else?", staff(env), SUPPORT, thread=thread)
        plain = await message_to_user(env, alice, "Anything else?")
        assert "reply_to_message" not in plain
        # files both ways
        api.send_photo("here is the settings page", staff(env), SUPPORT, thread=thread)
        photo = await message_to_user(env, alice, "here is the settings page")
        assert "photo" in photo
        api.send_document("log.txt", caption="my log")
        document = await message_in_group(env, "my log")
        assert document["message_thread_id"] == thread and "document" in document


async def test_a_burst_of_messages_makes_one_topic_in_order(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        env.api.send_text("/support")
        prompt = await message_to_user(env, env.api.default_user, "Describe the problem")
        env.api.press_button(prompt, "support_skip")
        for n in range(6):  # at once, while the card and its topic are still on their way
            env.api.send_text(f"burst {n}")
        await message_in_group(env, "burst 5")
        assert len(env.api.calls_to("createForumTopic")) == 1
        threads = {m.get("message_thread_id") for m in group_messages(env) if "forum_topic_created" not in m}
        assert len(threads) == 1
        burst = [t for t in texts_in(group_messages(env)) if t.startswith("burst")]
        assert burst == [f"burst {n}" for n in range(6)]


async def test_a_key_sent_during_a_ticket_is_deleted_and_never_relayed(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        await open_ticket(env, description=None)
        secret = "Qw7" + "pL2xZ" * 6
        sent = env.api.send_text(f"my secret is {secret}")
        await eventually(lambda: (env.api.default_user.id, sent["message_id"]) in env.api.deleted, what="deletion")
        photo = env.api.send_photo(caption=f"key {secret}")
        await eventually(lambda: (env.api.default_user.id, photo["message_id"]) in env.api.deleted, what="deletion")
        env.api.send_text("after the key")
        await message_in_group(env, "after the key")
        assert not [s for s in everything_the_bot_said(env) if secret in s]
        copies = [c for c in env.api.calls_to("copyMessage") if c.params["chat_id"] == SUPPORT]
        assert sent["message_id"] not in [c.params["message_id"] for c in copies]
        assert photo["message_id"] not in [c.params["message_id"] for c in copies]


async def test_a_user_who_blocked_the_bot_is_noted_in_the_topic(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        _, thread = await open_ticket(env, description=None)
        env.api.block_bot()
        env.api.send_text("Still there?", staff(env), SUPPORT, thread=thread)
        note = await message_in_group(env, "blocked the bot")
        assert note["message_thread_id"] == thread
        user = await env.services.users.get(env.api.default_user.id)
        assert user is not None and user.blocked_bot


# -- topics ----------------------------------------------------------------------------------------------------------
async def test_close_and_reopen(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        api, alice = env.api, env.api.default_user
        _, thread = await open_ticket(env, description=None)
        api.send_text("/close", staff(env), SUPPORT, thread=thread)
        await message_in_group(env, "Ticket #1 closed")
        await message_to_user(env, alice, "was closed")
        await eventually(lambda: api.chat(SUPPORT).topics[thread].closed, what="topic closed")
        # the user writes again: the topic reopens and the message arrives with a note
        api.send_text("It broke again")
        again = await message_in_group(env, "It broke again")
        assert again["message_thread_id"] == thread and not api.chat(SUPPORT).topics[thread].closed
        await message_in_group(env, "ticket #1 reopened")  # one number for the life of the ticket
        await message_to_user(env, alice, "reopened your request #1")
        # staff close it, then reopen it themselves
        api.send_text("/close", staff(env), SUPPORT, thread=thread)
        await message_in_group(env, "Ticket #1 closed")
        await eventually(lambda: api.chat(SUPPORT).topics[thread].closed, what="topic closed")
        api.send_text(f"/reopen {alice.id}", staff(env), SUPPORT)
        await message_in_group(env, "Ticket #1 is open")
        await message_to_user(env, alice, "reopened by HuFi support")
        assert not api.chat(SUPPORT).topics[thread].closed
        assert len(api.calls_to("createForumTopic")) == 1
        assert await env.services.db.fetchval("SELECT COUNT(*) FROM tickets") == 1


async def test_a_deleted_topic_is_created_again_with_the_card(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        _, thread = await open_ticket(env, description=None)
        env.api.delete_topic(SUPPORT, thread)
        env.api.send_text("Hello again")
        copy = await message_in_group(env, "Hello again")
        new_thread = copy["message_thread_id"]
        assert new_thread != thread
        first = next(m for m in group_messages(env, new_thread) if "forum_topic_created" not in m)
        assert "previous one was deleted" in first["text"] and "Spot trade history" in first["text"]


async def test_staff_closing_the_topic_in_telegram_closes_the_ticket(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        _, thread = await open_ticket(env, description=None)
        env.api.close_topic(SUPPORT, thread, staff(env))
        await message_to_user(env, env.api.default_user, "was closed")
        assert await env.services.db.fetchval("SELECT status FROM tickets WHERE id = 1") == "closed"


# -- staff commands ----------------------------------------------------------------------------------------------
async def test_recheck_posts_a_new_card(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        account, thread = await open_ticket(env, description=None)
        account.grant(Permission.VIEW_SPOT_TRADING_HISTORY)
        env.api.send_text("/recheck", staff(env), SUPPORT, thread=thread)
        await message_in_group(env, "Re-checking the kept MEXC key")
        card = await message_in_group(env, "re-check requested by staff")
        assert card["message_thread_id"] == thread
        assert "Passes every check" in card["text"] and "❌" not in card["text"]
        assert account.secret not in card["text"] and account.api_key not in card["text"]
        # the passing check wiped the kept key: a second re-check says so
        env.api.send_text("/recheck", staff(env), SUPPORT, thread=thread)
        await message_in_group(env, "no longer keep a key")


async def test_ban_stops_relays_and_unban_lifts_it(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        api, alice = env.api, env.api.default_user
        _, thread = await open_ticket(env, description=None)
        api.send_text("/ban spam", staff(env), SUPPORT, thread=thread)
        await message_in_group(env, "is banned")
        api.send_text("let me in")
        await message_to_user(env, alice, "can't help you")
        api.send_text("/support")
        refusals = await eventually(
            lambda: len([m for m in api.transcript(alice.id) if "can't help you" in (m.get("text") or "")]) >= 2,
            what="second refusal",
        )
        assert refusals
        assert "let me in" not in texts_in(group_messages(env))
        assert not await env.services.db.fetchval("SELECT COUNT(*) FROM outbox WHERE kind = 'to_support'")
        api.send_text(f"/unban {alice.id}", staff(env), SUPPORT)
        await message_in_group(env, "no longer banned")
        assert not await env.services.bans.is_banned(alice.id)


async def test_tickets_lists_open_tickets_oldest_first(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        bob = env.api.add_user("Bob", username="bob")
        await open_ticket(env, description=None)
        await open_ticket(env, bob, description=None)
        env.api.send_text("/tickets", staff(env), SUPPORT)
        listing = await message_in_group(env, "Open tickets: 2")
        text = listing["text"]
        assert text.index("#1 · Alice") < text.index("#2 · Bob")
        assert "permission_missing" in text and "topic" in text


# -- authorisation -------------------------------------------------------------------------------------------------
async def test_only_staff_in_the_support_chat_can_use_staff_commands(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        api = env.api
        _, thread = await open_ticket(env, description=None)
        mallory = api.add_user("Mallory", username="mallory")
        elsewhere = api.add_group("Traders", forum=False)
        api.set_member(elsewhere, mallory, "administrator")
        api.send_text("/tickets", mallory, elsewhere)
        api.send_text(f"/close {api.default_user.id}", mallory, elsewhere)
        api.send_text(f"/ban {api.default_user.id}", mallory, elsewhere)
        # a member of the support chat who is not in STAFF_USER_IDS is refused, and not relayed
        api.set_member(SUPPORT, mallory, "member")
        api.send_text("/tickets", mallory, SUPPORT, thread=thread)
        await message_in_group(env, "Only HuFi support staff")
        api.send_text("psst, send me your key", mallory, SUPPORT, thread=thread)
        # a listed staff member who left the chat is refused too
        api.set_member(SUPPORT, staff(env), "left")
        api.send_text("/tickets", staff(env), SUPPORT)
        await eventually(
            lambda: len([t for t in texts_in(group_messages(env)) if "Only HuFi support staff" in t]) == 2,
            what="second refusal",
        )
        assert not [m for m in api.transcript(elsewhere) if m["from"]["id"] == api.bot.id]
        assert "Open tickets" not in " ".join(texts_in(group_messages(env)))
        assert await env.services.db.fetchval("SELECT status FROM tickets WHERE id = 1") == "open"
        assert not await env.services.bans.is_banned(api.default_user.id)
        assert not await env.services.db.fetchval("SELECT COUNT(*) FROM outbox WHERE kind = 'to_user'")


async def test_a_user_cannot_see_another_users_ticket(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        api, alice = env.api, env.api.default_user
        bob = api.add_user("Bob", username="bob")
        _, verdict = await failing_check(env)
        alice_check = next(b for b in buttons(verdict) if b.startswith("support:")).partition(":")[2]
        alice_thread = (await open_ticket(env, description="Alice's problem"))[1]
        # Bob forges Alice's check id in the support button of his own chat
        bob_chat_message = api.send_text("hi", bob)
        api.press_button(bob_chat_message, f"support:{alice_check}", user=bob, check=False)
        prompt = await message_to_user(env, bob, "Describe the problem")
        api.press_button(prompt, "support_skip", user=bob)
        bob_card = await message_in_group(env, f"· id {bob.id} ·")
        assert "No key check on record" in bob_card["text"] and "Alice" not in bob_card["text"]
        assert bob_card["message_thread_id"] != alice_thread
        # staff answer in Alice's topic: Bob gets nothing
        api.send_text("For Alice only", staff(env), SUPPORT, thread=alice_thread)
        await message_to_user(env, alice, "For Alice only")
        assert not [m for m in api.transcript(bob.id) if "For Alice" in (m.get("text") or "")]
