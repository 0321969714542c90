"""Nothing a user can send crashes a handler: forged callback data for every button pattern, forged user ids in
staff commands (issue 14, item 7). A client can put any string up to 64 bytes in a button press."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.i18n import LANGUAGES
from handlers import callbacks
from tests.test_support import SUPPORT, eventually, open_ticket, staff, support_env

#: Forged data for each button pattern: Unicode digits (``"²".isdigit()`` is true and ``int("²")`` raises), ids
#: too big for SQLite's INTEGER, signs, missing and extra parts, other cases, spaces, a trailing newline (``$``
#: would accept it), control characters.
FORGED: dict[str, list[str]] = {
    "check": ["check ", "check:1", "CHECK", "check\n", "checkcheck"],
    "ex": ["ex:", "ex:²", "ex:MEXC", "ex:mexc:1", "ex:" + "a" * 40, "ex:../x", "ex:mexc\n", "ex:nosuchexchange"],
    "ct": ["ct:", "ct:²", "ct:holding", "ct:ANY", "ct:MARKET MAKING", "ct:HOLDING\n"],
    "another": ["another:", "another:²", "another:mexc ", "another:nosuchexchange", "another:hyperliquid"],
    "step": [
        "step:²:1",
        "step:1:²",
        "step:1",
        "step::",
        "step:-1:0",
        "step:1:-1",
        "step:" + "9" * 20 + ":0",
        "step:1:9999",
    ],
    "ans": ["ans:²:key_invalid", "ans:1:", "ans:1:KEY_INVALID", "ans:1:key invalid", "ans:1:not_a_cause", "ans:0:ok"],
    "again": ["again:²", "again:١٢", "again:", "again:-5", "again:" + "9" * 20, "again:1 ", "again:0", "again:01"],
    "support": [
        "support:²",
        "support:",
        "support:abc",
        "support:-1",
        "support:" + "9" * 20,
        "support:1:2",
        "support:0",
    ],
    "lang": ["lang:", "lang:RU", "lang:zh_hans", "lang:zh-Hans", "lang:de", "lang:ru\n", "lang:ru:1", "lang:²"],
    "other": ["forget:1", "noop:", "support_skip:1", "", "²", "\x00", "step:1:0\n", "🔑", "a" * 64],
}
ALL_FORGED = [data for group in FORGED.values() for data in group]
#: Forged data that still has the right shape (an id of nothing, an exchange that needs no key): a handler takes
#: it and must cope; everything else must match no pattern at all.
WELL_SHAPED = {
    "another:hyperliquid",
    "ans:0:ok",
    "again:0",
    "support:0",
}


def test_every_pattern_builds_what_it_accepts() -> None:
    built = [
        callbacks.CHECK,
        callbacks.pick_exchange("mexc"),
        callbacks.pick_campaign("HOLDING"),
        callbacks.pick_campaign("any"),
        callbacks.another_key("kucoin"),
        callbacks.next_step(12, 3),
        callbacks.answer(12, "nonce_reused"),
        callbacks.check_again(999_999_999_999_999_999),
        callbacks.talk_to_support(0),
        callbacks.FORGET,
        callbacks.NOOP,
        callbacks.SUPPORT_SKIP,
        *(callbacks.pick_language(code) for code in LANGUAGES),
    ]
    for data in built:
        assert sum(1 for p in callbacks.PATTERNS if p.match(data)) == 1, data
        assert len(data.encode()) <= 64  # Telegram's limit for callback data


@pytest.mark.parametrize("data", ALL_FORGED, ids=repr)
def test_forged_data_matches_no_pattern_unless_it_is_well_shaped(data: str) -> None:
    matched = [p.pattern for p in callbacks.PATTERNS if p.match(data)]
    if data in WELL_SHAPED:
        assert len(matched) == 1
    else:
        assert matched == [], f"{data!r} matched {matched}"


def test_user_ids_typed_by_staff_are_ascii_digits_that_fit() -> None:
    assert callbacks.user_id("123456789") == 123456789
    for text in ("²", "١٢٣", "-5", "9" * 20, "12a", "", " 1", "1\n"):
        assert callbacks.user_id(text) is None, repr(text)


async def test_forged_buttons_crash_no_handler(tmp_path: Path) -> None:
    """Every forged press gets an answer, and no handler raises (the harness turns a handler error into a failure
    of `next_action`)."""
    async with support_env(tmp_path) as env:
        api = env.api
        await open_ticket(env, description=None)  # a check, a ticket, a topic: the handlers have state to trip on
        api.drain_actions()
        anchor = api.send_text("/help")
        await env.wait_text("What I can do")
        bot_message = next(m for m in reversed(api.transcript(api.default_user.id)) if m["from"]["id"] == api.bot.id)
        for data in ALL_FORGED:
            query = api.press_button(bot_message, data, check=False)
            while True:
                action = await api.next_action(timeout=10)
                if action.method == "answerCallbackQuery" and action.params.get("callback_query_id") == query["id"]:
                    break
        for data in ("support:²", "again:²", "step:²:1"):  # and inside the key flow, where other handlers listen
            api.send_text("/check")
            await env.wait_text("Which exchange")
            api.press_button(bot_message, data, check=False)
            await env.wait_method("answerCallbackQuery", wait=10)
        api.send_text("/cancel")
        await env.wait_text("stopped")
        api.drain_actions()  # raises if any handler failed on the way
        assert anchor is not None


async def test_forged_user_ids_in_staff_commands(tmp_path: Path) -> None:
    async with support_env(tmp_path) as env:
        api = env.api
        commands = ("/close ²", "/ban ١٢٣ spam", "/unban " + "9" * 20, "/reopen -5", "/recheck ²")
        for command in commands:
            api.send_text(command, staff(env), SUPPORT)
        await eventually(
            lambda: len([m for m in api.transcript(SUPPORT) if "Whose ticket?" in (m.get("text") or "")]) == 5,
            10,
            "an answer to each command",
        )
        api.drain_actions()  # raises if any handler failed on the way
        assert not await env.services.db.fetchval("SELECT COUNT(*) FROM bans")
