"""Staging keys: one fixed table of made-up API keys for every simulated exchange, a passing one and one per cause.

With `EXCHANGE_SANDBOX=true`, `python -m bot run` and `python -m bot check` start the simulated exchanges with
these keys on their books (`SandboxWorld.add_staging_keys`), and the offline demo offers MEXC's. They are the same
every time (derived from the exchange and the case name, never random), shaped like the exchange's real keys so
the bot's format checks and its secret scanner take them as keys, and obviously fake: every API key contains
STAGING (HTX's in lower case, as its keys begin), or starts with 0000 where the exchange issues hexadecimal keys
(Gate, KuCoin, OKX and Bitget after its `bg_`). They open nothing anywhere but on the simulated exchanges in this
process. `python -m bot staging-keys` lists them; tests/test_staging_keys.py checks every one's verdict, and a
key per case through `python -m bot check` as a real process.

A case is what the user did wrong, set up on the simulated account the way the exchange would see it (the
permissions the key lacks, an IP allow-list, an expired or frozen key, no ETH deposit address yet) or in what is
sent (another key's secret, a wrong passphrase or memo, a key the exchange does not know). Where an exchange
names a case differently, `EXPECTED` says what the bot reports there and why. Left out, with the reason:
a wrong clock (the simulated exchange's clock is the exchange's, shared by every key; the tests shift it with
`clock_offset_ms`), and rate limits or maintenance (the exchange's state, not the key's: `force_error`).
"""

from __future__ import annotations

import base64
import hashlib
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bot.diagnosis.model import Permission

MARK = "STAGING"
HEX_MARK = "0000"
_HEX = "0123456789abcdef"
_ALNUM = string.ascii_letters + string.digits
#: An allow-list address that is not the one the simulated exchanges see (a documentation range).
OTHER_IP = "198.51.100.23"


@dataclass(frozen=True)
class Case:
    """One thing that can be wrong with a key (or nothing, for "ok")."""

    name: str
    label: str  # what is wrong with it, in plain words
    cause: str  # what the bot names, on most exchanges (`EXPECTED` has the exceptions)
    account: Mapping[str, Any] = field(default_factory=dict)  # FakeAccount fields that make the case
    send: str = "own"  # "own": the key's own values; "other_secret", "wrong_extra": that value is off
    on_books: bool = True  # False: the exchange has no such key (deleted, or mistyped)


#: The cases, in the order the demo numbers them (the first six are the demo's classics).
CASES: tuple[Case, ...] = (
    Case("ok", "a good read-only key", "ok"),
    Case(
        "no-trade-history",
        "trade history not allowed",
        "permission_missing",
        {"permissions": frozenset(Permission) - {Permission.VIEW_SPOT_TRADING_HISTORY}},
    ),
    Case("ip-not-allowed", "IP allow-list without HuFi's IP", "ip_not_whitelisted", {"ip_whitelist": (OTHER_IP,)}),
    Case("expired", "expired key", "key_expired", {"expired": True}),
    Case("no-deposit-address", "no ETH deposit address yet", "no_deposit_address", {"deposit_address": None}),
    Case("other-secret", "the secret of another key", "secret_mismatch", send="other_secret"),
    Case("frozen", "key frozen or account restricted", "account_restricted", {"frozen": True}),
    Case("unknown-key", "a key the exchange does not know (deleted or mistyped)", "key_invalid", on_books=False),
    Case("wrong-passphrase", "a wrong passphrase", "passphrase_wrong", send="wrong_extra"),
    Case("wrong-memo", "a wrong memo", "secret_mismatch", send="wrong_extra"),
)
CASE_BY_NAME: Mapping[str, Case] = MappingProxyType({c.name: c for c in CASES})


@dataclass(frozen=True)
class Shape:
    """How an exchange's credentials look: (prefix, alphabet, total length) per field; `uuid` fields are dashed."""

    key: tuple[str, str, int]
    secret: tuple[str, str, int]
    key_groups: tuple[int, ...] = ()  # dash-separated groups (UUID-like keys), lengths without the dashes
    secret_groups: tuple[int, ...] = ()
    secret_base64_bytes: int = 0  # Kraken: the secret is base64 of this many bytes
    extra: str | None = None  # "passphrase" or "memo"


