"""From an exchange's reply to the real cause, and from three probes to one verdict.

`classify_error` reads the rule tables in `bot.diagnosis.rules` in this order: the exchange's own code (parsed
from the JSON body inside the exception text), an HTTP status with a meaning of its own on that exchange (BigONE's
401/403), the exchange's message-only replies, the HTTP status of a reply ccxt did not understand, generic texts,
and last the exception class. An error may carry the HTTP status its text lost as an `http_status` attribute.
`diagnose_report` weighs the three probes together with the key-info evidence the probe engine gathered.
Transport-free: never imports `telegram`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from bot.diagnosis import rules
from bot.diagnosis.model import Cause, Diagnosis, Permission
from bot.diagnosis.parse import (
    DETAIL_LIMIT,
    Reply,
    clean_code,
    excerpt,
    extract_codes,
    extract_echoed_ip,
    safe_text,
    split_reply,
)
from bot.exchanges.catalog import CATALOG

log = logging.getLogger(__name__)

__all__ = [
    "KRAKEN_MIN_NONCE_WINDOW",
    "classify_error",
    "classify_result",
    "diagnose_report",
    "extract_echoed_ip",
    "nonce_window_too_small",
]

#: Other names people (and older ccxt versions) use for the same exchange.
ALIASES: Mapping[str, str] = {"huobi": "htx", "huobipro": "htx", "gateio": "gate", "okex": "okx", "okx5": "okx"}

#: Errors that are bugs in client code, not replies: their text describes Python, not the exchange.
_PYTHON_BUGS = frozenset(
    {
        "TypeError",
        "AttributeError",
        "KeyError",
        "IndexError",
        "NameError",
        "UnboundLocalError",
        "AssertionError",
        "ZeroDivisionError",
        "RecursionError",
        "binascii.Error",
    }
)

_CODE_TABLES = {ex: dict(table) for ex, table in rules.EXCHANGE_CODES.items()}
_PREFIX_CODES = {
    ex: tuple((k[:-1], v) for k, v in table.items() if k.endswith("*")) for ex, table in rules.EXCHANGE_CODES.items()
}
_EXCHANGE_TEXTS = {ex: rules.compile_texts(t) for ex, t in rules.EXCHANGE_TEXTS.items()}
_GENERIC_TEXTS = rules.compile_texts(rules.GENERIC_TEXTS)
_KNOWN_CLASS_NAMES = frozenset(r.name for r in rules.CLASS_RULES) | {"Exception", "RuntimeError"}


def _exchange(exchange_id: object) -> str:
    try:
        ex = str(exchange_id).strip().lower()[:40]
    except Exception:  # noqa: BLE001
        return ""
    return ALIASES.get(ex, ex)


def _permission(permission: object) -> Permission | None:
    if isinstance(permission, Permission):
        return permission
    try:
        return Permission(str(permission))
    except Exception:  # noqa: BLE001
        return None


def _class_names(error: object) -> list[str]:
    """The class and its bases: bare names, plus `module.Name` outside builtins and ccxt."""
    names: list[str] = []
    try:
        mro = type(error).__mro__
    except Exception:  # noqa: BLE001
        return names
    for cls in mro:
        try:
            name = str(cls.__name__)
            module = str(getattr(cls, "__module__", "") or "")
        except Exception:  # noqa: BLE001
            continue
        if module and module != "builtins" and not module.startswith("ccxt"):
            names.append(f"{module}.{name}")
        names.append(name)
    return names


def _unwrap(names: list[str], text: str) -> tuple[list[str], str]:
    """The probe engine re-raises odd classes as `RuntimeError("<Class>: <message>")`; recover the class."""
    if names[:1] == ["RuntimeError"] and ": " in text[:80]:
        head, rest = text.split(": ", 1)
        if head in _KNOWN_CLASS_NAMES or head in rules.EXCHANGE_CODES or head.endswith("Error"):
            return [head, *names], rest
    return names, text


def _lookup_code(exchange: str, code: str) -> tuple[rules.Verdict, str] | None:
    """The verdict for `code` and the table key it matched. Kraken appends details to its error strings
    ("EAccount:Invalid permissions:USDT trading restricted for ..."): the first two parts are the code."""
    table = _CODE_TABLES.get(exchange)
    if not table:
        return None
    verdict = table.get(code)
    if verdict is not None:
        return verdict, code
    parts = code.split(":")
    if len(parts) > 2:
        base = ":".join(parts[:2])
        if base in table:
            return table[base], base
    for prefix, candidate in _PREFIX_CODES.get(exchange, ()):
        if code.startswith(prefix):
            return candidate, code
    return None


def _first_text_match(patterns: Iterable[tuple[Any, rules.Verdict]], text: str) -> rules.Verdict | None:
    for pattern, verdict in patterns:
        if text and pattern.search(text):
            return verdict.narrowed(text)
    return None


def _with_passphrase(exchange: str, causes: tuple[Cause, ...]) -> tuple[Cause, ...]:
    """Where the exchange also needs a passphrase or memo, an unexplained auth failure may be that."""
    spec = CATALOG.get(exchange)
    if spec is None or not spec.extra_credentials or rules.EXTRA_CREDENTIAL_CAUSE in causes:
        return causes
    out = list(causes)
    at = out.index(Cause.SECRET_MISMATCH) + 1 if Cause.SECRET_MISMATCH in out else len(out)
    out.insert(at, rules.EXTRA_CREDENTIAL_CAUSE)
    return tuple(out)


def _http_status(error: object) -> int | None:
    """An HTTP status the caller attached to the error (`http_status`), for replies whose text lost it."""
    try:
        status = getattr(error, "http_status", None)
    except Exception:  # noqa: BLE001
        return None
    return status if isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599 else None


def _decide(
    exchange: str, permission: Permission | None, names: list[str], text: str, attached_status: int | None = None
) -> tuple[rules.Verdict, str | None, bool]:
    """The verdict, the exchange code it came from, and whether it came from the class alone."""
    if _PYTHON_BUGS.isdisjoint(names):
        reply = split_reply(text, exchange)
        if reply.status is None and attached_status is not None:
            reply.status = attached_status
        fields = rules.CODE_FIELDS.get(exchange, rules.GENERIC_CODE_FIELDS)
        success = rules.SUCCESS_CODES.get(exchange, rules.GENERIC_SUCCESS_CODES)
        codes = extract_codes(reply, fields, success)
        words = reply.words
        # 1. The exchange's own code.
        for code in codes:
            found = _lookup_code(exchange, code)
            if found is not None:
                return found[0].narrowed(words), found[1], False
        first_code = codes[0] if codes else None
        # 2. An HTTP status with a meaning of its own on this exchange (BigONE's 401/403, as HuFi judges them).
        if reply.status is not None:
            verdict = rules.EXCHANGE_STATUS.get(exchange, {}).get(reply.status)
            if verdict is not None:
                return verdict, first_code or f"http_{reply.status}", False
        # 3. Replies the exchange sends without a code.
        verdict = _first_text_match(_EXCHANGE_TEXTS.get(exchange, ()), words)
        if verdict is not None:
            return verdict, first_code, False
        # 4. An HTTP status ccxt's generic mapping raised for (an HTML page, plain text...).
        status_verdict = _status_verdict(reply)
        status_code = first_code or (f"http_{reply.status}" if status_verdict and not status_verdict.code else None)
        if status_verdict is not None and not reply.has_json:
            return status_verdict, status_code, False
        # 5. Generic texts.
        verdict = _first_text_match(_GENERIC_TEXTS, words)
        if verdict is not None:
            return verdict, first_code, False
        if status_verdict is not None:
            return status_verdict, status_code, False
        answered = reply.answered
    else:
        first_code, answered = None, True
    # 6. The exception class.
    for rule in rules.CLASS_RULES:
        if rule.name in names:
            verdict = rule.verdict
            if rule.deposit is not None and permission is Permission.VIEW_DEPOSIT_ADDRESS:
                verdict = rule.deposit
            elif rule.answered is not None and answered:
                verdict = rule.answered
            return verdict.narrowed(text), first_code, True
    return rules.FALLBACK, first_code, True


def _status_verdict(reply: Reply) -> rules.Verdict | None:
    if reply.status is None:
        return None
    verdict = rules.STATUS_RULES.get(reply.status)
    if verdict is None and 500 <= reply.status <= 599:
        verdict = rules.SERVER_ERROR
    return verdict


def classify_error(
    exchange_id: str,
    permission: Permission | None,
    error: BaseException | object,
    *,
    secrets: Iterable[str | None] = (),
) -> Diagnosis:
    """Name the cause of `error`, raised by `permission`'s probe on `exchange_id`. Never raises.

    `secrets` are scrubbed from `detail` and `code` in addition to the process-wide active secrets. A diagnosis
    of `Cause.OK` means the exchange accepted the request and only the client failed on a good reply.
    """
    try:
        secrets = [s for s in secrets if isinstance(s, str) and s]
    except Exception:  # noqa: BLE001
        secrets = []
    try:
        exchange = _exchange(exchange_id)
        perm = _permission(permission) if permission is not None else None
        text = safe_text(error)
        names, text = _unwrap(_class_names(error) or ["object"], text)
        verdict, code, from_class = _decide(exchange, perm, names, text, _http_status(error))
        causes = verdict.causes
        if from_class and Cause.KEY_INVALID in causes:
            causes = _with_passphrase(exchange, causes)
        label = names[0] if names else "Error"
        detail = excerpt(f"{label}: {text}" if text else label, secrets, DETAIL_LIMIT)
        return Diagnosis(
            causes[0],
            alternatives=tuple(c for c in causes[1:] if c is not causes[0]),
            code=clean_code(code or verdict.code, secrets),
            detail=detail,
        )
    except Exception:  # noqa: BLE001 - diagnosis must never be the thing that breaks
        log.debug("classify_error failed", exc_info=False)
        return Diagnosis(Cause.UNKNOWN)


# ---------------------------------------------------------------------------------------------------------
# Results


_EMPTY_ADDRESSES = frozenset({"", "none", "null", "undefined", "nil"})


def _address_of(result: Any) -> str | None:
    if isinstance(result, str):
        value: Any = result
    elif isinstance(result, Mapping):
        value = result.get("address")
    elif isinstance(result, list | tuple):
        return next((a for a in (_address_of(r) for r in result[:50]) if a), None)
    else:
        return None
    if not isinstance(value, str) or value.strip().lower() in _EMPTY_ADDRESSES:
        return None
    return value.strip()


def classify_result(exchange_id: str, permission: Permission, result: Any) -> Diagnosis | None:
    """None when `result` proves `permission`; a Diagnosis otherwise. Never raises.

    A deposit-address result without an address (None, `{'address': None}`, `{}`: okx and bitget answer like
    that when there is none) means there is no ETH deposit address yet.
    """
    try:
        if isinstance(result, BaseException):
            return classify_error(exchange_id, permission, result)
        if _permission(permission) is Permission.VIEW_DEPOSIT_ADDRESS and _address_of(result) is None:
            return Diagnosis(
                Cause.NO_DEPOSIT_ADDRESS,
                code="no_address",
                detail="The exchange accepted the key but returned no ETH deposit address.",
            )
        return None
    except Exception:  # noqa: BLE001
        return Diagnosis(Cause.UNKNOWN)


# ---------------------------------------------------------------------------------------------------------
# Report-level verdict

#: Causes that are about the key itself (or how it was entered): a request that succeeded with the same key rules
#: them out.
KEY_LEVEL = frozenset(
    {
        Cause.KEY_INVALID,
        Cause.KEY_EXPIRED,
        Cause.SECRET_MISMATCH,
        Cause.PASSPHRASE_WRONG,
        Cause.IP_NOT_WHITELISTED,
        Cause.DEMO_KEY,
        Cause.KEY_SECRET_SWAPPED,
        Cause.MALFORMED_CREDENTIALS,
        Cause.INCOMPLETE_CREDENTIALS,
        Cause.KEY_FROZEN,
    }
)
_AUTH_LIKE = KEY_LEVEL | {Cause.PERMISSION_MISSING}

#: Which failure becomes the verdict when probes disagree: what blocks everything first, what only the exchange
#: or time can fix last.
PRIORITY: tuple[Cause, ...] = (
    Cause.INCOMPLETE_CREDENTIALS,
    Cause.HUFI_FORM_LIMIT,
    Cause.MALFORMED_CREDENTIALS,
    Cause.KEY_SECRET_SWAPPED,
    Cause.NO_KEY_NEEDED,
    Cause.DEMO_KEY,
    Cause.KEY_FROZEN,
    Cause.KEY_EXPIRED,
    Cause.KEY_INVALID,
    Cause.SECRET_MISMATCH,
    Cause.PASSPHRASE_WRONG,
    Cause.IP_NOT_WHITELISTED,
    Cause.REGION_BLOCKED,
    Cause.RISK_CONTROL,
    Cause.ACCOUNT_RESTRICTED,
    Cause.SUBACCOUNT_NO_API,
    Cause.NONCE_WINDOW,
    Cause.NONCE_REUSED,
    Cause.PERMISSION_MISSING,
    Cause.NO_DEPOSIT_ADDRESS,
    Cause.CLOCK_SKEW,
    Cause.RATE_LIMITED,
    Cause.EXCHANGE_MAINTENANCE,
    Cause.EXCHANGE_UNREACHABLE,
    Cause.CHECK_FAILED,
    Cause.UNKNOWN,
    Cause.OK,
)
_RANK = {c: i for i, c in enumerate(PRIORITY)}

#: HuFi refuses a Kraken key whose nonce window is smaller than this (reference: HuFi's Kraken key check).
KRAKEN_MIN_NONCE_WINDOW = 5000


def nonce_window_too_small(info: Mapping[str, Any] | None) -> Diagnosis | None:
    """The one rule for Kraken's nonce window: a key-info reply (`evidence["key_info"]`) whose `nonce_window` is
    below KRAKEN_MIN_NONCE_WINDOW fails HuFi's check (None: the window is fine or unknown). The probes judge each
    permission by it and the verdict names it, both through this function."""
    window = info.get("nonce_window") if info is not None else None
    if not isinstance(window, int) or isinstance(window, bool) or window >= KRAKEN_MIN_NONCE_WINDOW:
        return None
    return Diagnosis(
        Cause.NONCE_WINDOW,
        code=f"nonce_window={window}",
        detail=f"The key's nonce window is {window}; HuFi needs at least {KRAKEN_MIN_NONCE_WINDOW}.",
    )


def _candidates(diag: Diagnosis) -> tuple[Cause, ...]:
    return (diag.cause, *diag.alternatives)


def _make(causes: Iterable[Cause], like: Diagnosis, detail: str | None = None) -> Diagnosis:
    unique = tuple(dict.fromkeys(causes))
    return Diagnosis(unique[0], unique[1:], like.code, like.detail if detail is None else detail)


def _evidence(report: Any) -> tuple[dict[str, Any] | None, Diagnosis | None, str | None]:
    evidence = getattr(report, "evidence", None)
    if not isinstance(evidence, Mapping):
        return None, None, None
    info = evidence.get("key_info")
    info = dict(info) if isinstance(info, Mapping) else None
    error: Diagnosis | None = None
    raw = evidence.get("key_info_error")
    if isinstance(raw, Mapping):
        try:
            error = Diagnosis.from_dict(dict(raw))
        except Exception:  # noqa: BLE001
            error = None
    elif isinstance(raw, Diagnosis):
        error = raw
    ip = evidence.get("echoed_ip")
    return info, error, ip if isinstance(ip, str) and ip else None


def _outcome_diagnosis(report: Any, perm: Permission, outcome: Any) -> Diagnosis:
    diag = getattr(outcome, "diagnosis", None)
    if isinstance(diag, Diagnosis):
        return diag
    error = getattr(outcome, "error", None)
    if error is not None:
        return classify_error(getattr(report, "exchange_id", ""), perm, error)
    message = getattr(outcome, "error_message", None)
    if message:
        return classify_error(getattr(report, "exchange_id", ""), perm, message)
    return Diagnosis(Cause.UNKNOWN)


def _narrow(
    diag: Diagnosis,
    *,
    granted: bool,
    info: dict[str, Any] | None,
    info_error: Diagnosis | None,
    echoed_ip: str | None,
) -> Diagnosis:
    """Use what the other probes and the key-info evidence proved to narrow one failure down."""
    cands = _candidates(diag)
    if not set(cands) <= _AUTH_LIKE:
        return diag
    if granted:
        # Another probe succeeded with the same key, secret and server IP: only the permission is left.
        return Diagnosis(
            Cause.PERMISSION_MISSING,
            (),
            diag.code,
            excerpt("Another permission was granted with the same key, so key, secret and IP are fine. " + diag.detail),
        )
    if info is not None:
        # The key-info call is signed too: key and secret are right. What is left is the IP or the permission.
        if info.get("expired") is True:
            return _make((Cause.KEY_EXPIRED,), diag, "The exchange reports the key as expired.")
        ips = [str(i) for i in info.get("ips") or [] if i]
        restricted = info.get("ip_restricted")
        if restricted is True or ips:
            if echoed_ip and ips and echoed_ip in ips:
                return _make((Cause.PERMISSION_MISSING,), diag)
            return _make((Cause.IP_NOT_WHITELISTED, Cause.PERMISSION_MISSING), diag)
        if restricted is False:
            return _make((Cause.PERMISSION_MISSING,), diag)
        return _make((Cause.PERMISSION_MISSING, Cause.IP_NOT_WHITELISTED), diag)
    if info_error is not None and set(_candidates(info_error)) <= _AUTH_LIKE and len(cands) > 1:
        # The key-info endpoint needs no special permission: failing there too means key, secret or IP.
        left = [c for c in cands if c is not Cause.PERMISSION_MISSING]
        if left:
            return _make(left, diag)
    return diag


def _echoed_ip_from_outcomes(outcomes: Mapping[Any, Any]) -> str | None:
    """The IP an exchange named in one of the failed probes' errors, when the engine didn't record one."""
    for outcome in outcomes.values():
        for text in (getattr(outcome, "error_message", None), getattr(outcome, "error", None)):
            if text is not None:
                ip = extract_echoed_ip(text)
                if ip is not None:
                    return ip
    return None


def diagnose_report(report: Any) -> Diagnosis | None:
    """The verdict for a whole `KeyCheckReport`: None when the key is fine (`report.ok`)."""
    precheck = getattr(report, "precheck", None)
    if isinstance(precheck, Diagnosis):
        return precheck
    if getattr(report, "ok", False):
        return None
    outcomes = getattr(report, "outcomes", {}) or {}
    failures: list[tuple[Permission, Diagnosis]] = []
    granted: list[Permission] = []
    pending: list[Permission] = []
    client_side: list[Diagnosis] = []
    for perm in Permission:
        outcome = outcomes.get(perm)
        status = str(getattr(outcome, "status", ""))
        if status == "granted":
            granted.append(perm)
        elif status == "failed":
            diag = _outcome_diagnosis(report, perm, outcome)
            if diag.cause is Cause.OK:  # the exchange accepted the request; only the client stumbled on the reply
                granted.append(perm)
                client_side.append(diag)
            else:
                failures.append((perm, diag))
        else:
            pending.append(perm)
    if not failures:
        if client_side:
            return Diagnosis(
                Cause.CHECK_FAILED,
                (Cause.OK,),
                client_side[0].code,
                excerpt(
                    "The exchange accepted the key, but the client could not read its reply. " + client_side[0].detail
                ),
            )
        if not pending:
            return None
        return Diagnosis(
            Cause.CHECK_FAILED,
            code="not_checked",
            detail="Not checked: " + ", ".join(str(p) for p in pending),
        )

    info, info_error, echoed_ip = _evidence(report)
    if echoed_ip is None:
        echoed_ip = _echoed_ip_from_outcomes(outcomes)
    if info is not None and info.get("expired") is True:
        return Diagnosis(Cause.KEY_EXPIRED, code="key_info", detail="The exchange reports the key as expired.")
    too_small = nonce_window_too_small(info)
    if too_small is not None:
        return too_small

    narrowed = [
        (perm, _narrow(d, granted=bool(granted), info=info, info_error=info_error, echoed_ip=echoed_ip))
        for perm, d in failures
    ]
    first = narrowed[0][1]
    if all(_candidates(d) == _candidates(first) for _, d in narrowed):
        perm, chosen = narrowed[0]
    else:
        perm, chosen = min(narrowed, key=lambda pd: (_RANK.get(pd[1].cause, len(_RANK)), len(pd[1].alternatives)))
    detail = chosen.detail
    if echoed_ip and Cause.IP_NOT_WHITELISTED in _candidates(chosen):
        detail = f"The exchange saw the request come from {echoed_ip}. {detail}"
    failed_names = ", ".join(str(p) for p, _ in narrowed)
    return Diagnosis(
        chosen.cause,
        chosen.alternatives,
        chosen.code,
        excerpt(f"[{failed_names}] {detail}".strip()),
    )
