"""What API keys and secrets each exchange issues, as data, for the checks that need no request.

Conservative on purpose: `key_lengths`/`secret_lengths` and the alphabets only exclude what the exchange never
issues; where we are not sure the field is left open (None). The full `key`/`secret` patterns are used for one
thing only: telling that key and secret were swapped, which needs *both* to match the other field's pattern and
*neither* its own, so a wrong guess here can't reject a good key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

_HEX = "0-9A-Fa-f"
_UUID = rf"[{_HEX}]{{8}}-[{_HEX}]{{4}}-[{_HEX}]{{4}}-[{_HEX}]{{4}}-[{_HEX}]{{12}}"
_ALNUM = "A-Za-z0-9"
_B64 = "A-Za-z0-9+/="


@dataclass(frozen=True, slots=True)
class CredentialFormat:
    """Shapes of the credentials one exchange issues. Patterns are full-match regular expressions."""

    key: str | None = None
    secret: str | None = None
    key_lengths: tuple[int, int] | None = None
    secret_lengths: tuple[int, int] | None = None
    key_alphabet: str | None = None  # a character class body, e.g. "0-9a-f"
    secret_alphabet: str | None = None
    secret_base64: bool = False  # the secret is base64 and is decoded before signing (Kraken)
    pem_secret: bool = False  # an RSA/Ed25519 private key in PEM form is a valid secret


#: Every exchange issues keys and secrets at least this long (the shortest known: bybit's 18-character keys).
MIN_LENGTH = 16

FORMATS: Mapping[str, CredentialFormat] = MappingProxyType(
    {
        "binance": CredentialFormat(
            key=rf"[{_ALNUM}]{{64}}",
            secret=rf"[{_ALNUM}]{{64}}",
            key_lengths=(64, 64),
            secret_lengths=(64, 64),
            key_alphabet=_ALNUM,
            secret_alphabet=_ALNUM,
            pem_secret=True,
        ),
        "okx": CredentialFormat(
            key=_UUID,
            secret=rf"[{_HEX}]{{32}}",
            key_lengths=(36, 36),
            secret_lengths=(32, 32),
            key_alphabet=_HEX + "-",
            secret_alphabet=_HEX,
        ),
        "kucoin": CredentialFormat(
            key=rf"[{_HEX}]{{24}}",
            secret=_UUID,
            key_lengths=(24, 24),
            secret_lengths=(36, 36),
            key_alphabet=_HEX,
            secret_alphabet=_HEX + "-",
        ),
        "bitget": CredentialFormat(
            key=rf"bg_[{_HEX}]{{32}}",
            secret=rf"[{_HEX}]{{64}}",
            key_alphabet=_ALNUM + "_",
            secret_alphabet=_HEX,
            secret_lengths=(64, 64),
        ),
        "gate": CredentialFormat(
            key=rf"[{_HEX}]{{32}}",
            secret=rf"[{_HEX}]{{64}}",
            key_lengths=(32, 32),
            secret_lengths=(64, 64),
            key_alphabet=_HEX,
            secret_alphabet=_HEX,
        ),
        "mexc": CredentialFormat(
            key=rf"mx0[{_ALNUM}]{{13,61}}",
            secret=rf"[{_HEX}]{{32}}",
            key_alphabet=_ALNUM,
            secret_alphabet=_ALNUM,
        ),
        "bybit": CredentialFormat(
            key=rf"[{_ALNUM}]{{18}}",
            secret=rf"[{_ALNUM}]{{36}}",
            key_alphabet=_ALNUM,
            secret_alphabet=_ALNUM,
            pem_secret=True,
        ),
        "kraken": CredentialFormat(
            key=rf"[{_B64}]{{56}}",
            secret=rf"[{_B64}]{{88}}",
            key_alphabet=_B64,
            secret_alphabet=_B64,
            secret_base64=True,
        ),
        "htx": CredentialFormat(key_alphabet=_ALNUM + "-", secret_alphabet=_ALNUM + "-"),
        "xt": CredentialFormat(key_alphabet=_ALNUM + "-", secret_alphabet=_ALNUM + "-"),
        "bigone": CredentialFormat(key_alphabet=_ALNUM + "-_", secret_alphabet=_ALNUM + "-_"),
        "bitmart": CredentialFormat(key_alphabet=_ALNUM, secret_alphabet=_ALNUM),
    }
)

#: Characters that only appear when someone copied a masked value ("abcd****wxyz", "abcd…wxyz").
MASK_RE = re.compile(r"\*{2,}|…|\.{3,}|•{2,}")
PEM_RE = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.+-----END [A-Z0-9 ]*PRIVATE KEY-----", re.S)


def full(pattern: str | None, value: str) -> bool:
    return pattern is not None and re.fullmatch(pattern, value) is not None


def only(alphabet: str | None, value: str) -> bool:
    """True when every character of `value` is in `alphabet` (or there is no alphabet to check)."""
    return alphabet is None or re.fullmatch(f"[{alphabet}]*", value) is not None
