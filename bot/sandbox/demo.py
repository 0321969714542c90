"""`python -m bot demo`: the real bot, offline, in this terminal.

The same Application, handlers and storage as production (a temporary database), started by the same lifecycle
(`bot.lifecycle.running`), talking to the built-in Bot API emulator and to simulated exchanges that know the
staging keys (`bot.sandbox.staging`). You type as a Telegram user; the bot's messages appear with their buttons
numbered; deletions are shown as they happen. The next prompt appears once the bot has handled what you typed
(and sent what it queued), never on a timer; anything the bot sends while you type is printed above a fresh prompt.

Button numbers (`Keyboards`): a button keeps its number for as long as its message shows it, edits included (a
button is known by its message and label), and a number is never given to another button, so a number typed
after a keyboard changed is answered "that button is gone" instead of pressing whatever now sits in its place.
A separator row (the exchange picker's "— more —") is shown as a label, not as a button.

Input is read by the event loop itself (`TerminalInput`, no thread), so Ctrl-C and Ctrl-D end the demo at once
with one line, whatever it is doing; the servers, the bot and the temporary database are stopped on the way out.

The Mini App's key form is served on 127.0.0.1 with a stand-in for Telegram's script that signs for the demo
user: the "Enter the key securely" button prints its address, to open in a browser; the verdict of a key sent
there appears in this chat.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.i18n import DEFAULT_LANGUAGE
from bot.i18n.languages import telegram_tag
from bot.lifecycle import Polling, RunningBot, running
from bot.sandbox.hufi import FakeHufi
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.telegram_model import Action
from bot.sandbox.world import DemoKey, SandboxWorld
from handlers.callbacks import NOOP

SUPPORT_CHAT_ID = -1009990001
PRINTED = {
    "sendMessage": "BOT",
    "editMessageText": "BOT (updated)",
    "editMessageReplyMarkup": "BOT (updated)",
    "copyMessage": "BOT (relayed)",
    "sendPhoto": "BOT (photo)",
    "sendDocument": "BOT (file)",
}
HELP = """Type as a Telegram user would (try /check). Also:
  1, 2, 3 …     press the button with that number
  /use N        send demo key N (key and secret in one message)
  /key N, /secret N   send only the key or only the secret of demo key N
  /fix N        fix demo key N on the exchange (then press "Done, check again")
  /staff TEXT   answer as a HuFi support agent in your ticket (after "Talk to support")
  /keys         show the demo keys again
  /quit         leave (Ctrl-D or Ctrl-C work too)"""
#: The demo's own words (the bot's words come from the bot).
SAY = {
    "keys_title": "Demo keys on the simulated {exchange} (all made up; every exchange's: python -m bot staging-keys):",
    "deleted": "   🗑  (your message was deleted by the bot)",
    "to_support": "   ↪ (your ticket is open, so this went to HuFi support; their answers appear here)",
    "gone": "(button {number} is gone: that keyboard has changed{now})",
    "now": "; the buttons now: {buttons}",
    "no_button": "(there is no button {number})",
    "fixed": "(demo key {number} fixed on the exchange)",
    "staff_usage": "(usage: /staff your answer)",
    "no_ticket": '(no ticket yet: press "Talk to support" after a check first)',
    "pick_key": "(give a demo key number from 1 to {count})",
    "not_answered": "(the bot has not answered yet)",
    "staff_says": "[SUPPORT GROUP] Sam (staff): {text}",
    "welcome": "HuFi key-support bot: offline demo. Nothing here touches the network.\n",
    "bye": "Bye.",
}
PROMPT = "you> "


@dataclass(frozen=True)
class Button:
    number: int
    label: str
    data: str
    message: dict[str, Any]


class Keyboards:
    """Numbers for the bot's inline buttons, stable while a button is shown and never reused (module docstring)."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[Any, ...], int] = {}
        self._live: dict[int, Button] = {}
        self._next = 1

    def show(self, message: dict[str, Any]) -> list[list[Button | str]]:
        """Number the buttons `message` shows now (its earlier ones are gone); rows of buttons and labels."""
        chat_id, message_id = int(message["chat"]["id"]), int(message["message_id"])
        self.remove(chat_id, message_id)
        rows: list[list[Button | str]] = []
        taken: set[tuple[Any, ...]] = set()
        for row in (message.get("reply_markup") or {}).get("inline_keyboard") or []:
            shown: list[Button | str] = []
            for raw in row:
                label, data = str(raw.get("text", "")), str(raw.get("callback_data", ""))
                if "web_app" in raw:  # the Mini App: a browser opens it, not a number
                    shown.append(f"[{label}: open {raw['web_app'].get('url')} in a browser]")
                    continue
                if data == NOOP:  # a separator, not something to press
                    shown.append(label)
                    continue
                # by label: "Next step" stays the same button from step to step, though its data changes
                key: tuple[Any, ...] = (chat_id, message_id, label)
                if key in taken:
                    key = (*key, data)
                taken.add(key)
                if key not in self._numbers:
                    self._numbers[key] = self._next
                    self._next += 1
                button = Button(self._numbers[key], label, data, message)
                self._live[button.number] = button
                shown.append(button)
            rows.append(shown)
        return rows

    def remove(self, chat_id: int, message_id: int) -> None:
        """The message no longer shows buttons (edited without them, or deleted)."""
        for number, button in list(self._live.items()):
            if (int(button.message["chat"]["id"]), int(button.message["message_id"])) == (chat_id, message_id):
                del self._live[number]

    def live(self) -> list[Button]:
        return [self._live[n] for n in sorted(self._live)]

    def get(self, number: int) -> Button | None:
        return self._live.get(number)

    def was_given(self, number: int) -> bool:
        return 1 <= number < self._next


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
        out: Any = None,
        *,
        support_chat: int | None = None,
        staff: Any = None,
    ):
        self.api = api
        self.support_chat = support_chat
        self.staff = staff
        self.world = world
        self.keys = keys
        self.out = out if out is not None else sys.stdout  # looked up now: a test may have replaced it
        self.keyboards = Keyboards()
        self.user = api.default_user
        self.prompting = False  # the prompt is on screen, waiting for a line
        self._sent: set[tuple[int, int]] = set()  # (chat, message) of what you typed
        self._last_update = 0

    def new_updates(self) -> list[int]:
        """The ids of the updates injected since the last call (still pending: the bot can't have them yet)."""
        ids = [int(u["update_id"]) for u in self.api.pending if int(u["update_id"]) > self._last_update]
        self._last_update = max([self._last_update, *ids])
        return ids

    def say(self, text: str = "") -> None:
        if self.prompting:  # the bot spoke while you were typing: above a fresh prompt
            self.out.write("\n")
        print(text, file=self.out, flush=True)
        if self.prompting:
            self.out.write(PROMPT)
            self.out.flush()

    def prompt(self) -> None:
        self.out.write("\n" + PROMPT)
        self.out.flush()
        self.prompting = True

    def show_keys(self) -> None:
        exchange = self.keys[0].exchange_id.upper() if self.keys else "MEXC"
        self.say(SAY["keys_title"].format(exchange=exchange))
        for n, key in enumerate(self.keys, 1):
            self.say(f"  {n}. {key.label:<34} key {key.account.api_key}")
        self.say()

    def _type(self, text: str, **where: Any) -> None:
        message = self.api.send_text(text, self.user, **where) if where else self.api.send_text(text, self.user)
        self._sent.add((int(message["chat"]["id"]), int(message["message_id"])))

    async def on_action(self, action: Action) -> None:
        if action.method == "deleteMessage":
            chat_id, message_id = int(action.params["chat_id"]), int(action.params["message_id"])
            if (chat_id, message_id) in self._sent:
                self.say(SAY["deleted"])
            self.keyboards.remove(chat_id, message_id)
            return
        message = action.message
        if message is None or action.method not in PRINTED:
            return
        chat = message.get("chat", {})
        prefix = PRINTED[action.method]
        to_group = chat.get("type") != "private"
        if to_group:
            prefix = f"[SUPPORT GROUP] {prefix}"
        self.say(f"\n{prefix}: {action.text or ''}")
        if to_group and action.method == "copyMessage" and int(action.params.get("from_chat_id", 0)) == self.user.id:
            self.say(SAY["to_support"])
        rows = self.keyboards.show(message)
        for row in rows:
            self.say("   " + "   ".join(f"[{b.number}] {b.label}" if isinstance(b, Button) else b for b in row))

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
                self.say(SAY["fixed"].format(number=arg))
            elif word == "/use":
                self._type(f"{key.account.api_key} {key.secret_to_send}")
            elif word == "/key":
                self._type(key.account.api_key)
            else:
                self._type(key.secret_to_send)
            return True
        if line.isdigit():
            self.press(int(line))
            return True
        self._type(line)
        return True

    def press(self, number: int) -> None:
        button = self.keyboards.get(number)
        if button is None:
            if not self.keyboards.was_given(number):
                self.say(SAY["no_button"].format(number=number))
                return
            live = self.keyboards.live()
            now = SAY["now"].format(buttons=", ".join(f"[{b.number}] {b.label}" for b in live)) if live else ""
            self.say(SAY["gone"].format(number=number, now=now))
            return
        try:
            self.api.press_button(button.message, button.data, user=self.user)
        except ValueError:  # the message changed in a way the demo did not see: the same answer
            self.keyboards.remove(int(button.message["chat"]["id"]), int(button.message["message_id"]))
            self.say(SAY["gone"].format(number=number, now=""))

    def staff_says(self, text: str) -> None:
        """The support agent writes in the user's topic (the newest one)."""
        if not text or self.support_chat is None:
            self.say(SAY["staff_usage"])
            return
        topics = self.api.chat(self.support_chat).topics
        if not topics:
            self.say(SAY["no_ticket"])
            return
        thread = max(topics)
        self.say(SAY["staff_says"].format(text=text))
        self.api.send_text(text, self.staff, chat=self.support_chat, thread=thread)

    def _key(self, arg: str) -> DemoKey | None:
        if arg.isdigit() and 1 <= int(arg) <= len(self.keys):
            return self.keys[int(arg) - 1]
        self.say(SAY["pick_key"].format(count=len(self.keys)))
        return None


