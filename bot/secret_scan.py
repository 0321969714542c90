"""Spotting credentials in free text, masking them, and splitting a pasted key/secret paste.

Used on every message the bot sees (private chats, groups, edits, captions, support descriptions, relays) and
on every log line: anything that looks like a credential is deleted (or masked) before anything else happens
with it. Deleting a harmless message costs the user a retype; leaving a secret in a chat costs them their key,
so the rules lean towards deleting, but they are measured both ways (tests/secret_corpus.py, README).

How a credential is found, wherever it stands:

* The text is normalised first, keeping a map back to the original positions: full-width ASCII (what Chinese and
  Japanese keyboards type: ``：``, ``Ａ``) becomes ASCII, invisible format characters (zero-width spaces, BIDI
  marks, soft hyphens) are dropped, odd spaces become spaces.
* Candidates are maximal runs of the characters credentials are made of (ASCII letters, digits and ``+/=_-``).
  Anything else ends a run: other scripts (``密钥：``, ``ключ``), punctuation, Markdown, emoji, quotes. A ``=``
  inside a run splits it (``apiKey=...``); edge ``-``/``_`` are dropped (``ключ-<secret>``, ``__<secret>__``).
* A run is a credential when it has one of the shapes the twelve exchanges issue (`SHAPES`: UUIDs, long hex,
  prefixed keys, base64) or when it looks random (`_looks_random`: short letter/digit pieces, as a random
  generator makes, unlike words, identifiers, order numbers and dates).
* Runs on consecutive lines are also tried joined, so a secret split over short lines is found.
* A value after a label (``passphrase: ...``, ``密码是...``, ``пароль ...``) is a credential unless it is a plain
  word; a word with upper and lower case, digits and a symbol inside is a passphrase even without a label.
* PEM private keys (Binance and Bybit RSA/Ed25519 secrets) are found by their armour.

What stays quiet: URLs (only their query values are looked at), ``0x`` addresses and hashes, crypto addresses
with their usual prefixes, numbers, dates, words and identifiers, and single-case ids named as such (``order id``,
``txid``, ``订单号``, ``хэш``).

Why not a library: secret scanners such as detect-secrets look for assignments and quoted strings in source
code; chat text in three scripts, the exchanges' own formats and the quiet-on-chat requirement need rules of
their own. They are kept small and data-driven here.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol

#: Kept for callers: the shortest random run that counts without a shape (shorter ones need all three of upper
#: case, lower case and digits, see `_looks_random`).
MIN_TOKEN_LENGTH = 16
#: Runs longer than this are not credentials (a base64 blob, an image) and are not classified.
MAX_TOKEN_LENGTH = 8192

# -- normalisation ----------------------------------------------------------------------------------------------


_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
#: full-width ASCII to ASCII and odd spaces to a space: one character for one, positions unchanged
_FOLD = str.maketrans({**{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}, **dict.fromkeys(_SPACES, " ")})
#: invisible format characters (zero-width, BIDI marks, soft hyphen, BOM, tags): dropped
_FORMAT_RE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\U000e0000-\U000e007f]"
)


def _normalise(text: str) -> tuple[str, list[int] | None]:
    """`text` with full-width ASCII folded and format characters dropped; and the original index of each
    character (None when positions are unchanged)."""
    if text.isascii():
        return text, None
    folded = text.translate(_FOLD)
    if not _FORMAT_RE.search(folded):
        return folded, None
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(folded):
        if ord(ch) > 127 and unicodedata.category(ch) == "Cf":
            continue
        out.append(ch)
        index.append(i)
    index.append(len(text))
    return "".join(out), index


# -- shapes -----------------------------------------------------------------------------------------------------

_HEX = "0-9A-Fa-f"
_UUID = rf"[{_HEX}]{{8}}-[{_HEX}]{{4}}-[{_HEX}]{{4}}-[{_HEX}]{{4}}-[{_HEX}]{{12}}"

#: Credential shapes the exchanges issue (full match on a run). Sources: each exchange's API docs and ccxt's
#: `requiredCredentials`; see also bot/diagnosis/formats.py.
#:   uuid:   OKX and XT API keys, KuCoin secrets, BigONE keys (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)
#:   hex:    KuCoin keys (24), Gate keys and OKX/MEXC secrets (32), BitMart keys and XT secrets (40),
#:           Gate/Bitget/BitMart secrets (64), BigONE keys without dashes (32)
#:   dashed: HTX access and secret keys (e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx,
#:           https://www.htx.com/en-us/opend/newApiPages/?id=419)
#:   bitget: bg_ + 32 hex (https://www.bitget.com/api-doc/common/quick-start)
#:   mexc:   mx0v + letters and digits (https://mexcdevelop.github.io/apidocs/spot_v3_en/)
#:   base64: Kraken keys (56) and secrets (88, https://docs.kraken.com/api/docs/guides/spot-rest-auth)
SHAPES: dict[str, re.Pattern[str]] = {
    "uuid": re.compile(_UUID),
    "hex": re.compile(rf"(?=[{_HEX}]*[A-Fa-f])(?=[{_HEX}]*[0-9])[{_HEX}]{{24,128}}"),
    "dashed": re.compile(r"(?=.*[0-9])(?=.*[a-z])[a-z0-9]{6,12}(?:-[a-z0-9]{4,12}){2,5}"),
    "bitget": re.compile(rf"bg_[{_HEX}]{{32}}"),
    "mexc": re.compile(r"mx0[A-Za-z0-9]{13,61}"),
    "base64": re.compile(r"(?=[A-Za-z0-9+/]*[+/])(?=.*[0-9])(?=.*[a-z])(?=.*[A-Z])[A-Za-z0-9+/]{40,}={0,2}"),
}

# What is never a credential even when it looks random.
_NOT_CREDENTIAL = re.compile(
    r"0[xX][0-9A-Fa-f]+"  # Ethereum and EVM addresses, transaction hashes
    # bech32/bech32m segwit addresses: the bech32 alphabet (no 1, b, i, o after the separator) and the lengths
    # of v0 and v1 programs (20 or 32 bytes: 39 or 59 characters after "bc1"; BIP-173, BIP-350:
    # https://github.com/bitcoin/bips/blob/master/bip-0173.mediawiki). Looser rules let a hex secret that
    # starts with "bc1" through (1 MEXC secret in 4,096).
    r"|(?:bc|tb|ltc)1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{39}(?:[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{20})?"
    r"|[13][1-9A-HJ-NP-Za-km-z]{25,34}|[TLMD][1-9A-HJ-NP-Za-km-z]{33}"  # base58: BTC; TRON, LTC, DOGE
)
_BASE58_ADDRESS = re.compile(r"[13][1-9A-HJ-NP-Za-km-z]{25,34}|[TLMD][1-9A-HJ-NP-Za-km-z]{33}")

# Pieces of a run: an upper-case run, a capitalised or lower-case word, a number.
_PIECE_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# Four consonants in a row (y counts as a vowel): common in random letters, rare in words and names.
_CLUSTER_RE = re.compile(r"[bcdfghjklmnpqrstvwxz]{4,}")
_VOWEL_RE = re.compile(r"[aeiouyAEIOUY]")


def _clusters(token: str) -> int:
    return len(_CLUSTER_RE.findall("".join(c for c in token.lower() if c.isalpha())))


def _wordy(pieces: list[str], n: int) -> bool:
    """True when most of a run is pronounceable words of 3+ letters (``hufi_report_2026Q4_final``); asked only
    of runs with ``_`` or ``-``, the way identifiers and file names are written."""
    words = sum(
        len(p)
        for p in pieces
        if len(p) >= 3 and p[1:].islower() and _VOWEL_RE.search(p) and not _CLUSTER_RE.search(p.lower())
    )
    return words >= 0.6 * n


def _mixed_letters_random(token: str, pieces: list[str]) -> bool:
    """Letters only, both cases (a Bybit key without a digit: 1 in 24): random case changes leave pieces no
    one can pronounce ("Zlnb"), camel-case words (``fetchDepositAddress``) don't."""
    letters = [c for c in token if c.isalpha()]
    switches = sum(a.isupper() != b.isupper() for a, b in itertools.pairwise(letters)) / max(1, len(letters) - 1)
    odd = sum(
        1
        for p in pieces
        if len(p) >= 2 and not p.isupper() and (not _VOWEL_RE.search(p) or _CLUSTER_RE.search(p.lower()))
    )
    return odd >= 2 or (odd >= 1 and switches >= 0.35) or (switches >= 0.3 and _clusters(token) >= 1)


