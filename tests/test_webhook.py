"""Webhook mode, through the real `python -m bot run` path (`bot.runner.serve`): our aiohttp server takes updates
with the right secret header and refuses others; the Mini App shares its port.

The server listens before setWebhook is called, so a test can post as soon as the emulator has seen setWebhook.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from bot.config import Settings
from bot.lifecycle import ALLOWED_UPDATES
from bot.runner import serve
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.world import SandboxWorld
from bot.webapp import sign_init_data
from tests.bot_harness import TEST_KEY, free_port

SECRET = "s3cret_token-for-tests"
JSON_TYPE = {"Content-Type": "application/json"}
GOOD = {**JSON_TYPE, "X-Telegram-Bot-Api-Secret-Token": SECRET}


def start_update(api: TelegramEmulator, update_id: int = 1) -> dict[str, Any]:
    """What Telegram would post for the default user's /start."""
    user = api.default_user.to_dict()
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
            "from": user,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


@asynccontextmanager
async def webhook_bot(tmp_path: Path, **settings: Any) -> AsyncIterator[tuple[TelegramEmulator, SandboxWorld, int]]:
    """`serve` in webhook mode on a free port, against the emulator and the simulated exchanges."""
    port = free_port()
    async with TelegramEmulator() as api, SandboxWorld(["mexc"]) as world:
        config = Settings(
            telegram_bot_token=api.token,
            telegram_api_base_url=api.base_url,
            database_path=tmp_path / "bot.sqlite3",
            bot_encryption_key=TEST_KEY,
            webhook_url="https://bot.example.org",
            webhook_listen="127.0.0.1",
            webhook_port=port,
            webhook_secret_token=SECRET,
            hufi_recording_oracle_url="http://127.0.0.1:9",
            hufi_campaign_launcher_url="http://127.0.0.1:9",
            **settings,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(serve(config, stop=stop, url_overrides=world.url_overrides))
        try:
            await api.wait_call("setWebhook", timeout=10)
            yield api, world, port
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 10) == 0


async def test_webhook_accepts_the_secret_header_and_refuses_others(tmp_path: Path) -> None:
    async with webhook_bot(tmp_path) as (api, _world, port):
        set_webhook = api.calls_to("setWebhook")[0]
        assert set_webhook.params["url"] == "https://bot.example.org/telegram"
        assert set_webhook.params["secret_token"] == SECRET
        assert set_webhook.params["allowed_updates"] == list(ALLOWED_UPDATES)
        assert set_webhook.params.get("drop_pending_updates") in (None, False)
        update = json.dumps(start_update(api))
        url = f"http://127.0.0.1:{port}/telegram"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, data=update, headers=JSON_TYPE) as r:
                assert r.status == 403  # no secret header
            wrong = {**JSON_TYPE, "X-Telegram-Bot-Api-Secret-Token": "wrong"}
            async with session.post(url, data=update, headers=wrong) as r:
                assert r.status == 403
            async with session.post(url, data=update, headers={**GOOD, "Content-Type": "text/plain"}) as r:
                assert r.status == 415
            async with session.post(url, data="{not json", headers=GOOD) as r:
                assert r.status == 400
            async with session.post(url, data="[1, 2]", headers=GOOD) as r:
                assert r.status == 400  # JSON, but not an update
            async with session.post(url, data=io.BytesIO(b"{" + b" " * (2 << 20) + b"}"), headers=GOOD) as r:
                assert r.status == 413
            async with session.get(url, headers=GOOD) as r:
                assert r.status == 405
            async with session.post(url, data=update, headers=GOOD) as r:
                assert r.status == 200
        reply = await api.next_action("sendMessage", timeout=5)
        assert "read-only" in (reply.text or "")
        assert len(api.calls_to("sendMessage")) == 1  # the refused posts were never handled
        assert api.calls_to("getUpdates") == [], "webhook mode never polls"
        assert api.webhook_url == "https://bot.example.org/telegram"
    assert api.webhook_url == "https://bot.example.org/telegram", "the webhook stays set over a restart, as with PTB"


async def test_the_mini_app_and_the_webhook_share_one_port(tmp_path: Path) -> None:
    unused = free_port()
    async with webhook_bot(
        tmp_path, webapp_url="https://bot.example.org/webapp", webapp_port=unused, checks_per_hour=5
    ) as (api, world, port):
        key = next(k for k in world.seed_demo("mexc") if k.cause == "ok")
        base = f"http://127.0.0.1:{port}"
        init_data = sign_init_data(api.default_user.to_dict(), api.token, extra={"query_id": "AAE-share-test"})
        submission = {
            "init_data": init_data,
            "exchange": "mexc",
            "campaign": "HOLDING",
            "language": "en",
            "credentials": {"api_key": key.account.api_key, "secret": key.secret_to_send},
        }
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/webapp/key/mexc?campaign=HOLDING&lang=en") as r:
                page = await r.text()
                assert r.status == 200 and 'id="api_key"' in page
                assert "Content-Security-Policy" in r.headers
            async with session.post(f"{base}/telegram", data=json.dumps(start_update(api)), headers=GOOD) as r:
                assert r.status == 200
            welcome = await api.next_action("sendMessage", timeout=5)
            assert "read-only" in (welcome.text or "")
            async with session.post(f"{base}/webapp/api/submit", json=submission) as r:
                answer = await r.json()
                assert r.status == 200, answer
            try:
                async with session.get(f"http://127.0.0.1:{unused}/webapp/key/mexc"):
                    raise AssertionError("the Mini App also listens on WEBAPP_PORT in webhook mode")
            except aiohttp.ClientConnectorError:
                pass  # nothing listens there: one server, one port
        assert answer["ok"] is True and answer["result"]["checked"] is True
        assert answer["result"]["title"] == "The key passes every check HuFi makes."
        sent = [await api.next_action("sendMessage", timeout=5)]
        while "passes every check HuFi runs" not in (sent[-1].text or ""):
            action = await api.next_action(timeout=5)  # the progress message's edits come in between
            if action.method == "sendMessage":
                sent.append(action)
        assert [a.chat_id for a in sent] == [api.default_user.id] * 2
        assert "Checking your MEXC key" in (sent[0].text or ""), "the live progress message comes first"
