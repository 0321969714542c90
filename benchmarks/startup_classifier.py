"""Benchmark 4: the classifier's cost per call, and the bot's start-up time and memory.

Classifier: `classify_error` over every fixture reply that ccxt turns into an exception (bot/sandbox/data/
exchange_replies.json; the exception is rebuilt from `ccxt_exception` and `observed_message`, as the fixture
tests do), microseconds per call, best of `--repeat` passes; the first call in the process is reported apart.
Baseline in the same process: the least any classifier does, `str(exc)` plus one regular-expression search for an
error code. The exchange latency of benchmark 1 (50 ms) puts the figure in proportion.

Start-up: the bot as a child process until its first getUpdates reaches the Bot API emulator in this process,
then (once its market warm-up against the simulated exchanges is over) its peak RSS (VmHWM from /proc/<pid>/
status) just before SIGTERM. Two ways to start it, `--runs` times each:

* `python -m benchmarks._bot_child`: `python -m bot run` with the simulated exchanges' URLs plugged in (every
  exchange on 127.0.0.1, host lookups refused), so its start-up warm-up loads markets from the fakes;
* `python -m bot run` itself with EXCHANGE_SANDBOX=true (it then starts every fake exchange in its own process).

Baseline in the same run: `python -c "import telegram.ext, ccxt.async_support"` (time from spawn to the end of the
imports, and its VmHWM), and `python -c pass` for the interpreter alone.

Run: `.venv/bin/python -m benchmarks.startup_classifier [--repeat 20] [--runs 5]`
"""

from __future__ import annotations

import argparse
import asyncio
import binascii
import builtins
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ccxt

from benchmarks._common import (
    REPO,
    BotProcess,
    child_env,
    median,
    print_header,
    table,
    temp_dir,
)
from bot.diagnosis import Permission, classify_error
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.world import SandboxWorld

FIXTURES = REPO / "bot" / "sandbox" / "data" / "exchange_replies.json"
PERMISSION = {
    "fetch_balance": Permission.VIEW_ACCOUNT_BALANCE,
    "fetch_deposit_address": Permission.VIEW_DEPOSIT_ADDRESS,
    "fetch_my_trades": Permission.VIEW_SPOT_TRADING_HISTORY,
}
CODE_RE = re.compile(r"-?\b\d{3,}\b")
STATUS = "import re; print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))"


# --- classifier -------------------------------------------------------------------------------------------------


def error_cases() -> list[tuple[str, Permission, BaseException]]:
    cases = []
    for case in json.loads(FIXTURES.read_text(encoding="utf-8")):
        name = case["ccxt_exception"]
        if name is None:
            continue
        if name == "binascii.Error":
            cls: Any = binascii.Error
        else:
            cls = getattr(ccxt, name, None) or getattr(builtins, name)
        cases.append((case["exchange"], PERMISSION[case["method"]], cls(case["observed_message"])))
    return cases


def baseline(exc: BaseException) -> object:
    return CODE_RE.search(f"{type(exc).__name__} {exc}")


