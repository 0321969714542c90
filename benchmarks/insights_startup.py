"""Support insights (issue 22): does the bot's start-up change? Import time and peak RSS, same-run ratios.

Each variant is a fresh `python -c` that imports what `python -m bot run` imports before it starts polling
(`bot.__main__`, `bot.runner`, `bot.app`, `handlers`) and prints the time from spawn to the end of its imports
and its peak RSS (VmHWM). The variants run interleaved, `--runs` times each; medians are reported.

  base          the bot's modules at the commit before the insights (`--base-ref`, exported with git archive):
                "without the package present"
  now           the same imports in this tree: the insights are present but not imported (not registered yet)
  wired         now + `handlers.stats` (which imports `bot.insights` and `bot.insights.service`): what the bot
                imports once the lead registers /stats
  eager-plot    wired + `bot.insights.render` (matplotlib, numpy, Pillow): what importing the plotting library at
                start-up would have cost (the reference the lazy import avoids)
  drawn         wired + one picture drawn in-process: the bot's RSS after the first /stats had it drawn in
                its own process (it draws in a child process instead; the child's own peak is `child`)
  child         `python -m bot.insights.render` drawing one picture: the short-lived process /stats starts

Run: `.venv/bin/python -m benchmarks.insights_startup [--runs 7] [--base-ref 7f27abe]`
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BOT_IMPORTS = "import bot.__main__, bot.runner, bot.app, handlers"
STATUS = "import re; print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))"
DRAW = (
    "import asyncio; from bot.insights.sample import sample_insights; "
    "from bot.insights import render_png; r = asyncio.run(sample_insights()).report; render_png(r)"
)
CHILD = (
    "import pickle, re, sys\n"
    "from bot.insights.render import render_png\n"
    "render_png(pickle.loads(sys.stdin.buffer.read()))\n"
    "sys.stderr.write(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
)
VARIANTS = {
    "now": BOT_IMPORTS,
    "wired": BOT_IMPORTS + "; import handlers.stats, bot.insights.service",
    "eager-plot": BOT_IMPORTS + "; import handlers.stats, bot.insights.service, bot.insights.render",
}


def run(code: str, cwd: Path) -> tuple[float, float]:
    """(seconds from spawn to the end of `code`, VmHWM in MB) of `python -c code` in `cwd`."""
    spawned = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport time; print(time.monotonic())\n{STATUS}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        cwd=cwd,
    ).stdout.split()
    return float(out[-2]) - spawned, int(out[-1]) / 1024


def child_peak(cwd: Path) -> tuple[float, float]:
    """The drawing child as /stats starts it (what `bot.insights.render.main` does): wall seconds, peak RSS MB."""
    import asyncio

    from bot.insights.sample import sample_insights

    report = asyncio.run(sample_insights()).report
    spawned = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], input=pickle.dumps(report), capture_output=True, check=True, cwd=cwd
    )
    return time.monotonic() - spawned, int(proc.stderr.split()[-1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--base-ref", default="7f27abe", help="the commit before the insights")
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in ["base", *VARIANTS, "drawn", "child"]}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        archive = subprocess.run(["git", "archive", args.base_ref], cwd=REPO, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        for _ in range(args.runs):
            results["base"].append(run(BOT_IMPORTS, base))
            for name, code in VARIANTS.items():
                results[name].append(run(code, REPO))
            results["drawn"].append(run(VARIANTS["wired"] + "\n" + DRAW, REPO))
            results["child"].append(child_peak(REPO))
    base_time = statistics.median(t for t, _ in results["base"])
    base_rss = statistics.median(m for _, m in results["base"])
    print(f"| variant | imports done (s), median of {args.runs} | ratio | peak RSS (MB) | ratio |")
    print("|---|---|---|---|---|")
    for name, values in results.items():
        seconds = statistics.median(t for t, _ in values)
        rss = statistics.median(m for _, m in values)
        print(f"| {name} | {seconds:.3f} | {seconds / base_time:.2f} | {rss:.1f} | {rss / base_rss:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
