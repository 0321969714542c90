"""`python -m bot check`: hidden prompts, the per-permission report, the cause and the steps; clean exits at every
prompt (Ctrl-C, Ctrl-D), no terminal, `--stdin`, and the help. Staging keys through it: tests/test_staging_keys.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from bot.__main__ import CANCELLED, NO_INPUT
from bot.exchanges.catalog import CATALOG

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


# -- clean exits: Ctrl-C and Ctrl-D at every prompt, and no terminal -------------------------------------------------
OKX_PROMPTS = ("OKX API key: ", "Secret key: ", "API passphrase: ")


@pytest.mark.parametrize("prompt", range(len(OKX_PROMPTS)), ids=["key", "secret", "passphrase"])
@pytest.mark.parametrize(
    ("keys", "line", "code"), [("\x03", CANCELLED, 130), ("\x04", NO_INPUT, 1)], ids=["ctrl-c", "ctrl-d"]
)
def test_ctrl_c_and_ctrl_d_at_a_prompt_end_at_once_with_one_line(prompt: int, keys: str, line: str, code: int) -> None:
    child = _spawn("check", "--exchange", "okx")
    try:
        for earlier in OKX_PROMPTS[:prompt]:
            child.expect(earlier)
            child.sendline("x" * 24)
        child.expect(OKX_PROMPTS[prompt])
        child.send(keys)
        child.expect(pexpect.EOF, timeout=1.0)  # within a second, or pexpect.TIMEOUT fails the test
        output = child.before
    finally:
        child.close(force=True)
    assert output.strip() == line  # one line: no traceback, no second Ctrl-C needed
    assert child.exitstatus == code


def test_check_without_a_terminal_refuses_with_a_clear_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--exchange", "kucoin"],
        cwd=ROOT,
        env={**os.environ, "EXCHANGE_SANDBOX": "true"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "not a terminal" in result.stderr and "--stdin" in result.stderr
    assert "read the API key, the secret and the API passphrase from standard input" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_check_stdin_that_runs_out_names_what_is_missing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--exchange", "bitmart", "--stdin"],
        cwd=ROOT,
        env={**os.environ, "EXCHANGE_SANDBOX": "true"},
        input="STAGINGkey0000000000000000000000000000000\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Standard input ended before the secret: expected 3 lines (API key, secret, API memo)" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_help_lists_the_exchanges_the_sandbox_and_examples() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for exchange_id in CATALOG:
        assert exchange_id in text
    assert "EXCHANGE_SANDBOX=true" in text and "staging-keys" in text and "--stdin" in text
    assert "examples: python -m bot check --exchange mexc" in text


def test_run_help_names_the_required_setting_and_where_settings_are_documented() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    text = " ".join(result.stdout.split())
    assert "Required: TELEGRAM_BOT_TOKEN" in text
    assert 'README.md, "Configuration"' in text and ".env.example" in text
    assert "examples:" in text and "EXCHANGE_SANDBOX=true python -m bot run" in text
    assert "## Configuration" in (ROOT / "README.md").read_text()  # the place it points to exists


def test_stdin_in_a_terminal_still_asks_with_hidden_prompts() -> None:
    child = _spawn("check", "--exchange", "mexc", "--stdin")
    try:
        child.expect("MEXC API key: ")  # not a visible line read: what is typed is not echoed
        child.sendline("mx0vSTAGINGnotechoed1")
        child.expect("Secret key: ")
        assert "notechoed" not in child.before
        child.sendintr()
        child.expect(pexpect.EOF, timeout=1.0)
    finally:
        child.close(force=True)
    assert child.exitstatus == 130
