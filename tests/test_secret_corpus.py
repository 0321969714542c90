"""The generated corpus (tests/secret_corpus.py) through the scanner, the log filter and the support card's text
cleaner: zero secrets through; and the same kinds of chat without secrets, for the false-alarm rate.

The figures printed here are the ones in README.md ("Secret scanner").
"""

from __future__ import annotations

import logging
from collections import Counter

import pytest

from bot.secret_scan import looks_like_secret, mask_credential_tokens
from bot.security import MASK, RedactingFilter
from bot.support.card import clean
from tests.secret_corpus import Hostile, hostile_corpus, leaked, ordinary_corpus, random_unknown_formats

HOSTILE = hostile_corpus()
ORDINARY = ordinary_corpus()
#: ids that share a credential's shape written bare, without the word that names them (reported apart)
AMBIGUOUS = "ambiguous"


def _through_log_filter(text: str) -> str:
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "user sent %s", (text,), None)
    try:
        raise ValueError(text)
    except ValueError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    RedactingFilter().filter(record)
    return record.getMessage()


PATHS = {
    "scanner": lambda text: mask_credential_tokens(text, MASK),
    "log_filter": _through_log_filter,
    "support_card": lambda text: clean(text, 100_000),
}


def test_the_corpus_is_large_and_covers_every_exchange() -> None:
    assert len(HOSTILE) >= 4000
    exchanges = {h.exchange for h in HOSTILE}
    assert {"binance", "bigone", "bitget", "bitmart", "bybit", "gate", "htx", "kraken", "kucoin", "mexc"} <= exchanges
    assert {"okx", "xt"} <= exchanges
    assert {h.kind for h in HOSTILE} >= {"key", "secret", "passphrase", "memo", "pair", "triple", "pem", "split"}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_zero_secrets_through(path: str) -> None:
    through: list[Hostile] = []
    for case in HOSTILE:
        output = PATHS[path](case.text)
        if leaked(output, case.planted) is not None:
            through.append(case)
    assert not through, [(c.exchange, c.kind, c.surrounding, c.text[:80]) for c in through[:10]]


def test_every_hostile_text_is_deleted() -> None:
    missed = [c for c in HOSTILE if not looks_like_secret(c.text)]
    assert not missed, [(c.exchange, c.kind, c.surrounding) for c in missed[:10]]


def test_false_alarms_on_ordinary_chat() -> None:
    total: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for message in ORDINARY:
        total[message.category] += 1
        if looks_like_secret(message.text):
            flagged[message.category] += 1
            examples.setdefault(message.category, message.text)
    plain = sum(n for c, n in total.items() if c != AMBIGUOUS)
    alarms = sum(n for c, n in flagged.items() if c != AMBIGUOUS)
    by_language: Counter[str] = Counter(m.language for m in ORDINARY if m.category != AMBIGUOUS)
    print(
        f"\n[secret scanner] ordinary messages: {plain} ({dict(by_language)}), false alarms {alarms} "
        f"({100 * alarms / plain:.2f}%); bare 24/64-hex and UUID ids without a word naming them: "
        f"{flagged[AMBIGUOUS]}/{total[AMBIGUOUS]} flagged; per category: "
        + ", ".join(f"{c} {flagged[c]}/{total[c]}" for c in sorted(total))
    )
    for category in ("eth_address", "tx_hash", "labelled_hash", "order_id", "url", "telegram", "numbers_dates", "ip"):
        assert flagged[category] == 0, examples.get(category)
    assert alarms <= 0.005 * plain, examples


def test_miss_rate() -> None:
    """Known formats: the hostile corpus (every case must be caught). Formats no exchange here issues: random
    strings of other alphabets, for the record."""
    hostile_missed = sum(not looks_like_secret(c.text) for c in HOSTILE)
    total: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    for alphabet, value in random_unknown_formats(2000):
        total[alphabet] += 1
        missed[alphabet] += not looks_like_secret(value)
    print(
        f"\n[secret scanner] hostile texts: {len(HOSTILE)}, missed {hostile_missed}; random strings of other "
        "formats (16-64 characters) missed: " + ", ".join(f"{a} {missed[a]}/{total[a]}" for a in sorted(total))
    )
    assert hostile_missed == 0
    for alphabet in ("alnum", "base64", "hex"):
        assert missed[alphabet] <= 0.02 * total[alphabet]


def test_exchange_replies_are_quiet_once_request_details_are_dropped() -> None:
    """Every real exchange reply and ccxt text in the fixtures (held out: the scanner was not tuned on them):
    after `scrub_request_details` nothing in them looks like a credential (trace ids named as such included)."""
    import json
    from pathlib import Path

    from bot.secret_scan import scan
    from bot.security import scrub_request_details

    cases = json.loads((Path(__file__).parents[1] / "bot/sandbox/data/exchange_replies.json").read_text())
    texts = [t for c in cases for t in (c.get("observed_message"), c.get("body")) if t]
    assert len(texts) > 250
    noisy = [t for t in texts if scan(scrub_request_details(t))]
    print(f"\n[secret scanner] exchange replies in the fixtures: {len(texts)}, flagged after scrubbing {len(noisy)}")
    assert not noisy, noisy[:3]
