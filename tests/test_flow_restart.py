"""The key flow across a crash, when abandoned, and what it costs in SQL (issues 13 and 19).

- `kill -9` of the real `python -m bot run` process right after a question of the key flow: after the restart the
  user goes on where they were (the position is written before the question goes out, storage.persistence).
- An abandoned flow ends after the draft's lifetime with a calm note; its timeout job never holds the message
  with the key; stale positions leave the table.
- The statements one key flow makes (sqlite's trace callback): no redundant `DELETE FROM drafts`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.app import WIPE_JOB, handled_updates
from bot.exchanges.catalog import get_spec
from bot.sandbox.hufi import FakeHufi
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.telegram_model import Action
from bot.services import DRAFT_TTL_SECONDS
from handlers.private import FLOW_NAME
from tests.bot_harness import TEST_KEY, BotEnv, bot_env, to_key_question

ROOT = Path(__file__).resolve().parents[1]
#: Start-up of a real bot process (imports, the sandbox exchanges) on a busy two-core machine.
START_TIMEOUT = 60.0


async def _said(api: TelegramEmulator, fragment: str, timeout: float = 20.0) -> Action:  # noqa: ASYNC109
    """The bot's next message (sent or edited) containing `fragment`; other actions are skipped."""
    seen = []
    while True:
        action = await api.next_action(timeout=timeout)
        if action.message is not None and fragment in (action.text or ""):
            return action
        seen.append(f"{action.method}: {(action.text or '')[:60]!r}")
        assert len(seen) < 40, f"never saw {fragment!r}; saw {seen}"


async def _confirmed(api: TelegramEmulator, update_id: int) -> None:
    """Wait until the bot has confirmed update `update_id` to the server (its next getUpdates has a higher
    offset), so a restart is not handed the same update again."""
    while any(u["update_id"] <= update_id for u in api.pending):
        await api.wait_call("getUpdates", timeout=10, count=len(api.calls_to("getUpdates")) + 1)


