"""Every word of the insights picture, its caption and the /stats and CLI messages, in one place.

The staff language is English. Issue #18 moves texts to gettext catalogs: every string here is a plain
`str.format` template keyed by name, so it can be moved as it is.
"""

from __future__ import annotations

from bot.diagnosis.model import Cause

TEXTS: dict[str, str] = {
    # the picture
    "title": "HuFi support insights · last {days} {day_word} ({first} – {last}, {tz})",
    "day": "day",
    "days": "days",
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
    "tickets_reply": "median first staff reply: {duration} ({count} {ticket_word})",
    "tickets_close": "median time to close: {duration} ({count} {ticket_word})",
    "tickets_waiting": "waiting for a first reply now: {count}",
    "tickets_waiting_oldest": "waiting for a first reply now: {count} (oldest {duration})",
    "ticket": "ticket",
    "tickets": "tickets",
    "no_data": "nothing in this period",
    "none": "–",
    # the caption (headline numbers only; never a user, a key or a fingerprint)
    "caption_title": "Support insights, last {days} {day_word} ({first} – {last}, {tz})",
    "caption_checks": "Checks: {checks}, {share} passed",
    "caption_no_checks": "Checks: none",
    "caption_top_cause": "Top cause: {cause} ({count} {key_word}), most on {exchange}",
    "caption_fixes": "Fixed their key: {fixed} of {failed} users ({share}); median {duration}",
    "caption_no_fixes": "Fixed their key: no failed keys",
    "caption_replaced": "{count} more passed with another key",
    "caption_tickets": "Tickets: {opened} opened, {closed} closed",
    "caption_reply": "first staff reply median {duration}",
    "caption_close": "time to close median {duration}",
    "caption_waiting": "{count} waiting for a first reply",
    "key": "key",
    "keys": "keys",
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
CAUSE_LABELS: dict[str, str] = {
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


def t(key: str, **values: object) -> str:
    """The text `key`, filled in."""
    return TEXTS[key].format(**values)


def cause_label(cause: str) -> str:
    """A short English name for a stored cause value (an unknown value is shown as it is, tidied)."""
    return CAUSE_LABELS.get(cause) or cause.replace("_", " ").capitalize()


def plural(count: int, one: str, many: str) -> str:
    """The word for `count` things (English: one for exactly 1)."""
    return t(one) if count == 1 else t(many)
