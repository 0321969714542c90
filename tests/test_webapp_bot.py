"""The Mini App inside the real bot: the chat offers the form, a real browser sends a key, the chat shows the check.

The whole bot runs (`bot.lifecycle.running` through tests/bot_harness.py: the real Application against the Bot
API emulator, the simulated exchanges, a SQLite file) with `WEBAPP_URL` set as in production
(`https://bot.example.org/webapp`); its Mini App server runs inside it on 127.0.0.1. The test plays the user's
Telegram app: it presses the chat's buttons through the emulator, takes the `web_app` button's address, opens it
in headless chromium (the public origin mapped to the bot's local server, as a TLS proxy would) with a stand-in
`window.Telegram.WebApp` carrying an initData signed with the bot's token for that user, fills the form and
submits. The verdict must show on the page and in the emulator's chat (the live progress message, then the
verdict), the chat's limits must hold on the page, and a forged or stale initData must be refused.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest

from bot.sandbox.telegram_model import Action
from bot.webapp import sign_init_data
from bot.webapp.texts import text
from tests.bot_harness import BotEnv, bot_env
from tests.test_webapp_browser import Page, assert_nowhere, chromium, creds_for, log_lines, production_logs

PUBLIC = "https://bot.example.org/webapp"
STEP = "Step 1 of"


@pytest.fixture(scope="module")
def browser() -> Any:
    with chromium() as driver:
        yield driver


@pytest.fixture
def all_logs() -> Any:
    with production_logs() as collect:
        yield collect


def web_app_url(action: Action) -> str:
    """The address of the message's one `web_app` button (and that it has exactly one)."""
    assert action.message is not None
    buttons = [b for row in action.message["reply_markup"]["inline_keyboard"] for b in row]
    urls = [b["web_app"]["url"] for b in buttons if "web_app" in b]
    assert len(urls) == 1, buttons
    assert all("callback_data" not in b for b in buttons if "web_app" in b)
    return urls[0]


def callback(action: Action, prefix: str) -> str:
    assert action.message is not None
    rows = action.message["reply_markup"]["inline_keyboard"]
    return next(b["callback_data"] for row in rows for b in row if b.get("callback_data", "").startswith(prefix))


async def ask_for_key(env: BotEnv) -> Action:
    """/check, MEXC, Holding: the message that asks for the key."""
    env.api.send_text("/check")
    picker = await env.wait_text("Which exchange")
    env.api.press_button(picker.message, "ex:mexc")
    campaign = await env.wait_text("Which kind of HuFi campaign")
    env.api.press_button(campaign.message, "ct:HOLDING")
    return await env.wait_text("Enter the key securely")


def local(env: BotEnv, url: str) -> str:
    """The button's public address, reached on the bot's own server (what the TLS proxy does)."""
    assert url.startswith(PUBLIC + "/") and env.services.webapp.local_url
    return env.services.webapp.local_url + url.removeprefix(PUBLIC)


def init_data_for(env: BotEnv, *, token: str | None = None, age: int = 0) -> str:
    """The initData Telegram's app hands the page for the emulator's user (signed with the bot's token)."""
    user = env.api.default_user
    who = {"id": user.id, "first_name": user.first_name, "username": user.username, "language_code": "en"}
    extra = {"query_id": "AAE" + secrets.token_hex(8)}
    return sign_init_data(who, token or env.api.token, auth_date=int(time.time()) - age, extra=extra)


async def sent_in_chat(env: BotEnv, until: str) -> list[Action]:
    """The bot's sendMessage actions up to the one containing `until` (edits in between are skipped)."""
    sent: list[Action] = []
    while not sent or until not in (sent[-1].text or ""):
        action = await env.wait_method("sendMessage")
        sent.append(action)
        assert len(sent) < 10, [a.text for a in sent]
    return sent


