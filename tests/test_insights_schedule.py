"""The weekly digest's schedule: next fire time from weekday, hour and time zone, with a fake clock, and the
same times from the JobQueue job that `handlers.stats.schedule_digest` registers (APScheduler's own trigger)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import ApplicationBuilder

from bot.insights import DigestSchedule, ScheduleError
from bot.insights.schedule import parse_weekday
from handlers.stats import DIGEST_JOB_NAME, post_digest, schedule_digest

BERLIN = ZoneInfo("Europe/Berlin")
MON, TUE, SUN = 0, 1, 6


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 11, 30, 8, 59, 59), utc(2026, 11, 30, 9)),  # Monday, just before: today
        (utc(2026, 11, 30, 9), utc(2026, 12, 7, 9)),  # exactly at the time: strictly after, next week
        (utc(2026, 11, 30, 9, 0, 1), utc(2026, 12, 7, 9)),
        (utc(2026, 11, 29, 23), utc(2026, 11, 30, 9)),  # Sunday night
        (utc(2026, 12, 1, 12), utc(2026, 12, 7, 9)),  # Tuesday
        (utc(2026, 12, 31, 10), utc(2027, 1, 4, 9)),  # across the year
    ],
)
def test_next_fire_in_utc(now: datetime, expected: datetime) -> None:
    assert DigestSchedule(MON, 9).next_fire(now) == expected


def test_next_fire_keeps_the_wall_clock_hour_across_daylight_saving() -> None:
    schedule = DigestSchedule(MON, 9, BERLIN)
    before = schedule.next_fire(utc(2026, 10, 19, 6))  # summer time: 09:00 CEST = 07:00 UTC
    after = schedule.next_fire(before)  # the clocks went back on 25 Oct: 09:00 CET = 08:00 UTC
    assert (before.astimezone(UTC), after.astimezone(UTC)) == (utc(2026, 10, 19, 7), utc(2026, 10, 26, 8))
    assert (before.hour, after.hour) == (9, 9)
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(days=7, hours=1)


def test_next_fire_in_the_hours_daylight_saving_skips_or_repeats() -> None:
    """02:00 does not exist on 28 Mar 2027 in Berlin (03:00 CEST instead) and happens twice on 25 Oct 2026."""
    gap = DigestSchedule(SUN, 2, BERLIN).next_fire(utc(2027, 3, 27, 12))
    assert gap.astimezone(UTC) == utc(2027, 3, 28, 1) and gap.hour == 3
    twice = DigestSchedule(SUN, 2, BERLIN).next_fire(utc(2026, 10, 24, 12))
    assert twice.astimezone(UTC) == utc(2026, 10, 25, 0)  # the first 02:00 (CEST)


def test_the_clock_in_another_zone_than_the_schedule() -> None:
    """`now` may be in any zone: Monday 23:30 in Berlin is still Monday 22:30 UTC, after a Monday 09:00 UTC digest."""
    schedule = DigestSchedule(TUE, 0, UTC)
    assert schedule.next_fire(datetime(2026, 11, 30, 23, 30, tzinfo=BERLIN)) == utc(2026, 12, 1, 0)
    with pytest.raises(ValueError, match="aware"):
        schedule.next_fire(datetime(2026, 11, 30))


def test_settings() -> None:
    assert DigestSchedule.from_settings(None, None) is None  # off by default
    assert DigestSchedule.from_settings("  ", "9") is None
    schedule = DigestSchedule.from_settings("Monday", "9", "Europe/Berlin", days=30)
    assert schedule == DigestSchedule(MON, 9, BERLIN, 30)
    assert schedule.describe() == "every Monday at 09:00 (Europe/Berlin), last 30 days"
    assert [parse_weekday(v) for v in ("mon", "TUE", "wednes", "Thursday", "fri", "sat", "sun")] == list(range(7))
    for weekday, hour, tz, message in [
        ("mon", None, None, "STATS_DIGEST_HOUR must be set"),
        ("mon", "24", None, "hour must be 0 to 23"),
        ("mon", "9am", None, "STATS_DIGEST_HOUR must be a whole hour"),
        ("1", "9", None, "weekday must be one of mon"),  # numbers mean different days to different readers
        ("mo", "9", None, "weekday must be one of mon"),
        ("mon", "9", "Mars/Olympus", "STATS_TIMEZONE: Unknown time zone"),
    ]:
        with pytest.raises(ScheduleError, match=message):
            DigestSchedule.from_settings(weekday, hour, tz)
    with pytest.raises(ScheduleError, match="days must be"):
        DigestSchedule(MON, 9, days=0)


@pytest.mark.parametrize(
    "schedule",
    [
        DigestSchedule(MON, 9),
        DigestSchedule(SUN, 23),
        DigestSchedule(SUN, 0, BERLIN),
        DigestSchedule(MON, 9, BERLIN),
        DigestSchedule(SUN, 2, BERLIN),  # the hour daylight saving skips or repeats
        DigestSchedule(5, 18, ZoneInfo("America/New_York")),
        DigestSchedule(3, 7, ZoneInfo("Asia/Kolkata")),
    ],
    ids=lambda s: s.describe(),
)
async def test_the_jobqueue_job_fires_when_the_schedule_says(schedule: DigestSchedule) -> None:
    """`schedule_digest` registers a run_daily job; its trigger, asked with fake clocks, picks our times.

    This is what catches a wrong weekday mapping (run_daily counts Sunday as 0, Python Monday).
    """
    app = ApplicationBuilder().token("123456:" + "A" * 35).build()
    job = schedule_digest(app, schedule)
    assert job is not None and job.name == DIGEST_JOB_NAME and job.callback is post_digest
    assert job.data == schedule
    trigger = job.job.trigger
    fake_now = utc(2026, 1, 1, 0, 30)
    for _ in range(60):  # a year and more, through both daylight-saving changes
        expected = schedule.next_fire(fake_now)
        fired = trigger.get_next_fire_time(None, fake_now + timedelta(microseconds=1))
        assert fired.timestamp() == expected.timestamp(), f"after {fake_now}"  # the same instant
        fake_now = expected + timedelta(days=2, hours=5)
    # a second call replaces the job; None turns the digest off
    again = schedule_digest(app, schedule)
    assert again is not None
    assert [j.name for j in app.job_queue.jobs()] == [DIGEST_JOB_NAME]  # type: ignore[union-attr]
    assert schedule_digest(app, None) is None
    assert app.job_queue.jobs() == ()  # type: ignore[union-attr]
