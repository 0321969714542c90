"""What the exchange said, in its own words, for the user: its message and its code, read from the stored reply.

The report keeps each failed probe's error text redacted and without signed-request details
(`bot.security.scrub_request_details`); the exchange's message sits in its JSON body under a field that differs per
exchange (`MESSAGE_FIELDS`). A diagnosis code is the exchange's own only when the reply carries it; anything else is a
label of ours (`no_address`, `ccxt_empty_address`, `http_403`, `missing:query-funds`...) and never reaches a user as
such: it becomes plain words from the advice texts (`labels` table). Plain text, shortened, not escaped (the edge
escapes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from bot.advice.exchanges import guide, screen_words
from bot.advice.texts import DEFAULT_LANGUAGE, lookup
from bot.diagnosis.model import Permission
from bot.diagnosis.parse import split_reply
from bot.exchanges.report import KeyCheckReport, ProbeStatus
from bot.i18n import join_items
from bot.secret_scan import mask_credential_tokens
from bot.security import MASK, redact

#: How many characters of the exchange's words are shown.
WORDS_LIMIT = 160
CODE_LIMIT = 40

#: Where each exchange puts its human-readable message (dotted paths; `[]` walks a list), from each exchange's
#: error envelope (the replies in bot/sandbox/data/exchange_replies.json). Kraken's and XT's replies carry no message
#: besides the code.
MESSAGE_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "binance": ("msg",),
        "okx": ("data[].sMsg", "msg"),
        "bybit": ("retMsg", "ret_msg"),
        "kucoin": ("msg",),
        "bitget": ("msg", "err_msg"),
        "gate": ("message", "detail"),
        "mexc": ("msg",),
        "htx": ("err-msg", "err_msg", "message"),
        "xt": (),
        "kraken": (),
        "bigone": ("message", "msg"),
        "bitmart": ("message",),
    }
)
GENERIC_MESSAGE_FIELDS: tuple[str, ...] = ("msg", "message", "retMsg", "err-msg", "err_msg", "error.message")

_IP_RE = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){4,7}\b")
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Said:
    """What to show of the exchange's reply: its `words` and its `code` (either may be None), or, when the reply had
    neither, a `note` in plain words about what the check saw (never an internal label)."""

    words: str | None = None
    code: str | None = None
    note: str | None = None


def _values_at(data: Any, path: str) -> list[Any]:
    current: list[Any] = [data]
    for segment in path.split("."):
        many = segment.endswith("[]")
        key = segment.removesuffix("[]")
        found: list[Any] = []
        for item in current:
            value = item.get(key) if isinstance(item, dict) else None
            if many and isinstance(value, list):
                found.extend(value[:10])
            elif not many and value is not None:
                found.append(value)
        current = found
    return current


def _clean(text: str, limit: int) -> str:
    """Redacted, credential-like tokens and IP addresses masked, one line, at most `limit` characters."""
    value = mask_credential_tokens(redact(text), MASK)
    value = _IP_RE.sub("x.x.x.x", value)
    value = _SPACE_RE.sub(" ", value).strip().strip("\"'")
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


def reply_words(exchange_id: str, error_text: str | None) -> str | None:
    """The exchange's own message in a stored error text, or None when the reply carries none."""
    if not error_text:
        return None
    try:
        reply = split_reply(error_text, exchange_id)
    except Exception:  # noqa: BLE001 - a display helper must never break the verdict
        return None
    fields = MESSAGE_FIELDS.get(exchange_id, GENERIC_MESSAGE_FIELDS)
    for path in fields:
        if isinstance(reply.data, dict | list):
            values = _values_at(reply.data, path)
        else:  # a body that no longer parses (a scrubbed timestamp, a cut reply): the field by its name
            name = path.split(".")[-1].removesuffix("[]")
            values = [json_string(m.group(1)) for m in _field_re(name).finditer(reply.body[:20_000])]
        for value in values:
            if isinstance(value, str) and value.strip() and value.strip().lower() not in ("success", "ok"):
                cleaned = _clean(value, WORDS_LIMIT)
                if cleaned:
                    return cleaned
    return None


def _field_re(name: str) -> re.Pattern[str]:
    return re.compile(r'"' + re.escape(name) + r'"\s*:\s*"((?:[^"\\]|\\.){1,1000})"')


def json_string(raw: str) -> str:
    """A JSON string's content, unescaped (as it is when it does not unescape)."""
    try:
        value = json.loads('"' + raw + '"')
    except ValueError:
        return raw
    return value if isinstance(value, str) else raw


def label_note(label: str | None, exchange_id: str, exchange_name: str, language: str = DEFAULT_LANGUAGE) -> str | None:
    """Plain words for one of our labels (`no_address`, `http_403`, `nonce_window=100`, `missing:query-funds`), or
    None for a label without words (such a label is never shown)."""
    if not label:
        return None
    labels: dict[str, str] = lookup(language, "labels") or {}
    text = labels.get(label)
    arg = ""
    if text is None:
        prefix = next(
            (k for k in labels if k.endswith("*") and label.startswith(k[:-1]) and len(label) > len(k) - 1), None
        )
        if prefix is None:
            return None
        text, arg = labels[prefix], label[len(prefix) - 1 :]
    if arg:
        found = guide(exchange_id)
        names = found.key_info_labels if found is not None else {}
        parts = [
            screen_words(names[part.strip()], exchange_id, language) if part.strip() in names else part.strip()
            for part in arg.split(",")
            if part.strip()
        ]
        arg = lookup(language, "phrases", "list_and").join(parts) if len(parts) == 2 else join_items(parts, language)
    return text.format(exchange=exchange_name, arg=_clean(arg, 60))


def exchange_said(
    report: KeyCheckReport, exchange_name: str, code: str | None, language: str = DEFAULT_LANGUAGE
) -> Said | None:
    """What to show of the reply behind the verdict `code`: the probe that failed with it (else the first failed
    probe with a reply), its message and, when the reply carries it, the code. None when nothing can be said."""
    if report.ok or report.precheck is not None:
        return None
    failed = [report.outcomes[p] for p in Permission if report.outcomes[p].status is ProbeStatus.FAILED]
    with_reply: Sequence[Any] = [o for o in failed if o.error_message]
    pick = next((o for o in with_reply if o.diagnosis is not None and o.diagnosis.code == code), None)
    if pick is None and with_reply:
        pick = with_reply[0]
    text = pick.error_message if pick is not None else None
    words = reply_words(report.exchange_id, text)
    own = code if code and text and code in text else None
    own = _clean(own, CODE_LIMIT) if own else None
    if words is not None and own is not None and words == own:
        own = None
    if words or own:
        return Said(words=words, code=own)
    note = label_note(code, report.exchange_id, exchange_name, language)
    return Said(note=note) if note else None
