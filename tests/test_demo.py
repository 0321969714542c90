"""`python -m bot demo` driven through a pseudo-terminal, as a person would use it: a whole session, button numbers
(stable, never reused, separators not pressable), the prompt after the answer, tickets, and clean exits."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _buttons(screen: str) -> dict[str, str]:
    """Button label -> number, from the last keyboard printed."""
    return {label.strip(): number for number, label in re.findall(r"\[(\d+)\] ([^\[\n]+)", screen)}


def _spawn() -> pexpect.spawn:
    env = {**os.environ, "PTB_TIMEDELTA": "1", "PYTHONUNBUFFERED": "1"}
    return pexpect.spawn(sys.executable, ["-m", "bot", "demo"], cwd=str(ROOT), env=env, encoding="utf-8", timeout=30)


def test_demo_good_key_bad_key_fixed_then_escalated_and_answered_by_staff() -> None:
    child = _spawn()
    try:
        child.expect("you> ")
        assert "a good read-only key" in child.before

        def choose(label: str) -> None:
            child.expect("you> ")
            number = _buttons(child.before)[label]
            child.sendline(number)

        # a good key; the separator row of the exchange picker is a label, not a button
        child.sendline("/check")
        child.expect("you> ")
        picker = child.before
        assert re.search(r"\n +— [^\[\n]+ —\r?\n", picker) and not re.search(r"\[\d+\] —", picker)
        mexc = _buttons(picker)["MEXC"]
        child.sendline(mexc)
        # the picker became the campaign question: its old number presses nothing, and says so
        child.expect("you> ")
        campaign = _buttons(child.before)
        child.sendline(mexc)
        child.expect(f"button {mexc} is gone: that keyboard has changed; the buttons now: ")
        child.expect("you> ")
        child.sendline(campaign["Not sure / all"])
        child.expect("you> ")
        child.sendline("/use 1")
        child.expect("you> ")  # the prompt comes after the bot's answer, not before
        assert "your message was deleted" in child.before and "passes every check" in child.before
        child.sendline("")

        # a key without trade history, fixed on the exchange, checked again
        child.expect("you> ")
        child.sendline("/check")
        choose("MEXC")
        choose("Not sure / all")
        child.expect("you> ")
        child.sendline("/use 2")
        child.expect("Step 1 of")
        child.expect("you> ")
        buttons = _buttons(child.before)
        child.sendline(buttons["➡️ Next step"])
        child.expect("Step 2 of")
        child.expect("you> ")
        assert _buttons(child.before) == buttons  # the same buttons keep their numbers from step to step
        child.sendline("/fix 2")
        child.expect("fixed on the exchange")
        child.expect("you> ")
        child.sendline(buttons["🔁 Done, check again"])
        child.expect("passes every check")

        # a bad key escalated to support, answered by staff
        child.expect("you> ")
        child.sendline("/check")
        choose("MEXC")
        choose("Not sure / all")
        child.expect("you> ")
        child.sendline("/use 4")
        child.expect("Step 1 of")
        choose("🙋 Talk to support")
        child.expect("Describe the problem")
        child.expect("you> ")
        child.sendline("HuFi refuses my key")
        child.expect(r"\[SUPPORT GROUP\] BOT: 🆘 Ticket #1")
        child.expect("you> ")
        child.sendline("/staff Please create a new key, this one has expired.")
        child.expect(r"BOT \(relayed\): Please create a new key, this one has expired\.")
        # while the ticket is open, a plain message goes to support, and the demo says so
        child.expect("you> ")
        child.sendline("Thanks, I will try")
        child.expect(r"\[SUPPORT GROUP\] BOT \(relayed\): Thanks, I will try")
        child.expect("this went to HuFi support")
        # closed by staff and reopened by the user's next message: still ticket #1
        child.expect("you> ")
        child.sendline("/staff /close")
        child.expect("Ticket #1 closed")
        child.expect("you> ")
        child.sendline("It still fails")
        child.expect("reopened your request #1")
        child.expect("you> ")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
        assert "Traceback" not in (child.before or "")
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert not child.isalive()


@pytest.mark.parametrize(("keys", "echo"), [("\x03", "^C"), ("\x04", "")], ids=["ctrl-c", "ctrl-d"])
@pytest.mark.parametrize("where", ["first prompt", "in the key flow"])
def test_ctrl_c_and_ctrl_d_leave_at_once_with_one_line(keys: str, echo: str, where: str) -> None:
    child = _spawn()
    try:
        child.expect("you> ")
        if where == "in the key flow":
            child.sendline("/check")
            child.expect("you> ")
            child.sendline(_buttons(child.before)["MEXC"])
            child.expect("you> ")
        child.send(keys)
        child.expect(pexpect.EOF, timeout=1.0)  # within a second, or pexpect.TIMEOUT fails the test
        output = child.before
    finally:
        child.close(force=True)
    assert output.replace("\r", "").strip("\n") == f"{echo}\nBye.".strip("\n")  # one line, no traceback
    assert child.exitstatus == 0
