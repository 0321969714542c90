"""What each exchange's error codes mean, as data.

A `Verdict` lists causes, most likely first: the first is the diagnosis, the rest its alternatives (other causes
for which the exchange sends the very same reply). `refine` narrows a verdict by the reply's text, for exchanges
that put one code on several causes and tell them apart only in the message (gate `FORBIDDEN`, htx
`api-signature-not-valid`).

Sources: each exchange's `describe()['exceptions']` and `handle_errors` in ccxt 4.5.90 (bitmart: 4.5.70 and
BitMart's API docs), the exchanges' API error-code pages, and the replies in `bot/sandbox/data/exchange_replies.json`.
The classifier reads these tables in this order: exchange codes, exchange texts, HTTP status, generic texts,
exception class.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.diagnosis.model import Cause

# Short names keep the tables readable.
OK = Cause.OK
KEY = Cause.KEY_INVALID
EXPIRED = Cause.KEY_EXPIRED
SECRET = Cause.SECRET_MISMATCH
PASS = Cause.PASSPHRASE_WRONG
IP = Cause.IP_NOT_WHITELISTED
PERM = Cause.PERMISSION_MISSING
NO_ADDR = Cause.NO_DEPOSIT_ADDRESS
CLOCK = Cause.CLOCK_SKEW
RATE = Cause.RATE_LIMITED
MAINT = Cause.EXCHANGE_MAINTENANCE
DOWN = Cause.EXCHANGE_UNREACHABLE
UNKNOWN = Cause.UNKNOWN
INCOMPLETE = Cause.INCOMPLETE_CREDENTIALS
MALFORMED = Cause.MALFORMED_CREDENTIALS
NONCE_WINDOW = Cause.NONCE_WINDOW
NONCE_REUSED = Cause.NONCE_REUSED
RESTRICTED = Cause.ACCOUNT_RESTRICTED
DEMO = Cause.DEMO_KEY
CHECK = Cause.CHECK_FAILED


@dataclass(frozen=True, slots=True)
class Verdict:
    """Causes (most likely first), what the code means, and text refinements checked in order."""

    causes: tuple[Cause, ...]
    note: str = ""
    refine: tuple[tuple[re.Pattern[str], Verdict], ...] = ()
    code: str | None = None  # a label for the diagnosis when the reply carries no code of its own

    @property
    def cause(self) -> Cause:
        return self.causes[0]

    @property
    def alternatives(self) -> tuple[Cause, ...]:
        return self.causes[1:]

    def narrowed(self, text: str) -> Verdict:
        for pattern, verdict in self.refine:
            if pattern.search(text):
                return verdict.narrowed(text)
        return self


def V(*causes: Cause, note: str = "", code: str | None = None, refine: tuple[tuple[str, Verdict], ...] = ()) -> Verdict:
    """Build a verdict; `refine` patterns are case-insensitive regular expressions."""
    assert causes, "a verdict needs at least one cause"
    unique = tuple(dict.fromkeys(causes))
    compiled = tuple((re.compile(p, re.IGNORECASE), v) for p, v in refine)
    return Verdict(unique, note, compiled, code)


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
# Exchange codes. A key ending in "*" matches every code that starts with the rest (kraken categories).

_HTX_SIGNATURE = V(
    SECRET,
    KEY,
    note="api-signature-not-valid: the err-msg suffix tells the cause apart",
    refine=(
        (r"incorrect ip|ip ?address|ip ?地址|\bip\b.{0,20}(white|allow|bound|invalid)", V(IP)),
        (r"no permission|没有权限|permission", V(PERM)),
        (r"request expired|请求过期|提交时间|timestamp|time ?out of", V(CLOCK)),
        (r"expired|过期", V(EXPIRED, KEY)),
        (r"incorrect access ?key|access ?key ?错误|access ?key|accesskeyid", V(KEY, EXPIRED)),
        (r"verification failure|校验失败", V(SECRET)),
    ),
)

_GATE_FORBIDDEN = V(
    PERM,
    IP,
    note="FORBIDDEN: a missing permission, or (message names the IP) the IP allow-list",
    refine=((r"\bip\b|white ?list|allow ?list", V(IP)),),
)

EXCHANGE_CODES: Mapping[str, Mapping[str, Verdict]] = MappingProxyType(
    {
        "binance": {
            "-1000": V(MAINT, DOWN, note="unknown error on the exchange"),
            "-1001": V(MAINT, DOWN, note="internal error; unable to process the request"),
            "-1003": V(RATE, note="too many requests / IP banned for a while"),
            "-1006": V(MAINT, DOWN, note="unexpected response from the message bus"),
            "-1007": V(DOWN, MAINT, note="timeout waiting for the backend"),
            "-1008": V(MAINT, RATE, note="server overloaded"),
            "-1015": V(RATE, note="too many orders / requests"),
            "-1016": V(MAINT, note="service shutting down"),
            "-1021": V(CLOCK, note="timestamp outside the recvWindow"),
            "-1022": V(SECRET, note="signature not valid"),
            "-1002": V(PERM, note="not authorized to execute this request"),
            "-1099": V(KEY, PERM, note="not found, authenticated, or authorized"),
            "-1121": V(CHECK, note="invalid symbol"),
            "-2008": V(EXPIRED, KEY, note="invalid API-key ID (deleted or expired key)"),
            "-2014": V(KEY, note="API-key format invalid"),
            "-2015": V(KEY, IP, PERM, EXPIRED, note="invalid API-key, IP, or permissions for action"),
            "-3022": V(RESTRICTED, note="account trading ability forbidden"),
        },
        "okx": {
            "50001": V(MAINT, note="service temporarily unavailable"),
            "50004": V(DOWN, MAINT, note="endpoint request timeout"),
            "50005": V(MAINT, note="API offline or unavailable"),
            "50007": V(RESTRICTED, note="account blocked"),
            "50008": V(KEY, RESTRICTED, note="user does not exist"),
            "50009": V(RESTRICTED, note="account suspended due to liquidation"),
            "50011": V(RATE, note="rate limit reached"),
            "50012": V(RESTRICTED, note="account status invalid"),
            "50013": V(MAINT, note="systems are busy"),
            "50026": V(MAINT, note="system error"),
            "50027": V(RESTRICTED, note="account restricted from trading"),
            "50030": V(PERM, note="no permission to use this API"),
            "50040": V(RATE, note="too frequent operations"),
            "50061": V(RATE, note="order rate limit"),
            "50100": V(EXPIRED, RESTRICTED, note="API frozen"),
            "50101": V(DEMO, note="API key does not match the environment (demo vs live)"),
            "50102": V(CLOCK, note="timestamp request expired"),
            "50103": V(INCOMPLETE, note="OK-ACCESS-KEY header empty"),
            "50104": V(INCOMPLETE, PASS, note="OK-ACCESS-PASSPHRASE header empty"),
            "50105": V(PASS, note="OK-ACCESS-PASSPHRASE incorrect"),
            "50106": V(CHECK, note="OK-ACCESS-SIGN header empty"),
            "50107": V(CHECK, note="OK-ACCESS-TIMESTAMP header empty"),
            "50110": V(IP, note="invalid IP"),
            "50111": V(KEY, EXPIRED, note="invalid OK-ACCESS-KEY"),
            "50112": V(CLOCK, CHECK, note="invalid OK-ACCESS-TIMESTAMP"),
            "50113": V(SECRET, note="invalid signature"),
            "50114": V(KEY, SECRET, PASS, note="invalid authorization"),
            "50119": V(KEY, EXPIRED, note="API key doesn't exist"),
            "50120": V(PERM, note="API key doesn't have permission to use this function"),
            "50121": V(IP, note="you can't access the API from this IP address"),
        },
        "bybit": {
            "10000": V(DOWN, MAINT, note="server timeout"),
            "10002": V(CLOCK, note="request expired: timestamp or recv_window"),
            "10003": V(KEY, EXPIRED, note="API key is invalid"),
            "10004": V(SECRET, note="error sign"),
            "10005": V(PERM, note="permission denied for the API key"),
            "10006": V(RATE, note="too many visits"),
            "10007": V(INCOMPLETE, note="API key not found in the request"),
            "10008": V(RESTRICTED, note="user banned"),
            "10009": V(RATE, CHECK, note="IP banned"),
            "10010": V(IP, note="unmatched IP"),
            "10016": V(MAINT, note="internal system error"),
            "10017": V(CHECK, note="request path not found"),
            "10018": V(RATE, note="IP rate limit exceeded"),
            "10020": V(CHECK, note="not a unified account"),
            "10024": V(RESTRICTED, note="compliance rules triggered"),
            "10027": V(RESTRICTED, note="trading banned"),
            "10028": V(CHECK, note="API only for unified accounts"),
            "100028": V(CHECK, note="API not for unified accounts"),
            "131004": V(RESTRICTED, note="KYC needed"),
            "33004": V(EXPIRED, note="API key already expired"),
        },
        "kucoin": {
            "400001": V(INCOMPLETE, note="a KC-API header is missing"),
            "400002": V(CLOCK, note="KC-API-TIMESTAMP invalid"),
            "400003": V(KEY, EXPIRED, note="KC-API-KEY not exists"),
            "400004": V(PASS, SECRET, note="KC-API-PASSPHRASE error (v2: also a wrong secret)"),
            "400005": V(SECRET, PASS, note="signature error (v2: also a wrong passphrase)"),
            "400006": V(IP, note="request IP not in the whitelist"),
            "400007": V(PERM, note="access denied, require more permission"),
            "400303": V(RESTRICTED, note="identity verification required"),
            "400401": V(KEY, SECRET, note="user not logged in"),
            "400444": V(RESTRICTED, note="account temporarily restricted"),
            "400500": V(RESTRICTED, note="country/region not supported"),
            "411100": V(RESTRICTED, note="user frozen"),
            "114001": V(MAINT, NO_ADDR, note="deposits of this coin are disabled"),
            "260220": V(NO_ADDR, note="deposit address does not exist"),
            "429000": V(RATE, note="too many requests"),
            "429": V(RATE),
            "500000": V(MAINT, note="internal server error"),
            "500": V(MAINT),
            "503": V(MAINT),
        },
        "bitget": {
            "40001": V(INCOMPLETE, note="ACCESS_KEY empty"),
            "40002": V(INCOMPLETE, note="SECRET_KEY empty"),
            "40003": V(CHECK, note="signature empty"),
            "40004": V(CLOCK, note="request timestamp expired"),
            "40005": V(CLOCK, CHECK, note="invalid ACCESS_TIMESTAMP"),
            "40006": V(KEY, EXPIRED, note="invalid ACCESS_KEY"),
            "40008": V(CLOCK, note="request timestamp expired"),
            "40009": V(SECRET, note="sign signature error"),
            "40010": V(SECRET, note="sign signature error"),
            "40011": V(INCOMPLETE, PASS, note="ACCESS_PASSPHRASE empty"),
            "40012": V(PASS, KEY, note="apikey/password is incorrect"),
            "40013": V(RESTRICTED, note="user status abnormal"),
            "40014": V(PERM, note="incorrect permissions"),
            "40015": V(MAINT, note="system abnormal, try again later"),
            "40016": V(RESTRICTED, note="bind a phone or Google authenticator first"),
            "40018": V(IP, note="invalid IP"),
            "40031": V(RESTRICTED, note="account cancelled"),
            "40037": V(KEY, EXPIRED, note="API key does not exist"),
            "40200": V(MAINT, note="server upgrade"),
            "40308": V(MAINT, note="contract under maintenance"),
            "41114": V(MAINT, note="trading pair under maintenance"),
            "43115": V(MAINT, note="trading pair under maintenance"),
            "429": V(RATE),
            "1001": V(RATE),
            "50009": V(RATE),
        },
        "gate": {
            "INVALID_KEY": V(KEY, EXPIRED, note="invalid key provided"),
            "INVALID_SIGNATURE": V(SECRET, note="signature mismatch"),
            "IP_FORBIDDEN": V(IP, note="request IP not in whitelist"),
            "FORBIDDEN": _GATE_FORBIDDEN,
            "READ_ONLY": V(PERM, note="API key is read-only"),
            "REQUEST_EXPIRED": V(CLOCK, note="request timestamp too far from server time"),
            "MISSING_REQUIRED_HEADER": V(INCOMPLETE, CHECK, note="authentication header missing"),
            "INVALID_CREDENTIALS": V(KEY, SECRET, EXPIRED, note="invalid credentials"),
            "AUTHENTICATION_FAILED": V(KEY, SECRET, EXPIRED, note="authentication failed"),
            "ACCOUNT_LOCKED": V(RESTRICTED, note="account locked"),
            "SUB_ACCOUNT_LOCKED": V(RESTRICTED, note="sub-account locked"),
            "USER_NOT_FOUND": V(KEY, RESTRICTED, note="user not found"),
            "TOO_FAST": V(RATE),
            "TOO_MANY_REQUESTS": V(RATE),
            "INTERNAL": V(MAINT),
            "SERVER_ERROR": V(MAINT),
            "TOO_BUSY": V(MAINT, note="server too busy"),
        },
        "mexc": {
            "401": V(KEY, EXPIRED, note="no authority / not logged in"),
            "402": V(EXPIRED, note="API key expired"),
            "403": V(PERM, IP, note="access denied"),
            "406": V(IP, note="IP not in the whitelist"),
            "429": V(RATE),
            "510": V(RATE),
            "501": V(MAINT),
            "503": V(MAINT),
            "504": V(DOWN, MAINT),
            "511": V(PERM, note="no access to the interface"),
            "604": V(MAINT),
            "701": V(PERM, note="enable API key read access"),
            "703": V(PERM, note="trading information read access required"),
            "801": V(MAINT),
            "10001": V(KEY, RESTRICTED, note="user does not exist"),
            "10072": V(KEY, EXPIRED, note="API key info invalid (also for a removed key)"),
            "10073": V(CLOCK, note="invalid Request-Time"),
            "10216": V(NO_ADDR, note="no deposit address available"),
            "11444": V(MAINT),
            "30018": V(RESTRICTED, note="account cannot place orders"),
            "140002": V(RESTRICTED, note="sub-account forbidden"),
            "730100": V(RESTRICTED, note="unusual user status"),
            "700001": V(KEY, EXPIRED, note="API-key format invalid"),
            "700002": V(SECRET, note="signature not valid"),
            "700003": V(CLOCK, note="timestamp outside the recvWindow"),
            "700005": V(CHECK, CLOCK, note="recvWindow too large"),
            "700006": V(IP, note="IP not in the whitelist"),
            "700007": V(PERM, note="no permission to access the endpoint"),
        },
        "htx": {
            "api-signature-not-valid": _HTX_SIGNATURE,
            "api-signature-check-failed": V(SECRET, KEY, note="signature check failed"),
            "login-required": V(INCOMPLETE, KEY, note="signature parameters missing"),
            "system-maintenance": V(MAINT),
            "gateway-internal-error": V(MAINT, note="gateway failed to load data"),
            "timeout": V(DOWN, MAINT),
            "base-request-exceed-frequency-limit": V(RATE),
            "rate-too-many-requests": V(RATE),
            "request limit": V(RATE),
            "1003": V(SECRET, KEY, note="invalid signature (v2 API)"),
            "1010": V(RESTRICTED, KEY, note="account does not exist"),
            "1220": V(RESTRICTED, note="account not activated"),
        },
        "xt": {
            "AUTH_001": V(INCOMPLETE, note="missing xt-validate-appkey"),
            "AUTH_002": V(CHECK),
            "AUTH_003": V(CHECK),
            "AUTH_004": V(CHECK),
            "AUTH_005": V(CHECK),
            "AUTH_006": V(CHECK),
            "AUTH_007": V(CHECK),
            "AUTH_101": V(KEY, EXPIRED, note="API key does not exist"),
            "AUTH_102": V(KEY, note="API key not activated"),
            "AUTH_103": V(SECRET, note="signature error"),
            "AUTH_104": V(IP, note="unbound IP request"),
            "AUTH_105": V(CLOCK, note="outdated message"),
            "AUTH_106": V(PERM, note="exceeded API key permission"),
            "COMMON_001": V(KEY, RESTRICTED, note="user does not exist"),
            "COMMON_002": V(MAINT, note="system busy"),
            "DEPOSIT_001": V(MAINT, NO_ADDR, note="deposit not open"),
            "DEPOSIT_002": V(RESTRICTED, note="security level too low for deposits"),
            "DEPOSIT_005": V(NO_ADDR, note="address of offline wallet not found"),
            "DEPOSIT_006": V(NO_ADDR, note="no deposit address"),
            "DEPOSIT_007": V(NO_ADDR, note="address being generated"),
            "DEPOSIT_008": V(MAINT, NO_ADDR, note="deposit not available"),
            "429": V(RATE),
            "503": V(MAINT),
        },
        "kraken": {
            "EAPI:Invalid key": V(KEY, SECRET, EXPIRED, note="unknown key, wrong secret or expired key"),
            "EAPI:Invalid signature": V(SECRET, note="signature mismatch"),
            "EAPI:Invalid nonce": V(NONCE_REUSED, NONCE_WINDOW, CLOCK, note="nonce not increasing"),
            "EAPI:Rate limit exceeded": V(RATE),
            "EAPI:Feature disabled": V(CHECK),
            "EAPI:Bad request": V(CHECK),
            "EGeneral:Permission denied": V(PERM, IP, note="key lacks the permission (or IP restriction)"),
            "EAccount:Invalid permissions": V(PERM),
            "EGeneral:Temporary lockout": V(RATE, RESTRICTED),
            "EGeneral:Too many requests": V(RATE),
            "EGeneral:Invalid arguments": V(CHECK),
            "EGeneral:Internal error": V(MAINT),
            "EDatabase:Internal error": V(MAINT),
            "EAuth:Rate limit exceeded": V(RATE),
            "EAuth:Account temporary disabled": V(RESTRICTED),
            "EAuth:Account unconfirmed": V(RESTRICTED),
            "ETrade:User Locked": V(RESTRICTED),
            "EService:*": V(MAINT),
            "EAuth:*": V(RESTRICTED),
            "EFunding:*": V(CHECK, NO_ADDR),
        },
        "bigone": {
            "40004": V(KEY, SECRET, EXPIRED, CLOCK, note="invalid JWT (any authentication problem)"),
            "10403": V(PERM),
            "40301": V(PERM),
            "10429": V(RATE),
            "10005": V(MAINT, note="internal error"),
            "10011": V(MAINT, note="system error"),
        },
        "bitmart": {
            "30000": V(CHECK, note="not found"),
            "30001": V(INCOMPLETE, note="X-BM-KEY empty"),
            "30002": V(KEY, EXPIRED, note="X-BM-KEY not found"),
            "30003": V(EXPIRED, RESTRICTED, note="X-BM-KEY frozen"),
            "30004": V(CHECK, note="X-BM-SIGN empty"),
            "30005": V(SECRET, PASS, note="X-BM-SIGN wrong (wrong secret or memo)"),
            "30006": V(CHECK, note="X-BM-TIMESTAMP empty"),
            "30007": V(CLOCK, note="X-BM-TIMESTAMP out of range"),
            "30008": V(CHECK, note="X-BM-TIMESTAMP format invalid"),
            "30010": V(IP, note="IP forbidden"),
            "30011": V(EXPIRED, note="X-BM-KEY over expire time"),
            "30012": V(PERM, note="X-BM-KEY forbidden to request it"),
            "30013": V(RATE),
            "30014": V(MAINT, note="service unavailable"),
            "30016": V(MAINT, note="service maintenance"),
            "30017": V(RATE, note="request rejected by rate limiting rules"),
            "30019": V(PERM, note="no permission for this operation"),
            "53000": V(RESTRICTED, note="account frozen by security policy"),
        },
    }
)


# ---------------------------------------------------------------------------------------------------------
# Exchange texts: replies that carry no code (binance's message-only mappings in ccxt, for example).

EXCHANGE_TEXTS: Mapping[str, tuple[tuple[str, Verdict], ...]] = MappingProxyType(
    {
        "binance": (
            (r"api[- ]?key does not exist", V(KEY, EXPIRED)),
            (r"not authori[sz]ed to execute", V(PERM)),
            (r"this action is disabled on (this|self) account", V(RESTRICTED)),
            (r"you don't have permission", V(PERM)),
            (r"system is under maintenance", V(MAINT)),
            (r"system abnormality", V(MAINT)),
        ),
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
        451: V(CHECK, RESTRICTED, code="restricted_location", note="unavailable from the checking server's region"),
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
    (
        r"restricted location|restricted (country|region)|not available in your (country|region)|eligibility",
        V(CHECK, RESTRICTED, code="restricted_location"),
    ),
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
    ClassRule("AccountSuspended", V(RESTRICTED)),
    ClassRule("PermissionDenied", V(PERM, IP)),
    ClassRule("AuthenticationError", V(KEY, SECRET, EXPIRED, IP, PERM)),
    ClassRule("InvalidAddress", V(CHECK, UNKNOWN), deposit=V(NO_ADDR, CHECK)),
    ClassRule("NotSupported", V(CHECK), deposit=V(NO_ADDR, CHECK)),
    ClassRule("ArgumentsRequired", V(CHECK, OK)),
    ClassRule("BadSymbol", V(CHECK)),
    ClassRule("RestrictedLocation", V(CHECK, RESTRICTED, code="restricted_location")),
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
