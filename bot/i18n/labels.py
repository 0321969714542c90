"""Exchange labels as each exchange's localised screens show them, per language, each with the page it comes from.

The advice quotes the exchanges' own words (a menu item, a button, a checkbox: `bot.advice.exchanges.Ui`). In English
they are shown as the exchange writes them. In another language, a translator who finds the exchange's own
localised words (on its help pages or its screens in that language) writes them into
`locales/<language>/exchange_labels.toml`, with the page they come from::

    [mexc]
    "API Management" = { label = "API管理", source = "https://www.mexc.com/zh-CN/support/..." }

An empty `label` means "not found": the advice then shows the English words in quotes, which is what the user sees
on a screen the exchange has not translated. `make i18n-update` lists every label of every exchange in each file
(new ones empty, filled ones kept). tests/test_i18n_labels.py checks that each filled label names a known label of
that exchange and has an https source.
"""

from __future__ import annotations

import logging
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.i18n import catalogs
from bot.i18n.languages import DEFAULT_LANGUAGE, LANGUAGES

log = logging.getLogger(__name__)

FILENAME = "exchange_labels.toml"


@dataclass(frozen=True, slots=True)
class Label:
    """An exchange's own words in a language, and the page they were read on."""

    label: str
    source: str


LabelTable = Mapping[str, Mapping[str, Label]]  # exchange id -> English words -> localised


def labels_path(language: str, locales: Path | None = None) -> Path:
    return (locales or catalogs.LOCALES) / language / FILENAME


def read_labels(path: Path) -> dict[str, dict[str, Label]]:
    """Every entry of a label file, filled or not (a missing file: none)."""
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text("utf-8"))
    table: dict[str, dict[str, Label]] = {}
    for exchange_id, entries in data.items():
        if not isinstance(entries, dict):
            continue
        for english, entry in entries.items():
            if isinstance(entry, dict):
                label = str(entry.get("label") or "").strip()
                table.setdefault(exchange_id, {})[english] = Label(label, str(entry.get("source") or "").strip())
    return table


_lock = threading.Lock()
_loaded: dict[tuple[Path, str], dict[str, dict[str, Label]]] = {}


def labels(language: str) -> LabelTable:
    """The filled labels of `language` (read once; empty for English)."""
    if language == DEFAULT_LANGUAGE or language not in LANGUAGES:
        return {}
    key = (catalogs.locales(), language)
    found = _loaded.get(key)
    if found is None:
        with _lock:
            try:
                table = read_labels(labels_path(language, key[0]))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                log.warning("exchange labels of %s not read (%s); the English ones are quoted", language, exc)
                table = {}
            found = _loaded[key] = {
                ex: {english: entry for english, entry in entries.items() if entry.label}
                for ex, entries in table.items()
            }
    return found


def exchange_label(language: str, exchange_id: str, english: str) -> str | None:
    """The exchange's own words for `english` on its screens in `language`, when a translator found them."""
    entry = labels(language).get(exchange_id, {}).get(english)
    return entry.label if entry is not None else None
