"""The verdict of a key check as a view model: worked out once, rendered by each edge in its own format.

`verdict_view(report)` says what the chat (`handlers.render`), the support card (`bot.support.card`, rendered by
`handlers.card`) and the command line (`bot.__main__`) show: whether the key passes, the cause and its title, what
else it could be, the exchange's code, which permissions are granted or missing, the campaign types the key
qualifies for, the steps to fix it and the question that narrows an ambiguous cause down. Plain text throughout
(the advice layer's texts, already redacted); no markup, no `telegram`.

The cause is the report's `verdict` (the pre-request problem, else the diagnosis), or `Cause.UNKNOWN` for a failed
report without one. When the check stopped before any request, nothing is said about permissions or campaign types:
no probe ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.advice import Question, Step, cause_title, question_for, steps_for
from bot.advice.texts import DEFAULT_LANGUAGE, lookup
from bot.diagnosis.model import CampaignType, Cause, Diagnosis, Permission
from bot.exchanges.catalog import CATALOG
from bot.exchanges.report import KeyCheckReport, ProbeStatus


@dataclass(frozen=True, slots=True)
class ProbeLine:
    """One permission as the check left it."""

    permission: Permission
    status: ProbeStatus
    summary: str | None  # a redacted word about a success ("3 assets")
    code: str | None  # the exchange's code for a failure, when there is one


@dataclass(frozen=True, slots=True)
class Alternative:
    cause: Cause
    title: str


@dataclass(frozen=True, slots=True)
class VerdictView:
    """What a finished check means, for any edge to render."""

    exchange_id: str
    exchange_name: str
    fingerprint: str
    ok: bool
    #: The check stopped before any request (incomplete or malformed credentials, a DEX).
    stopped_early: bool
    #: None when the key passes; the chosen cause when the user picked one.
    cause: Cause | None
    title: str
    alternatives: tuple[Alternative, ...]
    code: str | None
    detail: str | None
    probes: tuple[ProbeLine, ...]
    granted: tuple[Permission, ...]
    missing: tuple[Permission, ...]
    qualifies: tuple[CampaignType, ...]
    steps: tuple[Step, ...]
    #: A question whose answer narrows the cause down (None once the user answered one).
    question: Question | None

    def campaign_names(self, language: str = DEFAULT_LANGUAGE) -> list[str]:
        """The qualifying campaign types by name, in HuFi's order."""
        return [campaign_name(ct, language) for ct in self.qualifies]


def campaign_name(campaign: CampaignType | str, language: str = DEFAULT_LANGUAGE) -> str:
    """A campaign type's name ("Market making"), from the advice texts."""
    value = str(campaign)
    return lookup(language, "campaign_names", value) or value


def verdict_view(
    report: KeyCheckReport,
    *,
    outbound_ips: Sequence[str] = (),
    chosen: Cause | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> VerdictView:
    """The view of `report`. `chosen`: the cause the user picked in answer to the question (replaces the cause,
    keeps the exchange's code and detail, drops the alternatives)."""
    spec = CATALOG.get(report.exchange_id)
    name = spec.display_name if spec is not None else report.exchange_id
    early = report.precheck is not None
    probes = tuple(
        ProbeLine(
            perm,
            report.outcomes[perm].status,
            report.outcomes[perm].summary,
            report.outcomes[perm].diagnosis.code if report.outcomes[perm].diagnosis else None,
        )
        for perm in Permission
    )
    granted = () if early else tuple(report.granted)
    missing = () if early else tuple(report.missing)
    qualifies = () if early else tuple(ct for ct, ok in report.campaign_types.items() if ok)
    common = {
        "exchange_id": report.exchange_id,
        "exchange_name": name,
        "fingerprint": report.key_fingerprint,
        "stopped_early": early,
        "probes": probes,
        "granted": granted,
        "missing": missing,
        "qualifies": qualifies,
    }
    if report.ok:
        return VerdictView(
            ok=True, cause=None, title="", alternatives=(), code=None, detail=None, steps=(), question=None, **common
        )
    diagnosis = report.verdict or Diagnosis(Cause.UNKNOWN)
    if chosen is not None:
        diagnosis = Diagnosis(chosen, code=diagnosis.code, detail=diagnosis.detail)
    steps = steps_for(
        diagnosis,
        report.exchange_id,
        outbound_ips=outbound_ips,
        language=language,
        granted=list(granted),
        missing=list(missing) or None,
    )
    return VerdictView(
        ok=False,
        cause=diagnosis.cause,
        title=cause_title(diagnosis.cause, language, exchange_id=report.exchange_id),
        alternatives=tuple(
            Alternative(c, cause_title(c, language, exchange_id=report.exchange_id)) for c in diagnosis.alternatives
        ),
        code=diagnosis.code,
        detail=diagnosis.detail,
        steps=tuple(steps),
        question=None if chosen is not None else question_for(diagnosis, report.exchange_id, language),
        **common,
    )
