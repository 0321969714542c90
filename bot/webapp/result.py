"""What a form submission hands to the bot, and what the page shows back.

The web layer knows nothing about how a check runs: it calls a `Submitter` (injected), which the wiring
implements with the chat's check service so the same limits apply and the progress and verdict also appear
in the chat. `result_from_report` turns a finished report into the page's short summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.advice.advisor import cause_title
from bot.advice.said import exchange_said
from bot.diagnosis.model import CampaignType, Cause, Diagnosis, Permission
from bot.exchanges.catalog import CATALOG
from bot.exchanges.credentials import Credentials
from bot.exchanges.report import KeyCheckReport, ProbeStatus
from bot.security import redact
from bot.webapp.initdata import WebAppInitData
from bot.webapp.texts import text


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """The verdict summary the page shows (plain text; the page never renders it as HTML).

    `checked` is False when the check did not run (the user's hourly limit, a ban): `title` says why.
    Nothing in it may carry a credential; the server refuses to send one that does.
    """

    ok: bool
    title: str
    details: tuple[str, ...] = ()
    checked: bool = True


class Submitter(Protocol):
    """Runs the check for a validated submission. Raises nothing the user should see; returns the summary."""

    async def __call__(
        self,
        user_id: int,
        exchange_id: str,
        credentials: Credentials,
        campaign_type: CampaignType | None,
        *,
        init_data: WebAppInitData,
    ) -> SubmissionResult: ...


def _campaigns(report: KeyCheckReport, language: str) -> str:
    return ", ".join(text(f"campaign_{ct.value}", language) for ct, ok in report.campaign_types.items() if ok)


def result_from_report(report: KeyCheckReport, language: str = "en") -> SubmissionResult:
    """The page's summary of a finished check: the verdict line and one line per permission."""
    spec = CATALOG[report.exchange_id]
    if report.precheck is not None:
        diag = report.precheck
        title = cause_title(diag.cause, language, exchange_id=spec.id)
        return SubmissionResult(False, title, (redact(diag.detail),) if diag.detail else ())
    lines: list[str] = []
    for perm in Permission:
        outcome = report.outcomes[perm]
        name = text(f"perm_{perm.value}", language)
        if outcome.status is ProbeStatus.GRANTED:
            lines.append(text("perm_granted", language, permission=name))
        elif outcome.status is ProbeStatus.FAILED:
            cause = (outcome.diagnosis or Diagnosis(Cause.UNKNOWN)).cause
            title = cause_title(cause, language, exchange_id=spec.id)
            lines.append(text("perm_failed", language, permission=name, cause=title))
        else:
            lines.append(text("perm_skipped", language, permission=name))
    if report.ok:
        return SubmissionResult(True, text("verdict_ok", language), tuple(lines))
    diag = report.diagnosis or Diagnosis(Cause.UNKNOWN)
    campaigns = _campaigns(report, language)
    if campaigns:
        lines.append(text("qualifies", language, campaigns=campaigns))
    said = exchange_said(report, spec.display_name, diag.code, language)  # never one of our internal labels
    if said is not None and (said.words or said.code):
        words = " ".join(part for part in (said.words, f"({said.code})" if said.code else None) if part)
        lines.append(text("exchange_said", language, exchange=spec.display_name, code=redact(words)))
    elif said is not None and said.note:
        lines.append(redact(said.note))
    return SubmissionResult(False, cause_title(diag.cause, language, exchange_id=spec.id), tuple(lines))
