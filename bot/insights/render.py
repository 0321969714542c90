"""The insights picture: four panels in one PNG, drawn with matplotlib's Agg renderer.

Nothing imports this module until a picture is made: matplotlib (and numpy, Pillow) cost about 75 MB and
most of a second, which the bot must not pay. The bot runs it as `python -m bot.insights.render` in a child
process (`bot.insights.render_png_isolated`); one-shot commands call `bot.insights.render_png`. The figure is built
with the object-oriented API (`Figure` + `FigureCanvasAgg`), never pyplot, so no global backend or figure
registry is touched; a lock keeps two pictures from being drawn at once (matplotlib's settings are global).

Size: 1280 x 960 px. Telegram keeps a sent photo in boxes of at most 800, 1280 and 2560 px (thumbnail types
x, y and w, https://core.telegram.org/api/files#image-thumbnail-types), and chats show the 1280 one: a bigger
picture would only be scaled down. The texts are sized to stay readable on a phone at that size.
"""

from __future__ import annotations

import io
import math
import pickle
import sys
import threading
from collections.abc import Sequence

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter
from PIL import Image

from bot.diagnosis.model import Cause
from bot.i18n import DEFAULT_LANGUAGE
from bot.insights.caption import duration, period_words, short_day
from bot.insights.report import InsightsReport
from bot.insights.texts import cause_label, picture_language, t

WIDTH_PX, HEIGHT_PX, DPI = 1280, 960, 100
PNG_COLORS = 128
#: How many causes get their own colour in the causes panel; the rest are "Other".
TOP_CAUSES = 7

GREEN, RED, BLUE, GREY, INK = "#2e9d5b", "#d9534f", "#3f7fbf", "#b8bec6", "#263238"
#: A fixed colour per cause, so a cause keeps its colour from one week's picture to the next.
_PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#86bcb6",
    "#d37295",
    "#8cd17d",
    "#b6992d",
    "#499894",
    "#f1ce63",
    "#a0cbe8",
    "#ffbe7d",
    "#d4a6c8",
    "#fabfd2",
    "#79706e",
    "#bab0ac",
    "#e6a0c4",
)
CAUSE_COLORS: dict[str, str] = {cause.value: _PALETTE[n % len(_PALETTE)] for n, cause in enumerate(Cause)}
OTHER_COLOR = "#c7c7c7"

_STYLE = {
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#90a4ae",
    "axes.labelcolor": INK,
    "text.color": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "svg.hashsalt": "insights",
}
_LOCK = threading.Lock()


def render_png(report: InsightsReport, language: str = DEFAULT_LANGUAGE) -> bytes:
    """The four-panel picture of `report` as PNG bytes (WIDTH_PX x HEIGHT_PX)."""
    lang = picture_language(language)
    with _LOCK, rc_context(_STYLE):
        figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
        # Fixed margins, not constrained layout: every label has a known size, and the layout solver doubled the
        # drawing time. Room on the left for exchange names ("Hyperliquid"), in the middle for the share axis.
        figure.subplots_adjust(left=0.085, right=0.985, top=0.905, bottom=0.075, wspace=0.34, hspace=0.38)
        canvas = FigureCanvasAgg(figure)
        figure.suptitle(
            t(lang, "title", **period_words(report, lang)), fontsize=15, fontweight="bold", x=0.01, y=0.985, ha="left"
        )
        (checks, causes), (fixes, tickets) = figure.subplots(2, 2)
        _checks_panel(checks, report, lang)
        _causes_panel(causes, report, lang)
        _fixes_panel(fixes, report, lang)
        _tickets_panel(tickets, report, lang)
        canvas.draw()
        rgba = canvas.buffer_rgba()
        image = Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0, 1)
    # A chart has few colours: 128 without dithering look the same and make the file about 3 times smaller.
    buffer = io.BytesIO()
    image.convert("RGB").quantize(PNG_COLORS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        buffer, format="PNG", optimize=True
    )
    return buffer.getvalue()


def _day_ticks(axes: Axes, report: InsightsReport, lang: str) -> None:
    """Every day named up to 10 days (weekday and date); at most 7 dates beyond, always including today."""
    days = [d.day for d in report.daily]
    step = 1 if len(days) <= 10 else math.ceil(len(days) / 7)
    positions = list(range(len(days) - 1, -1, -step))[::-1]
    axes.set_xticks(positions)
    if len(days) <= 10:
        axes.set_xticklabels([f"{days[p]:%a}\n{short_day(days[p], lang)}" for p in positions])
    else:
        axes.set_xticklabels([short_day(days[p], lang) for p in positions])
    axes.set_xlim(-0.6, len(days) - 0.4)


def _empty(axes: Axes, title: str, lang: str) -> None:
    axes.set_title(title)
    axes.text(0.5, 0.5, t(lang, "no_data"), ha="center", va="center", transform=axes.transAxes, color="#78909c")
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)


def _checks_panel(axes: Axes, report: InsightsReport, lang: str) -> None:
    if not report.checks:
        _empty(axes, t(lang, "checks_title"), lang)
        return
    x = range(len(report.daily))
    passed = [d.passed for d in report.daily]
    failed = [d.failed for d in report.daily]
    axes.bar(x, passed, color=GREEN, label=t(lang, "checks_passed"), width=0.75)
    axes.bar(x, failed, bottom=passed, color=RED, label=t(lang, "checks_failed"), width=0.75)
    axes.set_title(t(lang, "checks_title"))
    axes.set_ylabel(t(lang, "checks_ylabel"))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    _day_ticks(axes, report, lang)
    share = axes.twinx()
    share.spines["right"].set_visible(True)
    values = [math.nan if d.pass_share is None else d.pass_share * 100 for d in report.daily]
    share.plot(
        x,
        values,
        color=INK,
        marker="o",
        markersize=4 if len(values) > 31 else 6,
        linewidth=2,
        label=t(lang, "checks_share"),
    )
    share.set_ylim(0, 105)
    share.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    share.set_ylabel(t(lang, "share_ylabel"))
    handles, labels = axes.get_legend_handles_labels()
    line_handles, line_labels = share.get_legend_handles_labels()
    axes.legend(handles + line_handles, labels + line_labels, loc="upper left", ncols=3, bbox_to_anchor=(0, 1.0))
    axes.set_ylim(0, max(d.checks for d in report.daily) * 1.25)


