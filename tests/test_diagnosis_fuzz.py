"""classify_error never raises, whatever it is given, and never hands a secret back."""

from __future__ import annotations

import binascii
import inspect
import json
import sys
from urllib.parse import quote

import ccxt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.advice import question_for, steps_for
from bot.diagnosis import Cause, Diagnosis, Permission, classify_error, classify_result, extract_echoed_ip
from bot.exchanges.catalog import CATALOG
from bot.security import ACTIVE_SECRETS

ccxt_errors = sys.modules[ccxt.BaseError.__module__]
CCXT_CLASSES = sorted(
    (c for _, c in inspect.getmembers(ccxt_errors, inspect.isclass) if issubclass(c, Exception)),
    key=lambda c: c.__name__,
)
PY_CLASSES = [
    Exception,
    RuntimeError,
    TypeError,
    AttributeError,
    ValueError,
    KeyError,
    IndexError,
    OSError,
    ConnectionError,
    TimeoutError,
    binascii.Error,
    UnicodeError,
    RecursionError,
]
EXCHANGES = [*sorted(CATALOG), "", "unknown-exchange", "BINANCE", "huobi"]
PERMISSIONS = [*Permission, None]
FAST = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_fragments = st.sampled_from(
    [
        '{"code":-2015,"msg":"Invalid API-key',
        '{"retCode":',
        '{"error":["EAPI:',
        '{"label":"FORBIDDEN","message":',
        '{"err-code":"api-signature-not-valid","err-msg":"Signature not valid: ',
        '{"mc":"AUTH_10',
        '{"code":"1","data":[{"sCode":',
        "[[[[[[[[[[",
        '{"a":' * 50,
        "GET https://x.example/p?signature=abc 502 Bad Gateway <html>",
        "429 ",
        "\x00\x01\x02\ufffd",
    ]
)
messages = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
    st.lists(st.one_of(json_fragments, st.text(max_size=20)), max_size=8).map("".join),
    st.tuples(st.sampled_from(EXCHANGES), json_fragments, st.text(max_size=40)).map(" ".join),
    st.tuples(st.text(min_size=1, max_size=8), st.integers(1_000, 60_000)).map(lambda t: t[0] * t[1]),
)


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


class WeirdArgs(ccxt.AuthenticationError):
    @property
    def args(self):  # type: ignore[override]
        raise ValueError("no args either")

    def __str__(self) -> str:
        raise ValueError("nope")


def _check(diag: Diagnosis) -> None:
    assert isinstance(diag, Diagnosis)
    assert isinstance(diag.cause, Cause)
    assert all(isinstance(c, Cause) for c in diag.alternatives)
    assert diag.cause not in diag.alternatives
    assert len(diag.detail) <= 300
    assert diag.code is None or len(diag.code) <= 64


@FAST
@given(
    cls=st.sampled_from(CCXT_CLASSES + PY_CLASSES),
    message=messages,
    exchange=st.sampled_from(EXCHANGES),
    perm=st.sampled_from(PERMISSIONS),
)
def test_classify_error_never_raises(
    cls: type[Exception], message: str, exchange: str, perm: Permission | None
) -> None:
    try:
        error = cls(message)
    except Exception:  # noqa: BLE001 - a class with another constructor
        error = cls()
    _check(classify_error(exchange, perm, error))


@FAST
@given(
    obj=st.one_of(
        st.none(),
        st.integers(),
        st.binary(max_size=200),
        st.text(max_size=200),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    ),
    exchange=st.one_of(st.sampled_from(EXCHANGES), st.text(max_size=30)),
    perm=st.one_of(st.sampled_from(PERMISSIONS), st.text(max_size=10)),
)
def test_anything_at_all(obj: object, exchange: str, perm: object) -> None:
    _check(classify_error(exchange, perm, obj))  # type: ignore[arg-type]
    result = classify_result(exchange, perm, obj)  # type: ignore[arg-type]
    assert result is None or isinstance(result, Diagnosis)
    assert extract_echoed_ip(obj) is None or isinstance(extract_echoed_ip(obj), str)


def test_broken_str_and_args() -> None:
    _check(classify_error("binance", Permission.VIEW_ACCOUNT_BALANCE, Unprintable("x")))
    _check(classify_error("okx", None, WeirdArgs("y")))
    _check(classify_error(object(), object(), object()))  # type: ignore[arg-type]


def test_megabytes() -> None:
    huge = "okx " + '{"code":"50111","msg":"' + "x" * 3_000_000 + '"}'
    diag = classify_error("okx", Permission.VIEW_ACCOUNT_BALANCE, ccxt.AuthenticationError(huge))
    _check(diag)
    diag = classify_error("gate", None, ccxt.ExchangeError("\x00\xff" * 1_000_000))
    _check(diag)


secrets_st = st.text(
    alphabet="abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789+/=_-", min_size=10, max_size=60
).map(lambda s: "zQ" + s)
placements = st.sampled_from(
    [
        '{ex} {{"code":"50111","msg":"bad key {s}"}}',
        "{ex} GET https://api.example.com/x?apiKey={q}&signature=1 401 Unauthorized {s}",
        '{ex} {{"retCode":10004,"retMsg":"error sign! origin_string[1700{s}5000]"}}',
        '{ex} {{"label":"FORBIDDEN","message":"Request IP not in whitelist: {s}"}}',
        "{s}",
        '{ex} {{"error":["EAPI:Invalid key {j}"]}}',
        '{ex} {{"err-code":"{s}"}}',
        '{ex} {{"code":"{s}"}}',
    ]
)


@FAST
@given(
    secret=secrets_st,
    placement=placements,
    cls=st.sampled_from(CCXT_CLASSES + PY_CLASSES),
    exchange=st.sampled_from(sorted(CATALOG)),
    perm=st.sampled_from(PERMISSIONS),
    via_registry=st.booleans(),
)
def test_planted_secret_never_comes_back(
    secret: str, placement: str, cls: type[Exception], exchange: str, perm: Permission | None, via_registry: bool
) -> None:
    message = placement.format(ex=exchange, s=secret, q=quote(secret, safe=""), j=json.dumps(secret)[1:-1])
    try:
        error = cls(message)
    except Exception:  # noqa: BLE001
        return
    if via_registry:
        with ACTIVE_SECRETS.active([secret]):
            diag = classify_error(exchange, perm, error)
    else:
        diag = classify_error(exchange, perm, error, secrets=[secret])
    texts = [diag.detail, diag.code or ""]
    for step in steps_for(diag, exchange, outbound_ips=["203.0.113.7"]):
        texts += [step.title, step.text]
    question = question_for(diag, exchange)
    if question is not None:
        texts += [question.text, *(a.label for a in question.answers)]
    for text in texts:
        assert secret not in text
        assert quote(secret, safe="") not in text
