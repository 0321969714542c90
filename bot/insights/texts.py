"""Every word of the insights picture, its caption and the /stats and CLI messages: the English source of the catalog
entries `insights.<key>` and `insights.cause.<cause>` (bot.i18n), in the staff language (STAFF_LANGUAGE).

The picture is drawn with matplotlib's bundled DejaVu fonts, which have Latin, Cyrillic and Vietnamese letters but no
Chinese: with STAFF_LANGUAGE=zh_Hans the picture's words stay English (`picture_language`); the caption is Chinese.
"""

from __future__ import annotations

from bot.diagnosis.model import Cause
from bot.i18n import DEFAULT_LANGUAGE, Plural, Texts

TEXTS: dict[str, str | Plural] = {
    # the picture
    "title": Plural(
        "HuFi support insights · last {days} day ({first} – {last}, {tz})",
        "HuFi support insights · last {days} days ({first} – {last}, {tz})",
        n="days",
    ),
    "checks_title": "Key checks per day",
    "checks_passed": "passed",
    "checks_failed": "failed",
    "checks_share": "share passed",
    "checks_ylabel": "checks",
    "share_ylabel": "passed (%)",
    "causes_title": "Failed keys by cause and exchange",
    "causes_xlabel": "failed keys (each key once per cause)",
    "cause_other": "Other",
    "fixes_title": "After a failed check: {fixed} of {failed} users fixed their key",
    "fixes_fixed": "same key passed later",
    "fixes_replaced": "another key passed later",
    "fixes_open": "not passed yet",
    "fixes_xlabel": "keys that failed (median time to fix the same key: {median})",
    "tickets_title": "Support tickets per day",
    "tickets_opened": "opened",
    "tickets_closed": "closed",
    "tickets_ylabel": "tickets",
    "tickets_reply": Plural(
        "median first staff reply: {duration} ({count} ticket)",
        "median first staff reply: {duration} ({count} tickets)",
    ),
    "tickets_close": Plural(
        "median time to close: {duration} ({count} ticket)", "median time to close: {duration} ({count} tickets)"
    ),
    "tickets_waiting": "waiting for a first reply now: {count}",
    "tickets_waiting_oldest": "waiting for a first reply now: {count} (oldest {duration})",
    "no_data": "nothing in this period",
    "none": "–",
    # the caption (headline numbers only; never a user, a key or a fingerprint)
    "caption_title": Plural(
        "Support insights, last {days} day ({first} – {last}, {tz})",
        "Support insights, last {days} days ({first} – {last}, {tz})",
        n="days",
    ),
    "caption_checks": "Checks: {checks}, {share} passed",
    "caption_no_checks": "Checks: none",
    "caption_top_cause": Plural(
        "Top cause: {cause} ({count} key), most on {exchange}", "Top cause: {cause} ({count} keys), most on {exchange}"
    ),
    "caption_fixes": "Fixed their key: {fixed} of {failed} users ({share}); median {duration}",
    "caption_no_fixes": "Fixed their key: no failed keys",
    "caption_replaced": "{count} more passed with another key",
    "caption_tickets": "Tickets: {opened} opened, {closed} closed",
    "caption_reply": "first staff reply median {duration}",
    "caption_close": "time to close median {duration}",
    "caption_waiting": "{count} waiting for a first reply",
    # durations
    "seconds": "{n} s",
    "minutes": "{n} min",
    "hours": "{h} h",
    "hours_minutes": "{h} h {m} min",
    "days_only": "{d} d",
    "days_hours": "{d} d {h} h",
    # period parsing, /stats and the CLI
    "period_error": "The period must be like 7d, 30d or a number of days from {low} to {high}",
    "timezone_error": "Unknown time zone (use an IANA name such as Europe/Berlin)",
    "stats_staff_only": "Only support staff can see the insights.",
    "stats_usage": "Usage: /stats [7d|30d]. {error}",
    "stats_failed": "The insights picture could not be made; the log says why.",
    "cli_no_database": "no database at {path} (set DATABASE_PATH)",
    "cli_written": "wrote {path} ({width}x{height} px, {size} bytes); {checks} checks, {tickets} tickets opened",
}

#: Short names for the legend; the user-facing titles in bot.advice are sentences, too long for a chart.
CAUSE_LABELS: dict[str, str | Plural] = {
    Cause.OK: "OK",
    Cause.KEY_INVALID: "Key not recognised",
    Cause.KEY_EXPIRED: "Key expired or disabled",
    Cause.SECRET_MISMATCH: "Wrong secret",
    Cause.PASSPHRASE_WRONG: "Wrong passphrase or memo",
    Cause.IP_NOT_WHITELISTED: "IP allow-list",
    Cause.PERMISSION_MISSING: "Permission missing",
    Cause.NO_DEPOSIT_ADDRESS: "No ETH deposit address",
    Cause.CLOCK_SKEW: "Clock difference",
    Cause.RATE_LIMITED: "Rate limited",
    Cause.EXCHANGE_MAINTENANCE: "Exchange maintenance",
    Cause.EXCHANGE_UNREACHABLE: "Exchange unreachable",
    Cause.UNKNOWN: "Unknown",
    Cause.INCOMPLETE_CREDENTIALS: "Incomplete details",
    Cause.MALFORMED_CREDENTIALS: "Malformed details",
    Cause.KEY_SECRET_SWAPPED: "Key and secret swapped",
    Cause.NONCE_WINDOW: "Nonce window too small",
    Cause.NONCE_REUSED: "Key used elsewhere (nonce)",
    Cause.ACCOUNT_RESTRICTED: "Account restricted",
    Cause.DEMO_KEY: "Demo-trading key",
    Cause.NO_KEY_NEEDED: "No key needed",
    Cause.CHECK_FAILED: "Check failed (our side)",
    Cause.KEY_FROZEN: "Key frozen",
    Cause.SUBACCOUNT_NO_API: "Sub-account without API",
    Cause.RISK_CONTROL: "Risk control",
    Cause.REGION_BLOCKED: "Region or compliance block",
    Cause.HUFI_FORM_LIMIT: "Refused by HuFi's form",
}


INSIGHTS = Texts("insights", TEXTS, description="the insights picture, its caption, /stats (staff language)")
CAUSES = Texts("insights.cause", CAUSE_LABELS, description="short cause names for the chart's legend (28 characters)")
#: Languages whose letters the picture's font (matplotlib's DejaVu Sans) can draw.
PICTURE_LANGUAGES = frozenset({"en", "ru", "es", "tr", "vi"})


def picture_language(language: str) -> str:
    """The language the picture is drawn in: `language`, or English where the font has no letters for it."""
    return language if language in PICTURE_LANGUAGES else DEFAULT_LANGUAGE


def t(language: str, key: str, /, **values: object) -> str:
    """The text `key` in `language`, filled in."""
    return INSIGHTS(language, key, **values)


def cause_label(cause: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A short name for a stored cause value (an unknown value is shown as it is, tidied)."""
    if cause in CAUSE_LABELS:
        return CAUSES(language, cause)
    return cause.replace("_", " ").capitalize()
