"""The caption under the picture: the headline numbers in a few plain-text lines (no parse mode needed)."""

from __future__ import annotations

from datetime import date

from bot.insights.report import InsightsReport
from bot.insights.texts import cause_label, plural, t

#: Telegram's limit for a photo caption, in characters after entity parsing (Bot API sendPhoto,
#: https://core.telegram.org/bots/api#sendphoto: "0-1024 characters after entities parsing").
CAPTION_LIMIT = 1024


def duration(seconds: float | None) -> str:
    """A short human duration: "45 s", "14 min", "3 h 10 min", "2 d 4 h"; "–" for none."""
    if seconds is None:
        return t("none")
    total = round(seconds)
    if total < 60:
        return t("seconds", n=total)
    minutes = round(seconds / 60)
    if minutes < 60:
        return t("minutes", n=minutes)
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        return t("hours", h=hours) if rest == 0 else t("hours_minutes", h=hours, m=rest)
    hours = round(seconds / 3600)
    day_count, rest_hours = divmod(hours, 24)
    return t("days_only", d=day_count) if rest_hours == 0 else t("days_hours", d=day_count, h=rest_hours)


def percent(share: float | None) -> str:
    return t("none") if share is None else f"{share * 100:.0f}%"


def day_text(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def short_day(day: date) -> str:
    return f"{day.day} {day:%b}"


def period_words(report: InsightsReport) -> dict[str, object]:
    return {
        "days": report.days,
        "day_word": plural(report.days, "day", "days"),
        "first": short_day(report.first_day) if report.days > 1 else day_text(report.first_day),
        "last": day_text(report.last_day),
        "tz": report.tz_name,
    }


def caption(report: InsightsReport) -> str:
    """The headline numbers, at most CAPTION_LIMIT characters. Names no user, key or fingerprint."""
    lines = [t("caption_title", **period_words(report))]
    if report.checks:
        lines.append(t("caption_checks", checks=report.checks, share=percent(report.pass_share)))
    else:
        lines.append(t("caption_no_checks"))
    totals = report.cause_totals
    if totals:
        top, count = totals[0]
        # the first of equals wins: report.causes is ordered by total, then by exchange id
        most = max(report.causes, key=lambda row: dict(row.causes).get(top, 0))
        words = plural(count, "key", "keys")
        lines.append(t("caption_top_cause", cause=cause_label(top), count=count, key_word=words, exchange=most.name))
    fixes = report.fixes
    if fixes.users_failed:
        line = t(
            "caption_fixes",
            fixed=fixes.users_fixed,
            failed=fixes.users_failed,
            share=percent(fixes.users_fixed_share),
            duration=duration(fixes.median_fix_seconds),
        )
        if fixes.users_replaced:
            line += "; " + t("caption_replaced", count=fixes.users_replaced)
        lines.append(line)
    else:
        lines.append(t("caption_no_fixes"))
    tickets = report.tickets
    parts = [t("caption_tickets", opened=tickets.opened, closed=tickets.closed)]
    if tickets.median_first_reply_seconds is not None:
        parts.append(t("caption_reply", duration=duration(tickets.median_first_reply_seconds)))
    if tickets.median_close_seconds is not None:
        parts.append(t("caption_close", duration=duration(tickets.median_close_seconds)))
    if tickets.waiting:
        parts.append(t("caption_waiting", count=tickets.waiting))
    lines.append("; ".join(parts))
    text = "\n".join(lines)
    return text if len(text) <= CAPTION_LIMIT else text[: CAPTION_LIMIT - 1] + "…"