def _looks_random(token: str) -> bool:
    """True when `token` looks like generator output rather than words, identifiers or numbers.

    A random string over letters and digits changes between upper case, lower case and digits every one or two
    characters; words, identifiers (``fetchMyTrades2024``) and order numbers (``C02__4437763479``) come in long
    pieces. The measure is the average piece length, with thresholds per mix of character classes.
    """
    pieces = _PIECE_RE.findall(token)
    n = sum(len(p) for p in pieces)
    if n < 12 or not pieces or (("_" in token or "-" in token) and _wordy(pieces, n)):
        return False
    upper = any(c.isupper() for c in token)
    lower = any(c.islower() for c in token)
    digit = any(c.isdigit() for c in token)
    average = n / len(pieces)
    if upper and lower and digit:
        if average <= 3.0:
            return True
        return n >= 16 and _clusters(token) >= 2
    if n < 16:
        return False
    if upper and lower:  # letters only, mixed case
        return average <= 2.5 or _mixed_letters_random(token, pieces)
    if lower and digit:
        # random lower case has long letter pieces (26 letters against 10 digits): look at the letters too
        return average <= 3.0 or (sum(c.isdigit() for c in token) >= 2 and _clusters(token) >= 2)
    if upper and digit:
        hex_only = all(c in "0123456789ABCDEF" for c in token if c.isalnum())
        # upper case and digits only is no exchange's format unless it is hex (OKX secrets); order ids are
        return average <= 3.0 if hex_only else (n >= 32 and average <= 2.5)
    return False  # one class only: a word, a number


