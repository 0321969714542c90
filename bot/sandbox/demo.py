"""`python -m bot demo`: the real bot, offline, in this terminal.

The same Application, handlers and storage as production (a temporary database), started by the same lifecycle
(`bot.lifecycle.running`), talking to the built-in Bot API emulator and to simulated exchanges. You type as a
Telegram user; the bot's messages appear with their buttons numbered; deletions are shown as they happen. The
next prompt appears once the bot has handled what you typed (and sent what it queued), never on a timer.
The Mini App's key form is served on 127.0.0.1 with a stand-in for Telegram's script that signs for the demo
user: the "Enter the key securely" button prints its address, to open in a browser; the verdict of a key sent
there appears in this chat.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.lifecycle import Polling, RunningBot, running
from bot.sandbox.hufi import FakeHufi
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.telegram_model import Action
from bot.sandbox.world import DemoKey, SandboxWorld

SUPPORT_CHAT_ID = -1009990001
PRINTED = {
    "sendMessage": "BOT",
    "editMessageText": "BOT (updated)",
    "copyMessage": "BOT (relayed)",
    "sendPhoto": "BOT (photo)",
    "sendDocument": "BOT (file)",
}
HELP = """Type as a Telegram user would (try /check). Also:
  1, 2, 3 …     press that button of the bot's last message
  /use N        send demo key N (key and secret in one message)
  /key N, /secret N   send only the key or only the secret of demo key N
  /fix N        fix demo key N on the exchange (then press "Done, check again")
  /staff TEXT   answer as a HuFi support agent in your ticket (after "Talk to support")
  /keys         show the demo keys again
  /quit         leave (Ctrl-D works too)"""

WEBAPP_HELP = """
The key form (Mini App) runs at {url} for you, the demo user. After /check, open the
address the "Enter the key securely" button shows in a browser, paste a demo key there (/form N shows
demo key N in full), and the verdict appears here."""


class Demo:
    def __init__(
        self,
        api: TelegramEmulator,
        world: SandboxWorld,
        keys: list[DemoKey],
        out: Any = sys.stdout,
        *,
        support_chat: int | None = None,
        staff: Any = None,
    ):
        self.api = api
        self.support_chat = support_chat
        self.staff = staff
        self.world = world
        self.keys = keys
        self.out = out
        self.buttons: list[tuple[dict[str, Any], str, str]] = []  # (message, label, data)
        self.user = api.default_user
        self._last_update = 0

    def new_updates(self) -> list[int]:
        """The ids of the updates injected since the last call (still pending: the bot can't have them yet)."""
        ids = [int(u["update_id"]) for u in self.api.pending if int(u["update_id"]) > self._last_update]
        self._last_update = max([self._last_update, *ids])
        return ids

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def show_keys(self) -> None:
        self.say("Demo keys on the simulated MEXC (all made up):")
        for n, key in enumerate(self.keys, 1):
            self.say(f"  {n}. {key.label:<34} key {key.account.api_key}")
        self.say()

    async def on_action(self, action: Action) -> None:
        if action.method == "deleteMessage":
            self.say("   🗑  (your message was deleted by the bot)")
            return
        message = action.message
        if message is None or action.method not in PRINTED:
            return
        chat = message.get("chat", {})
        prefix = PRINTED[action.method]
        if chat.get("type") != "private":
            prefix = f"[SUPPORT GROUP] {prefix}"
        self.say(f"\n{prefix}: {action.text or ''}")
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        if rows:
            self.buttons = []
            for row in rows:
                labels = []
                for button in row:
                    if "web_app" in button:  # the Mini App: a browser opens it, not a number
                        labels.append(f"[{button.get('text')}: open {button['web_app'].get('url')} in a browser]")
                        continue
                    self.buttons.append((message, button.get("text", ""), button.get("callback_data", "")))
                    labels.append(f"[{len(self.buttons)}] {button.get('text')}")
                self.say("   " + "   ".join(labels))

    def handle(self, line: str) -> bool:
        """Act on one line of input; False means quit."""
        line = line.strip()
        if not line:
            return True
        if line in ("/quit", "/exit"):
            return False
        if line == "/keys":
            self.show_keys()
            return True
        if line in ("/demo", "/demohelp"):
            self.say(HELP)
            return True
        if line.startswith("/staff"):
            self.staff_says(line.removeprefix("/staff").strip())
            return True
        word, _, arg = line.partition(" ")
        if word in ("/use", "/key", "/secret", "/fix", "/form"):
            key = self._key(arg)
            if key is None:
                return True
            if word == "/form":  # to paste into the Mini App's form in a browser
                self.say(f"(demo key {arg}: API key {key.account.api_key}   secret {key.secret_to_send})")
            elif word == "/fix":
                self.world.fix(key)
                self.say(f"(demo key {arg} fixed on the exchange)")
            elif word == "/use":
                self.api.send_text(f"{key.account.api_key} {key.secret_to_send}", self.user)
            elif word == "/key":
                self.api.send_text(key.account.api_key, self.user)
            else:
                self.api.send_text(key.secret_to_send, self.user)
            return True
        if line.isdigit():
            index = int(line) - 1
            if 0 <= index < len(self.buttons):
                message, _label, data = self.buttons[index]
                try:
                    self.api.press_button(message, data, user=self.user)
                except ValueError:
                    self.say("(that button is no longer there)")
            else:
                self.say("(no such button)")
            return True
        self.api.send_text(line, self.user)
        return True

    def staff_says(self, text: str) -> None:
        """The support agent writes in the user's topic (the newest one)."""
        if not text or self.support_chat is None:
            self.say("(usage: /staff your answer)")
            return
        topics = self.api.chat(self.support_chat).topics
        if not topics:
            self.say('(no ticket yet: press "Talk to support" after a check first)')
            return
        thread = max(topics)
        self.say(f"[SUPPORT GROUP] Sam (staff): {text}")
        self.api.send_text(text, self.staff, chat=self.support_chat, thread=thread)

    def _key(self, arg: str) -> DemoKey | None:
        if arg.isdigit() and 1 <= int(arg) <= len(self.keys):
            return self.keys[int(arg) - 1]
        self.say(f"(give a demo key number from 1 to {len(self.keys)})")
        return None


async def run_demo(script: str | None = None) -> int:
    """Run the demo until /quit or end of input. `script`: a file of input lines (used by tests)."""
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    with tempfile.TemporaryDirectory(prefix="hufi-demo-") as tmp:
        async with TelegramEmulator() as api, SandboxWorld() as world, FakeHufi() as hufi:
            keys = world.seed_demo("mexc")
            support = api.add_group("HuFi support (demo)", forum=True, chat_id=SUPPORT_CHAT_ID)
            staff = api.add_user("Sam", username="sam_hufi_support")
            api.set_member(support, staff, "administrator")
            webapp_port = _free_port()
            settings = Settings(
                webapp_url=f"http://127.0.0.1:{webapp_port}/webapp",
                webapp_port=webapp_port,
                telegram_bot_token=api.token,
                telegram_api_base_url=api.base_url,
                database_path=Path(tmp) / "demo.sqlite3",
                support_chat_id=SUPPORT_CHAT_ID,
                staff_user_ids=frozenset({staff.id}),
                hufi_recording_oracle_url=hufi.base_url,
                hufi_campaign_launcher_url=hufi.base_url,
            )
            demo = Demo(api, world, keys, support_chat=SUPPORT_CHAT_ID, staff=staff)
            api.on_action = demo.on_action
            updates = Polling(timeout=1.0, allowed_updates=None)
            user = {"id": demo.user.id, "first_name": demo.user.first_name, "language_code": "en"}
            async with running(
                settings,
                updates=updates,
                url_overrides=world.url_overrides,
                rate_limiter=False,
                webapp_demo_user=user,
            ) as bot:
                demo.say("HuFi key-support bot: offline demo. Nothing here touches the network.\n")
                demo.show_keys()
                demo.say(HELP)
                demo.say(WEBAPP_HELP.format(url=bot.services.webapp.local_url))
                await _input_loop(demo, bot, script)
    print("Bye.", flush=True)
    return 0


#: The longest the prompt waits for the bot's answer (it comes in milliseconds; this only guards against a bug).
ANSWER_TIMEOUT_SECONDS = 60.0


async def _input_loop(demo: Demo, bot: RunningBot, script: str | None) -> None:
    loop = asyncio.get_running_loop()
    lines = (await asyncio.to_thread(Path(script).read_text)).splitlines() if script else None
    while True:
        if lines is not None:
            if not lines:
                break
            line = lines.pop(0)
            demo.say(f"\nYOU: {line}")
        else:
            try:
                line = await loop.run_in_executor(None, _prompt)
            except EOFError:
                break
        if not demo.handle(line):
            break
        await _answered(demo, bot)


async def _answered(demo: Demo, bot: RunningBot) -> None:
    """Wait until the bot has handled what the last input caused, and sent what that queued."""
    try:
        await asyncio.wait_for(bot.settled(demo.new_updates()), ANSWER_TIMEOUT_SECONDS)
    except TimeoutError:
        demo.say("(the bot has not answered yet)")


def _free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, for the Mini App's address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prompt() -> str:
    return input("\nyou> ")
