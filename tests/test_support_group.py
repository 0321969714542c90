"""Support escalation without topics, the outbox under faults (restart, 429, the group budget), start-up checks."""

from __future__ import annotations

from pathlib import Path

from telegram import Bot

from bot.config import Settings
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.world import SandboxWorld
from handlers.support import verify_support_chat
from tests.telegram_harness import local_request
from tests.test_support import (
    SUPPORT,
    eventually,
    group_messages,
    message_in_group,
    message_to_user,
    open_ticket,
    staff,
    support_env,
    texts_in,
)


async def _outbox_statuses(tmp_path: Path) -> list[str]:
    from storage.db import Database

    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        return [row["status"] for row in await db.fetchall("SELECT status FROM outbox ORDER BY id")]
    finally:
        await db.close()


def _to_support(params: dict[str, object]) -> bool:
    return params.get("chat_id") == SUPPORT


async def _skip_to_ticket(env) -> None:  # type: ignore[no-untyped-def]
    env.api.send_text("/support")
    prompt = await message_to_user(env, env.api.default_user, "Describe the problem")
    env.api.press_button(prompt, "support_skip")
    await message_to_user(env, env.api.default_user, "is with HuFi support")


# -- a group without topics ------------------------------------------------------------------------------------------
async def test_without_topics_staff_answer_by_replying(tmp_path: Path) -> None:
    async with support_env(tmp_path, forum=False) as env:
        api, alice = env.api, env.api.default_user
        await open_ticket(env, description="my key fails")
        card = await message_in_group(env, "Ticket #1")
        assert "message_thread_id" not in card and "my key fails" in card["text"]
        assert not api.calls_to("createForumTopic")
        question = api.send_text("Which permission is missing?")
        copy = await message_in_group(env, "Which permission is missing?")
        assert copy["reply_to_message"]["message_id"] == card["message_id"]
        # a reply to the copy reaches the user as a reply to their message
        api.reply(copy, "Enable trade history reading", staff(env))
        answer = await message_to_user(env, alice, "Enable trade history reading")
        assert answer["reply_to_message"]["message_id"] == question["message_id"]
        # a reply to the card reaches the user too, as a plain message
        api.reply(card, "We are on it", staff(env))
        plain = await message_to_user(env, alice, "We are on it")
        assert "reply_to_message" not in plain
        # staff chatting among themselves (no reply) is not relayed
        api.send_text("coffee anyone?", staff(env), SUPPORT)
        api.reply(card, "/close", staff(env))
        await message_in_group(env, "Ticket #1 closed")
        await message_to_user(env, alice, "was closed")
        assert not [m for m in api.transcript(alice.id) if "coffee" in (m.get("text") or "")]
        # the user's next message reopens it, under the same card
        api.send_text("still failing")
        again = await message_in_group(env, "still failing")
        assert again["reply_to_message"]["message_id"] == card["message_id"]


# -- the outbox under faults -----------------------------------------------------------------------------------------
async def test_a_ticket_survives_a_restart(tmp_path: Path) -> None:
    async with TelegramEmulator() as api, SandboxWorld(["mexc"]) as world:
        async with support_env(tmp_path, api=api, world=world) as env:
            api.fail("sendMessage", (500, "Internal Server Error"), times=None, when=_to_support)
            await _skip_to_ticket(env)
            await eventually(
                lambda: [c for c in api.calls_to("sendMessage") if _to_support(c.params) and not c.ok],
                what="a failed delivery",
            )
            assert await env.services.db.fetchval("SELECT COUNT(*) FROM outbox WHERE status = 'pending'") == 1
        assert not [m for m in group_messages(env) if "Ticket #1" in (m.get("text") or "")]
        api.clear_failures()
        async with support_env(tmp_path, api=api, world=world) as env2:
            await message_in_group(env2, "Ticket #1")
        # the second process marked it sent before stopping (stop waits for deliveries in flight)
        sent = await _outbox_statuses(tmp_path)
        assert sent == ["sent"]
        count = len([m for m in group_messages(env2) if "Ticket #1" in (m.get("text") or "")])
        assert count == 1


async def test_a_429_is_waited_out_and_order_kept(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        api = env.api
        api.fail("sendMessage", (429, "Too Many Requests: retry after 1"), retry_after=1, when=_to_support)
        await _skip_to_ticket(env)
        for n in range(3):
            api.send_text(f"queued {n}")
        await message_in_group(env, "queued 2", timeout=6)
        failed = next(c for c in api.calls_to("sendMessage") if _to_support(c.params) and not c.ok)
        sent = next(c for c in api.calls_to("sendMessage") if _to_support(c.params) and c.ok)
        assert sent.time - failed.time >= 0.9
        texts = [t for t in texts_in(group_messages(env)) if t.startswith(("🆘", "queued"))]
        assert texts[0].startswith("🆘 Ticket #1") and texts[1:] == ["queued 0", "queued 1", "queued 2"]


async def test_the_group_budget_queues_messages_in_order(tmp_path: Path) -> None:
    async with TelegramEmulator(group_rate=(3, 1.0)) as api:
        async with support_env(tmp_path, api=api) as env:
            await _skip_to_ticket(env)
            for n in range(5):
                api.send_text(f"budget {n}")
            await message_in_group(env, "budget 4", timeout=8)
            assert [c for c in api.calls if c.error is not None and c.error.status == 429]
            texts = [t for t in texts_in(group_messages(env)) if t.startswith("budget")]
            assert texts == [f"budget {n}" for n in range(5)]


# -- start-up checks ---------------------------------------------------------------------------------------------
async def test_verify_support_chat_names_what_is_missing() -> None:
    async with TelegramEmulator() as api:
        bot = Bot(api.token, base_url=api.base_url, request=local_request(), get_updates_request=local_request())
        async with bot:
            settings = Settings(telegram_bot_token=api.token)
            problems = await verify_support_chat(bot, settings)
            assert len(problems) == 1 and "SUPPORT_CHAT_ID is not set" in problems[0]
            forum = api.add_group("Support", forum=True)
            settings = Settings(telegram_bot_token=api.token, support_chat_id=forum.id)
            assert await verify_support_chat(bot, settings) == []
            no_rights = {"can_manage_topics": False, "can_delete_messages": False}
            api.set_bot_status(forum, "administrator", rights=no_rights)
            problems = await verify_support_chat(bot, settings)
            assert len(problems) == 2 and "manage topics" in problems[0] and "delete messages" in problems[1]
            api.set_bot_status(forum, "member")
            problems = await verify_support_chat(bot, settings)
            assert len(problems) == 1 and "not an administrator" in problems[0]
            problems = await verify_support_chat(bot, Settings(telegram_bot_token=api.token, support_chat_id=-100999))
            assert len(problems) == 1 and "can't see the support chat" in problems[0]
