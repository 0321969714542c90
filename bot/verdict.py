"""The verdict of a key check as a view model: worked out once, rendered by each edge in its own format.

`verdict_view(report)` says what the chat (`handlers.render`), the support card (`bot.support.card`, rendered by
`handlers.card`) and the command line (`bot.__main__`) show: whether the key passes, the cause and its title, what
else it could be, the exchange's code (for staff) and what the exchange said in its own words (for the user: never
one of our internal labels), which permissions are granted or missing, the campaign types the key qualifies for, the
steps to fix it (the last one: what to do in HuFi), whether checking the same key again can help, and the question
that narrows an ambiguous cause down. `focus`: the permissions a pasted HuFi error named, which the verdict leads
with. Plain text throughout (the advice layer's texts, already redacted); no markup, no `telegram`.

The cause is the report's `verdict` (the pre-request problem, else the diagnosis), or `Cause.UNKNOWN` for a failed
report without one. When the check stopped before any request, nothing is said about permissions or campaign types:
no probe ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.advice import Question, Said, Step, cause_title, exchange_said, hufi_next_text, question_for, steps_for
from bot.advice.causes import recheck_helps
from bot.advice.prechecks import precheck_text
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
    code: str | None  # the diagnosis' code for a failure (for staff: may be one of our labels)
    #: the code, when it is the exchange's own (its reply carries it); what a user may see
    exchange_code: str | None = None


@dataclass(frozen=True, slots=True)
class Alternative:
    cause: Cause
    title: str


@dataclass(frozen=True, slots=True)
class VerdictView:
    """What a finished check means, for any edge to render."""

    exchange_id: str
    exchange_name: str
    #: the permissions a pasted HuFi error named (the verdict leads with them); empty otherwise
    focus: tuple[Permission, ...]
    fingerprint: str
    ok: bool
    #: The check stopped before any request (incomplete or malformed credentials, a DEX).
    stopped_early: bool
    #: None when the key passes; the chosen cause when the user picked one.
    cause: Cause | None
    title: str
    alternatives: tuple[Alternative, ...]
    #: the diagnosis' code as stored, for staff (may be one of our labels)
    code: str | None
    detail: str | None
    #: what the exchange said, for the user: its words and code, or plain words instead of one of our labels
    said: Said | None
    probes: tuple[ProbeLine, ...]
    granted: tuple[Permission, ...]
    missing: tuple[Permission, ...]
    qualifies: tuple[CampaignType, ...]
    steps: tuple[Step, ...]
    #: A question whose answer narrows the cause down (None once the user answered one).
    question: Question | None
    #: checking the same key again can help (offer "check again", say the key is kept); False once it passes
    recheck: bool
    #: what to do in HuFi's app once the key works ("" when nothing: a DEX); the last step says it too
    hufi_next: str
    #: what a pre-check found, in the user's language ("" when the check reached the exchange)
    found: str = ""

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
    focus: Sequence[Permission] = (),
) -> VerdictView:
    """The view of `report`. `chosen`: the cause the user picked in answer to the question (replaces the cause,
    keeps the exchange's code and detail, drops the alternatives). `focus`: the permissions a HuFi error named."""
    spec = CATALOG.get(report.exchange_id)
    name = spec.display_name if spec is not None else report.exchange_id
    early = report.precheck is not None
    probes = tuple(_probe_line(report, perm) for perm in Permission)
    granted = () if early else tuple(report.granted)
    missing = () if early else tuple(report.missing)
    qualifies = () if early else tuple(ct for ct, ok in report.campaign_types.items() if ok)
    common = {
        "exchange_id": report.exchange_id,
        "exchange_name": name,
        "focus": tuple(p for p in Permission if p in set(focus)),
        "fingerprint": report.key_fingerprint,
        "stopped_early": early,
        "probes": probes,
        "granted": granted,
        "missing": missing,
        "qualifies": qualifies,
    }
    if report.ok:
        return VerdictView(
            ok=True,
            cause=None,
            title="",
            alternatives=(),
            code=None,
            detail=None,
            said=None,
            steps=(),
            question=None,
            recheck=False,
            hufi_next=hufi_next_text(None, report.exchange_id, language),
            **common,
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
        key_permissions=_key_permissions(report),
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
        said=exchange_said(report, name, diagnosis.code, language),
        steps=tuple(steps),
        question=None if chosen is not None else question_for(diagnosis, report.exchange_id, language),
        recheck=recheck_helps(diagnosis.cause),
        hufi_next=hufi_next_text(diagnosis.cause, report.exchange_id, language),
        found=precheck_text(report.precheck, report.exchange_id, language) if early else "",
        **common,
    )


def _probe_line(report: KeyCheckReport, perm: Permission) -> ProbeLine:
    outcome = report.outcomes[perm]
    code = outcome.diagnosis.code if outcome.diagnosis else None
    own = code if code and outcome.error_message and code in outcome.error_message else None
    return ProbeLine(perm, outcome.status, outcome.summary, code, own)


def _key_permissions(report: KeyCheckReport) -> list[str]:
    """The permission names a key-info reply listed (Kraken, KuCoin), as the check stored them."""
    info = report.evidence.get("key_info") if isinstance(report.evidence, dict) else None
    perms = info.get("permissions") if isinstance(info, dict) else None
    return [str(p) for p in perms] if isinstance(perms, list) else []
