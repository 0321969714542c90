"""/stats and the weekly digest through the real Application, the Bot API emulator and a real SQLite file.

`handlers.stats` is not registered in `bot.app` yet (the lead wires it in); these tests add its handlers to the
running bot the way `register_all` will (main group) and run the digest job as the JobQueue runs it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.insights import DigestSchedule, make_insights
from bot.sandbox.telegram_api import TelegramEmulator
from handlers.stats import DIGEST_JOB_NAME, schedule_digest, stats_handlers
from tests.bot_harness import BotEnv
from tests.insights_history import FP, NOW, USERS, seed
from tests.test_canary import Collect, forms, production_logging  # noqa: F401 - production_logging: a fixture
from tests.test_support import SUPPORT, eventually, staff, support_env

MAIN_GROUP = 0


@asynccontextmanager
async def stats_env(tmp_path: Path, **settings: Any) -> AsyncIterator[BotEnv]:
    """The bot with a forum support chat, the known history in its database, its clock at NOW, /stats added."""
    async with support_env(tmp_path, clock_hook=[NOW.timestamp()], **settings) as env:
        await seed(env.services.db)
        env.app.add_handlers(stats_handlers(), group=MAIN_GROUP)
        yield env


def photos(api: TelegramEmulator, chat_id: int) -> list[Any]:
    return [c for c in api.calls_to("sendPhoto") if c.params.get("chat_id") == chat_id and c.ok]


def texts_to(api: TelegramEmulator, chat_id: int) -> list[str]:
    return [c.params.get("text", "") for c in api.calls_to("sendMessage") if c.params.get("chat_id") == chat_id]


async def test_staff_get_the_picture_in_the_support_chat(tmp_path: Path) -> None:
    async with stats_env(tmp_path) as env:
        api = env.api
        asked = api.send_text("/stats", staff(env), SUPPORT)
        call = (await eventually(lambda: photos(api, SUPPORT), timeout=60, what="the picture"))[0]
        expected = await make_insights(env.services.db, 7, NOW, isolated=False)
        assert call.params["caption"] == expected.caption
        assert call.params["caption"].startswith("Support insights, last 7 days (24 Nov – 30 Nov 2026, UTC)")
        assert call.params["photo"]["size"] == len(expected.png)  # the very picture, uploaded as a file
        assert "parse_mode" not in call.params  # plain text: exchange names and labels need no escaping
        assert call.params["reply_parameters"]["message_id"] == asked["message_id"]
        assert [c.params["action"] for c in api.calls_to("sendChatAction")] == ["upload_photo"]
        # nothing that identifies a user or a key went to the chat
        for value in [*map(str, USERS), *(n for n, _ in USERS.values()), *FP.values()]:
            assert value not in call.params["caption"]


async def test_a_period_and_a_topic(tmp_path: Path) -> None:
    async with stats_env(tmp_path) as env:
        api = env.api
        topic = api.create_topic(SUPPORT, "weekly numbers")
        api.send_text("/stats 30d", staff(env), SUPPORT, thread=topic)
        call = (await eventually(lambda: photos(api, SUPPORT), timeout=60, what="the picture"))[0]
        assert call.params["caption"].startswith("Support insights, last 30 days (1 Nov – 30 Nov 2026, UTC)")
        assert call.params["message_thread_id"] == topic


async def test_a_bad_period_is_explained_without_repeating_it(tmp_path: Path) -> None:
    async with stats_env(tmp_path) as env:
        api = env.api
        api.send_text("/stats 400d", staff(env), SUPPORT)
        api.send_text("/stats 7 days", staff(env), SUPPORT)

        def usage() -> list[str]:
            return [t for t in texts_to(api, SUPPORT) if t.startswith("Usage: /stats")]

        answers = await eventually(lambda: len(usage()) == 2 and usage(), what="two usage answers")
        assert (
            answers
            == ["Usage: /stats [7d|30d]. The period must be like 7d, 30d or a number of days from 1 to 365."] * 2
        )
        assert not photos(api, SUPPORT)


async def test_non_staff_and_other_chats_get_no_picture(tmp_path: Path) -> None:
    async with stats_env(tmp_path) as env:
        api = env.api
        member = api.add_user("Mallory", username="mallory")
        api.set_member(SUPPORT, member, "administrator")  # an admin of the chat, but not in STAFF_USER_IDS
        api.send_text("/stats", member, SUPPORT)
        refusal = "Only support staff can see the insights."
        await eventually(lambda: refusal in texts_to(api, SUPPORT), what="the refusal")
        # a private chat: the unknown-command answer, not the picture
        api.send_text("/stats", staff(env))
        await eventually(lambda: texts_to(api, staff(env).id), what="the private chat's answer")
        # another group: nothing. The secret paste after it is answered by the guard once /stats was handled
        # (updates of one chat are handled in order)
        other = api.add_group("Traders", forum=False)
        api.set_member(other, staff(env), "administrator")
        api.send_text("/stats", staff(env), other.id)
        account = env.world.fakes["mexc"].add_account()
        api.send_text(f"{account.api_key} {account.secret}", staff(env), other.id)
        await eventually(lambda: texts_to(api, other.id), what="the guard's warning in the other group")
        assert refusal not in texts_to(api, other.id) and refusal not in texts_to(api, staff(env).id)
        assert not api.calls_to("sendPhoto")


async def test_a_secret_pasted_after_stats_never_reaches_the_chat_or_logs(
    tmp_path: Path,
    production_logging: Collect,  # noqa: F811 - the canary's fixture, imported above
) -> None:
    """Canary: `/stats <key> <secret>` in the support chat is deleted by the guard before /stats sees it."""
    async with stats_env(tmp_path) as env:
        api = env.api
        account = env.world.fakes["mexc"].add_account()
        planted = [account.api_key, account.secret]
        pasted = api.send_text(f"/stats {account.api_key} {account.secret}", staff(env), SUPPORT)
        api.send_text("/stats", staff(env), SUPPORT)  # handled after the paste (same chat, in order)
        await eventually(lambda: photos(api, SUPPORT), timeout=60, what="the picture")
        deleted = [c.params.get("message_id") for c in api.calls_to("deleteMessage")]
        assert pasted["message_id"] in deleted
        assert not [t for t in texts_to(api, SUPPORT) if t.startswith("Usage: /stats")]
        requests = json.dumps([c.params for c in api.calls], default=str)
        logs = "\n".join(production_logging.lines)
        for value in planted:
            for form in forms(value):
                assert form not in requests and form not in logs


async def test_the_weekly_digest_posts_to_the_support_chat(tmp_path: Path) -> None:
    async with stats_env(tmp_path) as env:
        schedule = DigestSchedule.from_settings("mon", "9", "UTC", days=7)
        job = schedule_digest(env.app, schedule)
        assert job is not None and env.app.job_queue.get_jobs_by_name(DIGEST_JOB_NAME) == (job,)
        assert job.next_t is not None and job.next_t.weekday() == 0 and job.next_t.hour == 9
        await job.run(env.app)  # what the JobQueue does at the time (the times themselves: test_insights_schedule)
        call = (await eventually(lambda: photos(env.api, SUPPORT), timeout=60, what="the digest"))[0]
        expected = await make_insights(env.services.db, 7, NOW, isolated=False)
        assert call.params["caption"] == expected.caption
        assert call.params["photo"]["size"] == len(expected.png)
        assert "message_thread_id" not in call.params  # the General topic
        assert schedule_digest(env.app, None) is None
        assert env.app.job_queue.get_jobs_by_name(DIGEST_JOB_NAME) == ()


async def test_the_digest_is_off_by_default(tmp_path: Path) -> None:
    async with stats_env(tmp_path) as env:
        assert DigestSchedule.from_settings(None, None) is None
        assert schedule_digest(env.app, DigestSchedule.from_settings(None, None)) is None
        assert env.app.job_queue.get_jobs_by_name(DIGEST_JOB_NAME) == ()


async def test_the_digest_settings_schedule_it_when_the_bot_starts(tmp_path: Path) -> None:
    """STATS_DIGEST_* reach the JobQueue through the bot's own start-up (build_application), not only through
    schedule_digest called by hand; without a support chat there is nowhere to post, so nothing is scheduled."""
    from tests.bot_harness import bot_env

    async with support_env(tmp_path, stats_digest_weekday="fri", stats_digest_hour=7, stats_timezone="UTC") as env:
        (job,) = env.app.job_queue.get_jobs_by_name(DIGEST_JOB_NAME)
        assert job.next_t is not None and (job.next_t.weekday(), job.next_t.hour) == (4, 7)
    async with bot_env(tmp_path / "alone", ["mexc"], stats_digest_weekday="fri") as env:
        assert env.services.support is None
        assert env.app.job_queue.get_jobs_by_name(DIGEST_JOB_NAME) == ()
