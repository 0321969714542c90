"""The period of a report: strict parsing of "7d" / "30d" / "14", and its calendar-day bounds.

A period of N days is the N calendar days (in the report's time zone) up to and including the day of `now`:
from local midnight N - 1 days before today until `now`. Today is therefore a partial day; every other day is a
whole one, so the bars of different days compare fairly and their labels are plain dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import DEFAULT_LANGUAGE
from bot.insights.texts import t

MIN_DAYS = 1
MAX_DAYS = 365
DEFAULT_DAYS = 7

_PERIOD_RE = re.compile(r"([1-9][0-9]{0,2})d?", re.IGNORECASE)


class PeriodError(ValueError):
    """A period or time zone that cannot be used. `rule` says what is accepted (`rule_in(language)`: in another
    language); the message adds what was given (for a terminal; a chat answer uses the rule alone, so it never
    repeats what someone pasted)."""

    def __init__(self, key: str, value: str | None = None) -> None:
        self.key = key
        self.rule = self.rule_in(DEFAULT_LANGUAGE)
        self.value = value
        super().__init__(self.rule + ("." if value is None else f"; got {value!r}."))

    def rule_in(self, language: str) -> str:
        return t(language, self.key, low=MIN_DAYS, high=MAX_DAYS)


def parse_period(value: str | int | None, *, default: int = DEFAULT_DAYS) -> int:
    """The number of days in `value`: "7d", "30D", "14" or 14; None or "" give `default`.

    Anything else (0, 366, "-3", "7 days", "1w", "7.5", "07") raises PeriodError with a message for people.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):  # bool is an int; True days is nonsense
        raise PeriodError("period_error", str(value))
    text = str(value).strip()
    match = _PERIOD_RE.fullmatch(text)
    days = int(match.group(1)) if match else 0
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise PeriodError("period_error", text[:20])
    return days


def parse_timezone(name: str | None) -> tzinfo:
    """An IANA time zone ("Europe/Berlin"); None, "" and "UTC" give UTC."""
    if not name or name.strip().upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PeriodError("timezone_error", name.strip()[:60]) from exc


def zone_name(tz: tzinfo) -> str:
    """How a time zone is named in the picture."""
    return getattr(tz, "key", None) or tz.tzname(None) or "UTC"


@dataclass(frozen=True, slots=True)
class Period:
    """N calendar days in `tz` ending at `end` (see the module docstring)."""

    days: int
    end: datetime
    tz: tzinfo

    @classmethod
    def ending(cls, now: datetime, days: int, tz: tzinfo = UTC) -> Period:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        if not MIN_DAYS <= days <= MAX_DAYS:
            raise PeriodError("period_error", str(days))
        return cls(days, now.astimezone(tz), tz)

    @property
    def dates(self) -> list[date]:
        last = self.end.date()
        return [last - timedelta(days=self.days - 1 - n) for n in range(self.days)]

    @property
    def start(self) -> datetime:
        return self.midnight(self.dates[0])

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz)

    @property
    def start_ts(self) -> float:
        return self.start.timestamp()

    @property
    def end_ts(self) -> float:
        return self.end.timestamp()

    def day_index(self, ts: float) -> int | None:
        """Which day of the period the epoch time `ts` falls on (0 = the first), or None if outside."""
        if ts < self.start_ts or ts > self.end_ts:
            return None
        index = (datetime.fromtimestamp(ts, self.tz).date() - self.dates[0]).days
        return index if 0 <= index < self.days else None