def classify(token: str) -> str | None:
    """The credential shape of one run (a `SHAPES` name, or "random"), or None when it is not a credential."""
    if (
        len(token) < 12
        or len(token) > MAX_TOKEN_LENGTH
        or token.isdigit()
        or (token.isalpha() and (token.islower() or token.isupper()))
    ):
        return None
    if _NOT_CREDENTIAL.fullmatch(token):
        if not _BASE58_ADDRESS.fullmatch(token):
            return None
        # base58 addresses mix cases; a single-case run of that shape is a hex or lower-case credential
        if any(c.isupper() for c in token) and any(c.islower() for c in token):
            return None
    for name, pattern in SHAPES.items():
        if pattern.fullmatch(token):
            return name
    return "random" if _looks_random(token) else None


# -- context ----------------------------------------------------------------------------------------------------

# A run named as an id or a hash just before it: "order id: ...", "TxID ...", "订单号：...", "хэш транзакции ...".
# The name is a word of its own: the end of a key ("…12tx", "…5hash") glued to the secret after it is not one (a
# MEXC key ending in "tx" pasted as "key:secret" lost its secret to this, about one key in a thousand).
_ID_LABEL_RE = re.compile(
    r"(?i)(?:(?<![a-z0-9])(?:order|orders|trade|tx|txn|transaction|trace|request|ticket|commit|address|deposit|"
    r"withdrawal|client[-_ ]?order)(?:[-_ ]?(?:id|no|hash))?(?![a-z])|(?<![a-z0-9])hash(?![a-z])|"
    r"ордер[а-яё]*|заказ[а-яё]*|сделк[а-яё]*|транзакци[а-яё]*|хэш[а-яё]*|хеш[а-яё]*|адрес[а-яё]*|"
    r"订单|委托|哈希|交易哈希|交易号|交易id|地址|提现|充值)"
    r"(?:\s*(?:id|no\.?|number|num|hash|#|№|号|编号|单号|номер|[^\W\d_]{1,12}))?"
    r"[\s\"':=#№\-—是为]*(?:is\s*)?$"
)
_CRED_WORDS_RE = re.compile(r"(?i)key|secret|pass|memo|ключ|секрет|парол|密钥|秘钥|私钥|密码|口令")
_ID_CONTEXT = 40