def per_call(fn: Any, cases: list[tuple[str, Permission, BaseException]], repeat: int) -> float:
    """Seconds per call, best of `repeat` passes over every case."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for exchange, perm, exc in cases:
            fn(exchange, perm, exc)
        best = min(best, (time.perf_counter() - start) / len(cases))
    return best


def classifier(repeat: int) -> None:
    cases = error_cases()
    started = time.perf_counter()
    classify_error(*cases[0])
    first = time.perf_counter() - started
    cost = per_call(classify_error, cases, repeat)
    base = per_call(lambda _e, _p, exc: baseline(exc), cases, repeat)
    rows = [
        ["classify_error", len(cases), f"{cost * 1e6:.1f}", f"{cost / base:.1f}", f"{cost / 0.050 * 100:.3f} %"],
        ["baseline: str(exc) + one regex", len(cases), f"{base * 1e6:.2f}", "1.0", f"{base / 0.050 * 100:.4f} %"],
        ["classify_error, first call in the process", 1, f"{first * 1e6:.0f}", f"{first / base:.0f}", ""],
    ]
    print(table(["what", "replies", "µs per call", "÷ baseline", "of a 50 ms exchange round trip"], rows))
    print()
    by_exchange: dict[str, list[tuple[str, Permission, BaseException]]] = defaultdict(list)
    for case in cases:
        by_exchange[case[0]].append(case)
    rows = []
    for exchange, group in sorted(by_exchange.items()):
        rows.append([exchange, len(group), f"{per_call(classify_error, group, repeat) * 1e6:.1f}"])
    print(table(["exchange", "replies", "classify_error µs per call"], rows))
    print()


# --- start-up ---------------------------------------------------------------------------------------------------


def python_baseline(code: str) -> tuple[float, float]:
    """(seconds from spawn to the end of `code`, VmHWM MB) of `python -c code`."""
    spawned = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport time; print(time.monotonic())\n{STATUS}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd="/",
    ).stdout.split()
    return float(out[0]) - spawned, int(out[1]) / 1024


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_idle(pid: int, step: float = 0.25, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """Wait until a process used under 2 % of a core for `step` seconds."""
    deadline = time.monotonic() + timeout
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(step)
        now = cpu_seconds(pid)
        if now - last < step * 0.02:
            return
        last = now


async def start_bot(args: list[str], extra: dict[str, str]) -> dict[str, float]:
    async with temp_dir("bench-startup-") as tmp, TelegramEmulator() as api:
        proc = BotProcess(args, child_env(api, tmp / "bot.sqlite3", extra), tmp)
        try:
            ready = await proc.start(api)
            at_ready = proc.status()
            await wait_idle(proc.pid)  # the market warm-up after the first getUpdates is over
            stopping = time.monotonic()
            code = await proc.stop()
            stopped = time.monotonic() - stopping
        finally:
            await proc.stop()
        if code != 0:
            raise RuntimeError(f"the bot exited with {code}:\n{proc.log_tail()}")
        errors = [line for line in proc.log_tail(10_000).splitlines() if " ERROR " in line or "Traceback" in line]
        if errors:
            raise RuntimeError(f"errors in the bot's log: {errors[:3]}")
        return {
            "ready": ready,
            "rss_ready": at_ready.get("VmRSS", float("nan")),
            "peak": proc.peak_rss_mb,
            "stop": stopped,
            "get_updates": len(api.calls_to("getUpdates")),
        }


async def startup(runs: int) -> None:
    world = SandboxWorld()
    await world.start()
    results: dict[str, list[dict[str, float]]] = defaultdict(list)
    baselines: dict[str, list[tuple[float, float]]] = defaultdict(list)
    try:
        overrides = {"BENCH_URL_OVERRIDES": json.dumps(world.url_overrides)}
        variants = {
            "python -m bot run (fake exchanges' URLs)": ([sys.executable, "-m", "benchmarks._bot_child"], overrides),
            "python -m bot run, EXCHANGE_SANDBOX=true": (
                [sys.executable, "-m", "bot", "run"],
                {"EXCHANGE_SANDBOX": "true"},
            ),
        }
        for _ in range(runs):  # interleaved, so drift on a shared machine hits every row alike
            for name, (args, extra) in variants.items():
                results[name].append(await start_bot(args, extra))
            baselines["import telegram.ext, ccxt.async_support"].append(
                python_baseline("import telegram.ext, ccxt.async_support")
            )
            baselines["python -c pass"].append(python_baseline("pass"))
    finally:
        await world.stop()
    base_time = median([t for t, _ in baselines["import telegram.ext, ccxt.async_support"]])
    base_rss = median([m for _, m in baselines["import telegram.ext, ccxt.async_support"]])
    rows = []
    for name, values in baselines.items():
        t, m = median([v[0] for v in values]), median([v[1] for v in values])
        rows.append([name, len(values), f"{t:.2f}", f"{t / base_time:.2f}", "", f"{m:.0f}", f"{m / base_rss:.2f}", ""])
    for name, values in results.items():
        t = median([v["ready"] for v in values])
        peak = median([v["peak"] for v in values])
        rows.append(
            [
                name,
                len(values),
                f"{t:.2f}",
                f"{t / base_time:.2f}",
                f"{median([v['rss_ready'] for v in values]):.0f}",
                f"{peak:.0f}",
                f"{peak / base_rss:.2f}",
                f"{median([v['stop'] for v in values]):.2f}",
            ]
        )
    headers = [
        "process",
        "runs",
        "s to first getUpdates (or end of imports)",
        "÷ imports",
        "RSS at first getUpdates MB",
        "peak RSS MB",
        "÷ imports",
        "SIGTERM to exit s",
    ]
    print(table(headers, rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the fixture replies")
    parser.add_argument("--runs", type=int, default=5, help="start-ups per variant")
    args = parser.parse_args(argv)
    print_header("Benchmark 4: classifier cost; start-up time and memory of `python -m bot run`")
    started = time.perf_counter()
    classifier(args.repeat)
    asyncio.run(startup(args.runs))
    print(f"\nwall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
