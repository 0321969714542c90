"""Every real exchange reply in the fixture file, classified the way the probe engine classifies it."""

from __future__ import annotations

import binascii
import builtins
import json
from pathlib import Path
from typing import Any

import ccxt
import pytest

from bot.diagnosis import Cause, Permission, classify_error, classify_result

FIXTURES = Path(__file__).resolve().parents[1] / "bot" / "sandbox" / "data" / "exchange_replies.json"
CASES: list[dict[str, Any]] = json.loads(FIXTURES.read_text(encoding="utf-8"))
PERMISSION = {
    "fetch_balance": Permission.VIEW_ACCOUNT_BALANCE,
    "fetch_deposit_address": Permission.VIEW_DEPOSIT_ADDRESS,
    "fetch_my_trades": Permission.VIEW_SPOT_TRADING_HISTORY,
}
MIN_PRIMARY_ACCURACY = 0.97


def exception_class(name: str) -> type[BaseException]:
    if name == "binascii.Error":
        return binascii.Error
    cls = getattr(ccxt, name, None) or getattr(builtins, name, None)
    assert isinstance(cls, type) and issubclass(cls, BaseException), name
    return cls


def verdict(case: dict[str, Any]) -> tuple[str, list[str]]:
    """(primary cause, alternatives) as strings; "ok" when the result proves the permission."""
    perm = PERMISSION[case["method"]]
    if case["ccxt_exception"] is None:
        diag = classify_result(case["exchange"], perm, case["observed_result"])
        if diag is None:
            return "ok", []
    else:
        error = exception_class(case["ccxt_exception"])(case["observed_message"])
        diag = classify_error(case["exchange"], perm, error)
    return str(diag.cause), [str(c) for c in diag.alternatives]


def primary_ok(case: dict[str, Any], primary: str) -> bool:
    return primary == case["cause"] or primary in case["also_returned_for"]


def test_fixture_file_is_complete() -> None:
    assert len(CASES) == 190
    assert {c["exchange"] for c in CASES} >= {"binance", "okx", "kraken", "bitmart", "htx", "xt", "bigone"}
    assert all(Cause(c["cause"]) for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_true_cause_is_among_primary_and_alternatives(case: dict[str, Any]) -> None:
    primary, alternatives = verdict(case)
    assert case["cause"] in [primary, *alternatives], (primary, alternatives)


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c["ccxt_exception"] is None],
    ids=[c["id"] for c in CASES if c["ccxt_exception"] is None],
)
def test_results_without_an_error(case: dict[str, Any]) -> None:
    primary, _ = verdict(case)
    assert primary_ok(case, primary)


def test_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    primary_hits, covered, misses = 0, 0, []
    for case in CASES:
        primary, alternatives = verdict(case)
        if primary_ok(case, primary):
            primary_hits += 1
        else:
            misses.append(f"{case['id']}: {primary}")
        covered += case["cause"] in [primary, *alternatives]
    accuracy = primary_hits / len(CASES)
    with capsys.disabled():
        print(
            f"\n[diagnosis] fixtures: primary cause right {primary_hits}/{len(CASES)} ({accuracy:.1%}); "
            f"true cause among primary+alternatives {covered}/{len(CASES)}; misses: {misses}"
        )
    assert accuracy >= MIN_PRIMARY_ACCURACY, misses
    assert covered == len(CASES)


def test_details_are_short_and_scrubbed() -> None:
    for case in CASES:
        if case["ccxt_exception"] is None:
            continue
        error = exception_class(case["ccxt_exception"])(case["observed_message"])
        diag = classify_error(case["exchange"], PERMISSION[case["method"]], error)
        assert len(diag.detail) <= 300
        assert "signature=" not in diag.detail.lower()  # URL query strings are cut
        assert "XyZ1aBcD2eFgH3iJkL" not in diag.detail  # bybit echoes the signed string, key included
        assert diag.code is None or len(diag.code) <= 64