async def test_a_key_sent_from_the_mini_app_is_checked_in_the_chat(tmp_path: Path, browser: Any, all_logs: Any) -> None:
    async with bot_env(tmp_path, ["mexc"], webapp_url=PUBLIC, webapp_port=0, checks_per_hour=3) as env:
        keys = {k.cause: k for k in env.world.seed_demo("mexc")}
        good, partial = creds_for(keys["ok"]), creds_for(keys["permission_missing"])
        other = creds_for(keys["ip_not_whitelisted"])
        planted = [*good.values(), *partial.values(), *other.values()]
        user_id = env.api.default_user.id

        # the chat offers the form before asking for the key in the chat; its address names no credential
        ask = await ask_for_key(env)
        assert ask.method == "editMessageText" and "Or send me the API key here" in (ask.text or "")
        first_url = web_app_url(ask)
        assert first_url == f"{PUBLIC}/key/mexc?lang=en&campaign=HOLDING"
        assert dict(parse_qsl(urlsplit(first_url).query)) == {"lang": "en", "campaign": "HOLDING"}
        assert await env.services.drafts.get(user_id) is not None, "the user is in the middle of the chat's flow"

        page = Page(browser)

        def submit(url: str, init_data: str, creds: dict[str, str]) -> dict[str, Any]:
            page.open_in_telegram(local(env, url), init_data)
            page.fill(creds)
            page.press_main_button()
            title, details = page.verdict()
            note_hidden = page.js("return document.getElementById('verdict-note').hidden")
            return {"title": title, "details": details, "note_hidden": note_hidden, "snapshot": page.snapshot()}

        # 1. a good key from the page: verdict on the page, progress and verdict in the chat
        out = await asyncio.to_thread(submit, first_url, init_data_for(env), good)
        assert out["title"] == text("verdict_ok") and not out["note_hidden"]
        progress, verdict = await sent_in_chat(env, "passes every check HuFi runs")
        assert progress.chat_id == verdict.chat_id == user_id
        assert "Checking your MEXC key" in (progress.text or "")
        assert await env.services.drafts.get(user_id) is None, "the chat's draft is dropped once the page sent a key"
        assert [c.user_id for c in await env.services.check_history.recent(user_id, 10)] == [user_id]

        # 2. a key missing a permission: the verdict's steps and buttons in the chat, its summary on the page
        out2 = await asyncio.to_thread(submit, first_url, init_data_for(env), partial)
        assert out2["title"] != text("verdict_ok")
        assert any(line.startswith("✗ Spot trade history:") for line in out2["details"])
        *_, failed = await sent_in_chat(env, STEP)

        # "Use another key" asks again, again with the form first (no campaign type known now)
        env.api.press_button(failed.message, callback(failed, "another:"))
        again = await env.wait_text("Enter the key securely")
        assert again.method == "sendMessage"
        another_url = web_app_url(again)
        assert another_url == f"{PUBLIC}/key/mexc?lang=en"
        out3 = await asyncio.to_thread(submit, another_url, init_data_for(env), other)
        assert out3["title"] != text("verdict_ok")
        await sent_in_chat(env, STEP)

        # 4. the hourly limit (3) holds on the page: refused there, nothing in the chat, nothing counted
        messages_before = len(env.api.calls_to("sendMessage"))
        out4 = await asyncio.to_thread(submit, another_url, init_data_for(env), good)
        assert out4["title"].startswith("The key was not checked: you have checked 3 keys in the last hour")
        assert out4["note_hidden"] is True, "no 'see the chat' note for a check that did not run"
        assert len(env.api.calls_to("sendMessage")) == messages_before
        assert env.services.webapp.miniapp is not None and env.services.webapp.miniapp.submissions == 4
        history = await env.services.check_history.recent(user_id, 10)
        snapshots = [o["snapshot"] for o in (out, out2, out3, out4)]

    assert len(history) == 3
    assert_nowhere(planted, [*snapshots, *log_lines(all_logs)])


