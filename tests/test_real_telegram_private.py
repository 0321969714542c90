"""The private chat against what the real Bot API server does (issue 13): late button presses, messages the user
deleted first, repeated taps. The real Application over HTTP, the Bot API emulator, fake MEXC, a SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.diagnosis.model import Permission
from bot.sandbox.telegram_methods import QUERY_TOO_OLD
from tests.bot_harness import BotEnv, bot_env, to_key_question

TOO_OLD = f"Bad Request: {QUERY_TOO_OLD}"


def _buttons(message: dict[str, Any]) -> list[str]:
    return [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


def _button(message: dict[str, Any], prefix: str) -> str:
    return next(b for b in _buttons(message) if b.startswith(prefix))


async def _failing_verdict(env: BotEnv, *, late: bool = False) -> tuple[Any, Any]:
    """A check of a key without trade history, every button of the flow pressed `late` if asked."""
    account = env.world.fakes["mexc"].add_account()
    account.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
    env.api.send_text("/start")
    welcome = await env.wait_text("read-only")
    env.api.press_button(welcome.message, "check", late=late)
    picker = await env.wait_text("Which exchange")
    env.api.press_button(picker.message, "ex:mexc", late=late)
    campaign = await env.wait_text("Which kind of HuFi campaign")
    env.api.press_button(campaign.message, "ct:any", late=late)
    await env.wait_text("Send me the")
    env.api.send_text(f"{account.api_key} {account.secret}")
    verdict = await env.wait_text("Step 1 of")
    return account, verdict


async def _answer_with(env: BotEnv, fragment: str) -> Any:
    """Wait for the bot's answer to a button press that says `fragment`."""
    count = 1
    while True:
        call = await env.api.wait_call("answerCallbackQuery", count=count, timeout=5)
        if fragment in str(call.params.get("text") or ""):
            return call
        count += 1


def _refused_answers(env: BotEnv) -> list[Any]:
    return [c for c in env.api.calls_to("answerCallbackQuery") if c.error is not None]


async def test_a_late_forget_press_still_forgets_the_key(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        _, verdict = await _failing_verdict(env)
        assert await env.services.vault.count_active() == 1
        env.api.press_button(verdict.message, "forget", late=True)
        done = await env.wait_text("deleted every key")
        assert await env.services.vault.count_active() == 0
        assert "went wrong" not in done.text
        refused = _refused_answers(env)
        assert len(refused) == 1 and QUERY_TOO_OLD in refused[0].error.description


async def test_every_private_button_pressed_late_still_does_what_it_says(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        account, verdict = await _failing_verdict(env, late=True)  # "Check a key", the exchange, the campaign
        env.api.press_button(verdict.message, _button(verdict.message, "step:"), late=True)
        await env.wait_text("Step 2 of")
        account.grant(Permission.VIEW_SPOT_TRADING_HISTORY)
        env.api.press_button(verdict.message, _button(verdict.message, "again:"), late=True)
        passed = await env.wait_text("passes every check")
        env.api.press_button(passed.message, _button(passed.message, "another:"), late=True)
        await env.wait_text("Send me the")
        env.api.send_text("/cancel")
        await env.wait_text("Okay, stopped")
        assert len(_refused_answers(env)) == 6  # every press was too old to answer; none was skipped
        sent = [c.params.get("text", "") for c in env.api.calls_to("sendMessage")]
        assert not any("went wrong" in text for text in sent)


async def test_a_press_waiting_for_its_turn_is_answered_in_time_and_still_acts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A press stuck behind its chat's running update (or a burst that holds every update slot) is answered empty
    before Telegram's window closes, and its action happens when its turn comes, without a second answer."""
    monkeypatch.setattr("bot.app.ANSWER_WITHIN", 0.3)
    async with bot_env(tmp_path) as env:
        env.api.send_text("/start")
        welcome = await env.wait_text("read-only")
        busy = env.api.hold("sendMessage")
        env.api.send_text("/help")  # its answer is held: the chat's turn stays with /help
        await busy.arrived()
        env.api.press_button(welcome.message, "check")
        answer = await env.api.wait_call("answerCallbackQuery", timeout=5)
        assert answer.error is None and not answer.params.get("text")
        assert not [c for c in env.api.calls_to("sendMessage") if "Which exchange" in str(c.params.get("text"))]
        busy.release()
        await env.wait_text("Which exchange")  # the press still did what it says
        assert len(env.api.calls_to("answerCallbackQuery")) == 1  # its handler did not answer again


async def test_a_secret_the_user_deleted_first_is_no_reason_to_call_the_key_exposed(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        account = env.world.fakes["mexc"].add_account()
        await to_key_question(env)
        key_message = env.api.send_text(account.api_key)
        env.api.delete_by_user(key_message)  # gone before the bot reads it
        await env.wait_text("Now send the")
        deleted = env.api.calls_to("deleteMessage")[-1]
        assert deleted.error is not None and "message to delete not found" in deleted.error.description
        env.api.send_text(account.secret)
        await env.wait_text("passes every check")
        sent = [c.params.get("text", "") for c in env.api.calls_to("sendMessage")]
        assert not any("exposed" in text or "could not delete" in text for text in sent)


async def test_a_secret_that_can_not_be_deleted_is_still_called_exposed(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        await to_key_question(env)
        key_message = env.api.send_text(env.world.fakes["mexc"].add_account().api_key)
        env.api.fail_delete(key_message, "message can't be deleted for everyone")
        warning = await env.wait_text("could not delete")
        assert "exposed" in warning.text


async def test_two_taps_on_check_again_run_one_check(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        fake = env.world.fakes["mexc"]
        _, verdict = await _failing_verdict(env)
        checks_before = await env.services.db.fetchval("SELECT COUNT(*) FROM checks")
        fake.latency = 0.2  # the re-check takes a moment: the second tap comes while it runs
        again = _button(verdict.message, "again:")
        env.api.press_button(verdict.message, again)
        env.api.press_button(verdict.message, again)
        await env.wait_text("Step 1 of")  # one verdict
        await _answer_with(env, "Already on it")  # the repeat, while the re-check runs, is only answered
        assert await env.services.db.fetchval("SELECT COUNT(*) FROM checks") == checks_before + 1
        counted = await env.services.db.fetchval("SELECT COUNT(*) FROM rate_events WHERE kind = 'check'")
        assert counted == 2  # the first check and one re-check: one of the hourly checks, not two
        verdicts = [c for c in env.api.calls_to("sendMessage") if "Step 1 of" in str(c.params.get("text"))]
        assert len(verdicts) == 2
        # a press after the re-check finished is a new action again
        fake.latency = 0.0
        env.api.press_button(verdict.message, again)
        await env.wait_text("Step 1 of")
        assert await env.services.db.fetchval("SELECT COUNT(*) FROM checks") == checks_before + 2


async def test_support_buttons_pressed_late_still_open_the_ticket(tmp_path: Path) -> None:
    from tests.test_support import failing_check, message_in_group, message_to_user, support_env

    async with support_env(tmp_path) as env:
        user = env.api.default_user
        _, verdict = await failing_check(env)
        env.api.press_button(verdict, _button(verdict, "support:"), late=True)
        prompt = await message_to_user(env, user, "Describe the problem")
        env.api.press_button(prompt, "support_skip", late=True)
        await message_to_user(env, user, "is with HuFi support")
        await message_in_group(env, f"· id {user.id} ·")
        assert len(_refused_answers(env)) == 2
