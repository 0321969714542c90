"""The insights picture: a valid PNG of the planned size, drawn in-process and in the child process the bot uses;
`python -m bot stats` as a real process against a seeded SQLite file; the README picture."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.diagnosis.model import Cause
from bot.insights import RenderError, build_report, make_insights, render_png, render_png_isolated
from bot.insights.render import HEIGHT_PX, WIDTH_PX
from bot.insights.service import CHILD_ENVIRONMENT, child_environment
from storage import Database, Repositories
from tests.insights_history import NOW, USERS, Clock, report, seed

ROOT = Path(__file__).resolve().parents[1]
USERS_IDS = sorted(USERS)
MAX_PNG_BYTES = 250_000


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.sqlite3")
    await seed(database)
    yield database
    await database.close()


def open_png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.verify()  # checks the chunks and their CRCs
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_picture(data: bytes) -> Image.Image:
    image = open_png(data)
    assert image.format == "PNG" and image.size == (WIDTH_PX, HEIGHT_PX) == (1280, 960)
    assert len(data) <= MAX_PNG_BYTES
    assert not image.text  # no metadata chunks (software, titles): nothing but pixels
    colours = image.convert("RGB").getcolors(maxcolors=4096)
    assert colours is not None and len(colours) > 8  # drawn, not blank
    return image


async def test_the_picture_of_a_known_history(seeded: Database) -> None:
    data = render_png(await build_report(seeded, 7, NOW))
    image = assert_picture(data)
    rgb = image.convert("RGB")
    # the panels' colours are there: passed green, failed red, opened blue (checks and tickets panels)
    present = {colour for _, colour in rgb.getcolors(maxcolors=4096) or []}
    assert {(0x2E, 0x9D, 0x5B), (0xD9, 0x53, 0x4F), (0x3F, 0x7F, 0xBF)} <= present


async def test_empty_and_long_periods_draw_too(tmp_path: Path, seeded: Database) -> None:
    empty = await Database.open(tmp_path / "empty.sqlite3")
    try:
        assert_picture(render_png(await build_report(empty, 7, NOW)))
    finally:
        await empty.close()
    assert_picture(render_png(await build_report(seeded, 365, NOW)))
    assert_picture(render_png(await build_report(seeded, 1, NOW)))


async def test_many_exchanges_and_causes_stay_within_the_picture(tmp_path: Path) -> None:
    """Every exchange of the catalog failing with every cause: the legend keeps 7 causes plus Other."""
    from bot.exchanges.catalog import CATALOG

    db = await Database.open(tmp_path / "many.sqlite3")
    try:
        clock = Clock(NOW.timestamp() - 3600)
        repos = Repositories.create(db, clock)
        causes = [c for c in Cause if c is not Cause.OK]
        for n, exchange in enumerate(CATALOG):
            for m, cause in enumerate(causes[: 3 + n % 9]):
                await repos.checks.add(1000 + n * 50 + m, report(exchange, f"k{n:02d}{m:02d}…abcd", cause))
        built = await build_report(db, 7, NOW)
        assert len(built.causes) == len(CATALOG) and len(built.cause_totals) > 8
        assert_picture(render_png(built))
    finally:
        await db.close()


async def test_the_bot_draws_in_a_child_process(seeded: Database) -> None:
    """The child process draws exactly what this process draws; a child that overruns its time is killed."""
    built = await build_report(seeded, 7, NOW)
    isolated = await render_png_isolated(built)
    assert isolated == render_png(built)
    with pytest.raises(RenderError, match="longer than"):
        await render_png_isolated(built, timeout=0.01)
    insights = await make_insights(seeded, 7, NOW)  # the bot's path: isolated by default
    assert insights.png == isolated and insights.report == built


def test_the_child_sees_no_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The drawing child gets no token, key or other setting of the bot: only what Python and fonts need."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:canary-token-for-the-child-environment")
    monkeypatch.setenv("BOT_ENCRYPTION_KEY", "canary-key-for-the-child-environment")
    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    env = child_environment()
    assert "TELEGRAM_BOT_TOKEN" not in env and "BOT_ENCRYPTION_KEY" not in env
    assert not [v for v in env.values() if "canary" in v]
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(ROOT)
    assert env["MPLCONFIGDIR"].startswith(tempfile.gettempdir())
    assert set(env) <= {*CHILD_ENVIRONMENT, "PYTHONPATH"}


async def test_a_failing_child_is_reported() -> None:
    with pytest.raises(RenderError, match=r"exit 2\): stdin did not hold an InsightsReport"):
        await render_png_isolated("not a report")  # type: ignore[arg-type]


# -- python -m bot stats --------------------------------------------------------------------------------------------
async def _recent_history(path: Path) -> None:
    """A small history just before the real now (the CLI uses the real clock)."""
    db = await Database.open(path)
    try:
        clock = Clock(time.time() - 3 * 3600)
        repos = Repositories.create(db, clock)
        await repos.checks.add(USERS_IDS[0], report("mexc", "abcd…0001", None))
        clock.now += 600
        await repos.checks.add(USERS_IDS[1], report("gate", "abcd…0002", Cause.NO_DEPOSIT_ADDRESS))
        clock.now += 600
        await repos.checks.add(USERS_IDS[1], report("gate", "abcd…0002", None))
        ticket, _ = await repos.tickets.open(USERS_IDS[1], "deposit address")
        await repos.tickets.mark_first_staff_reply(ticket.id, clock.now + 900)
    finally:
        await db.close()


def run_cli(*args: str, database: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    drop = ("TELEGRAM_", "DATABASE_", "STATS_", "STAFF_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)} | settings
    env["DATABASE_PATH"] = str(database)
    return subprocess.run(
        [sys.executable, "-m", "bot", "stats", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


async def test_cli_writes_the_picture(tmp_path: Path) -> None:
    database = tmp_path / "data" / "bot.sqlite3"
    await _recent_history(database)
    out = tmp_path / "out" / "insights.png"
    done = await asyncio.to_thread(run_cli, "--days", "30d", "--out", str(out), database=database)
    assert done.returncode == 0, done.stderr
    assert_picture(out.read_bytes())
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Support insights, last 30 days (") and lines[0].endswith(", UTC)")
    assert lines[1] == "Checks: 3, 67% passed"
    assert lines[2] == "Top cause: No ETH deposit address (1 key), most on Gate"
    assert lines[3] == "Fixed their key: 1 of 1 users (100%); median 10 min"
    assert lines[4] == "Tickets: 1 opened, 0 closed; first staff reply median 15 min"
    assert f"wrote {out} (1280x960 px, " in done.stderr
    for user_id in USERS_IDS[:2]:
        assert str(user_id) not in done.stdout + done.stderr
    assert "abcd" not in done.stdout + done.stderr and "0002" not in done.stdout


async def test_cli_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each refusal in-process through `run_stats` (what the command calls); the first also as a real process."""
    from types import SimpleNamespace

    from bot.insights.cli import run_stats

    database = tmp_path / "bot.sqlite3"
    await _recent_history(database)
    out = tmp_path / "x.png"
    done = await asyncio.to_thread(run_cli, "--days=0", "--out", str(out), database=database)
    assert done.returncode == 2
    assert "error: The period must be like 7d, 30d or a number of days from 1 to 365" in done.stderr
    settings = SimpleNamespace(database_path=database, stats_timezone=None, staff_language="en")

    def refused(**given: object) -> str:
        args = SimpleNamespace(**({"days": "7", "out": str(out), "tz": None, "lang": None} | given))
        assert run_stats(args, settings, now=NOW) == 2
        return capsys.readouterr().err

    for days in ("366d", "1w", "-7"):
        assert "error: The period must be like 7d, 30d or a number of days from 1 to 365" in refused(days=days)
    assert "Unknown time zone (use an IANA name such as Europe/Berlin); got 'Mars/Olympus'" in refused(
        tz="Mars/Olympus"
    )
    missing = tmp_path / "nowhere" / "bot.sqlite3"
    settings.database_path = missing
    assert f"no database at {missing}" in refused()
    assert not missing.parent.exists()  # a typo in DATABASE_PATH does not create an empty database
    assert not out.exists()