@asynccontextmanager
async def _bot_process(api: TelegramEmulator, hufi: FakeHufi, db: Path, log: Path) -> AsyncIterator[Any]:
    """`python -m bot run` against the emulator, with simulated exchanges (EXCHANGE_SANDBOX); killed on exit."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_PATH": str(db),
        "BOT_ENCRYPTION_KEY": TEST_KEY,
        "EXCHANGE_SANDBOX": "true",
        "HUFI_RECORDING_ORACLE_URL": hufi.base_url,
        "HUFI_CAMPAIGN_LAUNCHER_URL": hufi.base_url,
        "LOG_LEVEL": "INFO",
    }
    polls = len(api.calls_to("getUpdates"))
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        await api.wait_call("getUpdates", timeout=START_TIMEOUT, count=polls + 1)  # it polls: it is up
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def test_kill_9_right_after_a_question_and_the_user_goes_on_where_they_were(tmp_path: Path) -> None:
    db, log = tmp_path / "bot.sqlite3", tmp_path / "bot.log"
    async with TelegramEmulator() as api, FakeHufi() as hufi:
        key, secret = "mx0vgl" + "Q7kP2sW9xZ" * 2, "a81f" * 8  # the child's sandbox MEXC refuses this key
        async with _bot_process(api, hufi, db, log) as first:
            api.send_text("/check")
            picker = await _said(api, "Which exchange", START_TIMEOUT)
            api.press_button(picker.message, "ex:mexc")
            campaign = await _said(api, "Which kind of HuFi campaign")
            api.press_button(campaign.message, "ct:any")
            await _said(api, "Send me the")
            api.send_text(key)
            key_update = api.pending[-1]["update_id"]
            await _said(api, "Now send the")  # the question is out ...
            await _confirmed(api, key_update)
            first.send_signal(signal.SIGKILL)  # ... and the process dies at once, no shutdown of any kind
            assert await first.wait() == -signal.SIGKILL
        api.drain_actions()
        async with _bot_process(api, hufi, db, log) as second:
            sent = api.send_text(secret)
            progress = await _said(api, "Checking your MEXC key")
            assert "mx0v" in progress.text  # the key from before the crash, by its fingerprint
            verdict = await _said(api, "Step 1 of")
            assert (sent["chat"]["id"], sent["message_id"]) in api.deleted  # deleted first, as in any flow
            said = [c.params.get("text", "") for c in api.calls_to("sendMessage")]
            assert sum("Now send the" in s for s in said) == 1  # not asked for the secret again
            assert not any("looked like an API key" in s for s in said)  # not taken for a paste outside the flow
            assert secret not in verdict.text
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 30) == 0


async def _to_key_question(env: BotEnv) -> None:
    await to_key_question(env)


async def test_an_abandoned_flow_ends_calmly_and_its_timeout_never_holds_the_key(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        account = env.world.fakes["mexc"].add_account()
        await _to_key_question(env)
        env.api.send_text(account.api_key)
        await env.wait_text("Now send the")
        flow = next(h for h in env.app.handlers[0] if getattr(h, "name", None) == FLOW_NAME)
        user = env.api.default_user.id
        job = flow.timeout_jobs[(user, user)]
        kept = job.data
        assert kept.update.message.text is None and kept.callback_context.args is None  # who and where only
        assert account.api_key not in repr(kept.update.to_dict())
        assert job.next_t is not None
        assert DRAFT_TTL_SECONDS - 60 < (job.next_t - datetime.now(UTC)).total_seconds() <= DRAFT_TTL_SECONDS
        job.job.modify(next_run_time=datetime.now(UTC))  # its time has come
        note = await env.wait_text("stopped waiting")
        assert "Use /check" in note.text and "exposed" not in note.text
        assert await env.services.drafts.count_active() == 0
        assert await env.services.db.fetchval("SELECT COUNT(*) FROM conversations") == 0
        env.api.send_text("hello")  # no longer taken for a key
        await env.wait_text("did not get that")


async def test_the_expiry_job_forgets_positions_left_since_a_restart(tmp_path: Path) -> None:
    now = [1_900_000_000.0]
    async with bot_env(tmp_path, clock_hook=now) as env:
        await _to_key_question(env)
        assert await env.services.db.fetchval("SELECT state_json FROM conversations") == '"key"'
        now[0] += DRAFT_TTL_SECONDS - 1
        (job,) = env.app.job_queue.get_jobs_by_name(WIPE_JOB)
        await job.run(env.app)
        assert await env.services.db.fetchval("SELECT COUNT(*) FROM conversations") == 1  # still its time
        now[0] += 2
        await job.run(env.app)
        assert await env.services.db.fetchval("SELECT COUNT(*) FROM conversations") == 0
        assert await env.services.drafts.count_active() == 0


async def test_one_key_flow_makes_no_redundant_statements(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        account = env.world.fakes["mexc"].add_account()
        await env.services.factory.preload(get_spec("mexc"))
        statements: list[str] = []
        await env.services.db._conn.set_trace_callback(statements.append)  # sqlite3's own trace hook
        await _to_key_question(env)
        env.api.send_text(account.api_key)
        await env.wait_text("Now send the")
        env.api.send_text(account.secret)
        last = env.api.pending[-1]["update_id"]
        await env.wait_text("passes every check")
        handled = handled_updates(env.app)
        assert handled is not None
        await handled.wait(last)
        await env.app.update_persistence()  # PTB's own write of the states: nothing left to write
        await env.services.db._conn.set_trace_callback(None)
    drafts_deleted = [s for s in statements if s.startswith("DELETE FROM drafts")]
    # /check clears an older draft, each of the three writes of the draft replaces the one before it (in one
    # transaction with its INSERT), and the flow's end wipes it: five, where there were eleven
    assert len(drafts_deleted) == 5, drafts_deleted
    positions = [s for s in statements if "conversations" in s]
    assert len(positions) == 5, positions  # exchange, campaign, key, secret, end: once each
