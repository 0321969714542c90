"""A verdict: the causes one exchange reply can mean, most likely first, and where that knowledge comes from.

Kept apart from the tables so that `bot.diagnosis.rules` and `bot.diagnosis.exchange_codes` can both build
verdicts without importing each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.diagnosis.model import Cause


@dataclass(frozen=True, slots=True)
class Verdict:
    """Causes (most likely first), what the code means, and text refinements checked in order.

    `note` holds the exchange's documented words for the code (or our summary where it documents none);
    `source` names where the entry comes from when that is not the table's own error-code page.
    """

    causes: tuple[Cause, ...]
    note: str = ""
    refine: tuple[tuple[re.Pattern[str], Verdict], ...] = ()
    code: str | None = None  # a label for the diagnosis when the reply carries no code of its own
    source: str = ""

    @property
    def cause(self) -> Cause:
        return self.causes[0]

    @property
    def alternatives(self) -> tuple[Cause, ...]:
        return self.causes[1:]

    def narrowed(self, text: str) -> Verdict:
        for pattern, verdict in self.refine:
            if pattern.search(text):
                return verdict.narrowed(text)
        return self


def V(
    *causes: Cause,
    note: str = "",
    code: str | None = None,
    refine: tuple[tuple[str, Verdict], ...] = (),
    source: str = "",
) -> Verdict:
    """Build a verdict; `refine` patterns are case-insensitive regular expressions."""
    assert causes, "a verdict needs at least one cause"
    unique = tuple(dict.fromkeys(causes))
    compiled = tuple((re.compile(p, re.IGNORECASE), v) for p, v in refine)
    return Verdict(unique, note, compiled, code, source)