def _causes_panel(axes: Axes, report: InsightsReport, lang: str) -> None:
    totals = report.cause_totals
    if not totals:
        _empty(axes, t(lang, "causes_title"), lang)
        return
    shown = [cause for cause, _ in totals[:TOP_CAUSES]]
    if len(totals) == TOP_CAUSES + 1:  # "Other" for a single cause would hide its name for nothing
        shown.append(totals[-1][0])
    rows = list(report.causes)
    names = [row.name for row in rows]
    y = range(len(rows))
    left = [0] * len(rows)
    series: list[tuple[str, str, list[int]]] = []
    for cause in shown:
        series.append(
            (
                cause_label(cause, lang),
                CAUSE_COLORS.get(cause, OTHER_COLOR),
                [dict(r.causes).get(cause, 0) for r in rows],
            )
        )
    other = [sum(n for c, n in r.causes if c not in shown) for r in rows]
    if any(other):
        series.append((t(lang, "cause_other"), OTHER_COLOR, other))
    for label, color, values in series:
        axes.barh(y, values, left=left, color=color, label=label, height=0.7)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_yticks(list(y), names)
    axes.invert_yaxis()
    axes.set_title(t(lang, "causes_title"))
    axes.set_xlabel(t(lang, "causes_xlabel"))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlim(0, max(left) * 1.02)
    axes.legend(loc="lower right")


def _fixes_panel(axes: Axes, report: InsightsReport, lang: str) -> None:
    fixes = report.fixes
    title = t(lang, "fixes_title", fixed=fixes.users_fixed, failed=fixes.users_failed)
    if not fixes.keys_failed:
        _empty(axes, title, lang)
        return
    rows = fixes.by_exchange
    y = range(len(rows))
    parts: Sequence[tuple[str, str, list[int]]] = (
        (t(lang, "fixes_fixed"), GREEN, [r.fixed for r in rows]),
        (t(lang, "fixes_replaced"), BLUE, [r.replaced for r in rows]),
        (t(lang, "fixes_open"), GREY, [r.not_passed for r in rows]),
    )
    left = [0] * len(rows)
    for label, color, values in parts:
        axes.barh(y, values, left=left, color=color, label=label, height=0.7)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_yticks(list(y), [r.name for r in rows])
    axes.invert_yaxis()
    axes.set_title(title)
    axes.set_xlabel(t(lang, "fixes_xlabel", median=duration(fixes.median_fix_seconds, lang)))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlim(0, max(left) * 1.02)
    axes.legend(loc="lower right")


def _tickets_panel(axes: Axes, report: InsightsReport, lang: str) -> None:
    stats = report.tickets
    axes.set_title(t(lang, "tickets_title"))
    if not (stats.opened or stats.closed or stats.waiting or stats.replied):
        _empty(axes, t(lang, "tickets_title"), lang)
        return
    x = list(range(len(report.daily)))
    width = 0.4
    axes.bar(
        [p - width / 2 for p in x],
        [d.tickets_opened for d in report.daily],
        width,
        color=BLUE,
        label=t(lang, "tickets_opened"),
    )
    axes.bar(
        [p + width / 2 for p in x],
        [d.tickets_closed for d in report.daily],
        width,
        color=GREEN,
        label=t(lang, "tickets_closed"),
    )
    axes.set_ylabel(t(lang, "tickets_ylabel"))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    _day_ticks(axes, report, lang)
    peak = max([d.tickets_opened for d in report.daily] + [d.tickets_closed for d in report.daily] + [1])
    axes.set_ylim(0, peak * 2.1)
    axes.legend(loc="upper right", bbox_to_anchor=(1.0, 0.76), ncols=2)
    lines = [
        t(lang, "tickets_reply", duration=duration(stats.median_first_reply_seconds, lang), count=stats.replied),
        t(lang, "tickets_close", duration=duration(stats.median_close_seconds, lang), count=stats.closed),
    ]
    if stats.waiting and stats.oldest_waiting_seconds is not None:
        lines.append(
            t(
                lang,
                "tickets_waiting_oldest",
                count=stats.waiting,
                duration=duration(stats.oldest_waiting_seconds, lang),
            )
        )
    else:
        lines.append(t(lang, "tickets_waiting", count=stats.waiting))
    axes.text(
        0.01,
        0.97,
        "\n".join(lines),
        transform=axes.transAxes,
        ha="left",
        va="top",
        fontsize=11,
        linespacing=1.5,
        bbox={"boxstyle": "round,pad=0.4", "facecolor": "#f5f7f8", "edgecolor": "#cfd8dc"},
    )


def main() -> int:
    """`python -m bot.insights.render [LANGUAGE]`: a pickled InsightsReport on stdin, its PNG on stdout (see
    `bot.insights.render_png_isolated`, the only caller)."""
    report = pickle.loads(sys.stdin.buffer.read())
    if not isinstance(report, InsightsReport):
        print("stdin did not hold an InsightsReport", file=sys.stderr)
        return 2
    language = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_LANGUAGE
    sys.stdout.buffer.write(render_png(report, language))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