# Mixed-case addresses of chains without a prefix of their own, quiet only when named as an address or wallet just
# before them (unnamed, they look like any random run): Solana (base58 of a 32-byte key: 43 or 44 characters for
# all but a few in a million; https://solana.com/docs/core/accounts), TON's user-friendly form (48 base64url
# characters starting with E, U, k or 0 and Q, less a - or _ at its ends, which a run loses;
# https://docs.ton.org/v3/concepts/dive-into-ton/ton-blockchain/smart-contract-addresses) and IPFS CIDv0 ("Qm" and
# 44 base58 characters; https://docs.ipfs.tech/concepts/content-addressing/). A run that has the shape of an
# exchange's key or secret (`bot.diagnosis.formats`, e.g. Bybit's 36-character secrets) stays a credential
# whatever names it (`_exchange_shaped`).
_NAMED_ADDRESS_RE = re.compile(r"[1-9A-HJ-NP-Za-km-z]{43,44}|[EUk0]Q[A-Za-z0-9_-]{44,46}|Qm[1-9A-HJ-NP-Za-km-z]{44}")


@functools.cache
def _exchange_shapes() -> re.Pattern[str]:
    """Every key and secret pattern of the exchanges' credential formats, as one pattern (read on first use:
    `bot.diagnosis` imports modules that import this one)."""
    from bot.diagnosis.formats import FORMATS

    patterns = [p for fmt in FORMATS.values() for p in (fmt.key, fmt.secret) if p]
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def _exchange_shaped(token: str) -> bool:
    return _exchange_shapes().fullmatch(token) is not None


_ADDRESS_LABEL_RE = re.compile(
    r"(?i)(?:(?<![a-z])(?:address|addr|wallet|cid|ipfs)|адрес[а-яё]*|кошел[её]к[а-яё]*|地址|钱包)"
    r"(?:\s*(?:is|[^\W\d_]{1,12})){0,2}[\s\"':=#№\-—是为]*$"  # up to two words between: "адрес кошелька Solana:"
)


def _named_as_id(text: str, start: int, token: str) -> bool:
    """True when the run at `start` is introduced as an order id, hash, address...: a single-case run after any
    such name; a mixed-case one only when it has an address's shape (`_NAMED_ADDRESS_RE`) and is named as an
    address or wallet (no exchange issues mixed-case ids, every other mixed-case random run is a credential)."""
    before = text[max(0, start - _ID_CONTEXT) : start]
    before = before.rsplit("\n", 1)[-1]
    if any(c.isupper() for c in token) and any(c.islower() for c in token):
        named = _ADDRESS_LABEL_RE.search(before)
        # a credential word anywhere before it on the line ("secret key address: ...") keeps it a credential
        return (
            _NAMED_ADDRESS_RE.fullmatch(token) is not None
            and not _exchange_shaped(token)
            and named is not None
            and not _CRED_WORDS_RE.search(before)
        )
    match = _ID_LABEL_RE.search(before)
    return match is not None and not _CRED_WORDS_RE.search(before[match.start() :])


# A value after a credential label: "passphrase: X", "API key = X", "密码是X", "пароль — X".
_LABEL_VALUE_RE = re.compile(
    r"(?i)(?:(?<![a-z0-9_])(?:api[\s_-]?)?(?:key|access[\s_-]?key|secret(?:[\s_-]?key)?|private[\s_-]?key|"
    r"pass[\s_-]?phrase|password|passwd|pwd|memo)(?![a-z])|(?<![a-z0-9_])apikey(?![a-z])"
    r"|密钥|秘钥|私钥|密码|口令|密语|备注|api密钥|"
    r"ключ[а-яё]*|секрет[а-яё]*|парол[а-яё]*|мемо|фраз[а-яё]*)"
    r"(?:\s*(?:is|was|:|=|-|—|–|是|为|為|это)\s*|\s+){0,3}"
    r"[\"'`«“„「『【(\[<*_~|]*"
    r"(?P<value>[A-Za-z0-9][!-~]{5,255})"
)
# Any of the label words (a fast test before the label regex runs).
_LABEL_HINTS = ("key", "secret", "pass", "pwd", "memo", "密", "口令", "备注", "ключ", "секрет", "парол", "мемо", "фраз")
_SECRET_LABEL_RE = re.compile(r"(?i)pass|pwd|密码|口令|парол|фраз")
# Values that are words, identifiers, dates, numbers or addresses, not credentials.
_PLAIN_RE = re.compile(
    r"[A-Za-z][a-z'’_\-]*|[A-Z][A-Z'’_\-]*|\d[\dTZ\-/.:,+]*|0x[0-9a-fA-F]*"
    r"|[A-Za-z][A-Za-z]*(?:-[A-Za-z]+)+|[A-Z0-9]{2,10}(?:[/_-][A-Z0-9]{2,10}){1,3}"  # Read-Only, ETH/USDT
)
_VALUE_TRAIL = ".,;:!?)]}>\"'`*_~|"
_VALUE_END_RE = re.compile(r"[\"'`<>]|,\"")
_SYMBOLS = set("!@#$%^&*?~")


