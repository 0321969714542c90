"""Redaction of secrets and key fingerprints.

Every text that leaves the process through a log line or a message passes `redact` (or a `Redactor` built for
the credentials at hand). Secrets are scrubbed in their plain form and in the forms they take inside URLs,
JSON and form bodies. A process-wide registry lets the logging filter scrub secrets that are being checked
right now, without any caller having to remember it.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

MASK = "[REDACTED]"

# Telegram bot tokens (also inside Bot API URLs) and anything that looks like an Authorization header value.
_TOKEN_RE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b")
_BOT_URL_RE = re.compile(r"/bot[^/\s]+/")
_BEARER_RE = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")


def _forms(secret: str) -> set[str]:
    """The forms a secret takes on its way through URLs, JSON and headers."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    try:
        forms.add(json.dumps(secret)[1:-1])
    except (TypeError, ValueError):  # pragma: no cover - str always dumps
        pass
    stripped = secret.strip()
    if stripped:
        forms.add(stripped)
    return {f for f in forms if f}


class Redactor:
    """Scrubs a fixed set of secrets (and their encoded forms) from any text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                forms |= _forms(secret)
        # Longest first, so a secret that contains another is removed whole.
        self._forms = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(f) for f in self._forms)) if self._forms else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: object) -> str:
        return self.redact(text)

    def redact(self, text: object) -> str:
        """Return `text` as a string with every known secret and bot token masked."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        elif not isinstance(text, str):
            try:
                text = str(text)
            except Exception:  # noqa: BLE001 - a broken __str__ must not break redaction
                text = f"<unprintable {type(text).__name__}>"
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return scrub_tokens(text)


def scrub_tokens(text: str) -> str:
    """Mask bot tokens and bearer values, whatever secrets are registered."""
    text = _TOKEN_RE.sub(MASK, text)
    text = _BOT_URL_RE.sub(f"/bot{MASK}/", text)
    return _BEARER_RE.sub(lambda m: m.group(1) + MASK, text)


