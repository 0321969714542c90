"""Reading an exchange error: its text, the HTTP status, the JSON body and the codes inside it.

ccxt puts the exchange's raw reply into the exception text, in one of these shapes:

* ``"<id> <body>"`` when the exchange's own ``handle_errors`` recognised the reply,
* ``"<id> <METHOD> <url> <status> <reason> <body>"`` when ccxt's generic HTTP mapping raised,
* ``"<id> <status> <reason> <body>"`` (binance 418/429, kraken 520),
* ``"<id> <METHOD> <url>"`` when no answer came at all.

Everything here is defensive: any input, any size, never an exception.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from bot.security import MASK, redact

#: How much of a message is looked at (a megabyte of HTML says nothing the first 64 KiB doesn't).
MAX_SCAN = 65_536
#: How much of a message is redacted before an excerpt is cut from it; far longer than any secret + excerpt.
REDACT_WINDOW = 20_000
#: Length of `Diagnosis.detail`.
DETAIL_LIMIT = 300
#: Length of `Diagnosis.code`.
CODE_LIMIT = 64

_METHODS = "GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS"
_ID_RE = re.compile(r"([a-z][a-z0-9]{1,24}) ")
_HTTP_RE = re.compile(rf"({_METHODS}) (\S+)(?: (\d{{3}})(?= |$))?")
_STATUS_RE = re.compile(r"(\d{3})(?= |$)")
_URL_RE = re.compile(r"(?i)\b(?:https?|wss?)://[^\s\"'<>]+")
_URL_QUERY_RE = re.compile(r"(?i)(\b(?:https?|wss?)://[^\s?\"'<>]+)\?[^\s\"'<>]*")
_ORIGIN_RE = re.compile(r"(?i)(origin_string\s*\[)[^\]]{0,2000}(\])")
_PARAM_RE = re.compile(
    r"(?i)\b(signature|sign|apikey|api_key|accesskeyid|access_key|key|secret|passphrase|password|token)"
    r"(\"?\s*[=:]\s*\"?)([^\s&\"',;}\]]{6,})"
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]+")
_SPACE_RE = re.compile(r"\s+")
_KRAKEN_CODE_RE = re.compile(r"\bE[A-Z][A-Za-z]{1,20}:[A-Za-z][A-Za-z0-9 _/\-]{0,60}")


def safe_text(obj: object) -> str:
    """`str(obj)` limited to `MAX_SCAN` characters; never raises, even when `__str__` does."""
    text: object
    try:
        if isinstance(obj, bytes | bytearray | memoryview):
            text = bytes(obj[:MAX_SCAN]).decode("utf-8", "replace")
        else:
            text = str(obj)
    except Exception:  # noqa: BLE001 - a broken __str__ must not break diagnosis
        try:
            text = " ".join(str(a) for a in getattr(obj, "args", ()))
        except Exception:  # noqa: BLE001
            text = ""
    if not isinstance(text, str):
        return ""
    try:
        return str.__str__(text)[:MAX_SCAN]
    except Exception:  # noqa: BLE001
        return ""


@dataclass(slots=True)
class Reply:
    """The parts of an error text."""

    text: str
    prefix: str | None = None
    method: str | None = None
    url: str | None = None
    status: int | None = None
    reason: str = ""
    body: str = ""
    data: Any = None  # the JSON body, when there is one
    codes: list[str] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        """True when the exchange (or a gateway in front of it) sent something back."""
        return self.status is not None or bool(self.body.strip())

    @property
    def has_json(self) -> bool:
        return isinstance(self.data, dict | list)

    @property
    def words(self) -> str:
        """The text rules look at: reason and body, without URLs (their query strings say `signature=`...)."""
        return _URL_RE.sub(" ", f"{self.reason} {self.body}").strip()


def split_reply(text: str, exchange_id: str = "") -> Reply:
    """Split an error text into prefix, HTTP request line, status, reason and body."""
    reply = Reply(text=text)
    rest = text.lstrip()
    m = _ID_RE.match(rest)
    if m:
        after = rest[m.end() :]
        if m.group(1) == exchange_id or after[:1] in ("{", "[") or _HTTP_RE.match(after) or _STATUS_RE.match(after):
            reply.prefix = m.group(1)
            rest = after
    m = _HTTP_RE.match(rest)
    if m:
        reply.method, reply.url = m.group(1), m.group(2)
        if m.group(3):
            reply.status = int(m.group(3))
        rest = rest[m.end() :]
    elif reply.prefix is not None:
        m = _STATUS_RE.match(rest)
        if m:
            reply.status = int(m.group(1))
            rest = rest[m.end() :]
    rest = rest.strip()
    if reply.status is not None:
        try:
            phrase = HTTPStatus(reply.status).phrase
        except ValueError:
            phrase = ""
        if phrase and rest.lower().startswith(phrase.lower()):
            reply.reason, rest = rest[: len(phrase)], rest[len(phrase) :].strip()
    reply.body = rest
    reply.data = _find_json(rest)
    return reply


def _find_json(body: str) -> Any:
    """The first JSON object or array in `body` (a few starting points are tried), or None."""
    decoder = json.JSONDecoder()
    start = 0
    for _ in range(6):
        brace = [i for i in (body.find("{", start), body.find("[", start)) if i >= 0]
        if not brace:
            return None
        i = min(brace)
        try:
            value, _end = decoder.raw_decode(body, i)
        except (ValueError, RecursionError):
            start = i + 1
            continue
        if isinstance(value, dict) or (isinstance(value, list) and value):
            return value
        start = i + 1
    return None


def _values_at(data: Any, path: str) -> list[Any]:
    """Values at a dotted path; a segment ending in `[]` walks every element of a list."""
    current: list[Any] = [data]
    for segment in path.split("."):
        many = segment.endswith("[]")
        key = segment[:-2] if many else segment
        nxt: list[Any] = []
        for item in current:
            value = item.get(key) if isinstance(item, dict) and key else (item if not key else None)
            if many:
                if isinstance(value, list):
                    nxt.extend(value[:20])
            elif value is not None:
                nxt.append(value)
        current = nxt
    return current


def _as_code(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        value = value.strip()
        return value[:200] or None
    return None


def extract_codes(reply: Reply, fields: Sequence[str], success: Iterable[str] = ()) -> list[str]:
    """The error codes in the reply, in the order of `fields`, without success codes and duplicates."""
    skip = set(success)
    found: list[str] = []

    def add(value: Any) -> None:
        code = _as_code(value)
        if code is not None and code not in skip and code not in found:
            found.append(code)

    if reply.has_json:
        for path in fields:
            for value in _values_at(reply.data, path):
                add(value)
    if not found:  # no parseable JSON (cut short, escaped inside a string...): look for the fields by name
        for path in fields:
            name = path.split(".")[-1].removesuffix("[]")
            if not name:
                continue
            if path.endswith("[]"):
                pattern = rf'\\?"{re.escape(name)}\\?"\s*:\s*\[\s*\\?"([^"\\]{{1,100}})'
            else:
                pattern = rf'\\?"{re.escape(name)}\\?"\s*:\s*\\?"?(-?[\w.:\-]{{1,100}})'
            for m in re.finditer(pattern, reply.body[:MAX_SCAN]):
                add(m.group(1))
    if not found and "error[]" in fields:  # kraken-style "EAPI:Invalid key" anywhere in the text
        for m in _KRAKEN_CODE_RE.finditer(reply.body[:MAX_SCAN]):
            add(m.group(0).rstrip())
            if len(found) >= 5:
                break
    return found


def scrub(text: str) -> str:
    """Remove what should not be shown even after redaction: URL query strings, signed strings, parameters
    named like credentials, control characters and runs of whitespace."""
    text = _URL_QUERY_RE.sub(r"\1?…", text)
    text = _ORIGIN_RE.sub(r"\1…\2", text)
    text = _PARAM_RE.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    text = _CONTROL_RE.sub(" ", text)
    return _SPACE_RE.sub(" ", text).strip()


def excerpt(text: str, secrets: Iterable[str | None] = (), limit: int = DETAIL_LIMIT) -> str:
    """A short, redacted, printable excerpt of `text` for `Diagnosis.detail`."""
    try:
        secrets = [s for s in secrets if s]
        cleaned = redact(scrub(redact(text[:REDACT_WINDOW], secrets)), secrets)
        if len(cleaned) > limit:
            cleaned = cleaned[: limit - 1].rstrip() + "…"
        return redact(cleaned, secrets) if secrets else cleaned
    except Exception:  # noqa: BLE001
        return ""


def clean_code(code: str | None, secrets: Iterable[str | None] = ()) -> str | None:
    """An exchange code fit for `Diagnosis.code`: redacted, printable, short."""
    if not code:
        return None
    try:
        text = redact(scrub(redact(code[:1000], secrets)), secrets)
    except Exception:  # noqa: BLE001
        return None
    return text[:CODE_LIMIT] or None


# ---------------------------------------------------------------------------------------------------------
# Echoed IP addresses

_IP_TOKEN_RE = re.compile(r"[0-9A-Fa-f:.]{3,45}")
_IP_WORD_RE = re.compile(r"(?i)(?<![a-z])ips?(?![a-z])|clientip|requestip|remoteip|ip地址")


def extract_echoed_ip(text: object) -> str | None:
    """The IP address an exchange says it saw, when its error text names one; None otherwise.

    Recognises e.g. binance ``", request ip: 1.2.3.4"``, gate ``"Request IP not in whitelist: 1.2.3.4"``, mexc
    ``"IP [1.2.3.4] not in the ip white list"``, htx ``"Incorrect IP address [IP地址错误]:1.2.3.4"``, kucoin
    ``"the current clientIp is:1.2.3.4"``. Addresses inside URLs are ignored. Never raises.
    """
    try:
        raw = safe_text(text)
        plain = _URL_RE.sub(lambda m: " " * len(m.group(0)), raw)
        for m in _IP_TOKEN_RE.finditer(plain):
            token = m.group(0)
            ip = _parse_ip(token)
            if ip is None:
                continue
            window = plain[max(0, m.start() - 60) : m.start()]
            if _IP_WORD_RE.search(window):
                return ip
        return None
    except Exception:  # noqa: BLE001
        return None


def _parse_ip(token: str) -> str | None:
    for candidate in (token, token.strip(":."), token.rstrip(":."), token.lstrip(":.")):
        if not candidate or (":" not in candidate and candidate.count(".") != 3):
            continue
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None