def _value_of(raw: str) -> str:
    """The value after a label, without what ends it: a quote, a bracket, trailing punctuation."""
    return _VALUE_END_RE.split(raw, 1)[0].rstrip(_VALUE_TRAIL)


def _labelled_value(label: str, value: str) -> bool:
    """True when `value`, named by `label`, is a credential rather than a word ("is wrong") or a number."""
    if len(value) < 6 or "://" in value:
        return False
    if value.isdigit():  # "пароль 123456"; a numeric "memo" is a deposit tag, a numeric "key" an id
        return _SECRET_LABEL_RE.search(label) is not None
    return _PLAIN_RE.fullmatch(value) is None


# A passphrase without a label: upper and lower case, a digit and a symbol inside (not leading, not trailing).
_WORD_RE = re.compile(r"[!-~]+")
_WORD_LEAD = "([{<\"'`*_:«"
_WORD_TRAIL = ")]}>\"'`*_.,;:"


def _passphrase_shaped(word: str) -> bool:
    if not 8 <= len(word) <= 32 or "=" in word or re.search(r"@[A-Za-z0-9-]+\.[A-Za-z]", word):
        return False
    return (
        any(c.isupper() for c in word)
        and any(c.islower() for c in word)
        and any(c.isdigit() for c in word)
        and any(c in _SYMBOLS for c in word[1:-1])
    )


# -- the scan ---------------------------------------------------------------------------------------------------

# A "=" ends a run (base64 padding stays with it): "apiKey=<value>" gives "apiKey=" and "<value>".
_RUN_RE = re.compile(r"[A-Za-z0-9+/_\-]+=*")
_LONG_RUN_RE = re.compile(r"[A-Za-z0-9+/_\-]{12,}=*")
_URL_RE = re.compile(
    r"(?i)(?:(?<![A-Za-z0-9])(?:https?|wss?|ftp|tg)://|(?<![A-Za-z0-9.])www\.|(?<![A-Za-z0-9.])t\.me/)"
    r"[A-Za-z0-9.\-_~:/@%+]*(?P<query>\?[A-Za-z0-9.\-_~:/?@%+=&]*)?(?:#[A-Za-z0-9.\-_~:/?@%+=&!]*)?"
)
_PEM_RE = re.compile(
    r"(?:-{2,}|[–—])?\s*BEGIN\s+(?:[A-Z0-9]+\s+){0,3}PRIVATE\s+KEY\s*(?:-{2,}|[–—])?"
    r".*?(?:END\s+(?:[A-Z0-9]+\s+){0,3}PRIVATE\s+KEY\s*(?:-{2,}|[–—])?|\Z)",
    re.S,
)
# A label typed straight before the value, with no space ("这个key<value>"): the value is looked at alone.
_GLUED_LABEL_RE = re.compile(r"(?i)(?:api[_-]?)?(?:key|secret|memo|passphrase|password|pwd|token)[_:-]?(?=[A-Za-z0-9])")
_LINE_GAP_RE = re.compile(r"[ \t>*_`-]*\r?\n[ \t>*_`-]*")
_MAX_JOIN = 48


@dataclass(frozen=True, slots=True)
class Finding:
    """One credential in a text: its span in the original text, its value (normalised), and how it was found:
    a `SHAPES` name, "random", "labelled", "passphrase", "joined" (part of a secret split over lines) or "pem"."""

    start: int
    end: int
    value: str
    kind: str


