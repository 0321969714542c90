"""`python -m bot check`: hidden prompts, the per-permission report, the cause and the steps."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parents[1]


def _spawn(*args: str) -> pexpect.spawn:
    env = {**os.environ, "EXCHANGE_SANDBOX": "true", "PTB_TIMEDELTA": "1", "TELEGRAM_BOT_TOKEN": ""}
    return pexpect.spawn(sys.executable, ["-m", "bot", *args], cwd=str(ROOT), env=env, encoding="utf-8", timeout=30)


def test_check_asks_with_hidden_prompts_and_prints_cause_and_steps() -> None:
    child = _spawn("check", "--exchange", "mexc", "--campaign-type", "HOLDING")
    try:
        child.expect("MEXC API key: ")
        child.sendline("mx0vUnknownKey12345")
        child.expect("Secret key: ")
        secret = "0123456789abcdef0123456789abcdef"
        child.sendline(secret)
        child.expect(pexpect.EOF)
        output = child.before
    finally:
        child.close(force=True)
    assert "VIEW_ACCOUNT_BALANCE" in output and "FAIL" in output
    assert "Cause:" in output and "1. " in output
    assert "HOLDING: no" in output
    assert secret not in output  # the terminal never echoes it, and the report never prints it
    assert child.exitstatus == 1


def test_unknown_exchange_lists_the_supported_ones() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--exchange", "nosuchex"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Unknown exchange 'nosuchex'" in result.stderr and "mexc" in result.stderr


def test_a_dex_needs_no_key_and_says_so() -> None:
    child = _spawn("check", "--exchange", "hyperliquid")
    try:
        child.expect(pexpect.EOF)
        output = child.before
    finally:
        child.close(force=True)
    assert "Hyperliquid needs no API key" in output and "wallet" in output
    assert child.exitstatus == 0
