"""Recognising an error message from HuFi's app pasted into the chat, in any case or punctuation, with or without
other words around it.

HuFi's texts (reference/hufi.md §5, from the campaign launcher client and the recording oracle's error filters):
"Provided API key can't be authorized on exchange. Missing permissions: A, B." (adding a key), "... Missing: A, B"
(joining a campaign), the tooltip "Missing permissions: A", "Failed to add API key." and "Failed to edit API key."
(any 5xx: the check could not finish), "Incomplete credentials supplied for exchange", "Some of your API keys are
invalid or missing permissions." (the sign-in banner after a failed re-validation) and "Failed to join campaign.
Please try again.". The permission names are HuFi's enum (`VIEW_ACCOUNT_BALANCE`...) and, before HuFi #591, the old
ones (`FETCH_BALANCE`, `FETCH_DEPOSIT_ADDRESS`, `FETCH_MY_TRADES`).

A small table of regular expressions rather than a library: the texts are a handful of fixed sentences. Pure:
no I/O, never imports `telegram`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from bot.diagnosis.model import Permission
from bot.exchanges.catalog import CATALOG, ExchangeKind

#: Longer pastes are not a HuFi error message (and are not scanned).
MAX_TEXT = 2000


class HufiErrorKind(StrEnum):
    """What HuFi meant (each kind has an explanation in the chat texts: `hufi_<kind>`)."""

    MISSING = "missing"  # the exchange refused one of HuFi's probes (the named permissions)
    FAILED = "failed"  # HuFi's check could not finish (network, exchange down, an unexpected reply)
    INCOMPLETE = "incomplete"  # a field of the form was empty
    INVALID_BANNER = "invalid_banner"  # a key that worked before failed HuFi's re-validation


@dataclass(frozen=True, slots=True)
class HufiError:
    kind: HufiErrorKind
    #: the permissions HuFi named, in HuFi's enum order (empty: none named)
    permissions: tuple[Permission, ...] = ()
    #: the exchange the paste names, when it names one (a catalog id)
    exchange_id: str | None = None


def _sep(*words: str) -> str:
    """Words joined by any run of spaces, underscores or dashes."""
    return r"[\s_\-]*".join(words)


#: Permission names as HuFi writes them (and as people retype them), most specific first.
PERMISSION_PATTERNS: tuple[tuple[re.Pattern[str], Permission], ...] = tuple(
    (re.compile(pattern), perm)
    for pattern, perm in (
        (_sep("view", "account", "balances?"), Permission.VIEW_ACCOUNT_BALANCE),
        (_sep("fetch", "balances?"), Permission.VIEW_ACCOUNT_BALANCE),
        (_sep("view", "deposit", "address(?:es)?"), Permission.VIEW_DEPOSIT_ADDRESS),
        (_sep("fetch", "deposit", "address(?:es)?"), Permission.VIEW_DEPOSIT_ADDRESS),
        (_sep("view", "spot", "trading", "history"), Permission.VIEW_SPOT_TRADING_HISTORY),
        (_sep("fetch", "my", "trades"), Permission.VIEW_SPOT_TRADING_HISTORY),
    )
)

#: HuFi's sentences, checked in order (the first match decides the kind: the banner also says "missing permissions").
KIND_PATTERNS: tuple[tuple[re.Pattern[str], HufiErrorKind], ...] = tuple(
    (re.compile(pattern), kind)
    for pattern, kind in (
        (r"\bsome\s+of\s+your\s+api\s+keys?\s+(are|is)\s+invalid\b", HufiErrorKind.INVALID_BANNER),
        (r"\b(can ?not|can ?t|could ?n ?t)\s+be\s+authori[sz]ed\b", HufiErrorKind.MISSING),
        (r"\bmissing\s+permissions?\b", HufiErrorKind.MISSING),
        (r"\bmissing\s*:\s*(view|fetch)[\s_\-]", HufiErrorKind.MISSING),
        (r"\bincomplete\s+credentials\b", HufiErrorKind.INCOMPLETE),
        (
            r"\bfailed\s+to\s+(add|edit|save|connect)\s+(the\s+|an\s+|your\s+|this\s+)?api\s+keys?\b",
            HufiErrorKind.FAILED,
        ),
        (r"\bfailed\s+to\s+join\s+(the\s+|a\s+|this\s+)?campaign\b", HufiErrorKind.FAILED),
        (r"\berror\s+while\s+checking\s+exchange\s+access\b", HufiErrorKind.FAILED),
    )
)

#: Other names people use for an exchange (catalog ids and display names are matched too).
EXCHANGE_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "gate.io": "gate",
        "gateio": "gate",
        "gate.com": "gate",
        "huobi": "htx",
        "xt.com": "xt",
        "okex": "okx",
        "big.one": "bigone",
        "big one": "bigone",
        "kucoin": "kucoin",
    }
)


def _names() -> list[tuple[re.Pattern[str], str]]:
    names: dict[str, str] = {}
    for spec in CATALOG.values():
        if spec.kind is ExchangeKind.CEX:
            names[spec.id] = spec.id
            names[spec.display_name.lower()] = spec.id
    names.update(EXCHANGE_ALIASES)
    ordered = sorted(names.items(), key=lambda kv: len(kv[0]), reverse=True)
    return [(re.compile(r"(?<![\w.])" + re.escape(name) + r"(?![\w])"), ex) for name, ex in ordered]


_EXCHANGE_NAMES = _names()
_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"'})
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, compatibility forms folded (full-width letters), curly quotes straightened, apostrophes dropped
    (so "can't", "can’t" and "cant" read alike), one space between words."""
    folded = unicodedata.normalize("NFKC", text[:MAX_TEXT]).translate(_QUOTES).lower()
    folded = folded.replace("'", "")
    return _SPACES.sub(" ", folded).strip()


def exchange_named(text: str) -> str | None:
    """The key-based exchange a text names (catalog id), or None when it names none or several."""
    norm = normalise(text)
    found = {ex for pattern, ex in _EXCHANGE_NAMES if pattern.search(norm)}
    return found.pop() if len(found) == 1 else None


def permissions_named(text: str) -> tuple[Permission, ...]:
    """HuFi's permission names in `text`, in HuFi's enum order."""
    norm = normalise(text)
    named = {perm for pattern, perm in PERMISSION_PATTERNS if pattern.search(norm)}
    return tuple(p for p in Permission if p in named)


def recognise(text: str | None) -> HufiError | None:
    """What HuFi meant by a pasted message, or None when the text is not one of HuFi's error messages."""
    if not text or not isinstance(text, str):
        return None
    norm = normalise(text)
    kind = next((k for pattern, k in KIND_PATTERNS if pattern.search(norm)), None)
    if kind is None:
        return None
    perms = permissions_named(text) if kind in (HufiErrorKind.MISSING, HufiErrorKind.INVALID_BANNER) else ()
    return HufiError(kind, perms, exchange_named(text))
