"""The advice texts: the English source (`en.py`), translated through the catalogs (`bot.i18n`).

Every string the advice shows has a catalog entry whose context says where it sits in the table:
`advice.<table>.<key>` (titles, summaries, phrases, expiry, extras, hufi, labels, campaign_names),
`advice.steps.<cause>.<exchange>` for the steps of a cause on an exchange (`default`, an exchange id, or
`<exchange>@<variant>`), `advice.questions.<question key>` for a question and its answers. `lookup(language, *path)`
returns the part of the table at `path` with its strings in `language` (English where the catalog has none);
`messages()` lists every entry for the template.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.advice.texts.en import TEXTS as EN
from bot.i18n import DEFAULT_LANGUAGE, Message, Plural, npgettext, pgettext

#: The English source table (a translation is never a table: it is a catalog).
LANGUAGES: dict[str, dict[str, Any]] = {DEFAULT_LANGUAGE: EN}
PREFIX = "advice"


def context(path: tuple[Any, ...]) -> str:
    """The catalog context of the string at `path` in the table."""
    table = path[0]
    if table == "steps":
        return f"{PREFIX}.steps.{path[1]}.{path[2]}"
    if table == "questions":
        return f"{PREFIX}.questions.{EN['questions'][path[1]]['key']}"
    return f"{PREFIX}.{table}.{path[1]}"


def _translatable(path: tuple[Any, ...]) -> bool:
    """Whether the string at `path` is words (not a question's key, the causes it is about, or an answer's cause)."""
    if path[0] != "questions":
        return True
    return (len(path) == 3 and path[2] == "text") or (len(path) == 5 and path[2] == "answers" and path[4] == 0)


def _translate(node: Any, path: tuple[Any, ...], language: str) -> Any:
    if isinstance(node, str):
        return pgettext(language, context(path), node) if _translatable(path) else node
    if isinstance(node, Plural):
        return node
    if isinstance(node, dict):
        return {key: _translate(value, (*path, key), language) for key, value in node.items()}
    if isinstance(node, list | tuple):
        return type(node)(_translate(value, (*path, i), language) for i, value in enumerate(node))
    return node


def _at(path: tuple[str, ...]) -> Any:
    node: Any = EN
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


def lookup(language: str, *path: str) -> Any:
    """The table's node at `path` in `language` (English where not translated); None when there is none. A plural
    text comes back as its `Plural` (use `plural_text`)."""
    node = _at(path)
    if node is None or language == DEFAULT_LANGUAGE:
        return node
    return _translate(node, path, language)


def plural_text(language: str, n: int, *path: str) -> str:
    """The form for the number `n` of the plural (or plain) text at `path`, in `language`."""
    node = _at(path)
    if isinstance(node, Plural):
        return npgettext(language, context(path), node.one, node.other, n)
    return pgettext(language, context(path), node) if isinstance(node, str) else ""


def messages() -> Iterator[Message]:
    """Every catalog entry of the advice texts, in table order."""

    def walk(node: Any, path: tuple[Any, ...]) -> Iterator[Message]:
        if isinstance(node, Plural):
            yield Message(context(path), node.one, node.other)
        elif isinstance(node, str):
            if _translatable(path) and node:
                yield Message(context(path), node)
        elif isinstance(node, dict):
            for key, value in node.items():
                yield from walk(value, (*path, key))
        elif isinstance(node, list | tuple):
            for i, value in enumerate(node):
                yield from walk(value, (*path, i))

    yield from walk(EN, ())
