"""Support insights (issue 22): what fails, on which exchange, and how fast support answers, as one picture.

Transport-free: nothing here imports `telegram`, and nothing imports matplotlib until a picture is drawn.
Importing this package loads the light parts only (period, schedule, report model, caption); the names that
need the database or the drawing process (`build_report`, `make_insights`, `render_png`, ...) come from
`bot.insights.service` on first use, so the drawing child process stays small.

    insights = await make_insights(db, days=7, now=datetime.now(UTC))   # report, png, caption
    report = await build_report(db, days=7, now=datetime.now(UTC))      # the numbers alone

The definitions behind each number are in `bot.insights.report`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bot.insights.caption import CAPTION_LIMIT, caption
from bot.insights.period import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS, Period, PeriodError, parse_period, parse_timezone
from bot.insights.report import InsightsReport
from bot.insights.schedule import DigestSchedule, ScheduleError

if TYPE_CHECKING:
    from bot.insights.service import (
        Insights,
        RenderError,
        build_report,
        make_insights,
        render_png,
        render_png_isolated,
    )

_SERVICE = frozenset({"Insights", "RenderError", "build_report", "make_insights", "render_png", "render_png_isolated"})


def __getattr__(name: str) -> Any:
    """The database- and drawing-facing names, imported from bot.insights.service when first asked for."""
    if name in _SERVICE:
        return getattr(importlib.import_module("bot.insights.service"), name)
    raise AttributeError(f"module 'bot.insights' has no attribute {name!r}")


__all__ = [
    "CAPTION_LIMIT",
    "DEFAULT_DAYS",
    "MAX_DAYS",
    "MIN_DAYS",
    "DigestSchedule",
    "Insights",
    "InsightsReport",
    "Period",
    "PeriodError",
    "RenderError",
    "ScheduleError",
    "build_report",
    "caption",
    "make_insights",
    "parse_period",
    "parse_timezone",
    "render_png",
    "render_png_isolated",
]
