"""The private chat end to end: real Application over HTTP, Bot API emulator, fake MEXC, SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.diagnosis.model import Permission
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.telegram_model import Call
from bot.sandbox.world import SandboxWorld
from tests.bot_harness import bot_env, running


async def _start_flow(env, campaign: str = "ct:any") -> None:  # type: ignore[no-untyped-def]
    api = env.api
    api.send_text("/check")
    picker = await env.wait_text("Which exchange")
    api.press_button(picker.message, "ex:mexc")
    campaign_msg = await env.wait_text("Which kind of HuFi campaign")
    api.press_button(campaign_msg.message, campaign)
    await env.wait_text("Send me the")


async def test_start_shows_a_check_button(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        env.api.send_text("/start")
        welcome = await env.wait_text("read-only")
        buttons = [b["callback_data"] for row in welcome.message["reply_markup"]["inline_keyboard"] for b in row]
        assert buttons == ["check"]


async def test_good_key_step_by_step_passes_and_nothing_is_kept(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        account = env.world.fakes["mexc"].add_account()
        await _start_flow(env, "ct:HOLDING")
        key_msg = env.api.send_text(account.api_key)
        deleted = await env.wait_method("deleteMessage")
        assert deleted.params["message_id"] == key_msg["message_id"]
        await env.wait_text("Now send the")
        secret_msg = env.api.send_text(account.secret)
        deleted = await env.wait_method("deleteMessage")
        assert deleted.params["message_id"] == secret_msg["message_id"]
        verdict = await env.wait_text("passes every check")
        assert verdict.params.get("protect_content") in (True, "true", "True")
        assert await env.services.vault.count_active() == 0
        assert await env.services.drafts.count_active() == 0


async def test_key_and_secret_in_one_message(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        account = env.world.fakes["mexc"].add_account()
        await _start_flow(env)
        sent = env.api.send_text(f"{account.api_key}:{account.secret}")
        deleted = await env.wait_method("deleteMessage")
        assert deleted.params["message_id"] == sent["message_id"]
        await env.wait_text("passes every check")


async def test_missing_permission_then_fixed_turns_green_on_check_again(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        fake = env.world.fakes["mexc"]
        account = fake.add_account()
        account.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
        await _start_flow(env)
        env.api.send_text(f"{account.api_key} {account.secret}")
        verdict = await env.wait_text("Step 1 of")
        assert "Spot trade history" in verdict.text
        assert await env.services.vault.count_active() == 1
        account.grant(Permission.VIEW_SPOT_TRADING_HISTORY)
        buttons = [b["callback_data"] for row in verdict.message["reply_markup"]["inline_keyboard"] for b in row]
        again = next(b for b in buttons if b.startswith("again:"))
        env.api.press_button(verdict.message, again)
        await env.wait_text("passes every check")
        assert await env.services.vault.count_active() == 0


async def test_secret_outside_the_flow_is_deleted_and_never_echoed(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        secret = "Zx9" + "q7W2e" * 6
        sent = env.api.send_text(f"hello here is my key {secret}")
        deleted = await env.wait_method("deleteMessage")
        assert deleted.params["message_id"] == sent["message_id"]
        warning = await env.wait_text("looked like an API key")
        assert secret not in (warning.text or "")


async def test_deletion_failing_tells_the_user_to_delete_and_treat_the_key_as_exposed(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        account = env.world.fakes["mexc"].add_account()
        await _start_flow(env)
        env.api.fail("deleteMessage", (400, "Bad Request: message can't be deleted"), times=1)
        env.api.send_text(account.api_key)
        warning = await env.wait_text("could not delete")
        assert "exposed" in warning.text
        assert account.api_key not in warning.text
        await env.wait_text("Now send the")


async def test_an_edited_message_with_a_key_is_deleted(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        original = env.api.send_text("hi")
        await env.wait_text("did not get that")
        env.api.edit_text(original, "my secret is Zq81" + "kd9Wm2" * 5)
        deleted = await env.wait_method("deleteMessage")
        assert deleted.params["message_id"] == original["message_id"]
        await env.wait_text("you edited")


async def test_a_key_pasted_in_a_group_is_deleted_without_echo(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        group = env.api.add_group("Traders", forum=False)
        secret = "Yk29" + "Lm8pQ" * 6
        sent = env.api.send_text(f"api key {secret}", chat=group)
        deleted = await env.wait_method("deleteMessage")
        assert deleted.params["message_id"] == sent["message_id"]
        warning = await env.wait_text("revoke")
        assert secret not in warning.text and "hufi_support_bot" in warning.text


async def test_restart_in_the_middle_of_the_flow_resumes(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    async with TelegramEmulator() as api, SandboxWorld(["mexc"]) as world:
        account = world.fakes["mexc"].add_account()
        async with running(api, world, db) as env:
            await _start_flow(env)
            env.api.send_text(account.api_key)
            await env.wait_text("Now send the")
        # the first bot process is gone; a new one on the same database picks up where the user was
        async with running(api, world, db) as env2:
            env2.api.send_text(account.secret)
            await env2.wait_text("passes every check")


async def test_expiry_wipes_the_kept_key(tmp_path: Path) -> None:
    now = [1_000_000.0]
    async with bot_env(tmp_path, clock_hook=now) as env:
        account = env.world.fakes["mexc"].add_account(deposit_address=None)
        await _start_flow(env)
        env.api.send_text(f"{account.api_key} {account.secret}")
        verdict = await env.wait_text("Step 1 of")
        assert await env.services.vault.count_active() == 1
        now[0] += 31 * 60
        assert await env.services.vault.wipe_expired() == 1
        again = next(
            b["callback_data"]
            for row in verdict.message["reply_markup"]["inline_keyboard"]
            for b in row
            if b["callback_data"].startswith("again:")
        )
        env.api.press_button(verdict.message, again)
        await env.wait_text("no longer have that key")


async def test_the_hourly_limit_stops_the_eleventh_check(tmp_path: Path) -> None:
    async with bot_env(tmp_path, checks_per_hour=2) as env:
        account = env.world.fakes["mexc"].add_account()
        for _ in range(2):
            await _start_flow(env)
            env.api.send_text(f"{account.api_key} {account.secret}")
            await env.wait_text("passes every check")
        env.api.send_text("/check")
        limited = await env.wait_text("try again in")
        assert "2 keys in the last hour" in limited.text


async def test_a_dex_needs_no_key(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        env.api.send_text("/check")
        picker = await env.wait_text("Which exchange")
        env.api.press_button(picker.message, "ex:hyperliquid")
        answer = await env.wait_text("needs no API key")
        assert "wallet" in answer.text


async def test_a_missing_passphrase_problem_is_named_before_any_request(tmp_path: Path) -> None:
    async with bot_env(tmp_path, exchanges=["mexc", "kucoin"]) as env:
        fake = env.world.fakes["kucoin"]
        account = fake.add_account()
        env.api.send_text("/check")
        picker = await env.wait_text("Which exchange")
        env.api.press_button(picker.message, "ex:kucoin")
        campaign = await env.wait_text("Which kind of HuFi campaign")
        env.api.press_button(campaign.message, "ct:any")
        await env.wait_text("Send me the")
        env.api.send_text(f"{account.api_key} {account.secret}")
        await env.wait_text("API passphrase")
        before = len(fake.requests)
        env.api.send_text("short")  # KuCoin passphrases are 7-32 characters
        verdict = await env.wait_text("Step 1 of")
        assert len(fake.requests) == before
        assert "passphrase" in verdict.text.lower()


async def test_stale_buttons_and_odd_input_get_short_answers(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        welcome_like = env.api.send_text("/frobnicate")
        await env.wait_text("don't know that command")
        env.api.send_photo(caption=None)
        await env.wait_text("only read text")
        env.api.send_text("please help me " * 300)
        await env.wait_text("too long")
        env.api.send_text("ünïcödé 🙂 text")
        await env.wait_text("did not get that")
        bot_msg = await _bot_message_with_buttons(env)
        env.api.press_button(bot_msg, "step:999:1", check=False)
        await env.wait_text("older message")
        del welcome_like


async def _bot_message_with_buttons(env):  # type: ignore[no-untyped-def]
    env.api.send_text("/start")
    return (await env.wait_text("read-only")).message


async def test_progress_is_edited_as_probes_finish_and_never_refused(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        fake = env.world.fakes["mexc"]
        account = fake.add_account()
        fake.force(path="/api/v3/capital/deposit/address", mode="slow", delay=0.6, times=1)
        await _start_flow(env)
        env.api.send_text(f"{account.api_key} {account.secret}")
        first = await env.wait_text("⏳")  # the progress message, every permission waiting
        assert first.method == "sendMessage" and first.text.count("⏳") == 3
        partial = await env.wait_method("editMessageText")
        assert partial.message["message_id"] == first.message["message_id"]
        assert "✅" in partial.text and partial.text.count("⏳") == 1  # the fast probes, shown live
        verdict = await env.wait_text("passes every check")
        progress_id = first.message["message_id"]

        def edits() -> list[Call]:
            return [c for c in env.api.calls_to("editMessageText") if c.params["message_id"] == progress_id]

        for _ in range(100):  # the last edit and the verdict go out together, in either order
            if edits()[-1].params["text"].count("✅") == 3:
                break
            await asyncio.sleep(0.02)
        shown = edits()
        assert all(call.ok for call in env.api.calls), [c.error for c in env.api.calls if not c.ok]
        assert 2 <= len(shown) <= 3  # at most one per probe, and no repeat of the final text
        assert shown[-1].params["text"].count("✅") == 3
        assert verdict.message["message_id"] != progress_id


async def test_probes_start_while_the_progress_message_is_sent_and_the_verdict_waits_for_it(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        account = env.world.fakes["mexc"].add_account()
        await _start_flow(env)
        env.api.slow("sendMessage", 0.5, when=lambda params: "⏳" in str(params.get("text")))
        env.api.send_text(f"{account.api_key} {account.secret}")
        progress = await env.wait_text("⏳", wait=3)
        verdict = await env.wait_text("passes every check")
        private = ("/api/v3/account", "/api/v3/capital/deposit/address", "/api/v3/myTrades")
        probes = [r for r in env.world.fakes["mexc"].requests if r.path in private]
        assert len(probes) == 3
        assert max(r.at for r in probes) < progress.time  # the check ran while the message was on its way
        assert progress.message["message_id"] < verdict.message["message_id"]  # and the verdict still came after