_UUID = (8, 4, 4, 4, 12)
#: Each exchange's real formats (bot/diagnosis/formats.py has the checks they must pass).
SHAPES: Mapping[str, Shape] = MappingProxyType(
    {
        "binance": Shape((MARK, _ALNUM, 64), ("", _ALNUM, 64)),
        "bybit": Shape((MARK, _ALNUM, 18), ("", _ALNUM, 36)),
        "okx": Shape((HEX_MARK, _HEX, 32), ("", "0123456789ABCDEF", 32), key_groups=_UUID, extra="passphrase"),
        "kucoin": Shape((HEX_MARK, _HEX, 24), ("", _HEX, 32), secret_groups=_UUID, extra="passphrase"),
        "bitget": Shape(("bg_" + HEX_MARK, _HEX, 35), ("", _HEX, 64), extra="passphrase"),
        "gate": Shape((HEX_MARK, _HEX, 32), ("", _HEX, 64)),
        "mexc": Shape(("mx0v" + MARK, _ALNUM, 20), ("", _HEX, 32)),
        "kraken": Shape((MARK, _ALNUM, 56), ("", "", 88), secret_base64_bytes=64),
        "htx": Shape((MARK.lower(), _HEX, 31), ("", _HEX, 29), key_groups=(10, 8, 8, 5), secret_groups=(8, 8, 8, 5)),
        "xt": Shape((MARK, _HEX, 32), ("", _HEX, 40), key_groups=_UUID),
        "bigone": Shape((MARK, _HEX, 32), ("", _ALNUM, 64), key_groups=_UUID),
        "bitmart": Shape((MARK, _ALNUM, 40), ("", _HEX, 64), extra="memo"),
    }
)

_EXPIRED = "answers an expired key like an unknown one ({code}); the bot lists key_expired among the alternatives"
#: (exchange, case) -> (what the bot reports there, why), where it is not the case's usual cause. Each is the
#: exchange's own reply, as the simulated exchange gives it (`bot/sandbox/data/exchange_replies.json`).
EXPECTED: Mapping[tuple[str, str], tuple[str, str]] = MappingProxyType(
    {
        ("binance", "ip-not-allowed"): (
            "key_invalid",
            "-2015 means a wrong key, IP or permission alike; IP comes first",
        ),
        ("binance", "frozen"): ("key_invalid", "-2015 again; a restricted account is among the alternatives"),
        ("bigone", "ip-not-allowed"): (
            "permission_missing",
            "HuFi counts every 401/403 from BigONE as a missing permission",
        ),
        ("bigone", "frozen"): ("permission_missing", "HuFi counts every 401/403 from BigONE as a missing permission"),
        ("bigone", "expired"): ("key_invalid", _EXPIRED.format(code="40004 invalid jwt")),
        ("bigone", "other-secret"): ("key_invalid", "40004 invalid jwt: a bad signature and an unknown key look alike"),
        ("bitget", "expired"): ("key_invalid", _EXPIRED.format(code="40037")),
        ("bitmart", "frozen"): ("key_frozen", "30003: BitMart says the key itself is frozen"),
        ("gate", "expired"): ("key_invalid", _EXPIRED.format(code="INVALID_KEY")),
        ("htx", "expired"): ("key_invalid", _EXPIRED.format(code="api-signature-not-valid")),
        ("kraken", "expired"): ("key_invalid", _EXPIRED.format(code="EAPI:Invalid key")),
        ("kucoin", "expired"): ("key_invalid", _EXPIRED.format(code="400003")),
        ("mexc", "expired"): ("key_invalid", _EXPIRED.format(code="10072")),
        ("okx", "expired"): (
            "key_frozen",
            "50100 API frozen: OKX freezes an expired key; key_expired is an alternative",
        ),
        ("okx", "frozen"): ("key_frozen", "50100 API frozen"),
        ("xt", "expired"): ("key_invalid", _EXPIRED.format(code="AUTH_101")),
        ("xt", "frozen"): ("key_invalid", "COMMON_001; a restricted account is the alternative"),
    }
)

#: Cases an exchange can't show, and why (besides a wrong passphrase or memo where the exchange has none).
NOT_ON: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "mexc": {"frozen": "the simulated MEXC has no reply for a frozen key yet"},
    }
)