class TerminalInput:
    """Lines from standard input, read by the event loop (no thread, so nothing is left blocked in `input()` when
    the demo ends). `get()` returns the next line, or None at the end of input (Ctrl-D)."""

    def __init__(self, fd: int = 0) -> None:
        self.fd = fd
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""
        self._watching = False

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            loop.add_reader(self.fd, self._readable)
            self._watching = True
        except (PermissionError, OSError, ValueError):  # a regular file can't be watched: it is all there
            self._feed(sys.stdin.buffer.read())
            self._end()

    def stop(self) -> None:
        if self._watching:
            asyncio.get_running_loop().remove_reader(self.fd)
            self._watching = False

    async def get(self) -> str | None:
        return await self.lines.get()

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self._feed(data)
        else:  # Ctrl-D at the start of a line, or the pipe closed
            self.stop()
            self._end()

    def _feed(self, data: bytes) -> None:
        *complete, self._partial = (self._partial + self._decoder.decode(data)).split("\n")
        for line in complete:
            self.lines.put_nowait(line.rstrip("\r"))

    def _end(self) -> None:
        if self._partial:
            self.lines.put_nowait(self._partial)
            self._partial = ""
        self.lines.put_nowait(None)


async def run_demo(script: str | None = None, language: str = DEFAULT_LANGUAGE) -> int:
    """Run the demo until /quit, Ctrl-C or end of input. `script`: a file of input lines (used by tests);
    `language`: the demo user's Telegram language, so the bot speaks it (the demo's own lines stay English)."""
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    loop = asyncio.get_running_loop()
    interrupted = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, interrupted.set)
    try:
        with tempfile.TemporaryDirectory(prefix="hufi-demo-") as tmp:
            async with TelegramEmulator() as api, SandboxWorld() as world, FakeHufi() as hufi:
                api.default_user = api.add_user("Alice", username="alice", language_code=telegram_tag(language))
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
                api.allow_http_web_app = True  # the demo's Mini App page is on http://127.0.0.1 (emulator, item 12)
                demo = Demo(api, world, keys, support_chat=SUPPORT_CHAT_ID, staff=staff)
                api.on_action = demo.on_action
                updates = Polling(timeout=1.0, allowed_updates=None)
                user = {
                    "id": demo.user.id,
                    "first_name": demo.user.first_name,
                    "language_code": demo.user.language_code,
                }
                async with running(
                    settings,
                    updates=updates,
                    url_overrides=world.url_overrides,
                    rate_limiter=False,
                    webapp_demo_user=user,
                ) as bot:
                    demo.say(SAY["welcome"])
                    demo.show_keys()
                    demo.say(HELP)
                    demo.say(WEBAPP_HELP.format(url=bot.services.webapp.local_url))
                    mid_line = await _input_loop(demo, bot, script, interrupted)
                    demo.prompting = False
                    print(("\n" if mid_line else "") + SAY["bye"], flush=True)
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
    return 0


