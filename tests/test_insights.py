"""Support insights (issue 22): the numbers behind the picture, from a real SQLite file with a known history."""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.diagnosis.model import Cause
from bot.insights import CAPTION_LIMIT, Period, PeriodError, build_report, caption, parse_period, parse_timezone
from bot.insights.caption import duration
from bot.insights.texts import CAUSE_LABELS, TEXTS
from storage import MIGRATIONS, Database, Repositories
from storage.migrations import V5_INSIGHTS
from tests.insights_history import (
    EXPECTED_CAUSES,
    EXPECTED_DAILY,
    FP,
    NOW,
    USERS,
    Clock,
    U,
    at,
    seed,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


@pytest.fixture
async def seeded(db: Database) -> Database:
    await seed(db)
    return db


# -- the numbers ---------------------------------------------------------------------------------------------------
async def test_checks_and_tickets_per_day(seeded: Database) -> None:
    report = await build_report(seeded, 7, NOW)
    assert [d.day.isoformat() for d in report.daily] == [f"2026-11-{n}" for n in range(24, 31)]
    got = [(d.checks, d.passed, d.tickets_opened, d.tickets_closed) for d in report.daily]
    assert got == EXPECTED_DAILY
    assert (report.checks, report.passed) == (17, 7)
    assert report.pass_share == pytest.approx(7 / 17)
    assert report.daily[0].pass_share == pytest.approx(2 / 5) and report.daily[2].pass_share is None
    assert report.start == datetime(2026, 11, 24, tzinfo=UTC) and report.end == NOW


async def test_causes_per_exchange_count_each_key_once_per_cause(seeded: Database) -> None:
    report = await build_report(seeded, 7, NOW)
    assert [(row.exchange_id, list(row.causes)) for row in report.causes] == EXPECTED_CAUSES
    assert report.cause_totals[0] == ("permission_missing", 3)
    assert sum(n for _, n in report.cause_totals) == 8
    assert [row.name for row in report.causes] == ["Bybit", "KuCoin", "MEXC", "Gate", "HTX"]


async def test_fixed_keys(seeded: Database) -> None:
    fixes = (await build_report(seeded, 7, NOW)).fixes
    assert (fixes.keys_failed, fixes.keys_fixed, fixes.keys_replaced) == (7, 3, 2)
    assert (fixes.users_failed, fixes.users_fixed, fixes.users_replaced) == (7, 3, 2)
    assert fixes.median_fix_seconds == 40 * 60  # of 40 min, 24 h and 30 min
    rows = {r.exchange_id: (r.failed, r.fixed, r.replaced, r.not_passed) for r in fixes.by_exchange}
    assert rows == {
        "mexc": (2, 1, 1, 0),
        "bybit": (2, 0, 1, 1),
        "gate": (1, 1, 0, 0),
        "kucoin": (1, 1, 0, 0),
        "htx": (1, 0, 0, 1),
    }
    assert [r.exchange_id for r in fixes.by_exchange] == ["bybit", "mexc", "gate", "htx", "kucoin"]


async def test_ticket_times(seeded: Database) -> None:
    tickets = (await build_report(seeded, 7, NOW)).tickets
    assert (tickets.opened, tickets.closed, tickets.replied) == (4, 3, 3)
    assert tickets.median_first_reply_seconds == 2 * 3600  # of 20 min, 2 h, 24 h
    assert tickets.median_close_seconds == 48 * 3600  # of 2 h, 6 days, 48 h
    assert (tickets.waiting, tickets.oldest_waiting_seconds) == (1, 3.5 * 3600)


async def test_the_period_moves_with_the_injected_clock(seeded: Database) -> None:
    """One day: today only; later `now`: the check after NOW counts, and so does the fix it brings."""
    today = await build_report(seeded, 1, NOW)
    assert [(d.checks, d.passed) for d in today.daily] == [(2, 0)]
    assert (today.fixes.keys_failed, today.fixes.keys_fixed) == (2, 0)  # htx key and key 1 (failed again today)
    later = await build_report(seeded, 1, NOW + timedelta(hours=2))
    assert [(d.checks, d.passed) for d in later.daily] == [(3, 1)]
    assert (later.fixes.keys_fixed, later.fixes.median_fix_seconds) == (1, 5 * 3600)
    empty = await build_report(seeded, 30, datetime(2026, 10, 1, tzinfo=UTC))
    assert empty.checks == 0 and empty.causes == () and empty.fixes.keys_failed == 0


async def test_day_boundaries_follow_the_time_zone(seeded: Database) -> None:
    """In UTC-5 the check at 24 Nov 00:00 UTC falls on 23 Nov, the day before the period."""
    report = await build_report(seeded, 7, NOW, ZoneInfo("America/New_York"))
    assert report.daily[0].day.isoformat() == "2026-11-24" and report.tz_name == "America/New_York"
    assert report.checks == 16  # the 00:00 UTC pass is on 23 Nov in New York
    assert report.daily[0].checks == 4


async def test_an_empty_database(db: Database) -> None:
    report = await build_report(db, 7, NOW)
    assert report.checks == 0 and report.pass_share is None and report.causes == ()
    assert report.fixes.users_fixed_share is None and report.tickets.median_close_seconds is None
    text = caption(report)
    assert "Checks: none" in text and "no failed keys" in text and "Tickets: 0 opened, 0 closed" in text


# -- nothing identifying ---------------------------------------------------------------------------------------------
async def test_nothing_in_the_report_or_caption_identifies_a_user_or_key(seeded: Database) -> None:
    report = await build_report(seeded, 7, NOW)
    text = caption(report)
    dumped = repr(report) + pickle.dumps(report).decode("latin-1")
    for user_id, (name, username) in USERS.items():
        for value in (str(user_id), name, username):
            assert value not in text and value not in dumped
    for fingerprint in FP.values():
        for part in (fingerprint, fingerprint[:4], fingerprint[-4:]):
            assert part not in text and part not in dumped
    assert "ticket of" not in dumped  # ticket descriptions are never read


async def test_caption_has_the_headline_numbers(seeded: Database) -> None:
    text = caption(await build_report(seeded, 7, NOW))
    assert text.splitlines() == [
        "Support insights, last 7 days (24 Nov – 30 Nov 2026, UTC)",
        "Checks: 17, 41% passed",
        "Top cause: Permission missing (3 keys), most on Bybit",
        "Fixed their key: 3 of 7 users (43%); median 40 min; 2 more passed with another key",
        "Tickets: 4 opened, 3 closed; first staff reply median 2 h; time to close median 2 d; "
        "1 waiting for a first reply",
    ]
    assert len(text) <= CAPTION_LIMIT


def test_durations() -> None:
    assert [duration(s) for s in (None, 0, 59.4, 90, 3599, 3600, 5400, 86399, 86400, 200000)] == [
        "–",
        "0 s",
        "59 s",
        "2 min",
        "1 h",
        "1 h",
        "1 h 30 min",
        "1 d",
        "1 d",
        "2 d 8 h",
    ]


def test_every_cause_has_a_short_label() -> None:
    assert set(CAUSE_LABELS) == {c.value for c in Cause}
    assert all(len(label) <= 28 for label in CAUSE_LABELS.values())


def test_texts_are_all_used() -> None:
    """Every text in the table is used somewhere in the package (a dead text would rot in the catalogs)."""
    source = (
        "".join(p.read_text() for p in (ROOT / "bot" / "insights").glob("*.py"))
        + (ROOT / "handlers" / "stats.py").read_text()
    )
    unused = [key for key in TEXTS if f'"{key}"' not in source.replace(f'"{key}": ', "", 1)]
    assert unused == []


# -- the period ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "days"),
    [(None, 7), ("", 7), ("  ", 7), ("7d", 7), ("30d", 30), ("30D", 30), (" 14 ", 14), ("1", 1), ("365d", 365), (9, 9)],
)
def test_period_parsing(value: object, days: int) -> None:
    assert parse_period(value) == days  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value", ["0", "0d", "366", "366d", "-3", "7 days", "1w", "7.5", "07", "d", "7dd", "seven", True, 0, 400]
)
def test_period_parsing_refuses(value: object) -> None:
    with pytest.raises(PeriodError, match=r"like 7d, 30d or a number of days from 1 to 365"):
        parse_period(value)  # type: ignore[arg-type]