async def test_cli_speaks_the_staff_language_unless_told_otherwise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m bot stats` draws in STAFF_LANGUAGE, or in --lang (a locale tag works; an unknown one is refused).
    In-process through `run_stats` (the same function the command calls), one real process for the refusal."""
    from types import SimpleNamespace

    from bot.insights.cli import run_stats
    from bot.insights.texts import t

    database = tmp_path / "bot.sqlite3"
    await _recent_history(database)
    out = tmp_path / "x.png"
    settings = SimpleNamespace(database_path=database, stats_timezone=None, staff_language="ru")
    args = SimpleNamespace(days="7", out=str(out), tz=None, lang=None)
    assert await asyncio.to_thread(run_stats, args, settings, now=NOW) == 0
    russian = t("ru", "caption_title", days=7, first="@", last="@", tz="@").split("@")[0]
    assert russian.strip() and capsys.readouterr().out.startswith(russian)
    args.lang = "es"
    assert await asyncio.to_thread(run_stats, args, settings, now=NOW) == 0
    spanish = t("es", "caption_title", days=7, first="@", last="@", tz="@").split("@")[0]
    assert capsys.readouterr().out.startswith(spanish)
    done = await asyncio.to_thread(run_cli, "--out", str(out), "--lang", "xx", database=database)
    assert done.returncode == 2 and "Unknown language 'xx'" in done.stderr


@pytest.mark.parametrize("command", ["stats", "demo"])
def test_stats_and_demo_help_say_what_they_read_with_examples(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.__main__ import build_parser

    with pytest.raises(SystemExit) as leaving:
        build_parser().parse_args([command, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert leaving.value.code == 0 and "examples:" in shown, shown
    if command == "stats":
        assert "default STATS_TIMEZONE, else UTC" in shown and "STAFF_LANGUAGE" in shown


async def test_cli_time_zone_moves_the_day_boundaries(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    await _recent_history(database)
    out = tmp_path / "x.png"
    done = await asyncio.to_thread(run_cli, "--days", "7", "--out", str(out), "--tz", "Asia/Kolkata", database=database)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].endswith(", Asia/Kolkata)")


# -- the README picture ---------------------------------------------------------------------------------------------
def test_the_readme_picture_is_there_and_current_in_shape() -> None:
    """docs/insights.png is made by `python -m bot.insights.sample docs/insights.png` (see README)."""
    assert_picture((ROOT / "docs" / "insights.png").read_bytes())
    assert "docs/insights.png" in (ROOT / "README.md").read_text()


async def test_the_sample_history_makes_a_full_picture() -> None:
    from bot.insights.sample import SAMPLE_NOW, sample_insights

    insights = await sample_insights()
    assert_picture(insights.png)
    built = insights.report
    assert built.end == SAMPLE_NOW and built.checks > 300 and len(built.causes) == 8
    assert built.fixes.users_fixed > 0 and built.tickets.closed > 0 and built.tickets.median_first_reply_seconds
    assert insights.caption.startswith("Support insights, last 7 days (24 Nov – 30 Nov 2026, UTC)")
    assert SAMPLE_NOW - built.start < timedelta(days=7) and built.start.tzinfo is UTC
    assert datetime(2026, 11, 24, tzinfo=UTC) == built.start


@pytest.mark.parametrize("language", ["en", "ru", "es", "tr", "vi"])
async def test_days_and_titles_are_in_the_pictures_language_and_fit(seeded: Database, language: str) -> None:
    """The day labels under the bars name the weekday the language's way (not Python's English `%a`) with a short
    date, none wider than a bar's slot, and a long panel title goes on two lines instead of running into its
    neighbour."""
    from babel.dates import format_date
    from matplotlib.figure import Figure

    from bot.insights.render import TITLE_WIDTH, _day_ticks, _set_title

    report = await build_report(seeded, 10, NOW)
    axes = Figure().add_subplot()
    _day_ticks(axes, report, language)
    labels = [label.get_text() for label in axes.get_xticklabels()]
    assert len(labels) == 10
    for label, day in zip(labels, (d.day for d in report.daily), strict=True):
        name, date_line = label.split("\n")
        assert name == (f"{day:%a}" if language == "en" else format_date(day, "EEE", locale=language))
        assert str(day.day) in date_line and len(date_line) <= 6, label
    if language != "en":
        english = {f"{d.day:%a}" for d in report.daily}
        assert not {label.split("\n")[0] for label in labels} & english
    title = "After a failed check: 158 of 240 users fixed their key, and then a few more"
    _set_title(axes, title)
    shown = axes.get_title().split("\n")
    assert len(shown) == 2 and all(len(line) <= TITLE_WIDTH for line in shown)
