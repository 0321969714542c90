"""Advice texts per language. English is complete; another language may leave keys out (English fills in)."""

from __future__ import annotations

from typing import Any

from bot.advice.texts.en import TEXTS as EN

LANGUAGES: dict[str, dict[str, Any]] = {"en": EN}
DEFAULT_LANGUAGE = "en"


def texts(language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """The texts of `language` (e.g. "en", "en-GB"), falling back to English."""
    code = (language or DEFAULT_LANGUAGE).strip().lower().replace("_", "-")
    return LANGUAGES.get(code) or LANGUAGES.get(code.split("-")[0]) or LANGUAGES[DEFAULT_LANGUAGE]


def lookup(language: str, *path: str) -> Any:
    """A text by path in `language`, or the English one when the translation lacks it."""
    for table in (texts(language), LANGUAGES[DEFAULT_LANGUAGE]):
        node: Any = table
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
            if node is None:
                break
        if node is not None:
            return node
    return None
