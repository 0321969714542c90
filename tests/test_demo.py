"""`python -m bot demo` driven through a pseudo-terminal, as a person would use it."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parents[1]


def _buttons(screen: str) -> dict[str, str]:
    """Button label -> number, from the last keyboard printed."""
    return {label.strip(): number for number, label in re.findall(r"\[(\d+)\] ([^\[\n]+)", screen)}


def test_demo_good_key_bad_key_fixed_then_escalated_and_answered_by_staff() -> None:
    env = {**os.environ, "PTB_TIMEDELTA": "1", "PYTHONUNBUFFERED": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "bot", "demo"], cwd=str(ROOT), env=env, encoding="utf-8", timeout=30)
    try:
        child.expect("you> ")
        assert "a good read-only key" in child.before

        def choose(label: str) -> None:
            child.expect("you> ")
            number = _buttons(child.before)[label]
            child.sendline(number)

        # a good key
        child.sendline("/check")
        choose("MEXC")
        choose("Not sure / all")
        child.expect("you> ")
        child.sendline("/use 1")
        child.expect("your message was deleted")
        child.expect("passes every check")

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
        child.expect("you> ")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
        assert "Traceback" not in (child.before or "")
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert not child.isalive()
