"""The caption under the picture: the headline numbers in a few plain-text lines (no parse mode needed)."""

from __future__ import annotations

from datetime import date

from bot.i18n import DEFAULT_LANGUAGE
from bot.insights.report import InsightsReport
from bot.insights.texts import cause_label, t

#: Telegram's limit for a photo caption, in characters after entity parsing (Bot API sendPhoto,
#: https://core.telegram.org/bots/api#sendphoto: "0-1024 characters after entities parsing").
CAPTION_LIMIT = 1024


def duration(seconds: float | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A short human duration: "45 s", "14 min", "3 h 10 min", "2 d 4 h"; "–" for none."""
    if seconds is None:
        return t(lang, "none")
    total = round(seconds)
    if total < 60:
        return t(lang, "seconds", n=total)
    minutes = round(seconds / 60)
    if minutes < 60:
        return t(lang, "minutes", n=minutes)
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        return t(lang, "hours", h=hours) if rest == 0 else t(lang, "hours_minutes", h=hours, m=rest)
    hours = round(seconds / 3600)
    day_count, rest_hours = divmod(hours, 24)
    return t(lang, "days_only", d=day_count) if rest_hours == 0 else t(lang, "days_hours", d=day_count, h=rest_hours)


def percent(share: float | None, lang: str = DEFAULT_LANGUAGE) -> str:
    return t(lang, "none") if share is None else f"{share * 100:.0f}%"


def day_text(day: date, lang: str = DEFAULT_LANGUAGE) -> str:
    """A day with its month and year ("4 Mar 2026"), the way `lang` writes it."""
    if lang == DEFAULT_LANGUAGE:
        return f"{day.day} {day:%b %Y}"
    from babel.dates import format_skeleton

    return format_skeleton("yMMMd", day, locale=lang)


def short_day(day: date, lang: str = DEFAULT_LANGUAGE) -> str:
    """A day with its month ("4 Mar")."""
    if lang == DEFAULT_LANGUAGE:
        return f"{day.day} {day:%b}"
    from babel.dates import format_skeleton

    return format_skeleton("MMMd", day, locale=lang)


def period_words(report: InsightsReport, lang: str = DEFAULT_LANGUAGE) -> dict[str, object]:
    return {
        "days": report.days,
        "first": short_day(report.first_day, lang) if report.days > 1 else day_text(report.first_day, lang),
        "last": day_text(report.last_day, lang),
        "tz": report.tz_name,
    }


def caption(report: InsightsReport, lang: str = DEFAULT_LANGUAGE) -> str:
    """The headline numbers, at most CAPTION_LIMIT characters. Names no user, key or fingerprint."""
    lines = [t(lang, "caption_title", **period_words(report, lang))]
    if report.checks:
        lines.append(t(lang, "caption_checks", checks=report.checks, share=percent(report.pass_share, lang)))
    else:
        lines.append(t(lang, "caption_no_checks"))
    totals = report.cause_totals
    if totals:
        top, count = totals[0]
        # the first of equals wins: report.causes is ordered by total, then by exchange id
        most = max(report.causes, key=lambda row: dict(row.causes).get(top, 0))
        cause = cause_label(top, lang)
        lines.append(t(lang, "caption_top_cause", cause=cause, count=count, exchange=most.name))
    fixes = report.fixes
    if fixes.users_failed:
        line = t(
            lang,
            "caption_fixes",
            fixed=fixes.users_fixed,
            failed=fixes.users_failed,
            share=percent(fixes.users_fixed_share, lang),
            duration=duration(fixes.median_fix_seconds, lang),
        )
        if fixes.users_replaced:
            line += "; " + t(lang, "caption_replaced", count=fixes.users_replaced)
        lines.append(line)
    else:
        lines.append(t(lang, "caption_no_fixes"))
    tickets = report.tickets
    parts = [t(lang, "caption_tickets", opened=tickets.opened, closed=tickets.closed)]
    if tickets.median_first_reply_seconds is not None:
        parts.append(t(lang, "caption_reply", duration=duration(tickets.median_first_reply_seconds, lang)))
    if tickets.median_close_seconds is not None:
        parts.append(t(lang, "caption_close", duration=duration(tickets.median_close_seconds, lang)))
    if tickets.waiting:
        parts.append(t(lang, "caption_waiting", count=tickets.waiting))
    lines.append("; ".join(parts))
    text = "\n".join(lines)
    return text if len(text) <= CAPTION_LIMIT else text[: CAPTION_LIMIT - 1] + "…"
