"""`python -m bot check` and `python -m bot demo` in a language (issue #18): `--lang`, else the locale (LC_ALL,
LC_MESSAGES, LANG), else English; the report, the verdict and the steps (check), the bot's messages (demo)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import _language, main, render_report
from bot.diagnosis import Cause, Diagnosis
from bot.exchanges.report import KeyCheckReport
from bot.sandbox.demo import run_demo
from tests.i18n_harness import marker, pseudo_locales


def test_the_language_comes_from_lang_then_the_locale(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    assert _language(None) == "en"
    monkeypatch.setenv("LANG", "tr_TR.UTF-8")
    assert _language(None) == "tr"
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    assert _language(None) == "zh_Hans"
    assert _language("vi") == "vi" and _language("es-MX") == "es"
    assert _language("klingon") is None
    assert "Unknown language 'klingon'" in capsys.readouterr().err
    assert main(["check", "--exchange", "mexc", "--lang", "klingon"]) == 2


def test_the_report_is_in_the_language(tmp_path: Path) -> None:
    report = KeyCheckReport("mexc", key_fingerprint="mx0v…abcd")
    report.diagnosis = Diagnosis(Cause.PERMISSION_MISSING, code="700007")
    english = render_report(report, "HOLDING")
    with pseudo_locales(tmp_path):
        russian = render_report(report, "HOLDING", language="ru")
    assert marker("ru") not in english and "Cause: A read permission is missing" in english
    lines = [line for line in russian.splitlines() if line.strip() and not line.startswith("  [")]
    assert all(marker("ru") in line for line in lines), russian  # every line but the per-permission table


def test_check_of_a_dex_answers_in_the_language(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pseudo_locales(tmp_path):
        assert main(["check", "--exchange", "hyperliquid", "--lang", "es"]) == 0
    out = capsys.readouterr().out
    assert out.count(marker("es")) == 2 and "Hyperliquid" in out  # the sentence and the hint


async def test_the_demo_speaks_the_language(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "script.txt"
    script.write_text("/start\n/quit\n")
    with pseudo_locales(tmp_path):
        assert await run_demo(script=str(script), language="vi") == 0
    out = capsys.readouterr().out
    assert f"BOT: {marker('vi')} 👋" in out
