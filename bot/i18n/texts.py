"""Text tables: the English source of every message, keyed for the code, translated through the catalogs.

A table (`Texts`) maps a stable key to its English text (or a `Plural`); `table(language, key, **values)` gives the
text in `language`, with `values` filled in. In the catalogs each entry is `msgctxt "<prefix>.<key>"` with the
English text as `msgid` (see `bot.i18n` for why), so the code reads `t(lang, "welcome", name=...)` while translators
see the English sentence.

Values are filled in with `str.format`. A plural's number (`Plural.n`) picks the form by the language's plural
rule and is written the language's way (`bot.i18n.catalogs.format_number`). A translation that does not format
(a placeholder misspelt: tests/test_i18n_catalogs.py catches that before it ships) falls back to the English text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from bot.i18n.catalogs import format_number, npgettext, pgettext

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Plural:
    """A text whose wording depends on a number: English has `one` (for 1) and `other`; the catalog has as many
    forms as the language needs. `n`: the placeholder that holds the number."""

    one: str
    other: str
    n: str = "count"


Source = str | Plural


@dataclass(frozen=True, slots=True)
class Message:
    """One catalog entry, as extraction writes it into the template."""

    context: str
    msgid: str
    plural: str | None = None
    comments: tuple[str, ...] = ()
    html: bool = False


@dataclass(frozen=True)
class Texts:
    """A table of texts under `prefix` (the catalog context is `<prefix>.<key>`).

    `html`: the texts are Telegram HTML (the chat, the card); otherwise plain text that the edge escapes.
    `notes`: a word for translators about a key (shown in the template).
    """

    prefix: str
    source: Mapping[str, Source]
    html: bool = False
    notes: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    def context(self, key: str) -> str:
        return f"{self.prefix}.{key}"

    def template(self, language: str, key: str, n: int | None = None) -> str:
        """The unformatted text of `key` in `language` (a plural's form for `n`)."""
        entry = self.source[key]
        if isinstance(entry, Plural):
            return npgettext(language, self.context(key), entry.one, entry.other, 1 if n is None else n)
        return pgettext(language, self.context(key), entry)

    def english(self, key: str, n: int | None = None) -> str:
        entry = self.source[key]
        if isinstance(entry, Plural):
            return entry.one if n == 1 else entry.other
        return entry

    def __call__(self, language: str, key: str, /, **values: object) -> str:
        """The text of `key` in `language`, with `values` filled in."""
        entry = self.source[key]
        n: int | None = None
        if isinstance(entry, Plural):
            raw = values.get(entry.n)
            n = int(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None
            if n is not None:
                values = {**values, entry.n: format_number(n, language)}
        text = self.template(language, key, n)
        if not values:
            return text
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            log.warning("the %s text %s does not format; English is used", language, self.context(key))
            return self.english(key, n).format(**values)

    def __contains__(self, key: object) -> bool:
        return key in self.source

    def messages(self) -> Iterator[Message]:
        for key, entry in self.source.items():
            note = self.notes.get(key)
            comments = (note,) if note else ()
            if isinstance(entry, Plural):
                yield Message(self.context(key), entry.one, entry.other, comments, self.html)
            else:
                yield Message(self.context(key), entry, None, comments, self.html)
