"""Each exchange's error envelope: how it wraps an error code and message, and the HTTP status it usually sends.

`FakeExchange.force_error(code, message)` uses these so that a fake can answer with any code an exchange
documents, in that exchange's own JSON shape, and a real ccxt client (our own client for BitMart) raises exactly
what it raises for the real exchange. The shapes are those of the replies in `data/exchange_replies.json` and of
the examples on each exchange's error-code page (the pages are listed in `bot.diagnosis.exchange_codes`).

Statuses: where a page documents the HTTP status per code (OKX, BitMart) or the fixtures observed one, tests pass
it explicitly; `default_status` is only the exchange's usual status for an error of that kind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType


def _compact(data: object) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _int_or_str(code: str) -> int | str:
    try:
        return int(code)
    except ValueError:
        return code


@dataclass(frozen=True, slots=True)
class Envelope:
    """How one exchange shapes an error reply."""

    render: Callable[[str, str], str]  # (code, message) -> body
    default_status: Callable[[str], int]  # code -> HTTP status


def _binance(code: str, message: str) -> str:
    return _compact({"code": _int_or_str(code), "msg": message})


def _binance_status(code: str) -> int:
    return {"-1003": 429, "-2014": 401, "-2015": 401, "-2008": 401, "-1002": 401, "-1099": 401}.get(code, 400)


def _okx(code: str, message: str) -> str:
    return _compact({"code": code, "data": [], "msg": message})


def _okx_status(code: str) -> int:
    if code.startswith("501") and code < "50115":
        return 401
    return {"50001": 503, "50005": 410, "50011": 429, "50026": 500, "50061": 429, "50115": 405}.get(code, 200)


def _bybit(code: str, message: str) -> str:
    return _compact({"retCode": _int_or_str(code), "retMsg": message, "result": {}, "retExtInfo": {}, "time": 1})


def _kucoin(code: str, message: str) -> str:
    return _compact({"code": code, "msg": message})


def _kucoin_status(code: str) -> int:
    return {"400001": 401, "400002": 401, "400003": 401, "400004": 401, "400005": 401, "400006": 403}.get(
        code, 429 if code.startswith("429") else 500 if code.startswith("500") else 400
    )


def _bitget(code: str, message: str) -> str:
    return _compact({"code": code, "msg": message, "requestTime": 1700000000000, "data": None})


def _bitget_status(code: str) -> int:
    return 429 if code == "429" else 400


def _gate(code: str, message: str) -> str:
    return _compact({"label": code, "message": message})


def _gate_status(code: str) -> int:
    forbidden = {"FORBIDDEN", "READ_ONLY", "IP_FORBIDDEN", "ACCOUNT_LOCKED", "SUB_ACCOUNT_LOCKED"}
    if code in forbidden:
        return 403
    if code in ("TOO_FAST", "TOO_MANY_REQUESTS"):
        return 429
    if code in ("INTERNAL", "SERVER_ERROR", "TOO_BUSY"):
        return 503 if code == "TOO_BUSY" else 500
    return 401 if code.startswith(("INVALID", "MISSING", "REQUEST_EXPIRED", "AUTHENTICATION")) else 400


def _mexc(code: str, message: str) -> str:
    return _compact({"code": _int_or_str(code), "msg": message})


def _mexc_status(code: str) -> int:
    return {"429": 429, "500": 500, "503": 503, "504": 504}.get(code, 400)


def _htx(code: str, message: str) -> str:
    if code.isdigit():  # the v2 API (deposit addresses) answers {"code": <number>, "message": ...}
        return _compact({"code": int(code), "message": message, "data": None})
    return _compact({"status": "error", "err-code": code, "err-msg": message, "data": None})


def _xt(code: str, message: str) -> str:
    return _compact({"rc": 1, "mc": code, "ma": [], "result": None})


def _kraken(code: str, message: str) -> str:
    return _compact({"error": [f"{code}:{message}" if message else code]})


def _bigone(code: str, message: str) -> str:
    return _compact({"code": _int_or_str(code), "message": message})


def _bigone_status(code: str) -> int:
    return {"40004": 401, "10403": 403, "40301": 403, "10429": 429, "10005": 500, "10011": 500}.get(code, 400)


def _bitmart(code: str, message: str) -> str:
    return _compact({"message": message, "code": _int_or_str(code), "trace": "f5ba9a5a-3c79-4a1b-8c21", "data": {}})


def _bitmart_status(code: str) -> int:
    """The statuses BitMart's page gives per code (as copied into ccxt 4.5.70's table comments)."""
    if code in ("30001", "30002", "30003", "30004", "30005", "30006", "30007", "30008"):
        return 401
    statuses = {"30000": 404, "30013": 429, "30014": 503, "30017": 418, "30016": 200, "30019": 200}
    if code in statuses:
        return statuses[code]
    return 403 if code.startswith(("3001", "53", "6002", "6100")) else 400


ENVELOPES: Mapping[str, Envelope] = MappingProxyType(
    {
        "binance": Envelope(_binance, _binance_status),
        "okx": Envelope(_okx, _okx_status),
        "bybit": Envelope(_bybit, lambda code: 200),
        "kucoin": Envelope(_kucoin, _kucoin_status),
        "bitget": Envelope(_bitget, _bitget_status),
        "gate": Envelope(_gate, _gate_status),
        "mexc": Envelope(_mexc, _mexc_status),
        "htx": Envelope(_htx, lambda code: 200),
        "xt": Envelope(_xt, lambda code: 200),
        "kraken": Envelope(_kraken, lambda code: 200),
        "bigone": Envelope(_bigone, _bigone_status),
        "bitmart": Envelope(_bitmart, _bitmart_status),
    }
)


def error_reply(exchange_id: str, code: str, message: str = "", status: int | None = None) -> tuple[int, str]:
    """`(status, body)` of `exchange_id`'s error reply for `code` with `message`."""
    envelope = ENVELOPES[exchange_id]
    return (status if status is not None else envelope.default_status(code)), envelope.render(code, message)
