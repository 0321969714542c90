"""Telegram Mini App `initData`: validation (every request) and signing (the offline demo's stand-in only).

The algorithm is Telegram's, from https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app:
the data-check-string is every received field except `hash`, as `key=value` sorted by key and joined with
line feeds; `secret_key = HMAC_SHA256(key="WebAppData", msg=bot_token)`; the data is genuine when
`hex(HMAC_SHA256(key=secret_key, msg=data_check_string)) == hash`. `auth_date` is when the Mini App was opened;
we refuse anything older than an hour.

Written here rather than taken from a library: it is a dozen lines over `hmac`, and the libraries we looked at
parse the query into a dict, which silently keeps one of two duplicated fields (the one that was not signed
can then be the one used). Here every field must occur once, the hash must be 64 hex digits, and the user id
is read only from data that passed the check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, urlencode

#: How old an initData may be (Telegram's `auth_date`), in seconds.
MAX_AGE_SECONDS = 3600
#: How far in the future an `auth_date` may be (our clock behind Telegram's), in seconds.
CLOCK_SLACK_SECONDS = 60
#: A real initData is well under 2 KB (user, chat instance, dates, hash, signature); anything longer is refused.
MAX_INIT_DATA_LENGTH = 8192


class InitDataError(Exception):
    """An initData that is not genuine, not fresh or not usable. `reason` is a short code; never any data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def stale(self) -> bool:
        return self.reason == "stale"


@dataclass(frozen=True, slots=True)
class WebAppInitData:
    """The parts of a validated initData the bot uses. Built only by `validate_init_data`."""

    user_id: int
    auth_date: int
    hash: str
    user: Mapping[str, Any] = field(default_factory=dict)
    query_id: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def language_code(self) -> str | None:
        value = self.user.get("language_code")
        return value if isinstance(value, str) else None


def secret_key(bot_token: str) -> bytes:
    """HMAC_SHA256 with the key "WebAppData" over the bot token, as Telegram documents."""
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(pairs: Mapping[str, str]) -> str:
    """Every field but `hash`, as `key=value`, sorted by key, joined with line feeds."""
    return "\n".join(f"{k}={pairs[k]}" for k in sorted(pairs) if k != "hash")


def compute_hash(pairs: Mapping[str, str], bot_token: str) -> str:
    return hmac.new(secret_key(bot_token), data_check_string(pairs).encode(), hashlib.sha256).hexdigest()


def _parse(raw: str) -> dict[str, str]:
    if not raw:
        raise InitDataError("missing")
    if len(raw) > MAX_INIT_DATA_LENGTH:
        raise InitDataError("too_long")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise InitDataError("malformed") from None
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise InitDataError("duplicate_field")
        out[key] = value
    return out


def validate_init_data(
    raw: str,
    bot_token: str,
    *,
    now: float | None = None,
    max_age: float = MAX_AGE_SECONDS,
) -> WebAppInitData:
    """The validated initData, or InitDataError. The signature is checked before anything else is believed."""
    if not isinstance(raw, str):
        raise InitDataError("missing")
    pairs = _parse(raw)
    received = pairs.get("hash")
    if received is None:
        raise InitDataError("missing_hash")
    if len(received) != 64 or any(c not in "0123456789abcdef" for c in received):
        raise InitDataError("bad_hash")
    if not hmac.compare_digest(compute_hash(pairs, bot_token), received):
        raise InitDataError("bad_hash")
    # Signed by Telegram from here on: now judge what it says.
    auth_text = pairs.get("auth_date", "")
    if not auth_text.isascii() or not auth_text.isdigit():
        raise InitDataError("bad_auth_date")
    auth_date = int(auth_text)
    current = time.time() if now is None else now
    if auth_date > current + CLOCK_SLACK_SECONDS:
        raise InitDataError("bad_auth_date")
    if current - auth_date > max_age:
        raise InitDataError("stale")
    try:
        user = json.loads(pairs.get("user", ""))
    except ValueError:
        raise InitDataError("no_user") from None
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise InitDataError("no_user")
    return WebAppInitData(
        user_id=user_id,
        auth_date=auth_date,
        hash=received,
        user=MappingProxyType(dict(user)),
        query_id=pairs.get("query_id"),
        fields=MappingProxyType({k: v for k, v in pairs.items() if k != "hash"}),
    )


def sign_init_data(
    user: Mapping[str, Any],
    bot_token: str,
    *,
    auth_date: int | None = None,
    extra: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> str:
    """An initData string signed with `bot_token`, as a Telegram client would hand it to the page.

    For the offline demo's stand-in script and for tests; production never signs anything.
    """
    pairs: dict[str, str] = {
        "auth_date": str(int(clock()) if auth_date is None else auth_date),
        "user": json.dumps(dict(user), separators=(",", ":"), ensure_ascii=False),
        **(extra or {}),
    }
    pairs["hash"] = compute_hash(pairs, bot_token)
    return urlencode(pairs)
