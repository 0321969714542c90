"""Spotting credentials in free text, and splitting a pasted key/secret pair.

Used on every message the bot sees (private chats, groups, edits, captions): anything that looks like a
credential is deleted before anything else happens with it. The test is deliberately generous: deleting a
harmless message costs the user a retype; leaving a secret in the chat costs them their key.
"""

from __future__ import annotations

import re

# Separators users put between a key and a secret: whitespace, line breaks, colons, commas, semicolons, pipes.
_SPLIT_RE = re.compile(r"[\s:;,|]+")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9+/=_\-.~]+$")
_ETH_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
_URL_RE = re.compile(r"^(https?|tg)://", re.I)
_PEM_RE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
# Words people type around credentials; they are labels, never the credential itself.
_LABELS = {
    "api",
    "key",
    "apikey",
    "api_key",
    "api-key",
    "secret",
    "secretkey",
    "secret_key",
    "secret-key",
    "passphrase",
    "password",
    "memo",
    "access",
    "accesskey",
    "private",
    "privatekey",
}
MIN_TOKEN_LENGTH = 16


def _clean(token: str) -> str:
    return token.strip().strip("`'\"<>()[]{}")


def credential_tokens(text: str | None) -> list[str]:
    """The tokens of `text` that look like an API key, secret or passphrase, in order."""
    if not text:
        return []
    found: list[str] = []
    for raw in _SPLIT_RE.split(text):
        token = _clean(raw)
        if _looks_like_credential(token):
            found.append(token)
    return found


def _looks_like_credential(token: str) -> bool:
    if len(token) < MIN_TOKEN_LENGTH or len(token) > 6000:
        return False
    if token.lower() in _LABELS or _URL_RE.match(token) or _ETH_ADDRESS_RE.match(token):
        return False
    if not _TOKEN_RE.match(token):
        return False
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    if has_digit and has_alpha:
        return True
    if len(token) < 24:
        return False
    if has_alpha:
        # letters only: random base64 mixes cases; identifiers such as VIEW_SPOT_TRADING_HISTORY don't
        return any(c.isupper() for c in token) and any(c.islower() for c in token)
    return has_digit  # a long run of digits (a numeric secret)


_SEPARATED_RE = re.compile(r"[^\s:;,|=\"'`<>()\[\]{}]+")


def mask_credential_tokens(text: str, mask: str) -> str:
    """`text` with every credential-looking token replaced by `mask` (PEM blocks too)."""
    text = re.sub(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", mask, text, flags=re.S)
    return _SEPARATED_RE.sub(lambda m: mask if _looks_like_credential(_clean(m.group(0))) else m.group(0), text)


def looks_like_secret(text: str | None) -> bool:
    """True when `text` probably holds a credential and must be deleted."""
    if not text:
        return False
    return bool(_PEM_RE.search(text)) or bool(credential_tokens(text))


def split_pair(text: str) -> tuple[str, str] | None:
    """A key and a secret sent together ("KEY SECRET", "KEY:SECRET", two lines, labelled lines).

    Returns None unless exactly two credential-like tokens are present.
    """
    if _PEM_RE.search(text):
        return None
    tokens = credential_tokens(text)
    if len(tokens) == 2:
        return tokens[0], tokens[1]
    return None


def single_value(text: str) -> str:
    """The value of a one-field answer (a key, a secret, a passphrase): labels and quotes removed, trimmed.

    Whitespace inside the value is kept, so the pre-request checks can tell the user about it.
    """
    value = text.strip()
    lowered = value.lower()
    for label in ("api key", "apikey", "api_key", "secret key", "secret", "passphrase", "password", "memo", "key"):
        if lowered.startswith(label) and len(value) > len(label) and value[len(label)] in ":= ":
            value = value[len(label) + 1 :].strip()
            break
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "`'\"":
        value = value[1:-1]
    return value
