"""The support card in Telegram HTML: `render_card(card)` lays out a `SupportCard` (bot.support.card).

Every value is HTML-escaped here (the core has already redacted, masked and shortened it); the card stays under
CARD_LIMIT characters, dropping the steps first and then lines from the end, so it always fits in one message.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.exchanges.report import ProbeStatus
from bot.support.card import CardCheck, SupportCard
from handlers.render import esc
from handlers.texts import t

#: Telegram's limit for a message text; the card stays below it with room to spare.
MAX_MESSAGE_LENGTH = 4096
CARD_LIMIT = 3900

#: The words of the card, as data (English).
CARD_TEXTS: dict[str, str] = {
    "header": "🆘 <b>Ticket #{ticket}</b>",
    "header_new_check": "📎 <b>Ticket #{ticket}: a newer check</b>",
    "header_recheck": "🔁 <b>Ticket #{ticket}: re-check requested by staff</b>",
    "header_recheck_no_ticket": "🔁 <b>Re-check requested by staff</b> (no open ticket)",
    "header_new_topic": "🧵 <b>Ticket #{ticket}</b> (new topic: the previous one was deleted)",
    "header_again": (
        "🧵 <b>Ticket #{ticket}</b> (again: the support group was upgraded or got topics; earlier messages are "
        "further up)"
    ),
    "user": "👤 {name}{username} · id <code>{id}</code> · language {language}",
    "user_blocked": "⚠️ The user has blocked the bot: replies can't be delivered.",
    "description": "📝 {text}",
    "no_description": "📝 (no description)",
    "no_check": "🔎 No key check on record for this user.",
    "check": "🔎 Check #{id} at {time} · {exchange} · key <code>{fingerprint}</code>",
    "campaign": "Campaign type: {campaign}",
    "campaign_any": "not chosen",
    "perm_line": "{mark} {permission}{detail}",
    "perm_detail": " — {text}",
    "verdict_ok": "✅ Passes every check HuFi runs.",
    "cause": "Cause: <b>{title}</b> (<code>{cause}</code>)",
    "precheck": "Stopped before any request: <b>{title}</b> (<code>{cause}</code>)",
    "alternative": "{title} (<code>{cause}</code>)",
    "alternatives": "Or else: {items}",
    "code": "Exchange code: <code>{code}</code>",
    "detail": "Detail: <code>{detail}</code>",
    "qualifies": "Qualifies for: {types}",
    "qualifies_none": "Qualifies for no campaign type yet.",
    "steps": "Steps shown to the user:",
    "step": "{n}. {title}",
    "steps_more": "… and {count} more",
    "footer": "Bot {version} · card at {time}",
    "truncated": "… (shortened)",
}
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


def _check_lines(check: CardCheck) -> tuple[list[str], list[str]]:
    """The check part of the card, split into what must stay and the steps (dropped first when too long)."""
    lines = [
        CARD_TEXTS["check"].format(
            id=check.id, time=when(check.at), exchange=esc(check.exchange), fingerprint=esc(check.fingerprint)
        ),
        CARD_TEXTS["campaign"].format(campaign=esc(check.campaign or CARD_TEXTS["campaign_any"])),
    ]
    for probe in check.probes:
        detail = CARD_TEXTS["perm_detail"].format(text=esc(probe.detail)) if probe.detail else ""
        lines.append(
            CARD_TEXTS["perm_line"].format(
                mark=_MARKS.get(probe.status, "?"), permission=t("perm_" + probe.permission.value), detail=detail
            )
        )
    steps: list[str] = []
    if check.ok:
        lines.append(CARD_TEXTS["verdict_ok"])
    else:
        key = "precheck" if check.stopped_early else "cause"
        lines.append(CARD_TEXTS[key].format(title=esc(check.title), cause=esc(check.cause)))
        if check.alternatives:
            items = "; ".join(
                CARD_TEXTS["alternative"].format(title=esc(a.title), cause=esc(a.cause)) for a in check.alternatives
            )
            lines.append(CARD_TEXTS["alternatives"].format(items=items))
        if check.code:
            lines.append(CARD_TEXTS["code"].format(code=esc(check.code)))
        if check.detail:
            lines.append(CARD_TEXTS["detail"].format(detail=esc(check.detail)))
        if check.steps:
            steps.append(CARD_TEXTS["steps"])
            steps += [CARD_TEXTS["step"].format(n=i, title=esc(title)) for i, title in enumerate(check.steps, 1)]
    if check.qualifies is not None:
        lines.append(
            CARD_TEXTS["qualifies"].format(types=esc(", ".join(check.qualifies)))
            if check.qualifies
            else CARD_TEXTS["qualifies_none"]
        )
    return lines, steps


def render_card(card: SupportCard) -> str:
    """The card as Telegram HTML, under CARD_LIMIT characters."""
    head = CARD_TEXTS[card.header.value].format(ticket=card.ticket_id if card.ticket_id is not None else "?")
    username = f" @{esc(card.username)}" if card.username else ""
    lines = [
        head,
        CARD_TEXTS["user"].format(name=esc(card.name), username=username, id=card.user_id, language=esc(card.language)),
    ]
    if card.blocked:
        lines.append(CARD_TEXTS["user_blocked"])
    if card.description is not None:
        lines.append(
            CARD_TEXTS["description"].format(text=esc(card.description))
            if card.description.strip()
            else CARD_TEXTS["no_description"]
        )
    steps: list[str] = []
    if card.check is None:
        lines.append(CARD_TEXTS["no_check"])
    else:
        check_lines, steps = _check_lines(card.check)
        lines += ["", *check_lines]
    footer = CARD_TEXTS["footer"].format(version=esc(card.version), time=when(card.at))
    return _fit(lines, steps, footer)


def _fit(lines: list[str], steps: list[str], footer: str) -> str:
    """Join the card, dropping steps (then shortening lines) until it is under CARD_LIMIT."""

    def joined(body: list[str], tail: list[str]) -> str:
        parts = body + (["", *tail] if tail else []) + ["", footer]
        return "\n".join(parts)

    text = joined(lines, steps)
    while len(text) > CARD_LIMIT and len(steps) > 1:
        kept = steps[:-2] if len(steps) > 2 else steps[:1]
        dropped = len(steps) - len(kept)
        steps = [*kept, CARD_TEXTS["steps_more"].format(count=dropped)] if len(kept) > 1 else []
        text = joined(lines, steps)
    if len(text) > CARD_LIMIT:
        steps = []
        while lines and len(joined([*lines, CARD_TEXTS["truncated"]], steps)) > CARD_LIMIT:
            lines = lines[:-1]
        text = joined([*lines, CARD_TEXTS["truncated"]], steps)
    return text[:MAX_MESSAGE_LENGTH]
