"""What each exchange's error codes mean, as data.

A `Verdict` lists causes, most likely first: the first is the diagnosis, the rest its alternatives (other causes
for which the exchange sends the very same reply). `refine` narrows a verdict by the reply's text, for exchanges
that put one code on several causes and tell them apart only in the message (gate `FORBIDDEN`, htx
`api-signature-not-valid`).

Sources: each exchange's official error-code page (the per-exchange tables in `bot.diagnosis.exchange_codes` name
theirs, and how their words were checked), each exchange's `describe()['exceptions']` and `handle_errors` in ccxt
4.5.90 (bitmart: 4.5.70), and the replies in `bot/sandbox/data/exchange_replies.json`. The classifier reads these
tables in this order: exchange codes, exchange texts, exchange-specific HTTP statuses, HTTP status of a reply ccxt
did not understand, generic texts, exception class.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.diagnosis import exchange_codes
from bot.diagnosis.names import (  # short names keep the tables readable
    CHECK,
    CLOCK,
    DEMO,
    DOWN,
    EXPIRED,
    FROZEN,
    INCOMPLETE,
    IP,
    KEY,
    MAINT,
    MALFORMED,
    NO_ADDR,
    OK,
    PASS,
    PERM,
    RATE,
    REGION,
    RESTRICTED,
    RISK,
    SECRET,
    SUBACC,
    UNKNOWN,
)
from bot.diagnosis.verdict import V, Verdict

__all__ = ["EXCHANGE_CODES", "SOURCES", "V", "Verdict"]


# ---------------------------------------------------------------------------------------------------------
# Where each exchange puts its code in the JSON body (dotted paths; `[]` walks a list), and which values mean
# success. ccxt checks okx's `data[].sCode` before `code`, and so do we.

CODE_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "binance": ("code",),
        "okx": ("data[].sCode", "code"),
        "bybit": ("retCode", "ret_code"),
        "kucoin": ("code",),
        "bitget": ("code", "err_code"),
        "gate": ("label",),
        "mexc": ("code",),
        "htx": ("err-code", "err_code", "code"),
        "xt": ("mc", "error.code"),
        "kraken": ("error[]",),
        "bigone": ("code",),
        "bitmart": ("code",),
    }
)
#: For an exchange not listed above, or a reply in another exchange's shape.
GENERIC_CODE_FIELDS: tuple[str, ...] = (
    "code",
    "retCode",
    "ret_code",
    "label",
    "err-code",
    "err_code",
    "mc",
    "error.code",
    "error[]",
)

SUCCESS_CODES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "okx": frozenset({"0", "2"}),
        "bitget": frozenset({"00000", "0"}),
        "kucoin": frozenset({"200000", "200"}),
        "bitmart": frozenset({"1000"}),
        "xt": frozenset({"SUCCESS", "success", "0"}),
        "binance": frozenset({"0", "200"}),
        "mexc": frozenset({"0", "200"}),
    }
)
GENERIC_SUCCESS_CODES = frozenset({"0", "200", "00000", "200000", "SUCCESS", "success", "OK", "ok"})


# ---------------------------------------------------------------------------------------------------------
# Exchange codes: one table per exchange, each with its source page, in `bot.diagnosis.exchange_codes`.

EXCHANGE_CODES: Mapping[str, Mapping[str, Verdict]] = MappingProxyType(
    {table.exchange: table.codes for table in exchange_codes.TABLES}
)
#: exchange id -> the official error-code page its table comes from
SOURCES: Mapping[str, str] = exchange_codes.SOURCES

# Replies an exchange sends without a code (binance's message-only mappings in ccxt, for example).

EXCHANGE_TEXTS: Mapping[str, tuple[tuple[str, Verdict], ...]] = MappingProxyType(
    {"binance": exchange_codes.BINANCE_TEXTS}
)

# HTTP statuses that mean something of their own on one exchange, whatever the body (when the body's code is not
# in the exchange's table). HuFi's BigONE client counts any 401 or 403 as a missing permission
# (recording-oracle api-client/bigone, reference/hufi.md §2b): the key was refused, never "the exchange is down".

EXCHANGE_STATUS: Mapping[str, Mapping[int, Verdict]] = MappingProxyType(
    {
        "bigone": {
            401: V(
                KEY,
                SECRET,
                EXPIRED,
                CLOCK,
                note="401 from BigONE: the token was refused; HuFi counts it as a missing permission",
                source="HuFi recording-oracle api-client/bigone",
            ),
            403: V(
                PERM,
                IP,
                RESTRICTED,
                note="403 from BigONE: the key may not do this; HuFi counts it as a missing permission",
                source="HuFi recording-oracle api-client/bigone",
            ),
        },
    }
)


# ---------------------------------------------------------------------------------------------------------
# HTTP status of a reply the exchange's own error handler did not understand (ccxt's generic mapping turns an
# unknown 400/403/404 into ExchangeNotAvailable). Used before the generic texts when the body is not JSON.

STATUS_RULES: Mapping[int, Verdict] = MappingProxyType(
    {
        408: V(DOWN, MAINT),
        418: V(RATE),
        429: V(RATE),
        403: V(RATE, CHECK, DOWN, note="a firewall page; usually request rate or origin"),
        451: V(CHECK, REGION, code="restricted_location", note="unavailable from the checking server's region"),
        404: V(CHECK, MAINT),
        405: V(CHECK),
        410: V(CHECK),
        400: V(UNKNOWN, CHECK),
        422: V(UNKNOWN, CHECK),
        504: V(DOWN, MAINT),
        522: V(DOWN, MAINT),
        524: V(DOWN, MAINT),
    }
)
#: Any other 5xx.
SERVER_ERROR = V(MAINT, DOWN)


# ---------------------------------------------------------------------------------------------------------
# Generic texts, for any exchange, checked in order. Patterns are case-insensitive.

_ADDRESS = (
    r"address is (none|undefined|null)|no networks were returned|returned (an )?empty (address )?response"
    r"|(could not|cannot|can't) find (a |any |the )?(\w+ )?deposit address|createdepositaddress"
    r"|returned no addresses|deposit\.address\.not\.exists|no (available )?deposit address"
    r"|address (is )?being generated|address is invalid or has less than"
)

GENERIC_TEXTS: tuple[tuple[str, Verdict], ...] = (
    (r"missing defaultnetworkid", V(OK, CHECK, code="ccxt_network_selection", note="reply accepted; ccxt failed")),
    (r"requires? (a |the )?`?network`? (argument|param)", V(CHECK, OK, code="network_param_missing")),
    (r"requires? \W?(apikey|secret|password|uid|privatekey)\W? credential", V(INCOMPLETE, code="ccxt_credentials")),
    (_ADDRESS, V(NO_ADDR, code="no_address")),
    (r"api[- _]?key (is )?required|missing (the )?api[- _]?key", V(INCOMPLETE, code="api_key_required")),
    (
        r"restricted location|restricted (country|region)|not available in your (country|region)|eligibility",
        V(CHECK, REGION, code="restricted_location"),
    ),
    (
        r"(api[- _]?key|apikey|access ?key)\W{0,3}(has |is |been |was ){0,2}(frozen|locked|disabled|suspended)"
        r"|api (is |has been )?frozen",
        V(FROZEN, EXPIRED),
    ),
    (
        r"sub[- _]?(account|member)\b.{0,40}(no |not |forbidden|disabled|permission|authority|suspended|normal)",
        V(SUBACC, PERM),
    ),
    (r"risk control|risk problem|risk check|security polic", V(RISK, RESTRICTED)),
    (r"\bcompliance\b|(kyc )?(country|region)\b.{0,30}(restrict|not (be )?supported|unavailable|disallow)", V(REGION)),
    (r"(current|trading) environment|demo[- ]trading|simulated trading", V(DEMO, KEY)),
    (
        r"too many (requests|visits)|rate ?limit|too frequent|frequency|request limit"
        r"|exceed(ed|s)? (the )?(request|rate|access|ip)",
        V(RATE),
    ),
    (r"maintenance|maintain|upgrad(e|ing)|too busy|system (is )?busy|service (temporarily )?unavailable", V(MAINT)),
    (
        r"recv_?window|request expired|timestamp (request )?expired|time ?stamp.{0,40}(outside|ahead|behind|differ)"
        r"|time differs|server time",
        V(CLOCK),
    ),
    (
        r"(\bip\b|ip address|client ?ip).{0,40}(white ?list|allow ?list|not allowed|forbidden|mismatch"
        r"|denied|restrict|not bound|unbound|invalid|incorrect)"
        r"|(white ?list|allow ?list|unbound|invalid|incorrect)\W{0,3}ip\b",
        V(IP),
    ),
    (r"(api[- _]?key|apikey|access ?key).{0,30}expir|expired.{0,20}(api[- _]?key|apikey|key)", V(EXPIRED, KEY)),
    (r"passphrase|api ?password", V(PASS, SECRET)),
    (
        r"invalid (api[- _]?key|apikey|access ?key|key)"
        r"|(api[- _]?key|apikey|access ?key)\W{0,3}(does not exist|not exist|not found|is invalid|invalid|incorrect)"
        r"|unknown (api )?key",
        V(KEY, EXPIRED),
    ),
    (r"signature|\bsign\b|invalid sign", V(SECRET, KEY)),
    (
        r"account (is |has been )?(frozen|locked|suspended|disabled|banned|restricted)|user (is )?(frozen|locked"
        r"|banned)|\bkyc\b|identity verification",
        V(RESTRICTED),
    ),
    (r"\bunauthori[sz]ed\b", V(KEY, SECRET, EXPIRED, IP)),
    (r"permission|not authori[sz]ed|access denied|forbidden|not allowed", V(PERM, IP)),
    (r"<html|<!doctype|cloudflare|bad gateway|gateway time-?out", V(MAINT, DOWN, code="gateway_page")),
)


# ---------------------------------------------------------------------------------------------------------
# Exception classes, most specific first. Names are matched against the class and its bases (bare names, and
# `module.Name` for classes outside builtins and ccxt). `answered` applies when the exchange sent something back;
# `deposit` when the failing probe was the deposit address.


@dataclass(frozen=True, slots=True)
class ClassRule:
    name: str
    verdict: Verdict
    answered: Verdict | None = None
    deposit: Verdict | None = None


_NONE_ADDRESS = V(
    CHECK,
    UNKNOWN,
    refine=((r"nonetype|\bnone\b", V(NO_ADDR, CHECK, code="ccxt_empty_address")),),
)

CLASS_RULES: tuple[ClassRule, ...] = (
    ClassRule("InvalidNonce", V(CLOCK)),
    ClassRule("RateLimitExceeded", V(RATE)),
    ClassRule("DDoSProtection", V(RATE)),
    ClassRule("OnMaintenance", V(MAINT)),
    ClassRule("RequestTimeout", V(DOWN, MAINT)),
    ClassRule("ExchangeNotAvailable", V(DOWN, MAINT), answered=V(MAINT, DOWN)),
    ClassRule("NetworkError", V(DOWN, MAINT)),
    ClassRule("AccountNotEnabled", V(RESTRICTED, KEY)),
    ClassRule("AccountSuspended", V(RESTRICTED, FROZEN)),
    ClassRule("PermissionDenied", V(PERM, IP)),
    ClassRule("AuthenticationError", V(KEY, SECRET, EXPIRED, IP, PERM)),
    ClassRule("InvalidAddress", V(CHECK, UNKNOWN), deposit=V(NO_ADDR, CHECK)),
    ClassRule("NotSupported", V(CHECK), deposit=V(NO_ADDR, CHECK)),
    ClassRule("ArgumentsRequired", V(CHECK, OK)),
    ClassRule("BadSymbol", V(CHECK)),
    ClassRule("RestrictedLocation", V(CHECK, REGION, code="restricted_location")),
    ClassRule("BadRequest", V(UNKNOWN, CHECK)),
    ClassRule("OperationFailed", V(MAINT, DOWN)),
    ClassRule("ExchangeError", V(UNKNOWN)),
    ClassRule("BaseError", V(UNKNOWN)),
    # Plain Python errors: ccxt bugs on odd replies, and transport errors from custom clients.
    ClassRule("binascii.Error", V(SECRET, MALFORMED, code="secret_not_base64")),
    ClassRule("TimeoutError", V(DOWN, MAINT)),
    ClassRule("ClientError", V(DOWN, MAINT)),  # aiohttp
    ClassRule("HTTPError", V(DOWN, MAINT)),  # httpx
    ClassRule("ConnectionError", V(DOWN)),
    ClassRule("OSError", V(DOWN, CHECK)),
    ClassRule("TypeError", V(CHECK, UNKNOWN), deposit=_NONE_ADDRESS),
    ClassRule("AttributeError", V(CHECK, UNKNOWN), deposit=_NONE_ADDRESS),
    ClassRule("KeyError", V(CHECK, UNKNOWN), deposit=_NONE_ADDRESS),
    ClassRule("IndexError", V(CHECK, UNKNOWN), deposit=_NONE_ADDRESS),
    ClassRule("ValueError", V(CHECK, UNKNOWN)),
)
FALLBACK = V(UNKNOWN)

#: Where the exchange needs more than key and secret, an unexplained authentication failure may be it.
EXTRA_CREDENTIAL_CAUSE = PASS


def compile_texts(rules: tuple[tuple[str, Verdict], ...]) -> tuple[tuple[re.Pattern[str], Verdict], ...]:
    return tuple((re.compile(p, re.IGNORECASE), v) for p, v in rules)
