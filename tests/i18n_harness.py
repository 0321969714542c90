"""Catalogs for tests: a copy of the real ones with every entry replaced by a pseudo-translation.

`pseudo_locales(tmp_path)` copies `bot/i18n/locales` and gives every `msgstr` of every language the English text
behind a marker (`⟦ru⟧ ...`, placeholders and HTML kept), and `use_locales` points the running bot at the copy. A
text that reaches a user without the marker did not go through the catalog: the end-to-end tests look for it. Real
translations are replaced too, so the marker works the same for a finished language (the real texts of a finished
language are checked without this harness: `catalogs_for` in tests/test_i18n_bot.py).
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES
from bot.i18n.catalogs import LOCALES, po_path, use_locales


def marker(language: str) -> str:
    return f"⟦{language}⟧"


def pseudo(language: str, english: str) -> str:
    return f"{marker(language)} {english}"


def write_pseudo_catalogs(target: Path, languages: tuple[str, ...] = LANGUAGES) -> Path:
    """A copy of the catalogs in `target`, every entry of `languages` given its pseudo-translation."""
    shutil.copytree(LOCALES, target, dirs_exist_ok=True)
    for language in languages:
        if language == DEFAULT_LANGUAGE:
            continue
        path = po_path(language, target)
        catalog = read_po(io.BytesIO(path.read_bytes()), locale=language)
        for message in catalog:
            if not message.id:
                continue
            if isinstance(message.id, tuple | list):
                one, other = message.id
                message.string = tuple(
                    pseudo(language, one if i == 0 and catalog.num_plurals > 1 else other)
                    for i in range(catalog.num_plurals)
                )
            else:
                message.string = pseudo(language, str(message.id))
            message.flags.discard("fuzzy")
        out = io.BytesIO()
        write_po(out, catalog)
        path.write_bytes(out.getvalue())
    return target


@contextmanager
def pseudo_locales(tmp_path: Path, languages: tuple[str, ...] = LANGUAGES) -> Iterator[Path]:
    """The bot reads the pseudo catalogs while the block runs."""
    target = write_pseudo_catalogs(tmp_path / "locales", languages)
    use_locales(target)
    try:
        yield target
    finally:
        use_locales(None)
