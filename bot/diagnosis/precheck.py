"""Placeholder for the checks that need no request (replaced by the diagnosis issue)."""

from __future__ import annotations

from bot.diagnosis.model import Cause, Diagnosis
from bot.exchanges.catalog import ExchangeSpec
from bot.exchanges.credentials import Credentials, incomplete_problems


def precheck(spec: ExchangeSpec, creds: Credentials) -> Diagnosis | None:
    """A Diagnosis when the credentials can't be right whatever the exchange says; None otherwise."""
    problems = incomplete_problems(spec, creds)
    if problems:
        return Diagnosis(
            Cause.INCOMPLETE_CREDENTIALS, code=problems[0].problem, detail=" ".join(p.message for p in problems)
        )
    return None
