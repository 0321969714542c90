"""The canary for the Mini App's input path: credentials sent through the page never leave the process.

The real bot runs with WEBAPP_URL set (polling, and webhook mode where the page shares the webhook's port);
unique credentials are posted to its Mini App endpoint exactly as the page's script posts them (JSON with a
signed initData), through every outcome: a passing key, a key missing a permission (kept encrypted, then checked
again from the chat's button), a wrong secret, a wrong passphrase, a pre-check refusal, the hourly limit, a
forged initData, a replay, a body over the limit, a wrong content type, and a page submission while a key typed
in the chat is half-way through the flow. Afterwards every log record (production logging at DEBUG), the SQLite
file with its WAL and shared-memory files, every Bot API call the bot made and every HTTP response the bot's
server sent (bodies and headers) are searched for them, also URL-encoded, JSON-escaped, hex and base64
(`tests.test_canary.forms`). No browser is needed: the browser's own part is covered in tests/test_webapp_bot.py.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from bot.diagnosis.model import Permission
from bot.runner import serve
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.world import SandboxWorld
from bot.webapp import sign_init_data
from tests.bot_harness import TEST_KEY, BotEnv, bot_env, free_port
from tests.test_canary import forms
from tests.test_webapp_browser import Collect, production_logs

PUBLIC = "https://bot.example.org/webapp"


@pytest.fixture
def all_logs() -> Iterator[Collect]:
    with production_logs() as collect:
        yield collect


@dataclass
class PageClient:
    """Posts to the Mini App's endpoint as the page's script does, and keeps every answer it got."""

    base: str
    token: str
    user: dict[str, Any]
    session: aiohttp.ClientSession
    answers: list[str] = field(default_factory=list)

    def init_data(self, *, token: str | None = None, age: int = 0) -> str:
        extra = {"query_id": "AAE" + secrets.token_hex(8)}
        return sign_init_data(self.user, token or self.token, auth_date=int(time.time()) - age, extra=extra)

    async def submit(
        self,
        exchange: str,
        credentials: dict[str, str],
        *,
        init_data: str | None = None,
        campaign: str = "",
        raw: str | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, dict[str, Any]]:
        body = {
            "init_data": init_data or self.init_data(),
            "exchange": exchange,
            "campaign": campaign,
            "language": "en",
            "credentials": credentials,
        }
        data = raw if raw is not None else json.dumps(body)
        headers = {"Content-Type": content_type}
        async with self.session.post(f"{self.base}/api/submit", data=data, headers=headers) as response:
            text = await response.text()
            self.answers.append(f"{response.status} {dict(response.headers)} {text}")
            return response.status, json.loads(text)


def searched(planted: list[str], *, logs: list[str], calls: str, files: bytes, answers: list[str]) -> None:
    assert logs, "logging captured nothing: the test would prove nothing"
    assert calls and files and answers
    joined_logs, joined_answers = "\n".join(logs), "\n".join(answers)
    places = {"the Bot API": calls, "the logs": joined_logs, "an HTTP response": joined_answers}
    for n, secret in enumerate(planted):
        assert secret
        for form in forms(secret):
            for place, haystack in places.items():
                if form in haystack:
                    pytest.fail(f"planted credential #{n} reached {place}")
            if form.encode() in files:
                pytest.fail(f"planted credential #{n} reached the database files")


def db_files(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.name.startswith(db_path.name))


async def next_verdict(env: BotEnv, fragment: str) -> Any:
    return await env.wait_text(fragment)


async def test_credentials_sent_through_the_page_never_leave_the_process(tmp_path: Path, all_logs: Collect) -> None:
    planted: list[str] = []
    async with (
        bot_env(tmp_path, ["mexc", "kucoin"], webapp_url=PUBLIC, webapp_port=0, checks_per_hour=7) as env,
        aiohttp.ClientSession() as session,
    ):
        assert env.services.webapp.local_url is not None
        user = env.api.default_user
        page = PageClient(
            env.services.webapp.local_url,
            env.api.token,
            {"id": user.id, "first_name": user.first_name, "language_code": "en"},
            session,
        )
        mexc, kucoin = env.world.fakes["mexc"], env.world.fakes["kucoin"]

        good = mexc.add_account()
        planted += [good.api_key, good.secret]
        status, answer = await page.submit("mexc", {"api_key": good.api_key, "secret": good.secret})
        assert status == 200 and answer["result"]["ok"] is True
        await next_verdict(env, "passes every check")

        partial = mexc.add_account()
        partial.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
        planted += [partial.api_key, partial.secret]
        status, answer = await page.submit(
            "mexc", {"api_key": partial.api_key, "secret": partial.secret}, campaign="HOLDING"
        )
        assert status == 200 and answer["result"]["ok"] is False
        verdict = await next_verdict(env, "Step 1 of")
        assert "I keep the key encrypted" in (verdict.text or "")
        again = next(
            b["callback_data"]
            for row in verdict.message["reply_markup"]["inline_keyboard"]
            for b in row
            if b.get("callback_data", "").startswith("again:")
        )
        env.api.press_button(verdict.message, again)  # "check again" from the chat uses the key kept from the page
        await next_verdict(env, "Step 1 of")

        wrong_secret = mexc.new_secret()
        planted.append(wrong_secret)
        status, _ = await page.submit("mexc", {"api_key": good.api_key, "secret": wrong_secret})
        assert status == 200
        await next_verdict(env, "Step 1 of")

        ku = kucoin.add_account()
        planted += [ku.api_key, ku.secret, ku.passphrase or "", "Wr0ngPassphrase9", "Ab1x"]
        status, answer = await page.submit(
            "kucoin", {"api_key": ku.api_key, "secret": ku.secret, "passphrase": "Ab1x"}
        )  # too short for KuCoin: the pre-check refuses it at its field, nothing is checked
        assert status == 422 and answer["field"] == "passphrase"
        status, _ = await page.submit(
            "kucoin", {"api_key": ku.api_key, "secret": ku.secret, "passphrase": "Wr0ngPassphrase9"}
        )
        assert status == 200
        await next_verdict(env, "Step 1 of")

        # mid-flow in the chat with the API key typed there, then the key arrives through the page
        env.api.send_text("/check")
        picker = await env.wait_text("Which exchange")
        env.api.press_button(picker.message, "ex:mexc")
        campaign = await env.wait_text("Which kind of HuFi campaign")
        env.api.press_button(campaign.message, "ct:HOLDING")
        await env.wait_text("Enter the key securely")
        typed = mexc.add_account()
        planted += [typed.api_key, typed.secret]
        env.api.send_text(typed.api_key)
        await env.wait_text("Now send the")
        assert await env.services.drafts.get(user.id) is not None
        status, _ = await page.submit("mexc", {"api_key": typed.api_key, "secret": typed.secret})
        assert status == 200
        await next_verdict(env, "passes every check")
        assert await env.services.drafts.get(user.id) is None

        # refusals: none of them may echo what was sent
        refused = mexc.add_account()
        planted += [refused.api_key, refused.secret]
        creds = {"api_key": refused.api_key, "secret": refused.secret}
        forged = page.init_data(token="7000000006:AAF-not-this-bots-token-00000000000")
        assert (await page.submit("mexc", creds, init_data=forged))[0] == 401
        assert (await page.submit("mexc", creds, init_data=page.init_data(age=3700)))[0] == 401
        assert (await page.submit("mexc", creds, content_type="text/plain"))[0] == 415
        huge = json.dumps({"init_data": page.init_data(), "exchange": "mexc", "credentials": creds, "pad": "x" * 40000})
        assert (await page.submit("mexc", creds, raw=huge))[0] == 413
        used = page.init_data()
        status, answer = await page.submit("mexc", creds, init_data=used)  # the 7th check: the last one this hour
        assert status == 200
        await next_verdict(env, "passes every check")
        assert (await page.submit("mexc", creds, init_data=used))[0] == 409  # replayed
        over = mexc.add_account()
        planted += [over.api_key, over.secret]
        status, answer = await page.submit("mexc", {"api_key": over.api_key, "secret": over.secret})
        assert status == 200 and answer["result"]["checked"] is False  # the hourly limit

        env.api.send_text("/forget")  # (whatever is kept: wrong secrets and passphrases no longer are)
        await env.wait_method("sendMessage")
        await env.app.update_persistence()
        calls = json.dumps([{"m": c.method, "p": c.params} for c in env.api.calls], default=str)
        db_path = env.settings.database_path
        answers = list(page.answers)

    searched(planted, logs=all_logs.lines, calls=calls, files=db_files(db_path), answers=answers)


async def test_in_webhook_mode_neither_the_page_nor_the_webhook_lets_a_credential_out(
    tmp_path: Path, all_logs: Collect
) -> None:
    """Webhook mode: the webhook's own server (which never logs an update's body) and the page on its port."""
    port = free_port()
    async with TelegramEmulator() as api, SandboxWorld(["mexc"]) as world, aiohttp.ClientSession() as session:
        settings = Settings(
            telegram_bot_token=api.token,
            telegram_api_base_url=api.base_url,
            database_path=tmp_path / "bot.sqlite3",
            bot_encryption_key=TEST_KEY,
            webhook_url="https://bot.example.org",
            webhook_port=port,
            webhook_secret_token="canary-webhook-secret",
            webapp_url=PUBLIC,
            hufi_recording_oracle_url="http://127.0.0.1:9",
            hufi_campaign_launcher_url="http://127.0.0.1:9",
        )
        stop = asyncio.Event()
        task = asyncio.create_task(serve(settings, stop=stop, url_overrides=world.url_overrides))
        try:
            await api.wait_call("setWebhook", timeout=10)
            user = api.default_user.to_dict()
            page = PageClient(f"http://127.0.0.1:{port}/webapp", api.token, user, session)
            mexc = world.fakes["mexc"]
            account = mexc.add_account()
            pasted = mexc.new_secret()
            planted = [account.api_key, account.secret, pasted]

            # a user pastes a secret into the chat outside the flow; Telegram delivers it to the webhook
            update = {
                "update_id": 7,
                "message": {
                    "message_id": 7,
                    "date": int(time.time()),
                    "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
                    "from": user,
                    "text": f"my secret is {pasted}",
                },
            }
            headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "canary-webhook-secret"}
            async with session.post(f"http://127.0.0.1:{port}/telegram", json=update, headers=headers) as r:
                page.answers.append(f"{r.status} {dict(r.headers)} {await r.text()}")
                assert r.status == 200
            await api.wait_call("deleteMessage", timeout=5)

            status, answer = await page.submit("mexc", {"api_key": account.api_key, "secret": account.secret})
            assert status == 200 and answer["result"]["ok"] is True
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 10) == 0
        calls = json.dumps([{"m": c.method, "p": c.params} for c in api.calls], default=str)

    searched(planted, logs=all_logs.lines, calls=calls, files=db_files(settings.database_path), answers=page.answers)
