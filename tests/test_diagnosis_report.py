"""The report-level verdict, results without an error, and echoed IPs."""

from __future__ import annotations

from pathlib import Path

import ccxt
import pytest

from bot.diagnosis import (
    Cause,
    Diagnosis,
    Permission,
    classify_error,
    classify_result,
    diagnose_report,
    extract_echoed_ip,
)
from bot.exchanges.report import KeyCheckReport, ProbeOutcome, ProbeStatus

B = Permission.VIEW_ACCOUNT_BALANCE
D = Permission.VIEW_DEPOSIT_ADDRESS
T = Permission.VIEW_SPOT_TRADING_HISTORY

BINANCE_2015 = 'binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action, request ip: 203.0.113.9"}'


def granted(perm: Permission) -> ProbeOutcome:
    return ProbeOutcome(perm, ProbeStatus.GRANTED)


def failed(exchange: str, perm: Permission, error: BaseException, *, keep_diagnosis: bool = True) -> ProbeOutcome:
    diag = classify_error(exchange, perm, error) if keep_diagnosis else None
    return ProbeOutcome(perm, ProbeStatus.FAILED, diagnosis=diag, error=error)


def report(exchange: str, *outcomes: ProbeOutcome, **evidence: object) -> KeyCheckReport:
    r = KeyCheckReport(exchange)
    for o in outcomes:
        r.set_outcome(o)
    r.evidence.update(evidence)
    return r


def test_ok_report_has_no_verdict() -> None:
    assert diagnose_report(report("okx", granted(B), granted(D), granted(T))) is None


def test_precheck_wins() -> None:
    pre = Diagnosis(Cause.INCOMPLETE_CREDENTIALS, code="secret_missing")
    r = report("okx")
    r.precheck = pre
    assert diagnose_report(r) == pre


def test_auth_failure_next_to_a_granted_probe_is_a_permission_problem() -> None:
    r = report(
        "binance",
        granted(B),
        granted(D),
        failed("binance", T, ccxt.AuthenticationError(BINANCE_2015)),
    )
    d = diagnose_report(r)
    assert d is not None and d.cause is Cause.PERMISSION_MISSING and not d.alternatives
    assert d.code == "-2015"
    assert "VIEW_SPOT_TRADING_HISTORY" in d.detail


def test_binance_relabelled_2015_after_success_is_not_a_rate_limit() -> None:
    error = ccxt.DDoSProtection('binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}')
    d = diagnose_report(report("binance", granted(B), failed("binance", T, error), granted(D)))
    assert d is not None and d.cause is Cause.PERMISSION_MISSING


def test_same_ambiguous_reply_everywhere_keeps_the_alternatives() -> None:
    r = report("binance", *(failed("binance", p, ccxt.AuthenticationError(BINANCE_2015)) for p in Permission))
    d = diagnose_report(r)
    assert d is not None and d.cause is Cause.KEY_INVALID
    assert {Cause.IP_NOT_WHITELISTED, Cause.PERMISSION_MISSING, Cause.KEY_EXPIRED} <= set(d.alternatives)


def test_key_info_failing_too_rules_out_the_permission() -> None:
    info_error = classify_error("binance", None, ccxt.AuthenticationError(BINANCE_2015)).to_dict()
    r = report(
        "binance",
        *(failed("binance", p, ccxt.AuthenticationError(BINANCE_2015)) for p in Permission),
        key_info_error=info_error,
        echoed_ip="203.0.113.9",
    )
    d = diagnose_report(r)
    assert d is not None and d.cause is Cause.KEY_INVALID
    assert Cause.PERMISSION_MISSING not in d.alternatives and Cause.IP_NOT_WHITELISTED in d.alternatives
    assert "203.0.113.9" in d.detail


def test_readable_key_info_with_an_ip_list_points_at_the_ip() -> None:
    r = report(
        "binance",
        *(failed("binance", p, ccxt.AuthenticationError(BINANCE_2015)) for p in Permission),
        key_info={"ip_restricted": True, "ips": ["198.51.100.1"]},
        echoed_ip="203.0.113.9",
    )
    d = diagnose_report(r)
    assert d is not None and d.cause is Cause.IP_NOT_WHITELISTED
    assert d.alternatives == (Cause.PERMISSION_MISSING,)


def test_readable_key_info_whose_ip_list_has_our_ip_points_at_permissions() -> None:
    r = report(
        "binance",
        *(failed("binance", p, ccxt.AuthenticationError(BINANCE_2015)) for p in Permission),
        key_info={"ip_restricted": True, "ips": ["203.0.113.9"]},
        echoed_ip="203.0.113.9",
    )
    d = diagnose_report(r)
    assert d is not None and d.cause is Cause.PERMISSION_MISSING and not d.alternatives


def test_readable_key_info_without_ip_list_points_at_permissions() -> None:
    r = report(
        "binance",
        *(failed("binance", p, ccxt.AuthenticationError(BINANCE_2015)) for p in Permission),
        key_info={"ip_restricted": False, "permissions": ["enableReading"]},
    )
    d = diagnose_report(r)
    assert d is not None and d.cause is Cause.PERMISSION_MISSING


def test_key_info_expired_and_nonce_window() -> None:
    outcomes = [
        failed("kraken", p, ccxt.AuthenticationError('kraken {"error":["EAPI:Invalid key"]}')) for p in Permission
    ]
    d = diagnose_report(report("kraken", *outcomes, key_info={"expired": True}))
    assert d is not None and d.cause is Cause.KEY_EXPIRED
    d = diagnose_report(report("kraken", *outcomes, key_info={"nonce_window": 1000, "permissions": []}))
    assert d is not None and d.cause is Cause.NONCE_WINDOW and d.code == "nonce_window=1000"


