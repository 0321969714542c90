"""The translations at run time: each language's `messages.po`, read once, looked up by (context, English text).

The `.po` files are read as they are in the repository (Babel's `read_po`), the first time a language is needed:
there is no compiled `.mo` to build or forget to rebuild, so a fresh clone, `make test`, `make demo` and the
installed package (the catalogs are package data) all read the same files. Reading one full catalog (about 700
entries) took 35 ms on the 2-core development machine, importing Babel's reader 42 ms: about 0.2 s once, when the
bot starts (`preload`, so a broken catalog stops the start instead of a user's first message); English needs none
(the English texts are the source, in the code).

An entry counts when it is translated: an empty `msgstr`, a fuzzy entry (its English changed since it was
translated) or a plural with an empty form is left out, and the English text is used instead. Babel is imported
only when a catalog is read, so English-only processes (the insights child, `status --self`) never load it.
"""

from __future__ import annotations

import gettext
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.i18n.languages import DEFAULT_LANGUAGE, LANGUAGES

#: Where the catalogs are: `<language>/LC_MESSAGES/messages.po`, and the template `messages.pot`.
LOCALES = Path(__file__).with_name("locales")
DOMAIN = "messages"

Key = tuple[str, str]  # (msgctxt, msgid)


def english_plural(n: int) -> int:
    return 0 if n == 1 else 1


@dataclass(frozen=True, slots=True)
class Catalog:
    """One language's translated entries: (context, English) -> text, or the plural forms in the language's order."""

    language: str
    messages: Mapping[Key, str | tuple[str, ...]]
    plural: Callable[[int], int]

    def get(self, context: str, msgid: str) -> str | None:
        found = self.messages.get((context, msgid))
        return found if isinstance(found, str) else None

    def get_plural(self, context: str, msgid: str, n: int) -> str | None:
        found = self.messages.get((context, msgid))
        if not isinstance(found, tuple):
            return None
        index = self.plural(n)
        return found[index] if 0 <= index < len(found) else None


def po_path(language: str, locales: Path | None = None) -> Path:
    return (locales or LOCALES) / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(language: str, path: Path) -> Catalog:
    """The translated entries of the `.po` file at `path`."""
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        po = read_po(handle, locale=language, ignore_obsolete=True)
    messages: dict[Key, str | tuple[str, ...]] = {}
    for message in po:
        if not message.id or message.fuzzy or not message.context:
            continue
        if isinstance(message.id, tuple | list):
            forms = tuple(message.string or ())
            if forms and all(forms) and len(forms) == po.num_plurals:
                messages[(message.context, str(message.id[0]))] = forms
        elif message.string:
            messages[(message.context, str(message.id))] = str(message.string)
    return Catalog(language, messages, gettext.c2py(po.plural_expr))


class _Catalogs:
    """Every language's catalog, each read once (thread-safe: the insights child and the bot share nothing, but
    a test may read from several threads)."""

    def __init__(self, locales: Path) -> None:
        self.locales = locales
        self._lock = threading.Lock()
        self._loaded: dict[str, Catalog | None] = {}

    def get(self, language: str) -> Catalog | None:
        found = self._loaded.get(language, False)
        if found is not False:
            return found  # type: ignore[return-value]
        with self._lock:
            if language not in self._loaded:
                path = po_path(language, self.locales)
                ok = language != DEFAULT_LANGUAGE and language in LANGUAGES and path.is_file()
                self._loaded[language] = read_catalog(language, path) if ok else None
            return self._loaded[language]


_catalogs = _Catalogs(LOCALES)


def use_locales(locales: Path | None = None) -> None:
    """Read the catalogs from `locales` from now on (tests: a copy with pseudo-translations); None: the package's."""
    global _catalogs
    _catalogs = _Catalogs(locales or LOCALES)


def locales() -> Path:
    """Where the catalogs are read from now."""
    return _catalogs.locales


def catalog(language: str) -> Catalog | None:
    """The catalog of `language` (None for English, or a language without one)."""
    return _catalogs.get(language)


def preload(languages: tuple[str, ...] = LANGUAGES) -> None:
    """Read every catalog now (at start-up: a broken catalog shows at once, not at a user's first message)."""
    for language in languages:
        catalog(language)


def pgettext(language: str, context: str, msgid: str) -> str:
    """The translation of `msgid` in `context`, or `msgid` itself (English)."""
    found = catalog(language)
    return (found.get(context, msgid) if found is not None else None) or msgid


def npgettext(language: str, context: str, singular: str, plural: str, n: int) -> str:
    """The form of a plural message for the number `n`, in `language` (English when not translated)."""
    found = catalog(language)
    text = found.get_plural(context, singular, n) if found is not None else None
    if text:
        return text
    return singular if english_plural(n) == 0 else plural


def format_number(value: int | float, language: str) -> str:
    """A number as `language` writes it ("1,234" in English, "1 234" in Russian); small integers as they are."""
    if isinstance(value, int) and -1000 < value < 1000:
        return str(value)
    from babel.numbers import format_decimal

    return format_decimal(value, locale=language if language in LANGUAGES else DEFAULT_LANGUAGE)


def join_items(items: Iterable[str], language: str) -> str:
    """A plain list ("A, B, C") with the separator CLDR gives `language` (Chinese: "A、B、C"), no "and"."""
    from babel import Locale

    code = language if language in LANGUAGES else DEFAULT_LANGUAGE
    middle = Locale.parse(code).list_patterns["standard"]["middle"]  # e.g. "{0}, {1}" or "{0}、{1}"
    return middle.format("", "").join(items)
