"""When the weekly insights digest is posted: a weekday and an hour in a time zone, off unless both are set.

The weekday is given by name ("mon", "monday", any case) and never as a number: Python counts Monday as 0,
cron and python-telegram-bot's `JobQueue.run_daily(days=...)` count Sunday as 0, and a number would silently
mean different days to different readers. `DigestSchedule.ptb_days` converts for `run_daily`.

Daylight saving: the digest runs at the given hour of local (wall-clock) time. On the night the clocks go
forward an hour that does not exist is taken as the same moment one hour later by the wall clock (PEP 495,
fold=0); on the night they go back, the first of the two occurrences is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from bot.insights.period import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS, PeriodError, parse_timezone

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ScheduleError(ValueError):
    """A digest setting that cannot be used; the message names the setting and what it accepts."""


def parse_weekday(value: str) -> int:
    """Monday = 0 … Sunday = 6, from "mon" / "Monday" (a three-letter prefix or the whole name)."""
    text = value.strip().lower()
    for index, name in enumerate(WEEKDAYS):
        if len(text) >= 3 and name.startswith(text):
            return index
    raise ScheduleError(f"weekday must be one of mon, tue, wed, thu, fri, sat, sun; got {value.strip()[:20]!r}")


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """Post the insights of the last `days` days every week on `weekday` (Monday = 0) at `hour`:00 in `tz`."""

    weekday: int
    hour: int
    tz: tzinfo = UTC
    days: int = DEFAULT_DAYS

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ScheduleError(f"weekday must be 0 (Monday) to 6 (Sunday); got {self.weekday}")
        if not 0 <= self.hour <= 23:
            raise ScheduleError(f"hour must be 0 to 23; got {self.hour}")
        if not MIN_DAYS <= self.days <= MAX_DAYS:
            raise ScheduleError(f"days must be {MIN_DAYS} to {MAX_DAYS}; got {self.days}")

    @classmethod
    def from_settings(
        cls, weekday: str | None, hour: int | str | None, timezone: str | None = None, days: int = DEFAULT_DAYS
    ) -> DigestSchedule | None:
        """The schedule from STATS_DIGEST_WEEKDAY / STATS_DIGEST_HOUR / STATS_TIMEZONE, or None (off) when the
        weekday is not set. Raises ScheduleError naming the bad setting."""
        if weekday is None or not str(weekday).strip():
            return None
        if hour is None or not str(hour).strip():
            raise ScheduleError("STATS_DIGEST_HOUR must be set (0-23) when STATS_DIGEST_WEEKDAY is")
        try:
            hour_value = int(str(hour).strip())
        except ValueError:
            raise ScheduleError(f"STATS_DIGEST_HOUR must be a whole hour 0-23; got {str(hour)[:20]!r}") from None
        try:
            tz = parse_timezone(timezone)
        except PeriodError as exc:
            raise ScheduleError(f"STATS_TIMEZONE: {exc}") from None
        try:
            return cls(parse_weekday(str(weekday)), hour_value, tz, days)
        except ScheduleError as exc:
            raise ScheduleError(f"STATS_DIGEST_*: {exc}") from None

    @property
    def at(self) -> time:
        """The time of day, with its zone (what `JobQueue.run_daily(time=...)` takes)."""
        return time(self.hour, 0, tzinfo=self.tz)

    @property
    def ptb_days(self) -> tuple[int, ...]:
        """The weekday in python-telegram-bot's numbering (Sunday = 0), for `JobQueue.run_daily(days=...)`."""
        return ((self.weekday + 1) % 7,)

    def next_fire(self, now: datetime) -> datetime:
        """The first digest time strictly after `now` (an aware datetime), in the schedule's zone."""
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        local = now.astimezone(self.tz)
        day = local.date() + timedelta(days=(self.weekday - local.weekday()) % 7)
        while True:
            wall = datetime.combine(day, self.at)  # aware; fold=0 (see the module docstring)
            # a wall time in a gap is normalised through UTC to the real instant
            candidate = wall.astimezone(UTC).astimezone(self.tz)
            if candidate > now:
                return candidate
            day += timedelta(days=7)

    def describe(self) -> str:
        """e.g. "every Monday at 09:00 (Europe/Berlin), last 7 days" for logs and /stats help."""
        zone = getattr(self.tz, "key", None) or self.tz.tzname(None) or "UTC"
        return f"every {WEEKDAYS[self.weekday].capitalize()} at {self.hour:02d}:00 ({zone}), last {self.days} days"