def _runs(norm: str, skip: list[tuple[int, int]], *, every: bool) -> list[tuple[int, int, str]]:
    """Candidate runs (start, end, token) of the normalised text, outside the `skip` spans: all of them when
    `every` (short ones may join across lines), else only those long enough to be a credential alone."""
    out: list[tuple[int, int, str]] = []
    for match in (_RUN_RE if every else _LONG_RUN_RE).finditer(norm):
        start, end = match.span()
        if skip and any(a <= start and end <= b for a, b in skip):
            continue
        token = match.group()
        stripped = token.lstrip("-_")
        start += len(token) - len(stripped)
        stripped = stripped.rstrip("-_")
        if stripped:
            out.append((start, start + len(stripped), stripped))
    return out


def _url_spans(norm: str) -> list[tuple[int, int]]:
    """Spans of URLs, without their query strings (query values are looked at like any text)."""
    spans: list[tuple[int, int]] = []
    for match in _URL_RE.finditer(norm):
        if match.group("query"):
            spans.append((match.start(), match.start("query")))
            spans.append((match.end("query"), match.end()))
        else:
            spans.append(match.span())
    return spans


def scan(text: str | None) -> list[Finding]:
    """Every credential in `text`, in order of position (overlaps merged, the widest kept)."""
    if not text:
        return []
    norm, index = _normalise(text)
    found: list[tuple[int, int, str, str]] = []

    # cheap tests first: most texts have no PEM armour, no URL, no line break, no label, no symbol
    pem_spans = [m.span() for m in _PEM_RE.finditer(norm)] if "PRIVATE" in norm else []
    for start, end in pem_spans:
        found.append((start, end, norm[start:end].strip(), "pem"))

    url_spans = _url_spans(norm) if ("://" in norm or "www." in norm or "t.me/" in norm) else []
    multiline = "\n" in norm
    runs = _runs(norm, url_spans + pem_spans, every=multiline)
    flagged: set[int] = set()
    for i, (start, end, token) in enumerate(runs):
        if end - start < 12:
            continue
        kind = classify(token)
        if kind is None:
            glued = _GLUED_LABEL_RE.match(token)
            if glued and classify(token[glued.end() :]) is not None:
                start, token = start + glued.end(), token[glued.end() :]
                kind = classify(token)
        if kind is not None and not (kind in ("hex", "uuid", "random") and _named_as_id(norm, start, token)):
            found.append((start, end, token, kind))
            flagged.add(i)

    if multiline:
        found.extend(_joined(norm, runs, flagged))
        found.extend(_joined_words(norm, {(f[0], f[1]) for f in found}))

    lowered = norm.lower()
    for match in _LABEL_VALUE_RE.finditer(norm) if any(h in lowered for h in _LABEL_HINTS) else ():
        if any(a <= match.start("value") < b for a, b in url_spans):
            continue
        value = _value_of(match.group("value"))
        if _labelled_value(match.group(0)[: match.start("value") - match.start()], value):
            start = match.start("value")
            found.append((start, start + len(value), value, "labelled"))

    for match in _WORD_RE.finditer(norm):
        word = match.group()
        if not 8 <= len(word) <= 64 or _SYMBOLS.isdisjoint(word):
            continue
        if any(a < match.end() and match.start() < b for a, b in url_spans):
            continue
        lead = len(word) - len(word.lstrip(_WORD_LEAD))
        core = word[lead:].rstrip(_WORD_TRAIL + "!?")
        if _passphrase_shaped(core):
            start = match.start() + lead
            found.append((start, start + len(core), core, "passphrase"))

    return _settle(found, index)


def _joined(norm: str, runs: list[tuple[int, int, str]], flagged: set[int]) -> list[tuple[int, int, str, str]]:
    """Runs that make a credential when joined with their neighbours on the next lines."""
    out: list[tuple[int, int, str, str]] = []
    chain: list[int] = []

    def flush() -> None:
        if len(chain) < 2:
            return
        marked: set[int] = set()
        for a in range(len(chain)):
            for b in range(a + 2, min(len(chain), a + _MAX_JOIN) + 1):
                window = chain[a:b]
                if all(i in flagged for i in window):
                    continue
                joined = runs[window[0]][2] + "".join(
                    _dashes(norm[runs[j - 1][1] : runs[j][0]]) + runs[j][2] for j in window[1:]
                )
                if classify(joined) is not None:
                    marked.update(window)
        for i in sorted(marked - flagged):
            out.append((runs[i][0], runs[i][1], runs[i][2], "joined"))

    for i in range(len(runs)):
        if chain and _LINE_GAP_RE.fullmatch(norm[runs[chain[-1]][1] : runs[i][0]]):
            chain.append(i)
            continue
        flush()
        chain = [i]
    flush()
    return out