#: The longest the prompt waits for the bot's answer (it comes in milliseconds; this only guards against a bug).
ANSWER_TIMEOUT_SECONDS = 60.0


async def _until(interrupted: asyncio.Event, work: Any) -> Any:
    """`work`'s result, or None as soon as Ctrl-C was pressed (the work is then cancelled)."""
    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(interrupted.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return None
    return task.result()


async def _input_loop(demo: Demo, bot: RunningBot, script: str | None, interrupted: asyncio.Event) -> bool:
    """Read and act until /quit, the end of input or Ctrl-C; True when it ended in the middle of a line (after
    the prompt, or while the bot was answering)."""
    lines = (await asyncio.to_thread(Path(script).read_text)).splitlines() if script else None
    source = TerminalInput() if lines is None else None
    if source is not None:
        source.start()
    try:
        while not interrupted.is_set():
            if lines is not None:
                if not lines:
                    return False
                line: str | None = lines.pop(0)
                demo.say(f"\nYOU: {line}")
            else:
                assert source is not None
                demo.prompt()
                line = await _until(interrupted, source.get())
                demo.prompting = False
                if line is None:  # Ctrl-D, or Ctrl-C
                    return True
            if not demo.handle(line):
                return False
            await _until(interrupted, _answered(demo, bot))
        return True
    finally:
        if source is not None:
            source.stop()


async def _answered(demo: Demo, bot: RunningBot) -> None:
    """Wait until the bot has handled what the last input caused, and sent what that queued."""
    try:
        await asyncio.wait_for(bot.settled(demo.new_updates()), ANSWER_TIMEOUT_SECONDS)
    except TimeoutError:
        demo.say(SAY["not_answered"])


def _free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, for the Mini App's address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