async def test_a_forged_or_stale_init_data_is_refused_and_nothing_reaches_the_chat(
    tmp_path: Path, browser: Any
) -> None:
    async with bot_env(tmp_path, ["mexc"], webapp_url=PUBLIC, webapp_port=0) as env:
        key = creds_for(next(k for k in env.world.seed_demo("mexc") if k.cause == "ok"))
        url = web_app_url(await ask_for_key(env))
        forged = init_data_for(env, token="7000000006:AAF-not-this-bots-token-00000000000")
        stale = init_data_for(env, age=3700)
        page = Page(browser)

        def attempt(init_data: str) -> tuple[str, dict[str, str]]:
            page.open_in_telegram(local(env, url), init_data)
            page.fill(key)
            page.press_main_button()
            return page.error(), page.values()

        results = [await asyncio.to_thread(attempt, data) for data in (forged, stale)]
        await asyncio.to_thread(page.leave_telegram)
        assert env.services.webapp.miniapp is not None
        submissions = env.services.webapp.miniapp.submissions
        sent = [c.params.get("text") for c in env.api.calls_to("sendMessage")]
        drafts = await env.services.drafts.get(env.api.default_user.id)

    empty = {"api_key": "", "secret": ""}
    assert results == [(text("err_bad_init_data"), empty), (text("err_stale"), empty)]
    assert submissions == 0
    assert not any("Checking your" in (t or "") for t in sent), "a refused page started no check in the chat"
    assert drafts is not None, "a refused page leaves the chat's flow as it was"


async def test_without_webapp_url_the_chat_asks_as_before(tmp_path: Path) -> None:
    async with bot_env(tmp_path, ["mexc"]) as env:
        env.api.send_text("/check")
        picker = await env.wait_text("Which exchange")
        env.api.press_button(picker.message, "ex:mexc")
        campaign = await env.wait_text("Which kind of HuFi campaign")
        env.api.press_button(campaign.message, "ct:HOLDING")
        ask = await env.wait_text("Send me the API key for MEXC")
        assert env.services.webapp.enabled is False and env.services.webapp.local_url is None
    assert ask.message is not None and not ask.message.get("reply_markup")
    assert "Enter the key securely" not in (ask.text or "")


async def test_a_banned_user_is_refused_on_the_page_and_nothing_runs(tmp_path: Path) -> None:
    from tests.test_canary_webapp import PageClient

    async with bot_env(tmp_path, ["mexc"], webapp_url=PUBLIC, webapp_port=0) as env, aiohttp.ClientSession() as s:
        key = next(k for k in env.world.seed_demo("mexc") if k.cause == "ok")
        user = env.api.default_user
        await env.services.bans.ban(user.id, banned_by=None, reason="test")
        assert env.services.webapp.local_url is not None
        page = PageClient(env.services.webapp.local_url, env.api.token, {"id": user.id, "first_name": "A"}, s)
        status, answer = await page.submit("mexc", {"api_key": key.account.api_key, "secret": key.secret_to_send})
        checks = await env.services.check_history.recent(user.id)
        sent = env.api.calls_to("sendMessage")
    assert status == 200 and answer["result"]["checked"] is False and answer["result"]["ok"] is False
    assert answer["result"]["title"].startswith("The key was not checked: this bot can't help you")
    assert checks == [] and sent == []


def test_the_offline_demo_serves_the_form_and_shows_its_verdict_in_the_chat(browser: Any) -> None:
    """`python -m bot demo` as a newcomer uses it: the button's address opened in a browser, a demo key sent there."""
    import pexpect

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PTB_TIMEDELTA": "1", "PYTHONUNBUFFERED": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "bot", "demo"], cwd=str(root), env=env, encoding="utf-8", timeout=30)
    try:
        child.expect(r"The key form \(Mini App\) runs at (http://127\.0\.0\.1:\d+/webapp)")
        child.expect("you> ")
        child.sendline("/form 1")
        child.expect(r"API key (\S+)\s+secret (\S+)\)")
        creds = {"api_key": child.match.group(1), "secret": child.match.group(2)}
        child.expect("you> ")
        child.sendline("/check")
        child.expect("you> ")
        child.sendline(re.findall(r"\[(\d+)\] MEXC", child.before)[0])
        child.expect("you> ")
        child.sendline(re.findall(r"\[(\d+)\] Not sure / all", child.before)[0])
        child.expect(r"Enter the key securely: open (http://127\.0\.0\.1:\d+/webapp/key/mexc\?\S+) in a browser")
        url = child.match.group(1)
        child.expect("you> ")

        page = Page(browser)
        page.leave_telegram()
        page.open(url)  # the demo serves its own stand-in for Telegram's script, signing for the demo user
        page.fill(creds)
        page.press_main_button()
        title, _details = page.verdict()
        assert title == text("verdict_ok")
        child.expect(r"BOT: 🔎 Checking your MEXC key")
        child.expect("passes every check HuFi runs")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
        assert "Traceback" not in (child.before or "")
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
