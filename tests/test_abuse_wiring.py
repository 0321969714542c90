"""Limits beyond the account and retention, wired into the running bot (issue 14, item 8): the real Application
against the Bot API emulator, fake MEXC, a SQLite file; time moved on the services' clock, never slept."""

from __future__ import annotations

from pathlib import Path

from bot.app import WIPE_JOB, handled_updates
from bot.diagnosis.model import Permission
from bot.sandbox.telegram_api import User
from tests.bot_harness import BotEnv, bot_env
from tests.test_support import group_messages, message_to_user, open_ticket, support_env, texts_in

DAY = 24 * 3600.0


def _database_files(folder: Path) -> bytes:
    """The raw bytes of the database file, its WAL and shared memory."""
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.name.startswith("bot.sqlite3"))


async def _check(env: BotEnv, user: User, text: str) -> None:
    """Run the key flow for `user` up to sending `text` as the key and the secret."""
    start = env.api.send_text("/check", user)["message_id"]
    picker = await message_to_user(env, user, "Which exchange", after=start)
    env.api.press_button(picker, "ex:mexc", user=user)
    campaign = await message_to_user(env, user, "Which kind of HuFi campaign", after=start)
    env.api.press_button(campaign, "ct:any", user=user)
    await message_to_user(env, user, "Send me the", after=start)
    env.api.send_text(text, user)


async def test_a_second_account_with_the_same_key_is_limited(tmp_path: Path) -> None:
    async with bot_env(tmp_path, checks_per_key_per_hour=2) as env:
        fake = env.world.fakes["mexc"]
        account = fake.add_account()
        first, second = env.api.default_user, env.api.add_user("Mallory")
        for _ in range(2):
            await _check(env, first, f"{account.api_key} {account.secret}")
            await message_to_user(env, first, "passes every check", after=max(env.api.chat(first.id).messages))
        requests = len(fake.requests)
        start = max(env.api.chat(second.id).messages, default=0)
        await _check(env, second, f"{account.api_key} {account.secret}")
        refused = await message_to_user(env, second, "checked 2 times in the last hour", after=start)
        assert "any Telegram account" in refused["text"] and "try again in" in refused["text"]
        assert len(fake.requests) == requests  # the exchange was not asked
        assert await env.services.db.fetchval("SELECT COUNT(*) FROM checks") == 2
        other = fake.add_account()  # another key of the second account goes on
        await _check(env, second, f"{other.api_key} {other.secret}")
        await message_to_user(env, second, "passes every check", after=start)
        assert account.api_key.encode() not in _database_files(tmp_path)  # counted by an HMAC of the key, never the key


async def test_the_global_ceiling_says_so_clearly(tmp_path: Path) -> None:
    async with bot_env(tmp_path, checks_per_hour_global=2) as env:
        fake = env.world.fakes["mexc"]
        users = [env.api.default_user, env.api.add_user("Bob"), env.api.add_user("Carol")]
        for user in users[:2]:
            account = fake.add_account()
            await _check(env, user, f"{account.api_key} {account.secret}")
            await message_to_user(env, user, "passes every check")
        env.api.send_text("/check", users[2])
        refused = await message_to_user(env, users[2], "hourly limit for everyone")
        assert "says nothing about your key" in refused["text"] and "try again in 60 minutes" in refused["text"]
        assert "Which exchange" not in texts_in(env.api.transcript(users[2].id))


async def test_a_relay_flood_is_limited_and_told_once(tmp_path: Path) -> None:
    async with support_env(tmp_path, relays_per_hour=3) as env:
        await open_ticket(env)
        user = env.api.default_user
        before = len(group_messages(env))
        for n in range(6):
            env.api.send_text(f"message number {n} about my key", user)
        told = await message_to_user(env, user, "many messages to HuFi support")
        assert "write again in 60 minutes" in told["text"]
        env.api.send_text("one more after the notice", user)
        last = env.api.pending[-1]["update_id"]
        handled = handled_updates(env.app)
        assert handled is not None and env.services.support is not None
        await handled.wait(last)  # the updates of one chat are handled in order: all of them are done
        await env.services.support.delivery.settled()
        relayed = [t for t in texts_in(group_messages(env)[before:]) if "message number" in t or "one more" in t]
        assert relayed == [f"message number {n} about my key" for n in range(3)]
        notices = [m for m in texts_in(env.api.transcript(user.id)) if "many messages to HuFi support" in m]
        assert len(notices) == 1


async def test_the_expiry_job_deletes_old_reports_and_ticket_texts(tmp_path: Path) -> None:
    now = [1_900_000_000.0]
    async with support_env(tmp_path, clock_hook=now, retention_days=30) as env:
        await open_ticket(env, description="my key for the HOLDING campaign fails")
        account = env.world.fakes["mexc"].add_account()
        account.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
        db = env.services.db
        assert await db.fetchval("SELECT COUNT(*) FROM checks") == 1
        assert "HOLDING" in await db.fetchval("SELECT description FROM tickets")
        (job,) = env.app.job_queue.get_jobs_by_name(WIPE_JOB)
        now[0] += 29 * DAY
        await job.run(env.app)
        assert await db.fetchval("SELECT COUNT(*) FROM checks") == 1  # not old enough yet
        now[0] += 2 * DAY
        await job.run(env.app)
        assert await db.fetchval("SELECT COUNT(*) FROM checks") == 0
        assert await db.fetchval("SELECT description FROM tickets") == ""
        assert await db.fetchval("SELECT COUNT(*) FROM rate_events") == 0  # the limits' ledger too
    assert b"HOLDING campaign fails" not in _database_files(tmp_path)  # gone from the files, WAL included
