"""Webhook mode: updates with the right secret header are handled, others are refused."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from bot.config import Settings
from bot.runner import serve
from bot.sandbox.telegram_api import TelegramEmulator
from tests.bot_harness import TEST_KEY, free_port


async def test_webhook_accepts_the_secret_header_and_refuses_others(tmp_path: Path) -> None:
    port = free_port()
    async with TelegramEmulator() as api:
        settings = Settings(
            telegram_bot_token=api.token,
            telegram_api_base_url=api.base_url,
            database_path=tmp_path / "bot.sqlite3",
            bot_encryption_key=TEST_KEY,
            exchange_sandbox=True,
            webhook_url="https://bot.example.org",
            webhook_listen="127.0.0.1",
            webhook_port=port,
            webhook_secret_token="s3cret_token-for-tests",
        )
        stop = asyncio.Event()
        task = asyncio.create_task(serve(settings, stop=stop))
        set_webhook = await api.wait_call("setWebhook", timeout=10)
        assert set_webhook.params["url"] == "https://bot.example.org/telegram"
        assert set_webhook.params["secret_token"] == "s3cret_token-for-tests"
        user = api.default_user.to_dict()
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
                "from": user,
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        url = f"http://127.0.0.1:{port}/telegram"
        async with aiohttp.ClientSession() as session:
            for _ in range(50):  # the webhook server starts right after setWebhook
                try:
                    async with session.post(
                        url, data=json.dumps(update), headers={"Content-Type": "application/json"}
                    ) as r:
                        assert r.status == 403  # no secret header
                        break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.05)
            bad = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "wrong"}
            async with session.post(url, data=json.dumps(update), headers=bad) as r:
                assert r.status == 403
            good = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "s3cret_token-for-tests"}
            async with session.post(url, data=json.dumps(update), headers=good) as r:
                assert r.status == 200
        reply = await api.next_action("sendMessage", timeout=5)
        assert "read-only" in (reply.text or "")
        assert len(api.calls_to("sendMessage")) == 1  # the refused posts were never handled
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0