class SecretRegistry:
    """Secrets in use right now anywhere in the process, for the logging filter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._redactor = Redactor()

    def add(self, secrets: Iterable[str | None]) -> list[str]:
        added = [s for s in secrets if s]
        with self._lock:
            for s in added:
                self._counts[s] = self._counts.get(s, 0) + 1
            self._redactor = Redactor(self._counts)
        return added

    def remove(self, secrets: Iterable[str]) -> None:
        with self._lock:
            for s in secrets:
                left = self._counts.get(s, 0) - 1
                if left > 0:
                    self._counts[s] = left
                else:
                    self._counts.pop(s, None)
            self._redactor = Redactor(self._counts)

    @contextmanager
    def active(self, secrets: Iterable[str | None]) -> Iterator[Redactor]:
        """Register `secrets` for the duration of a block; yields a redactor for exactly these secrets."""
        added = self.add(secrets)
        try:
            yield Redactor(added)
        finally:
            self.remove(added)

    def redact(self, text: object) -> str:
        return self._redactor.redact(text)


#: The process-wide registry the logging filter consults.
ACTIVE_SECRETS = SecretRegistry()


def redact(text: object, secrets: Iterable[str | None] = ()) -> str:
    """Scrub `secrets`, every registered active secret and bot tokens from `text`."""
    return ACTIVE_SECRETS.redact(Redactor(secrets).redact(text))


# -- signed-request details ------------------------------------------------------------------------------------
#
# ccxt puts the request URL (query string included) into its exception text, and some exchanges echo what was
# signed. Signatures, timestamps, nonces and api-key headers or parameters make a request replayable or name the
# key; none of them helps anyone read the error. Names as the exchanges send them (ccxt's `sign()` of each):
# binance/mexc `timestamp`, `recvWindow`, `signature`, `X-MBX-APIKEY`/`X-MEXC-APIKEY`; okx `OK-ACCESS-*`;
# kucoin `KC-API-*`; bitget `ACCESS-*`; bybit `X-BAPI-*` (and the older `api_key`, `sign`, `recv_window`);
# bitmart `X-BM-*`; gate `KEY`, `SIGN`, `Timestamp`; htx `AccessKeyId`, `Signature`, `Timestamp`; kraken
# `API-Key`, `API-Sign`, `nonce`; xt `xt-validate-*`; bigone `Authorization: Bearer <JWT>`.

_SENSITIVE_NAME = (
    r"(?:[A-Za-z]+[-_]){0,3}"
    r"(?:api[-_]?key|apikey|appkey|access[-_]?key(?:[-_]?id)?|accesskeyid|key|sign|signature|timestamp|ts|"
    r"request[-_]?time|recv[-_]?window|nonce|passphrase|password|secret(?:[-_]?key)?|token|authorization|otp)"
)
# name=value in a query string or form body, also percent-encoded once or twice ("signature%3D...%26").
_PARAM_VALUE_RE = re.compile(
    rf"(?i)(?:(?<![A-Za-z0-9_-])|(?<=%3F)|(?<=%26)|(?<=%253F)|(?<=%2526))({_SENSITIVE_NAME})(=|%3D|%253D)"
    r"((?:(?!%26|%2526|\\u0026)[^&\s\"'<>#\\,;)\]}])*)"
)
# "name": value / 'name': value in JSON or a Python repr, with escaped quotes inside nested JSON.
_JSON_VALUE_RE = re.compile(
    rf"(?i)((\\?[\"'])({_SENSITIVE_NAME})\2\s*:\s*)"
    r"(\\?\"(?:[^\"\\]|\\(?!\"))*\\?\"|'[^']*'|[^,}\]\s]+)"
)
# Header lines ("X-MBX-APIKEY: ...") at the start of a line.
_HEADER_LINE_RE = re.compile(rf"(?im)^([ \t]*{_SENSITIVE_NAME}[ \t]*:[ \t]*)(\S.*)$")
# Bybit echoes the signed string: origin_string[<timestamp><api key><recv window><query>].
_ORIGIN_RE = re.compile(r"(?i)(origin_string\s*\[)[^\]]*(\])")
_JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")


def scrub_request_details(text: str) -> str:
    """`text` without the parts of a signed request that name the key or could be replayed.

    Values of signature, timestamp, nonce, recv-window and api-key parameters and headers are replaced by MASK
    wherever they appear: in a URL's query string (also percent-encoded, as HTX's ``Signature=...%3D``), in a
    JSON or repr body, in header lines; Bybit's echoed signed string and JWTs go too. The exchange's code and
    message, the method, host and path stay.
    """
    if not text:
        return text
    text = _PARAM_VALUE_RE.sub(lambda m: m.group(1) + m.group(2) + (MASK if m.group(3) else ""), text)
    text = _JSON_VALUE_RE.sub(lambda m: m.group(1) + _quoted_mask(m.group(4)), text)
    text = _HEADER_LINE_RE.sub(lambda m: m.group(1) + MASK, text)
    text = _ORIGIN_RE.sub(lambda m: m.group(1) + MASK + m.group(2), text)
    return _JWT_RE.sub(MASK, text)


def _quoted_mask(value: str) -> str:
    """MASK in the quotes the value had."""
    for quote_ in ('\\"', '"', "'"):
        if len(value) >= 2 * len(quote_) and value.startswith(quote_) and value.endswith(quote_):
            return quote_ + MASK + quote_
    return MASK


def redact_for_log(text: object, secrets: Iterable[str | None] = ()) -> str:
    """`redact`, then drop signed-request details and mask every value that looks like a credential.

    For text that leaves through logs: a secret can sit in an exception raised before any check registered it
    (a handler failing with the user's message in hand), in any script or punctuation (see
    `bot.secret_scan`). Masking an innocent id is the cheaper mistake.
    """
    from bot.secret_scan import mask_credential_tokens

    return mask_credential_tokens(scrub_request_details(redact(text, secrets)), MASK)


class RedactingFilter(logging.Filter):
    """A logging filter that renders each record once and scrubs the result.

    Installed on the root logger's handlers, it sees every record of every library. The message and any
    exception text are rendered, redacted and frozen into the record, so no formatter can bring a secret back.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not kill logging
            message = f"{record.msg!r} (unformattable arguments)"
        record.msg = redact_for_log(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            record.msg += f" [{type(exc).__name__}: {redact_for_log(exc)[:500]}]"
            record.exc_info = None
            record.exc_text = None
        if record.stack_info:
            record.stack_info = redact_for_log(record.stack_info)
        return True


def fingerprint(api_key: str) -> str:
    """A display form of an API key: its first and last 4 characters (fewer for very short keys)."""
    key = (api_key or "").strip()
    if not key:
        return "—"
    n = 4 if len(key) >= 16 else max(1, len(key) // 4)
    return f"{key[:n]}…{key[-n:]}"


def b64_looks_valid(value: str) -> bool:
    """True if `value` decodes as standard base64 (Kraken secrets do)."""
    try:
        base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        return False
    return True
