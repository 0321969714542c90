"""The diagnosis card staff see first in a ticket, as a view model (no markup: `handlers.card` renders it).

Built from the stored check (already redacted when stored) through the one verdict view (`bot.verdict`). Every
free text in it (names, the description, error details) is redacted, masked for anything credential-like and
shortened here, so what is queued in the outbox never holds a secret; the edge only escapes and lays it out.
It is a pydantic model because it travels through the outbox as JSON and must come back the same. Its words
(cause titles, step titles, campaign names) are in the staff language (`staff_language`, STAFF_LANGUAGE), the
language the edge lays the card out in; `language` is the language the user reads, and the description is the
user's own words, untranslated.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.diagnosis.model import Cause, Permission
from bot.exchanges.report import KeyCheckReport, ProbeStatus
from bot.i18n import DEFAULT_LANGUAGE
from bot.secret_scan import mask_credential_tokens
from bot.security import MASK, redact
from bot.verdict import campaign_name, verdict_view
from storage.checks import CheckRecord
from storage.users import UserRecord

DETAIL_LIMIT = 600
CODE_LIMIT = 120
OUTCOME_DETAIL_LIMIT = 180
DESCRIPTION_LIMIT = 500
NAME_LIMIT = 80


class CardHeader(StrEnum):
    """Why the card is posted (the edge has a headline for each)."""

    NEW = "header"
    NEW_CHECK = "header_new_check"
    RECHECK = "header_recheck"
    RECHECK_NO_TICKET = "header_recheck_no_ticket"
    NEW_TOPIC = "header_new_topic"
    AGAIN = "header_again"  # the support group was upgraded (or got topics): the card again where messages go now


#: Headers under which the ticket's description is shown again.
WITH_DESCRIPTION = frozenset({CardHeader.NEW, CardHeader.NEW_TOPIC, CardHeader.AGAIN})


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class CardProbe(_View):
    permission: Permission
    status: ProbeStatus
    detail: str  # what staff need about this probe ("ip_not_whitelisted · code 700006 · PermissionDenied: …")


class CardAlternative(_View):
    cause: Cause
    title: str


class CardCheck(_View):
    id: int
    at: float
    exchange: str
    fingerprint: str
    campaign: str | None  # the campaign type's name, None when the user did not choose one
    probes: tuple[CardProbe, ...]
    ok: bool
    stopped_early: bool
    cause: Cause | None
    title: str
    alternatives: tuple[CardAlternative, ...]
    code: str | None
    detail: str | None
    steps: tuple[str, ...]  # the titles of the steps the user was shown
    qualifies: tuple[str, ...] | None  # None when the check stopped before any request


class SupportCard(_View):
    header: CardHeader
    ticket_id: int | None
    user_id: int
    name: str
    username: str | None
    #: the language the user reads (a code of bot.i18n; "?" when the bot never saw the user)
    language: str
    blocked: bool
    #: the language of the user's Telegram app (its `language_code`), when it says something else
    app_language: str | None = None
    description: str | None  # None: not shown under this header; "": the user gave none
    check: CardCheck | None
    version: str
    at: float
    #: the language the card's words are in (the staff language when it was made)
    staff_language: str = DEFAULT_LANGUAGE


def _app_language(user: UserRecord | None) -> str | None:
    """The user's Telegram app language, when it is not simply the language the user reads."""
    code = (user.language_code or "").strip()[:16] if user is not None else ""
    return code if code and code.replace("-", "_").lower() != user.reads.lower() else None  # type: ignore[union-attr]


def clean(text: object, limit: int) -> str:
    """Free text for staff: secrets redacted, credential-like tokens masked, shortened (not escaped)."""
    value = mask_credential_tokens(redact(text), MASK).strip()
    if len(value) > limit:
        value = value[: max(limit - 1, 0)].rstrip() + "…"
    return value


def display_name(user: UserRecord | None, user_id: int) -> str:
    """The user's first name, or their id when the bot never saw them."""
    name = (user.first_name if user is not None else "").strip()
    return name or f"user {user_id}"


def _probe_detail(report: KeyCheckReport, perm: Permission) -> str:
    outcome = report.outcomes[perm]
    parts: list[str] = []
    if outcome.diagnosis is not None and outcome.status is ProbeStatus.FAILED:
        parts.append(str(outcome.diagnosis.cause))
        if outcome.diagnosis.code:
            parts.append(f"code {outcome.diagnosis.code}")
    if outcome.error_type:
        parts.append(f"{outcome.error_type}: {outcome.error_message or ''}".rstrip(": "))
    elif outcome.summary and outcome.status is ProbeStatus.GRANTED:
        parts.append(outcome.summary)
    return clean(" · ".join(parts), OUTCOME_DETAIL_LIMIT) if parts else ""


def check_view(check: CheckRecord, outbound_ips: Sequence[str] = (), language: str = DEFAULT_LANGUAGE) -> CardCheck:
    """The check part of the card, from the one verdict view, worded in `language` (the staff language)."""
    report = check.to_report()
    view = verdict_view(report, outbound_ips=outbound_ips, language=language)
    return CardCheck(
        id=check.id,
        at=check.created_at,
        exchange=view.exchange_name,
        fingerprint=report.key_fingerprint,
        campaign=campaign_name(check.campaign_type, language) if check.campaign_type else None,
        probes=tuple(
            CardProbe(permission=p, status=report.outcomes[p].status, detail=_probe_detail(report, p))
            for p in Permission
        ),
        ok=view.ok,
        stopped_early=view.stopped_early,
        cause=view.cause,
        title=view.title,
        alternatives=tuple(CardAlternative(cause=a.cause, title=a.title) for a in view.alternatives),
        code=clean(view.code, CODE_LIMIT) if view.code else None,
        detail=clean(view.detail, DETAIL_LIMIT) if view.detail else None,
        steps=tuple(step.title for step in view.steps),
        qualifies=None if view.stopped_early else tuple(view.campaign_names(language)),
    )


def support_card(
    *,
    header: CardHeader = CardHeader.NEW,
    ticket_id: int | None,
    user_id: int,
    user: UserRecord | None,
    description: str | None,
    check: CheckRecord | None,
    version: str,
    now: float,
    outbound_ips: Sequence[str] = (),
    staff_language: str = DEFAULT_LANGUAGE,
) -> SupportCard:
    """The card for a ticket (or a re-check without one): who, what they said, what the check found."""
    return SupportCard(
        header=header,
        ticket_id=ticket_id,
        user_id=user_id,
        name=clean(display_name(user, user_id), NAME_LIMIT),
        username=user.username if user is not None and user.username else None,
        language=user.reads if user is not None else "?",
        app_language=_app_language(user),
        blocked=bool(user is not None and user.blocked_bot),
        description=None if description is None else clean(description, DESCRIPTION_LIMIT),
        check=None if check is None else check_view(check, outbound_ips, staff_language),
        version=version,
        at=now,
        staff_language=staff_language,
    )