_RUN_ONLY_RE = re.compile(r"[A-Za-z0-9+/_\-]+=*")
_LINE_WORD_RE = re.compile(r"(?m)^[ \t>*_`]*([!-~]{2,64}?)[ \t*_`]*$")


def _joined_words(norm: str, known: set[tuple[int, int]]) -> list[tuple[int, int, str, str]]:
    """Lines holding one word each (symbols included: a passphrase split over lines), tried joined."""
    words = [(m.start(1), m.end(1), m.group(1)) for m in _LINE_WORD_RE.finditer(norm)]
    out: list[tuple[int, int, str, str]] = []
    chain: list[tuple[int, int, str]] = []

    def flush() -> None:
        marked: set[int] = set()
        for a in range(len(chain)):
            for b in range(a + 2, min(len(chain), a + _MAX_JOIN) + 1):
                joined = "".join(w[2] for w in chain[a:b])
                if _passphrase_shaped(joined) or (_RUN_ONLY_RE.fullmatch(joined) and classify(joined) is not None):
                    marked.update(range(a, b))
        out.extend((*chain[i][:2], chain[i][2], "joined") for i in sorted(marked) if chain[i][:2] not in known)

    for word in words:
        if chain and norm.count("\n", chain[-1][1], word[0]) == 1:
            chain.append(word)
            continue
        flush()
        chain = [word]
    flush()
    return out


def _dashes(gap: str) -> str:
    """The dashes of a line break between two parts of a split secret ("b8bd1080-426d-4" / "acf-9119-" / ...)."""
    return "".join(c for c in gap if c == "-")


_PRIMARY = frozenset({*SHAPES, "random", "joined", "pem"})


def _settle(found: list[tuple[int, int, str, str]], index: list[int] | None) -> list[Finding]:
    """Resolve overlaps: a labelled or passphrase-shaped value that covers one run replaces it (it is wider: a
    passphrase with its symbols); one that covers several runs is dropped (the runs are the values: "KEY,SECRET"
    after a label); runs never overlap each other. Spans are mapped back to the original text."""
    primary = sorted((f for f in found if f[3] in _PRIMARY), key=lambda f: (f[0], -f[1]))
    kept: list[tuple[int, int, str, str]] = []
    for f in primary:  # a joined part or a run inside a PEM block is covered already
        if kept and f[0] < kept[-1][1]:
            continue
        kept.append(f)
    for extra in sorted((f for f in found if f[3] not in _PRIMARY), key=lambda f: (f[0], -f[1])):
        inside = [i for i, f in enumerate(kept) if f[0] < extra[1] and extra[0] < f[1]]
        if not inside:
            kept.append(extra)
        elif len(inside) == 1:  # wider (a passphrase with its symbols) or partly outside: the union, its value
            f = kept[inside[0]]
            kept[inside[0]] = (min(f[0], extra[0]), max(f[1], extra[1]), extra[2], extra[3])
        kept.sort(key=lambda f: (f[0], -f[1]))
    if index is None:
        return [Finding(s, e, v, k) for s, e, v, k in kept]
    return [Finding(index[s], index[e - 1] + 1, v, k) for s, e, v, k in kept]


# -- the public helpers -----------------------------------------------------------------------------------------


def looks_like_secret(text: str | None) -> bool:
    """True when `text` probably holds a credential and must be deleted."""
    return bool(scan(text))


def credential_tokens(text: str | None) -> list[str]:
    """The values in `text` that look like an API key, secret or passphrase, in order (parts of a secret split
    over lines and PEM blocks included, as found)."""
    return [f.value for f in scan(text)]


def mask_credential_tokens(text: str, mask: str) -> str:
    """`text` with every credential replaced by `mask` (PEM blocks and split secrets too)."""
    findings = scan(text)
    if not findings:
        return text
    parts: list[str] = []
    last = 0
    for f in findings:
        if f.start < last:  # overlapping extras: extend the masked span
            last = max(last, f.end)
            continue
        parts.append(text[last : f.start])
        parts.append(mask)
        last = f.end
    parts.append(text[last:])
    return "".join(parts)


