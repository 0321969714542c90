"""Where the insights meet the database and the drawing process: `build_report`, `make_insights`, rendering.

`build_report` reads the rows through the storage repositories; `render_png_isolated` draws the picture in a
short-lived child process (`python -m bot.insights.render`): matplotlib, numpy and Pillow would add about 75 MB
to the bot's memory for good after the first picture and hold the GIL for about a second per picture, slowing
every chat. One-shot processes (the CLI, the README sample) draw in-process with `render_png`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from bot.i18n import DEFAULT_LANGUAGE, normalise
from bot.insights.caption import caption
from bot.insights.period import Period
from bot.insights.report import InsightsReport, compute
from storage.checks import CheckRepository
from storage.db import Database
from storage.support import TicketRepository

log = logging.getLogger(__name__)

#: How long a child process may take to draw one picture (it takes 1-3 s on a busy 2-core machine).
RENDER_TIMEOUT_SECONDS = 60.0
#: The directory holding the `bot` package, put on the child's PYTHONPATH whatever the bot's working directory.
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


#: What the drawing child may see of the bot's environment: no setting, so no token or key, ever reaches it.
CHILD_ENVIRONMENT = (
    "PATH HOME LANG LANGUAGE LC_ALL LC_CTYPE TZ TMPDIR LD_LIBRARY_PATH "
    "PYTHONHOME VIRTUAL_ENV MPLCONFIGDIR XDG_CACHE_HOME"
).split()


def child_environment() -> dict[str, str]:
    """The drawing child's environment: CHILD_ENVIRONMENT from ours, the `bot` package first on the path, and a
    writable matplotlib cache (its font list is built once and kept in /tmp when MPLCONFIGDIR is not set; an
    unwritable home would make every picture rebuild it and warn)."""
    env = {name: os.environ[name] for name in CHILD_ENVIRONMENT if name in os.environ}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, os.environ.get("PYTHONPATH")) if p)
    env.setdefault("MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), f"hufi-bot-matplotlib-{os.getuid()}"))
    return env


class RenderError(RuntimeError):
    """The picture could not be drawn (the child process failed or timed out)."""


def render_png(report: InsightsReport, language: str = DEFAULT_LANGUAGE) -> bytes:
    """The four-panel PNG of `report`, drawn in this process (imports matplotlib on first use)."""
    from bot.insights.render import render_png as draw

    return draw(report, language)


async def render_png_isolated(
    report: InsightsReport,
    *,
    timeout: float = RENDER_TIMEOUT_SECONDS,  # noqa: ASYNC109
    language: str = DEFAULT_LANGUAGE,
) -> bytes:
    """The PNG of `report`, drawn by `python -m bot.insights.render` in a child process that exits afterwards.

    The report goes in as a pickle on stdin (parent and child run the same code; nothing else writes there) and
    the PNG comes back on stdout. Raises RenderError when the child fails or takes longer than `timeout`.
    """
    env = child_environment()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.insights.render",
        normalise(language),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate(pickle.dumps(report))
    except TimeoutError:
        raise RenderError(f"drawing the picture took longer than {timeout:.0f} s") from None
    finally:
        if proc.returncode is None:  # timed out or cancelled: no orphan keeps drawing
            proc.kill()
            await proc.wait()
    if proc.returncode != 0 or not out.startswith(b"\x89PNG\r\n\x1a\n"):
        last = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RenderError(f"the drawing process failed (exit {proc.returncode}): {last[0][:300]}")
    return out


async def build_report(db: Database, days: int, now: datetime, tz: tzinfo = UTC) -> InsightsReport:
    """The insights of the `days` calendar days (in `tz`) up to `now` (an aware datetime; inject the clock)."""
    period = Period.ending(now, days, tz)
    start, end = period.start_ts, period.end_ts
    checks = CheckRepository(db)
    outcomes = await checks.outcomes_between(start, end)
    failed_keys = await checks.failed_keys_between(start, end)
    tickets = await TicketRepository(db).times_between(start, end)
    return compute(period, outcomes, failed_keys, tickets)


@dataclass(frozen=True, slots=True)
class Insights:
    """A report with its picture and caption, ready to send or write."""

    report: InsightsReport
    png: bytes
    caption: str


async def make_insights(
    db: Database,
    days: int,
    now: datetime,
    tz: tzinfo = UTC,
    *,
    isolated: bool = True,
    language: str = DEFAULT_LANGUAGE,
) -> Insights:
    """Build the report and draw its picture: in a child process (`isolated`, for the bot), or here (one-shots); its
    words in `language` (the staff language)."""
    report = await build_report(db, days, now, tz)
    png = await render_png_isolated(report, language=language) if isolated else render_png(report, language)
    return Insights(report, png, caption(report, language))
