"""What the advice layer returns: steps to follow and questions that settle an ambiguous diagnosis."""

from __future__ import annotations

from dataclasses import dataclass

from bot.diagnosis.model import Cause


@dataclass(frozen=True, slots=True)
class Step:
    """One thing to do. Plain text, no markup, never a secret."""

    title: str
    text: str


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer to a `Question`, and the cause it points to."""

    label: str
    cause: Cause


@dataclass(frozen=True, slots=True)
class Question:
    """A short question whose answer picks one cause among a diagnosis' alternatives.

    `key` is a stable identifier (safe for callback data); `answers` has 2 to 4 entries.
    """

    key: str
    text: str
    answers: tuple[Answer, ...]
