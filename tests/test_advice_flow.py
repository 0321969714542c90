"""Issue #16 end to end: the real Application over HTTP, the Bot API emulator, fake exchanges, a SQLite file.

A rejected key shows the exchange's own words; a pasted HuFi error starts a check focused on what HuFi named;
`/start mexc` skips the exchange question; a verdict that checking again can't help offers no "check again", says
nothing about keeping the key, and the key is not kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.diagnosis.model import Permission
from tests.bot_harness import BotEnv, bot_env, to_key_question


def _buttons(action: Any) -> list[str]:
    markup = action.message.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


async def _mexc_flow(env: BotEnv, text: str) -> None:
    await to_key_question(env)
    env.api.send_text(text)


async def test_a_rejected_key_shows_the_exchanges_own_words(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        account = env.world.fakes["mexc"].add_account()
        account.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
        await _mexc_flow(env, f"{account.api_key} {account.secret}")
        verdict = await env.wait_text("Step 1 of")
        assert "MEXC said: “No permission to access the endpoint.” (code 700007)" in verdict.text
        assert any(d.startswith("again:") for d in _buttons(verdict))
        assert "I keep the key encrypted for 30 minutes" in verdict.text
        assert await env.services.vault.count_active() == 1
        # "Next step" to the end: the last step says what to do in HuFi
        while nxt := [d for d in _buttons(verdict) if d.startswith("step:")]:
            env.api.press_button(verdict.message, nxt[0])
            verdict = await env.wait_text("Step ")  # the verdict's edit (the progress message settles after it)
        assert "Then in HuFi" in verdict.text and "refresh icon" in verdict.text


async def test_no_internal_label_reaches_the_user(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        account = env.world.fakes["mexc"].add_account(deposit_address=None)
        await _mexc_flow(env, f"{account.api_key} {account.secret}")
        verdict = await env.wait_text("Step 1 of")
        assert "What I saw:" in verdict.text and "no ETH deposit address" in verdict.text
        assert "ccxt" not in verdict.text and "no_address" not in verdict.text


async def test_a_verdict_check_again_cannot_help_does_not_offer_it_nor_keep_the_key(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        mexc = env.world.fakes["mexc"]
        account = mexc.add_account()
        await _mexc_flow(env, f"{account.api_key} {mexc.new_secret()}")
        verdict = await env.wait_text("Step 1 of")
        assert "secret key doesn't belong to this API key" in verdict.text
        assert "Signature for this request is not valid." in verdict.text  # MEXC's own words
        assert not [d for d in _buttons(verdict) if d.startswith("again:")]
        assert "keep the key" not in verdict.text and "check again" not in verdict.text.lower()
        assert await env.services.vault.count_active() == 0
        assert any(d.startswith("another:") for d in _buttons(verdict))  # sending a new key is offered instead


async def test_start_with_an_exchange_skips_the_exchange_question(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        account = env.world.fakes["mexc"].add_account()
        env.api.send_text("/start mexc")
        first = await env.wait_text("Which kind of HuFi campaign")
        assert "MEXC" in first.text
        env.api.press_button(first.message, "ct:any")
        await env.wait_text("Send me the API key for MEXC")
        env.api.send_text(f"{account.api_key} {account.secret}")
        await env.wait_text("passes every check")
        asked = [c for c in env.api.calls_to("sendMessage") if "Which exchange" in str(c.params.get("text"))]
        assert asked == []


async def test_start_check_and_unknown_parameters(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        env.api.send_text("/start check")  # the group secret warning links here
        picker = await env.wait_text("Which exchange")
        assert "ex:mexc" in _buttons(picker)
        env.api.send_text("/start definitely-not-an-exchange")
        welcome = await env.wait_text("read-only")
        assert _buttons(welcome) == ["check"]
        env.api.send_text("/start hyperliquid")
        await env.wait_text("needs no API key")


async def test_a_pasted_hufi_error_starts_the_focused_check(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        account = env.world.fakes["mexc"].add_account()
        account.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
        env.api.send_text(
            "MEXC in HuFi: provided api key can’t be authorized on exchange. missing permissions: "
            "VIEW_SPOT_TRADING_HISTORY"
        )
        explained = await env.wait_text("HuFi's message")
        assert "Spot trade history" in explained.text and "IP allow-list" in explained.text
        assert _buttons(explained) == ["another:mexc"]  # the paste named the exchange: no question
        env.api.press_button(explained.message, "another:mexc")
        await env.wait_text("Send me the API key for MEXC")
        env.api.send_text(f"{account.api_key} {account.secret}")
        verdict = await env.wait_text("Step 1 of")
        lines = verdict.text.splitlines()
        assert lines[1] == "HuFi reported these as missing: Spot trade history. Here:"  # right after the title
        assert lines[2] == "❌ Spot trade history"


async def test_a_pasted_hufi_error_without_an_exchange_asks_for_it(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        account = env.world.fakes["mexc"].add_account()
        env.api.send_text("Failed to add API key.")
        explained = await env.wait_text("could not finish")
        assert "does not mean your permissions are wrong" in explained.text and "Which exchange" in explained.text
        assert "another:mexc" in _buttons(explained) and "another:hyperliquid" not in _buttons(explained)
        env.api.press_button(explained.message, "another:mexc")
        await env.wait_text("Send me the API key for MEXC")
        env.api.send_text(f"{account.api_key} {account.secret}")
        verdict = await env.wait_text("passes every check")
        assert "In HuFi:" in verdict.text and "refresh icon" in verdict.text


async def test_a_hufi_paste_in_the_middle_of_the_flow_is_not_taken_for_a_key(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        env.api.send_text("/check")
        picker = await env.wait_text("Which exchange")
        env.api.press_button(picker.message, "ex:mexc")
        campaign = await env.wait_text("Which kind of HuFi campaign")
        env.api.press_button(campaign.message, "ct:any")
        await env.wait_text("Send me the")
        env.api.send_text("Missing permissions: VIEW_DEPOSIT_ADDRESS")
        explained = await env.wait_text("HuFi's message")
        assert "no ETH deposit address yet" in explained.text  # the usual reason when only the address is missing
        assert env.api.calls_to("deleteMessage") == []  # not taken for the key: it held no secret, nothing deleted
        account = env.world.fakes["mexc"].add_account()
        env.api.send_text(f"{account.api_key} {account.secret}")  # the flow still waits for the key
        await env.wait_text("passes every check")


async def test_a_hufi_paste_holding_a_key_is_deleted_first_and_never_echoed(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        secret = "Zx9" + "q7W2e" * 6
        sent = env.api.send_text(f"Failed to add API key. my secret is {secret}")
        deleted = await env.wait_method("deleteMessage")
        assert deleted.params["message_id"] == sent["message_id"]
        warning = await env.wait_text("looked like an API key")
        assert secret not in (warning.text or "")
        assert not [c for c in env.api.calls_to("sendMessage") if "HuFi's message" in str(c.params.get("text"))]


async def test_a_support_description_quoting_hufi_goes_to_support(tmp_path: Path) -> None:
    from tests.test_support import message_in_group, open_ticket, support_env

    async with support_env(tmp_path) as env:
        await open_ticket(env, description="HuFi says: Failed to add API key.")
        await message_in_group(env, "Failed to add API key.")  # the description reached the ticket
        assert not [c for c in env.api.calls_to("sendMessage") if "could not finish" in str(c.params.get("text"))]


def test_the_focus_is_taken_once_for_its_exchange_and_forgotten_after_a_while() -> None:
    from types import SimpleNamespace

    from handlers.hufi_paste import FOCUS_KEY, FOCUS_TTL, focus_for

    def context(exchange: str | None, age: float = 0.0) -> Any:
        import time

        at = time.monotonic() - age
        return SimpleNamespace(
            user_data={FOCUS_KEY: {"exchange": exchange, "permissions": ["VIEW_DEPOSIT_ADDRESS"], "at": at}}
        )

    named = context("mexc")
    assert focus_for(named, "gate") == ()  # another exchange's check: not this paste's
    assert focus_for(named, "mexc") == (Permission.VIEW_DEPOSIT_ADDRESS,)
    assert focus_for(named, "mexc") == ()  # taken once
    assert focus_for(context(None), "gate") == (Permission.VIEW_DEPOSIT_ADDRESS,)  # no exchange named: the next check
    assert focus_for(context("mexc", age=FOCUS_TTL + 1), "mexc") == ()
    assert focus_for(SimpleNamespace(user_data=None), "mexc") == ()
