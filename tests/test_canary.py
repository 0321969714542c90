"""The proof for the secret rules: planted credentials never reach logs, the database or the Bot API.

Every flow runs with unique credentials; afterwards every log record (production logging set up at DEBUG), the
SQLite file with its WAL and shared-memory files, and every request the bot made to the Bot API are searched
for them, also URL-encoded, JSON-escaped, hex and base64-encoded. The user's own messages are not requests
the bot made, so they are not searched. Every input path is here: pastes in and outside the key flow, commands
with secrets after them (in and outside the flow), captions, edits, secrets glued to other scripts or split
over lines, a paste that can't be split (no fingerprint of it either), group pastes, and on the support side
descriptions, relays, captions, commands and edits while a ticket is open.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from bot.diagnosis.model import Permission
from bot.logging_setup import setup_logging
from bot.security import fingerprint
from tests.bot_harness import BotEnv, bot_env


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + repr(record.exc_info[1])
        self.lines.append(text)


def forms(value: str) -> set[str]:
    return {
        value,
        quote(value, safe=""),
        quote_plus(value),
        json.dumps(value)[1:-1],
        value.encode().hex(),
        base64.b64encode(value.encode()).decode().rstrip("="),
    }


@pytest.fixture
def production_logging():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    setup_logging("DEBUG")
    collect = Collect()
    root.addHandler(collect)  # no filter: it sees what any handler would be given
    yield collect
    root.handlers[:] = saved[1]
    root.setLevel(saved[0])


async def _flow(env: BotEnv, exchange: str, text: str, extra: str | None = None) -> None:
    env.api.send_text("/check")
    picker = await env.wait_text("Which exchange")
    env.api.press_button(picker.message, f"ex:{exchange}")
    campaign = await env.wait_text("Which kind of HuFi campaign")
    env.api.press_button(campaign.message, "ct:HOLDING")
    await env.wait_text("Send me the")
    env.api.send_text(text)
    if extra is not None:
        await env.wait_text("Last one")
        env.api.send_text(extra)


def _buttons(action) -> list[str]:  # type: ignore[no-untyped-def]
    return [b["callback_data"] for row in action.message["reply_markup"]["inline_keyboard"] for b in row]


async def test_planted_credentials_never_leave_the_process(tmp_path: Path, production_logging: Collect) -> None:
    planted: list[str] = []
    async with bot_env(tmp_path, exchanges=["mexc", "kucoin"], checks_per_hour=100) as env:
        mexc, kucoin = env.world.fakes["mexc"], env.world.fakes["kucoin"]

        good = mexc.add_account()
        planted += [good.api_key, good.secret]
        await _flow(env, "mexc", f"{good.api_key} {good.secret}")
        await env.wait_text("passes every check")

        partial = mexc.add_account()
        partial.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
        planted += [partial.api_key, partial.secret]
        await _flow(env, "mexc", partial.api_key)
        await env.wait_text("Now send the")
        env.api.send_text(partial.secret)
        verdict = await env.wait_text("Step 1 of")
        for data in _buttons(verdict):
            if data.startswith("step:"):
                env.api.press_button(verdict.message, data)
                await env.wait_method("editMessageText")
        again = next(d for d in _buttons(verdict) if d.startswith("again:"))
        env.api.press_button(verdict.message, again)
        await env.wait_text("Step 1 of")

        wrong_secret = mexc.new_secret()
        planted.append(wrong_secret)
        await _flow(env, "mexc", f"{good.api_key} {wrong_secret}")
        await env.wait_text("Step 1 of")

        env.api.fail("deleteMessage", (400, "Bad Request: message can't be deleted"), times=1)
        lost = mexc.add_account()
        planted += [lost.api_key, lost.secret]
        await _flow(env, "mexc", f"{lost.api_key} {lost.secret}")
        await env.wait_text("passes every check")

        mexc.force("exchange_maintenance")
        down = mexc.add_account()
        planted += [down.api_key, down.secret]
        await _flow(env, "mexc", f"{down.api_key} {down.secret}")
        await env.wait_text("Step 1 of")
        mexc.clear_forced()

        ku = kucoin.add_account()
        planted += [ku.api_key, ku.secret, ku.passphrase or ""]
        await _flow(env, "kucoin", f"{ku.api_key} {ku.secret}", extra="Wr0ngPassphrase9")
        planted.append("Wr0ngPassphrase9")
        await env.wait_text("Step 1 of")

        edited = env.api.send_text("hello")
        await env.wait_text("did not get that")
        pasted = mexc.new_secret() + "Q1"
        planted.append(pasted)
        env.api.edit_text(edited, f"oops {pasted}")
        await env.wait_text("you edited")

        group = env.api.add_group("Traders", forum=False)
        group_secret = mexc.new_secret() + "Z9"
        planted.append(group_secret)
        env.api.send_text(f"my secret {group_secret}", chat=group)
        await env.wait_text("revoke")

        # commands with a key and a secret after them, outside and inside the flow
        env.api.advance(60)  # past the private chat's flood budget (30 messages in 30 s): a new burst
        cmd = mexc.add_account()
        posted = []  # messages holding a secret: each must be deleted
        planted += [cmd.api_key, cmd.secret]
        posted.append(env.api.send_text(f"/check {cmd.api_key} {cmd.secret}"))
        await env.wait_text("what followed the command")
        await _flow(env, "mexc", "/check " + cmd.secret)  # the flow at its key question, then /check <secret>
        await env.wait_text("what followed the command")
        cancelled = mexc.new_secret()
        planted.append(cancelled)
        posted.append(env.api.send_text(f"/cancel {cancelled}"))
        await env.wait_text("what followed the command")
        env.api.send_text("/cancel")
        await env.wait_text("Okay, stopped")
        outside = mexc.new_secret()
        planted.append(outside)
        posted.append(env.api.send_text(f"/cancel {outside}"))
        await env.wait_text("what followed the command")
        helped = mexc.new_secret()
        planted.append(helped)
        posted.append(env.api.send_text(f"/help {helped}"))
        await env.wait_text("what followed the command")
        languaged = mexc.new_secret()  # /language takes no text: a secret after it is deleted like any other
        planted.append(languaged)
        posted.append(env.api.send_text(f"/language {languaged}"))
        await env.wait_text("what followed the command")

        # a caption, a secret glued to Chinese with a full-width colon, a secret split over two lines
        env.api.advance(60)
        captioned, glued, split = mexc.new_secret(), mexc.new_secret(), mexc.new_secret()
        planted += [captioned, glued, split]
        posted.append(env.api.send_photo(caption=f"screenshot, secret {captioned}"))
        await env.wait_text("looked like an API key")
        posted.append(env.api.send_text(f"密钥：{glued}，请帮忙"))
        await env.wait_text("looked like an API key")
        posted.append(env.api.send_text(f"my secret is\n{split[:16]}\n{split[16:]}"))
        await env.wait_text("looked like an API key")

        # a paste the flow can't split (key, secret and a passphrase): no fingerprint of any of it
        ku_amb = kucoin.add_account(passphrase="Hu4Fi!Kc#93x")
        planted += [ku_amb.api_key, ku_amb.secret, "Hu4Fi!Kc#93x"]
        await _flow(env, "kucoin", f"{ku_amb.api_key} {ku_amb.secret} Hu4Fi!Kc#93x")
        await env.wait_text("could not tell which part")
        env.api.send_text("/cancel")
        await env.wait_text("Okay, stopped")
        fingerprints = [fingerprint(f"{ku_amb.api_key} {ku_amb.secret} Hu4Fi!Kc#93x"), fingerprint("Hu4Fi!Kc#93x")]
        kept = [
            m.get("text") or m.get("caption")
            for m in posted
            if (m["chat"]["id"], m["message_id"]) not in env.api.deleted
        ]
        assert kept == [], "a message holding a secret was not deleted"

        env.api.send_text("/forget")
        await env.wait_text("deleted every key")
        await env.app.update_persistence()
        calls = json.dumps([{"m": c.method, "p": c.params} for c in env.api.calls], default=str)
        db_path = env.settings.database_path

    planted = [p for p in planted if p]
    files = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.name.startswith(db_path.name))
    logs = "\n".join(production_logging.lines)
    assert production_logging.lines, "logging captured nothing: the test would prove nothing"
    for secret in planted:
        for form in forms(secret):
            assert form not in calls, "a credential reached the Bot API"
            assert form not in logs, "a credential reached the logs"
            assert form.encode() not in files, "a credential reached the database files"
    for value in fingerprints:
        assert value not in calls and value not in logs and value.encode() not in files, "an ambiguous fingerprint"


async def test_planted_credentials_never_reach_support_logs_or_database(
    tmp_path: Path, production_logging: Collect
) -> None:
    from tests.test_support import SUPPORT, message_in_group, open_ticket, staff, support_env

    async with support_env(tmp_path) as env:
        account, thread = await open_ticket(env)
        planted = [account.api_key, account.secret]
        # the user pastes the secret again while the ticket is open: deleted, never relayed
        env.api.send_text(f"here it is again {account.secret}")
        await env.wait_method("deleteMessage")
        # ... glued to Russian, in a caption, after a command, in an edit of a relayed message: the same
        fake = env.world.fakes["mexc"]
        glued, captioned, commanded, edited = (fake.new_secret() for _ in range(4))
        planted += [glued, captioned, commanded, edited]
        env.api.send_text(f"вот мой ключ-{glued}!")
        await env.wait_method("deleteMessage")
        env.api.send_photo(caption=f"**{captioned}**")
        await env.wait_method("deleteMessage")
        env.api.send_text(f"/support {commanded}")
        await env.wait_method("deleteMessage")
        relayed = env.api.send_text("see my settings")
        await message_in_group(env, "see my settings")
        env.api.edit_text(relayed, f"see my settings {edited}")
        await env.wait_method("deleteMessage")
        env.api.send_text("it still fails")
        await message_in_group(env, "it still fails")
        env.api.send_text("thanks, I fixed it", staff(env), chat=SUPPORT, thread=thread)
        await env.wait_text("thanks, I fixed it")
        env.api.send_text("/recheck", staff(env), chat=SUPPORT, thread=thread)
        await message_in_group(env, "Check #2")
        await env.app.update_persistence()
        calls = json.dumps([{"m": c.method, "p": c.params} for c in env.api.calls], default=str)
        db_path = env.settings.database_path

    files = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.name.startswith(db_path.name))
    logs = "\n".join(production_logging.lines)
    for secret in planted:
        for form in forms(secret):
            assert form not in calls, "a credential reached the Bot API or the support chat"
            assert form not in logs, "a credential reached the logs"
            assert form.encode() not in files, "a credential reached the database files"


async def test_planted_credentials_never_leave_the_process_through_hufi_pastes_and_start_links(
    tmp_path: Path, production_logging: Collect
) -> None:
    """Issue #16's input paths: a pasted HuFi error (alone, and holding a secret), the focused check it starts, and
    `/start <exchange>` with the key flow after it."""
    planted: list[str] = []
    async with bot_env(tmp_path, exchanges=["mexc"], checks_per_hour=100) as env:
        mexc = env.world.fakes["mexc"]

        with_secret = mexc.new_secret() + "H1"
        planted.append(with_secret)
        env.api.send_text(f"Provided API key can't be authorized on exchange. Missing permissions: {with_secret}")
        await env.wait_text("looked like an API key")

        partial = mexc.add_account()
        partial.revoke(Permission.VIEW_DEPOSIT_ADDRESS)
        planted += [partial.api_key, partial.secret]
        env.api.send_text("MEXC: Missing permissions: VIEW_DEPOSIT_ADDRESS")
        explained = await env.wait_text("HuFi's message")
        env.api.press_button(explained.message, "another:mexc")
        await env.wait_text("Send me the")
        env.api.send_text(partial.api_key)
        await env.wait_text("Now send the")
        env.api.send_text(partial.secret)
        await env.wait_text("HuFi reported these as missing")

        linked = mexc.add_account()
        planted += [linked.api_key, linked.secret]
        env.api.send_text("/start mexc")
        campaign = await env.wait_text("Which kind of HuFi campaign")
        env.api.press_button(campaign.message, "ct:any")
        await env.wait_text("Send me the")
        env.api.send_text(f"{linked.api_key}:{linked.secret}")
        await env.wait_text("passes every check")

        wrong = mexc.new_secret()
        planted.append(wrong)
        env.api.send_text("/start mexc")
        campaign = await env.wait_text("Which kind of HuFi campaign")
        env.api.press_button(campaign.message, "ct:any")
        await env.wait_text("Send me the")
        env.api.send_text(f"{linked.api_key} {wrong}")
        await env.wait_text("Step 1 of")  # a secret that doesn't belong: not kept at all
        assert await env.services.vault.count_active() == 0

        await env.app.update_persistence()
        calls = json.dumps([{"m": c.method, "p": c.params} for c in env.api.calls], default=str)
        db_path = env.settings.database_path

    files = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.name.startswith(db_path.name))
    logs = "\n".join(production_logging.lines)
    assert production_logging.lines, "logging captured nothing: the test would prove nothing"
    for secret in planted:
        for form in forms(secret):
            assert form not in calls, "a credential reached the Bot API"
            assert form not in logs, "a credential reached the logs"
            assert form.encode() not in files, "a credential reached the database files"


def test_planted_credentials_read_by_check_stdin_never_reach_its_output() -> None:
    """`python -m bot check --stdin` (an input path of its own): nothing it prints carries what it read."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    planted = ["0ca4a7e5-5e1f-4c2d-9b7a-6f3e2d1c0b9a", "7C4A7A2E9D1B0F3A5C6E8D2B4A1F9E07", "Canary-pass#7"]
    for as_json in (False, True):
        result = subprocess.run(
            [sys.executable, "-m", "bot", "check", "--exchange", "okx", "--stdin", *(["--json"] if as_json else [])],
            cwd=root,
            env={**os.environ, "EXCHANGE_SANDBOX": "true", "LOG_LEVEL": "DEBUG", "PYTHONPATH": str(root)},
            input="\n".join(planted) + "\n",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 1 and "key_invalid" in output, output[-500:]  # it reached the exchange
        for value in planted:
            for form in forms(value):
                assert form not in output, "a planted credential reached the check command's output"
