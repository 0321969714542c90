"""The support card in Telegram HTML: `render_card(card)` lays out a `SupportCard` (bot.support.card).

Every value is HTML-escaped here (the core has already redacted, masked and shortened it); the card stays under
CARD_LIMIT characters, dropping the steps first and then lines from the end, so it always fits in one message.
Its words (`handlers.texts.CARD`) are in the staff language (STAFF_LANGUAGE); the user's own words (the
description) are shown as they wrote them, and the card names the language the user reads.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.exchanges.report import ProbeStatus
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, native_name
from bot.support.card import CardCheck, SupportCard
from handlers.render import esc
from handlers.texts import card_text, t

#: Telegram's limit for a message text; the card stays below it with room to spare.
MAX_MESSAGE_LENGTH = 4096
CARD_LIMIT = 3900

_MARKS = {
    ProbeStatus.GRANTED: "✅",
    ProbeStatus.FAILED: "❌",
    ProbeStatus.NOT_CHECKED: "▫️",
    ProbeStatus.WAITING: "⏳",
}


def when(timestamp: float | None) -> str:
    """A time for staff, in UTC."""
    if timestamp is None:
        return "?"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def language_line(code: str, app: str | None = None, lang: str = DEFAULT_LANGUAGE) -> str:
    """The user's language for staff: its own name and its code ("Русский (ru)"), and the Telegram app's language
    when it differs; a code we have no catalog for (a card queued by an older version) as it is."""
    named = f"{native_name(code)} ({code})" if code in LANGUAGES else code
    return card_text(lang, "language_app", language=named, app=app) if app else named


def _check_lines(check: CardCheck, lang: str) -> tuple[list[str], list[str]]:
    """The check part of the card, split into what must stay and the steps (dropped first when too long)."""

    def say(key: str, **values: object) -> str:
        return card_text(lang, key, **values)

    lines = [
        say(
            "check", id=check.id, time=when(check.at), exchange=esc(check.exchange), fingerprint=esc(check.fingerprint)
        ),
        say("campaign", campaign=esc(check.campaign or say("campaign_any"))),
    ]
    for probe in check.probes:
        detail = say("perm_detail", text=esc(probe.detail)) if probe.detail else ""
        lines.append(
            say(
                "perm_line",
                mark=_MARKS.get(probe.status, "?"),
                permission=t(lang, "perm_" + probe.permission.value),
                detail=detail,
            )
        )
    steps: list[str] = []
    if check.ok:
        lines.append(say("verdict_ok"))
    else:
        key = "precheck" if check.stopped_early else "cause"
        lines.append(say(key, title=esc(check.title), cause=esc(check.cause)))
        if check.alternatives:
            items = "; ".join(say("alternative", title=esc(a.title), cause=esc(a.cause)) for a in check.alternatives)
            lines.append(say("alternatives", items=items))
        if check.code:
            lines.append(say("code", code=esc(check.code)))
        if check.detail:
            lines.append(say("detail", detail=esc(check.detail)))
        if check.steps:
            steps.append(say("steps"))
            steps += [say("step", n=i, title=esc(title)) for i, title in enumerate(check.steps, 1)]
    if check.qualifies is not None:
        lines.append(
            say("qualifies", types=esc(", ".join(check.qualifies))) if check.qualifies else say("qualifies_none")
        )
    return lines, steps


def render_card(card: SupportCard, language: str = DEFAULT_LANGUAGE) -> str:
    """The card as Telegram HTML in `language` (the staff language), under CARD_LIMIT characters."""

    def say(key: str, **values: object) -> str:
        return card_text(language, key, **values)

    head = say(card.header.value, ticket=card.ticket_id if card.ticket_id is not None else "?")
    username = f" @{esc(card.username)}" if card.username else ""
    lines = [
        head,
        say(
            "user",
            name=esc(card.name),
            username=username,
            id=card.user_id,
            language=esc(language_line(card.language, card.app_language, language)),
        ),
    ]
    if card.blocked:
        lines.append(say("user_blocked"))
    if card.description is not None:
        lines.append(
            say("description", text=esc(card.description)) if card.description.strip() else say("no_description")
        )
    steps: list[str] = []
    if card.check is None:
        lines.append(say("no_check"))
    else:
        check_lines, steps = _check_lines(card.check, language)
        lines += ["", *check_lines]
    footer = say("footer", version=esc(card.version), time=when(card.at))
    return _fit(lines, steps, footer, language)


def _fit(lines: list[str], steps: list[str], footer: str, language: str) -> str:
    """Join the card, dropping steps (then shortening lines) until it is under CARD_LIMIT."""

    def say(key: str, **values: object) -> str:
        return card_text(language, key, **values)

    def joined(body: list[str], tail: list[str]) -> str:
        parts = body + (["", *tail] if tail else []) + ["", footer]
        return "\n".join(parts)

    text = joined(lines, steps)
    while len(text) > CARD_LIMIT and len(steps) > 1:
        kept = steps[:-2] if len(steps) > 2 else steps[:1]
        dropped = len(steps) - len(kept)
        steps = [*kept, say("steps_more", count=dropped)] if len(kept) > 1 else []
        text = joined(lines, steps)
    if len(text) > CARD_LIMIT:
        steps = []
        while lines and len(joined([*lines, say("truncated")], steps)) > CARD_LIMIT:
            lines = lines[:-1]
        text = joined([*lines, say("truncated")], steps)
    return text[:MAX_MESSAGE_LENGTH]