def _stream(*parts: str) -> Iterator[int]:
    """Deterministic bytes for a credential: SHA-256 of its name, chained."""
    seed = "/".join(("hufi-staging", *parts)).encode()
    counter = 0
    while True:
        yield from hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1


def _text(alphabet: str, length: int, *parts: str) -> str:
    source = _stream(*parts)
    return "".join(alphabet[next(source) % len(alphabet)] for _ in range(length))


def _grouped(value: str, groups: tuple[int, ...]) -> str:
    if not groups:
        return value
    out, at = [], 0
    for size in groups:
        out.append(value[at : at + size])
        at += size
    return "-".join(out)


def _value(spec: tuple[str, str, int], groups: tuple[int, ...], *parts: str) -> str:
    prefix, alphabet, length = spec
    return _grouped(prefix + _text(alphabet, length - len(prefix), *parts), groups)


def _secret(shape: Shape, *parts: str) -> str:
    if shape.secret_base64_bytes:
        source = _stream(*parts)
        return base64.b64encode(bytes(next(source) for _ in range(shape.secret_base64_bytes))).decode()
    return _value(shape.secret, shape.secret_groups, *parts)


def _extra(kind: str, *parts: str) -> str:
    # KuCoin: 7-32 characters without spaces (HuFi's form); OKX and Bitget take letters, digits and symbols
    return f"Staging-{kind}-" + _text(_ALNUM, 6, *parts)


@dataclass(frozen=True)
class StagingKey:
    """One staging key: what to type, what is wrong with it and what the bot says."""

    exchange_id: str
    case: Case
    api_key: str
    secret: str  # the key's own secret (what the exchange has on its books)
    passphrase: str | None = None
    memo: str | None = None
    secret_to_send: str = ""
    extra_to_send: str | None = None  # the passphrase or memo to type, when the exchange asks for one

    @property
    def label(self) -> str:
        return self.case.label

    @property
    def expected(self) -> str:
        """The cause the bot names for this key (`ok` for the good one)."""
        return EXPECTED.get((self.exchange_id, self.case.name), (self.case.cause, ""))[0]

    @property
    def why(self) -> str:
        """Why the bot names something else here than on most exchanges ("" when it doesn't)."""
        return EXPECTED.get((self.exchange_id, self.case.name), ("", ""))[1]

    def account_fields(self) -> dict[str, Any]:
        """The `FakeExchange.add_account` arguments that put this key on the simulated exchange's books."""
        fields: dict[str, Any] = {"api_key": self.api_key, "secret": self.secret, **self.case.account}
        if self.passphrase is not None:
            fields["passphrase"] = self.passphrase
        if self.memo is not None:
            fields["memo"] = self.memo
        return fields


def cases_for(exchange_id: str) -> tuple[Case, ...]:
    shape = SHAPES[exchange_id]
    skip = set(NOT_ON.get(exchange_id, {}))
    if shape.extra != "passphrase":
        skip.add("wrong-passphrase")
    if shape.extra != "memo":
        skip.add("wrong-memo")
    return tuple(c for c in CASES if c.name not in skip)


def staging_key(exchange_id: str, case: Case) -> StagingKey:
    shape = SHAPES[exchange_id]
    api_key = _value(shape.key, shape.key_groups, exchange_id, case.name, "key")
    secret = _secret(shape, exchange_id, case.name, "secret")
    extra = _extra(shape.extra, exchange_id, case.name) if shape.extra else None
    if shape.extra == "memo" and extra is not None:
        extra = extra.lower()
    sent_secret = _secret(shape, exchange_id, case.name, "another key") if case.send == "other_secret" else secret
    sent_extra = extra
    if case.send == "wrong_extra" and extra is not None:
        sent_extra = extra[:-6] + _text(_ALNUM, 6, exchange_id, case.name, "wrong")
    return StagingKey(
        exchange_id,
        case,
        api_key,
        secret,
        passphrase=extra if shape.extra == "passphrase" else None,
        memo=extra if shape.extra == "memo" else None,
        secret_to_send=sent_secret,
        extra_to_send=sent_extra,
    )


def staging_keys(exchange_id: str | None = None) -> list[StagingKey]:
    """Every staging key (of one exchange, when given), in the table's order."""
    ids = [exchange_id] if exchange_id is not None else list(SHAPES)
    return [staging_key(eid, case) for eid in ids for case in cases_for(eid)]
