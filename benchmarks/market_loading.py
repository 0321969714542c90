"""Benchmark 6: loading the markets of every exchange at real sizes: event-loop stall, memory, load time.

What is measured: the simulated exchanges list as many spot markets and currencies as the real ones
(`bot/sandbox/markets.py`: 13,450 spot markets over the nine exchanges whose markets the bot loads). A child
process (so its memory is its own) builds the bot's `ClientFactory` pointed at them and does what `bot.runner`
does: loads every exchange's markets at start, one exchange after another; then what a refresh does (forget and
load again); then a first key check on MEXC (not measured: it pays the process's one-time costs of a first check)
and the first keyed OKX check, which fetches OKX's signed currency list; then one /status round
(the public-API check of all twelve exchanges, `bot.health.exchange_check`). Meanwhile a task asks the event
loop for a 2 ms timer again and again; a stall is how late that timer fires. The same child first measures its
idle loop for `--quiet` seconds: on a shared machine the process itself is descheduled now and then, and that
noise floor is the baseline the loading stalls are read against. The fakes add `--latency` to every
request and run in the benchmark's own process.

Variants, each in a fresh child, `--rounds` times, interleaved (the figures are medians):

* "before": parse on the event loop and keep every market (the bot until this change);
* "on the loop, trimmed": parse on the loop, then keep only what the probes read;
* "worker thread, all kept": parse on a worker thread's own event loop, keep every market;
* "worker thread, trimmed, C JSON decoder": as "now", but the replies are decoded by Python's C decoder;
* "now": parse on a worker thread, keep only what the probes read, decode large replies in Python bytecode so
  the GIL changes hands while they are decoded (`ClientFactory` defaults).

And a baseline: the same child's RSS after its imports, before any market is loaded.

Targets: no stall over 50 ms from market loading; peak RSS of the bot at or under 300 MB (this child is not the
whole bot: benchmark 2 measures the bot's peak with these fakes; this one isolates what markets cost).

Run: `.venv/bin/python -m benchmarks.market_loading [--rounds 3] [--latency 0.02]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import median, ok, print_header, proc_status, table

#: name -> (markets_in_thread, trim_markets, yielding_json, gc.freeze once started)
VARIANTS: dict[str, tuple[bool, bool, bool, bool]] = {
    "before": (False, False, False, False),
    "on the loop, trimmed": (False, True, False, False),
    "worker thread, all kept": (True, False, False, False),
    "worker thread, trimmed, C JSON decoder": (True, True, False, False),
    "no gc.freeze": (True, True, True, False),
    "now": (True, True, True, True),
}
STALL_TARGET_MS = 50.0
RSS_TARGET_MB = 300.0


# --- the child ------------------------------------------------------------------------------------------------


class StallMeter:
    """Asks the loop for a `tick` timer again and again; the worst lateness per phase is the stall."""

    def __init__(self, tick: float = 0.002) -> None:
        self.tick = tick
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(self.tick)
            self.worst = max(self.worst, time.perf_counter() - t0 - self.tick)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def take(self) -> float:
        worst, self.worst = self.worst, 0.0
        return worst * 1000

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


async def child(
    variant: str, urls: dict[str, str], okx_creds: dict[str, dict[str, str]], quiet: float
) -> dict[str, Any]:
    from bot.exchanges.catalog import CATALOG, CheckStyle, cex_ids
    from bot.exchanges.credentials import Credentials
    from bot.exchanges.factory import ClientFactory
    from bot.exchanges.probes import KeyChecker
    from bot.health import exchange_check

    in_thread, trim, yielding, freeze = VARIANTS[variant]
    out: dict[str, Any] = {"rss_imports": proc_status()["VmRSS"]}
    factory = ClientFactory(url_overrides=urls, markets_in_thread=in_thread, trim_markets=trim, yielding_json=yielding)
    if freeze:  # as `bot.runner` does once the bot is built, before the markets are loaded
        from bot.runner import freeze_startup_objects

        freeze_startup_objects()
    specs = [CATALOG[e] for e in cex_ids() if CATALOG[e].check_style is CheckStyle.PROBES]
    meter = StallMeter()
    meter.start()
    await asyncio.sleep(0.05)
    meter.take()
    await asyncio.sleep(quiet)  # the noise floor: the same loop with nothing loading
    out["stall_quiet"] = meter.take()
    started = time.perf_counter()
    for spec in specs:
        await factory.preload(spec)
    out["start_s"] = time.perf_counter() - started
    out["stall_start"] = meter.take()
    out["rss_after_start"] = proc_status()["VmRSS"]
    out["markets_kept"] = sum(len(factory._templates[s.id][1].markets) for s in specs)
    started = time.perf_counter()
    for spec in specs:
        await factory.refresh_markets(spec)
    out["refresh_s"] = time.perf_counter() - started
    out["stall_refresh"] = meter.take()
    out["rss_after_refresh"] = proc_status()["VmRSS"]
    checker = KeyChecker(factory)
    warm = await checker.check("mexc", Credentials(**okx_creds["mexc"]))  # the first check's one-time costs
    meter.take()
    report = await checker.check("okx", Credentials(**okx_creds["okx"]))
    out["okx_ok"] = report.ok and warm.ok
    out["stall_okx"] = meter.take()
    for exchange_id in cex_ids():
        await exchange_check(factory, CATALOG[exchange_id], slow_ms=None)()
        out[f"stall_status_{exchange_id}"] = meter.take()
    out["stall_status"] = max(out[f"stall_status_{e}"] for e in cex_ids())
    out["stall_status_worst"] = max(cex_ids(), key=lambda e: out[f"stall_status_{e}"])
    await meter.stop()
    out["rss_peak"] = proc_status()["VmHWM"]
    return out


# --- the parent -----------------------------------------------------------------------------------------------


def run_child(variant: str, urls: dict[str, str], okx_creds: dict[str, dict[str, str]], quiet: float) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "SANDBOX_MARKETS"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    args = json.dumps({"variant": variant, "urls": urls, "okx": okx_creds, "quiet": quiet})
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.market_loading", "--child", args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child {variant} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


async def parent(args: argparse.Namespace) -> int:
    os.environ.pop("SANDBOX_MARKETS", None)  # real sizes
    from bot.sandbox import markets
    from bot.sandbox.world import SandboxWorld

    print_header("Benchmark 6: market loading at real sizes")
    world = SandboxWorld(latency=args.latency)
    await world.start()
    try:
        okx = world.fakes["okx"].add_account()
        mexc = world.fakes["mexc"].add_account()
        okx_creds = {
            "okx": {"api_key": okx.api_key, "secret": okx.secret, "passphrase": okx.passphrase or ""},
            "mexc": {"api_key": mexc.api_key, "secret": mexc.secret},
        }
        sizes = ", ".join(f"{e} {markets.REAL_SIZES[e].spot}" for e in world.fakes)
        print(f"fakes: {sizes} spot markets; {args.latency * 1000:.0f} ms per request; {args.rounds} rounds")
        runs: dict[str, list[dict[str, Any]]] = {v: [] for v in args.variants}
        for round_no in range(args.rounds):
            for variant in args.variants:
                # each child starts at the same point: the fakes' market lists are built and cached
                result = await asyncio.to_thread(run_child, variant, world.url_overrides, okx_creds, args.quiet)
                runs[variant].append(result)
                print(f"  round {round_no + 1} {variant}: {json.dumps(result)}", flush=True)
    finally:
        await world.stop()

    def med(variant: str, key: str) -> float:
        return median([float(r[key]) for r in runs[variant]])

    base = args.variants[0]

    def added(variant: str) -> float:
        return med(variant, "rss_peak") - med(variant, "rss_imports")

    rows = []
    failed = False
    for v in args.variants:
        stall = max(med(v, "stall_start"), med(v, "stall_refresh"))
        met = stall <= STALL_TARGET_MS and med(v, "rss_peak") <= RSS_TARGET_MB
        if v == "now" and not met:
            failed = True
        rows.append(
            [
                v,
                len(runs[v]),
                f"{med(v, 'stall_quiet'):.0f}",
                f"{med(v, 'stall_start'):.0f}",
                f"{med(v, 'stall_refresh'):.0f}",
                f"{med(v, 'stall_start') / med(base, 'stall_start'):.2f}",
                f"{med(v, 'start_s'):.2f}",
                f"{med(v, 'refresh_s'):.2f}",
                f"{med(v, 'start_s') / med(base, 'start_s'):.2f}",
                f"{med(v, 'rss_imports'):.0f}",
                f"{med(v, 'rss_after_start'):.0f}",
                f"{med(v, 'rss_after_refresh'):.0f}",
                f"{med(v, 'rss_peak'):.0f}",
                f"{added(v):.0f}",
                f"{added(v) / added(base):.2f}",
                f"{med(v, 'markets_kept'):.0f}",
                f"{med(v, 'stall_okx'):.0f}",
                f"{med(v, 'stall_status'):.0f} ({runs[v][-1]['stall_status_worst']})",
                ok(met) if v == "now" else "",
            ]
        )
    headers = [
        "variant",
        "runs",
        "stall, idle loop ms",
        "stall at start ms",
        "stall at refresh ms",
        "stall ÷ before",
        "start load s",
        "refresh s",
        "load ÷ before",
        "RSS after imports MB",
        "RSS after start MB",
        "RSS after refresh MB",
        "peak RSS MB",
        "peak - imports MB",
        "÷ before",
        "markets kept",
        "stall, first OKX check ms",
        "stall, /status round ms (worst exchange)",
        "target (50 ms, 300 MB)",
    ]
    print(table(headers, rows))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--quiet", type=float, default=3.0, help="seconds of idle loop measured as the noise floor")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        result = asyncio.run(child(spec["variant"], spec["urls"], spec["okx"], spec["quiet"]))
        print(json.dumps(result))
        return 0
    return asyncio.run(parent(args))


if __name__ == "__main__":
    sys.exit(main())