class KeyShape(Protocol):
    """What `split_credentials` may be told about an exchange's formats: full-match patterns or None
    (`bot.diagnosis.formats.CredentialFormat` fits)."""

    @property
    def key(self) -> str | None: ...

    @property
    def secret(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class SplitResult:
    """How a message sent in answer to "send me your API key" reads.

    `api_key` is what to use as the key; `secret` is set when the message held exactly a key and a secret.
    `key_known` is True only when `api_key` is known to be the key: one credential (or a plain value), or a pair
    in the order the bot asks for, consistent with the exchange's formats when those are given. When it is
    False the message was ambiguous (three values in one message, a secret where the key was expected, a PEM
    block with more than one other value): nothing derived from it may be shown, a fingerprint included.
    """

    api_key: str
    secret: str | None
    key_known: bool
    count: int  # how many credential values the message held

    @property
    def is_pair(self) -> bool:
        return self.secret is not None and self.key_known

    @property
    def ambiguous(self) -> bool:
        return not self.key_known


def _fits(pattern: str | None, value: str) -> bool | None:
    return None if pattern is None else re.fullmatch(pattern, value) is not None


def _with_shaped_partner(text: str, value: str, shape: KeyShape) -> list[str]:
    """The one value the scanner found and, when exactly one other run of the message has the exchange's shape
    for the other part, that run too, in the message's order. A random key can read as words to the scanner's
    measure (a Bybit key of 18 letters with a long stretch of one case and no digit: about one in two hundred),
    and in the key flow the exchange's own formats say what it is."""
    for mine, theirs in ((shape.secret, shape.key), (shape.key, shape.secret)):
        if not (mine and theirs and _fits(mine, value)):
            continue
        partners = [m for m in _LONG_RUN_RE.finditer(text) if m.group(0) != value and _fits(theirs, m.group(0))]
        if len(partners) == 1:
            partner = partners[0]
            return [partner.group(0), value] if partner.start() < text.find(value) else [value, partner.group(0)]
    return [value]


def split_credentials(text: str, shape: KeyShape | None = None) -> SplitResult:
    """Read a key-flow message: a key alone, a key and a secret ("KEY SECRET", "KEY:SECRET", two lines, labelled
    lines, a key and a PEM private key), or something ambiguous. See `SplitResult`."""
    findings = [f for f in scan(text) if f.kind != "joined"]
    pems = [f for f in findings if f.kind == "pem"]
    values = [f.value for f in findings if f.kind != "pem"]
    count = len(findings)
    if shape is not None and len(values) == 1 and not pems:
        values = _with_shaped_partner(text, values[0], shape)
        count += len(values) - 1  # the partner the exchange's formats found
    if pems:
        if len(pems) == 1 and len(values) == 1 and _fits(shape.key if shape else None, values[0]) is not False:
            return SplitResult(values[0], pems[0].value, True, count)
        return SplitResult("", None, False, count)
    if len(values) == 2:
        key, secret = values
        if shape is not None:
            key_ok, secret_ok = _fits(shape.key, key), _fits(shape.secret, secret)
            swapped = _fits(shape.key, secret) is True and _fits(shape.secret, key) is True
            if swapped and not key_ok:
                return SplitResult(secret, key, True, count)
            if key_ok is False or (secret_ok is False and key_ok is None):
                return SplitResult("", None, False, count)
        return SplitResult(key, secret, True, count)
    if len(values) == 1:
        key = values[0]
        if shape is not None and _fits(shape.key, key) is False and _fits(shape.secret, key) is True:
            return SplitResult("", None, False, count)  # the secret sent where the key was asked for
        return SplitResult(key, None, True, count)
    if not values:
        return SplitResult(single_value(text), None, True, 0)
    return SplitResult("", None, False, count)


def split_pair(text: str) -> tuple[str, str] | None:
    """A key and a secret sent together; None unless the message held exactly those two values."""
    result = split_credentials(text)
    if result.secret is None or not result.key_known:
        return None
    return result.api_key, result.secret


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