def test_definite_key_problem_beats_an_exchange_hiccup() -> None:
    r = report(
        "okx",
        failed("okx", B, ccxt.RequestTimeout("okx GET https://www.okx.com/api/v5/account/balance")),
        failed("okx", T, ccxt.AuthenticationError('okx {"msg":"Invalid Sign","code":"50113"}')),
        failed("okx", D, ccxt.AuthenticationError('okx {"msg":"Invalid Sign","code":"50113"}')),
    )
    d = diagnose_report(r)
    assert d is not None and d.cause is Cause.SECRET_MISMATCH


def test_only_the_deposit_address_missing() -> None:
    r = report("okx", granted(B), granted(T))
    r.set_outcome(ProbeOutcome(D, ProbeStatus.FAILED, diagnosis=classify_result("okx", D, {"address": None})))
    d = diagnose_report(r)
    assert d is not None and d.cause is Cause.NO_DEPOSIT_ADDRESS


def test_outcome_without_diagnosis_is_classified_from_its_error() -> None:
    r = report(
        "gate",
        *(
            failed("gate", p, ccxt.AuthenticationError('gate {"label":"INVALID_SIGNATURE"}'), keep_diagnosis=False)
            for p in Permission
        ),
    )
    d = diagnose_report(r)
    assert d is not None and d.cause is Cause.SECRET_MISMATCH


def test_nothing_failed_but_not_everything_checked() -> None:
    r = report("okx", granted(B))
    d = diagnose_report(r)
    assert d is not None and d.cause is Cause.CHECK_FAILED and d.code == "not_checked"


def test_report_round_trip_keeps_the_verdict() -> None:
    r = report("binance", granted(B), granted(D), failed("binance", T, ccxt.AuthenticationError(BINANCE_2015)))
    again = KeyCheckReport.from_dict(r.to_dict())
    assert diagnose_report(again) == diagnose_report(r)


@pytest.mark.parametrize(
    "result",
    [None, {}, {"address": None}, {"address": ""}, {"address": "None"}, [], "", 0, {"currency": "ETH"}],
)
def test_deposit_result_without_address(result: object) -> None:
    d = classify_result("okx", D, result)
    assert d is not None and d.cause is Cause.NO_DEPOSIT_ADDRESS


@pytest.mark.parametrize(
    "result",
    [
        {"address": "0x8ba1f109551bd432803012645ac136ddd64dba72", "network": "ERC20"},
        "0x8ba1f109551bd432803012645ac136ddd64dba72",
        [{"address": None}, {"address": "0x8ba1f109551bd432803012645ac136ddd64dba72"}],
    ],
)
def test_deposit_result_with_address(result: object) -> None:
    assert classify_result("bitget", D, result) is None


def test_balance_and_trades_results_prove_the_permission() -> None:
    assert classify_result("okx", B, {"ETH": {"free": 1}}) is None
    assert classify_result("okx", T, []) is None


def test_classify_result_given_an_exception() -> None:
    d = classify_result("okx", B, ccxt.AuthenticationError('okx {"code":"50111"}'))
    assert d is not None and d.cause is Cause.KEY_INVALID


@pytest.mark.parametrize(
    ("text", "ip"),
    [
        (BINANCE_2015, "203.0.113.9"),
        ('gate {"label":"FORBIDDEN","message":"Request IP not in whitelist: 198.51.100.4"}', "198.51.100.4"),
        ('mexc {"code":700006,"msg":"IP [192.0.2.55] not in the ip white list"}', "192.0.2.55"),
        ("htx Signature not valid: Incorrect IP address [IP地址错误]:203.0.113.7", "203.0.113.7"),
        ('kucoin {"code":"400006","msg":"Invalid request ip, the current clientIp is:203.0.113.8"}', "203.0.113.8"),
        ("IP [2001:db8::1] not in the ip white list", "2001:db8::1"),
        ("okx GET http://127.0.0.1:8080/api/v5/account/balance?ip=1", None),
        ('okx {"msg":"Invalid IP","code":"50110"}', None),
        ("version 4.5.90 at 10.0.0.1", None),
        ("", None),
    ],
)
def test_extract_echoed_ip(text: str, ip: str | None) -> None:
    assert extract_echoed_ip(text) == ip


def test_diagnosis_and_advice_never_import_telegram() -> None:
    root = Path(__file__).resolve().parents[1] / "bot"
    for package in ("diagnosis", "advice"):
        for path in (root / package).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            assert "import telegram" not in source and "from telegram" not in source, path


def test_echoed_ip_is_read_from_the_failures_when_the_engine_left_it_out() -> None:
    r = report(
        "kucoin",
        *(
            failed(
                "kucoin",
                p,
                ccxt.AuthenticationError(
                    'kucoin {"code":"400006","msg":"Invalid request ip, the current clientIp is:203.0.113.7"}'
                ),
            )
            for p in Permission
        ),
    )
    d = diagnose_report(r)
    assert d is not None and d.cause is Cause.IP_NOT_WHITELISTED and "203.0.113.7" in d.detail


def test_client_side_failure_after_an_accepted_request_is_not_a_key_problem() -> None:
    error = ccxt.ExchangeError("gate selectNetworkKeyFromNetworks() missing defaultNetworkId")
    r = report("gate", granted(B), granted(T), failed("gate", D, error))
    d = diagnose_report(r)
    assert d is not None and d.cause is Cause.CHECK_FAILED and d.alternatives == (Cause.OK,)