def test_period_bounds_and_time_zones() -> None:
    period = Period.ending(NOW, 7)
    assert period.start_ts == at(24, 0) and period.end_ts == NOW.timestamp()
    assert period.day_index(at(24, 0)) == 0 and period.day_index(at(24, 0) - 1) is None
    assert period.day_index(NOW.timestamp()) == 6 and period.day_index(NOW.timestamp() + 1) is None
    assert parse_timezone(None) is UTC and parse_timezone("utc") is UTC
    assert parse_timezone("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    with pytest.raises(PeriodError, match=r"Unknown time zone .*; got 'Mars/Olympus'\."):
        parse_timezone("Mars/Olympus")
    with pytest.raises(ValueError, match="aware"):
        Period.ending(datetime(2026, 11, 30), 7)


# -- storage: the first staff reply ----------------------------------------------------------------------------------
async def test_first_staff_reply_is_recorded_once(db: Database) -> None:
    clock = Clock(at(24, 10))
    repos = Repositories.create(db, clock)
    ticket, _ = await repos.tickets.open(U[0], "help")
    clock.now = at(24, 10, 15)
    assert await repos.tickets.mark_first_staff_reply(ticket.id)  # the repository's clock
    assert not await repos.tickets.mark_first_staff_reply(ticket.id, at(24, 11))  # later replies change nothing
    assert not await repos.tickets.mark_first_staff_reply(9999, at(24, 11))
    stored = await db.fetchval("SELECT first_staff_reply_at FROM tickets WHERE id = ?", (ticket.id,))
    assert stored == at(24, 10, 15)
    # the per-user form touches the open ticket only
    other, _ = await repos.tickets.open(U[1], "help")
    assert await repos.tickets.close(other.id)
    assert not await repos.tickets.mark_first_staff_reply_for_user(U[1], at(24, 12))
    again, created = await repos.tickets.open(U[1], "still")
    assert created
    assert await repos.tickets.mark_first_staff_reply_for_user(U[1], at(24, 13))
    assert not await repos.tickets.mark_first_staff_reply_for_user(U[1], at(24, 14))
    rows = await db.fetchall("SELECT id, first_staff_reply_at FROM tickets WHERE user_id = ? ORDER BY id", (U[1],))
    assert [(r["id"], r["first_staff_reply_at"]) for r in rows] == [(other.id, None), (again.id, at(24, 13))]


async def test_v5_migrates_a_database_with_tickets(tmp_path: Path) -> None:
    """A database made before V5 keeps its tickets; they have no first reply time. V5 depends on V1-V3 only."""
    path = tmp_path / "old.sqlite3"
    before = list(MIGRATIONS[: MIGRATIONS.index(V5_INSIGHTS)])  # the schema as it was before V5
    old = await Database.open(path, migrations=before)
    await old.execute(
        "INSERT INTO tickets (user_id, status, created_at, updated_at) VALUES (?, 'open', ?, ?)",
        (U[0], at(24, 9), at(24, 9)),
    )
    await old.close()
    new = await Database.open(path)
    try:
        assert await new.schema_version() == len(MIGRATIONS)
        row = await new.fetchone("SELECT user_id, first_staff_reply_at FROM tickets")
        assert row is not None and (row["user_id"], row["first_staff_reply_at"]) == (U[0], None)
        indexes = {r["name"] for r in await new.fetchall("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"checks_by_age", "tickets_by_created", "tickets_by_closed"} <= indexes
        assert (await build_report(new, 7, NOW)).tickets.waiting == 1
    finally:
        await new.close()
    # the script names only tables of V1 and V2
    assert "abuse" not in V5_INSIGHTS.lower()


async def test_placeholder_fingerprints_are_never_fixed(db: Database) -> None:
    """Two checks that named no key are not "the same key": a pass of one does not fix the other."""
    clock = Clock(at(25, 9))
    repos = Repositories.create(db, clock)
    from tests.insights_history import NO_KEY, report

    await repos.checks.add(U[0], report("okx", NO_KEY, Cause.INCOMPLETE_CREDENTIALS))
    clock.now = at(25, 10)
    await repos.checks.add(U[0], report("okx", NO_KEY, None))
    keys = await repos.checks.failed_keys_between(at(24, 0), NOW.timestamp())
    assert [(k.exchange_id, k.causes, k.fixed_at, k.replaced_at) for k in keys] == [
        ("okx", ("incomplete_credentials",), None, None)
    ]


# -- start-up cost -----------------------------------------------------------------------------------------------
def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(out.stdout.split())


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in {"matplotlib", "numpy", "PIL"}}


def test_importing_the_insights_loads_no_plotting_library() -> None:
    """bot.insights, its CLI and the /stats handler import neither matplotlib, numpy nor Pillow (nor telegram,
    for the core); only drawing a picture does, and the bot does that in a child process."""
    core = _modules_after("import bot.insights, bot.insights.cli, bot.insights.schedule, bot.insights.report")
    assert not _heavy(core)
    assert not {m for m in core if m.split(".")[0] == "telegram"}
    handler = _modules_after("import bot.insights.service, handlers.stats, bot.__main__")
    assert not _heavy(handler)
    drawing = _modules_after("import bot.insights.render")
    assert {"matplotlib", "numpy", "PIL"} <= {m.split(".")[0] for m in drawing}  # the check can fail


def test_the_running_bot_loads_no_plotting_library() -> None:
    """`python -m bot run` registers /stats (bot.insights is plain Python) but loads no plotting library."""
    modules = _modules_after("import bot.__main__, bot.runner, bot.app, handlers")
    assert {m for m in modules if m.startswith("bot.insights")}  # /stats is wired in: the check can fail
    assert not _heavy(modules)
