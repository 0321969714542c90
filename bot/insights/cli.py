"""`python -m bot stats --days N --out FILE.png`: the insights picture from the database, for operators.

`bot/__main__.py` only declares the arguments and calls `run_stats(args, settings)`; everything else is here.
The picture is drawn in this process (it ends right after). The caption is printed on stdout, one summary line
on stderr. Exit status: 0 written, 2 bad arguments or no database.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol

from bot.i18n import DEFAULT_LANGUAGE
from bot.insights.period import PeriodError, parse_period, parse_timezone
from bot.insights.texts import t


class _HasDatabasePath(Protocol):
    database_path: Path


def run_stats(args: argparse.Namespace, settings: _HasDatabasePath, *, now: datetime | None = None) -> int:
    """Write the picture of the last `args.days` days to `args.out`; print the caption.

    `args.days`: "7d", "30d" or a number of days (1-365); `args.out`: the PNG's path; `args.tz` (optional):
    an IANA time zone for the day boundaries, else STATS_TIMEZONE from the settings, else UTC.
    """
    try:
        days = parse_period(getattr(args, "days", None))
        tz = parse_timezone(getattr(args, "tz", None) or getattr(settings, "stats_timezone", None))
    except PeriodError as exc:
        print(f"python -m bot stats: error: {exc}", file=sys.stderr)
        return 2
    database = Path(settings.database_path)
    if not database.is_file():
        problem = t(DEFAULT_LANGUAGE, "cli_no_database", path=database)
        print(f"python -m bot stats: error: {problem}", file=sys.stderr)
        return 2
    out = Path(args.out)
    insights = asyncio.run(_make(database, days, now or datetime.now(UTC), tz))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(insights.png)
    width, height = _png_size(insights.png)
    print(insights.caption)
    summary = t(
        DEFAULT_LANGUAGE,
        "cli_written",
        path=out,
        width=width,
        height=height,
        size=len(insights.png),
        checks=insights.report.checks,
        tickets=insights.report.tickets.opened,
    )
    print(summary, file=sys.stderr)
    return 0


async def _make(database: Path, days: int, now: datetime, tz: tzinfo) -> Any:
    from bot.insights.service import make_insights
    from storage.db import Database

    db = await Database.open(database)
    try:
        return await make_insights(db, days, now, tz, isolated=False)
    finally:
        await db.close()


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk (bytes 16-24)."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
