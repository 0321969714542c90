"""Benchmark 3: the bot's own overhead, without exchanges: updates per second through the real polling stack.

The bot runs as its own process (`python -m benchmarks._bot_child`: `python -m bot run`, long polling against the
Bot API emulator in this process; every exchange simulated on 127.0.0.1 so the start-up market warm-up stays
local). `--users` private chats each send `--per-user` updates at once, first /start (the bot records the user
and answers with the welcome), then a press of the welcome's "Check a key" button (the bot answers the query,
checks ban and hourly limit, wipes any draft, stores the conversation state and sends the exchange picker).
Throughput = updates / (last reply - first injection), the median of `--repeat` runs. The bot process's CPU time
per update comes from /proc/<pid>/stat, which is less sensitive to a shared machine than wall time. All
updates are injected at once, so PTB runs up to 256 of them concurrently. That is a stress pattern (httpx's
connection pool costs more CPU per request with many requests waiting, which is why the bot uses aiohttp),
and it makes the button figures vary by ±20 %.

Baseline in the same run: a bare PTB Application (`_bot_child bare`: same request and per-chat concurrency
settings, trivial handlers, no database). Bot and baseline also run on PTB's stock HTTPXRequest, the transport
the bot used before `bot.telegram_request.AiohttpRequest`, to show what that choice is worth. Also shown: the
production Application with its Bot API limiter (`bot.telegram_limits.TelegramLimits`), where Telegram's flood
limit (30 calls/s for the whole bot) is the ceiling, not the bot.

Run: `.venv/bin/python -m benchmarks.bot_overhead [--users 50] [--per-user 20]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    BotProcess,
    child_env,
    median,
    ok,
    print_header,
    table,
    temp_dir,
    wait_quiet,
)
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.telegram_model import JSON, User
from bot.sandbox.world import SandboxWorld

TARGET = 300.0
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Variant:
    name: str
    args: list[str]
    limiter: bool
    per_user: int
    repeat: int = 1
    transport: str = "aiohttp"
    spread: dict[str, tuple[float, float]] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)
    cpu_ms: dict[str, float] = field(default_factory=dict)
    emulator_cpu_ms: dict[str, float] = field(default_factory=dict)
    updates: dict[str, int] = field(default_factory=dict)
    rss: float = 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def wait_count(api: TelegramEmulator, method: str, count: int, timeout: float) -> float:  # noqa: ASYNC109
    """Wait until `method` was called `count` times in all; returns the time of that call."""
    call = await api.wait_call(method, timeout=timeout, count=count)
    return call.time


async def phase(
    api: TelegramEmulator,
    proc: BotProcess,
    users: list[User],
    per_user: int,
    inject: object,
    timeout: float,  # noqa: ASYNC109
) -> tuple[float, float, float, int]:
    """Inject per_user updates per user (round robin); (updates/s, bot CPU ms/update, emulator CPU ms, n)."""
    n = len(users) * per_user
    base = len(api.calls_to("sendMessage"))
    cpu0, own0 = cpu_seconds(proc.pid), own_cpu()
    start = time.monotonic()
    for _ in range(per_user):
        for user in users:
            inject(user)  # type: ignore[operator]
    last = await wait_count(api, "sendMessage", base + n, timeout)
    cpu1, own1 = cpu_seconds(proc.pid), own_cpu()
    return n / (last - start), (cpu1 - cpu0) * 1000 / n, (own1 - own0) * 1000 / n, n


async def run_variant(variant: Variant, args: argparse.Namespace) -> None:
    world = SandboxWorld()
    await world.start()
    proc: BotProcess | None = None
    try:
        # many messages into one chat, as fast as the bot goes: not about the flood budget
        async with temp_dir("bench-overhead-") as tmp, TelegramEmulator(validate=False, private_rate=None) as api:
            # a press of the same button by the same user while the first one runs is a repeat, which the bot
            # only acknowledges (bot.presses): so the presses come from users x per_user users, one each
            pressers = [api.add_user(f"User{i}", username=f"user{i}") for i in range(args.users * variant.per_user)]
            users = pressers[: args.users]
            env = child_env(
                api,
                tmp / "bot.sqlite3",
                {
                    "BENCH_URL_OVERRIDES": json.dumps(world.url_overrides),
                    "BENCH_TELEGRAM_LIMITER": "1" if variant.limiter else "0",
                    "BENCH_TRANSPORT": variant.transport,
                },
            )
            proc = BotProcess([sys.executable, "-m", "benchmarks._bot_child", *variant.args], env, tmp)
            await proc.start(api)
            if not variant.args:
                await wait_quiet(world)

            # warm-up: one /start per user; keep each user's welcome message for the button phase
            welcome: dict[int, JSON] = {}
            api.drain_actions()
            base = len(api.calls_to("sendMessage"))
            for user in pressers:
                api.send_text("/start", user=user)
            await wait_count(api, "sendMessage", base + len(pressers), args.timeout)
            for action in api.drain_actions():
                if action.method == "sendMessage" and action.message is not None:
                    welcome[int(action.chat_id)] = action.message
            missing = [u.id for u in pressers if u.id not in welcome]
            if missing:
                raise AssertionError(f"no welcome for {len(missing)} users")
            await asyncio.sleep(1.1)  # an idle second: the flood limiter's bucket is full again

            def start(user: User) -> None:
                api.send_text("/start", user=user)

            def press(user: User) -> None:
                api.press_button(welcome[user.id], "check")

            for name, inject, who, each in (("/start", start, users, variant.per_user), ("button", press, pressers, 1)):
                runs = []
                for _ in range(variant.repeat):
                    runs.append(await phase(api, proc, who, each, inject, args.timeout))
                    await asyncio.sleep(1.1)
                variant.rates[name] = median([r[0] for r in runs])
                variant.cpu_ms[name] = median([r[1] for r in runs])
                variant.emulator_cpu_ms[name] = median([r[2] for r in runs])
                variant.updates[name] = runs[0][3]
                variant.spread[name] = (min(r[0] for r in runs), max(r[0] for r in runs))
            await proc.stop()
            variant.rss = proc.peak_rss_mb
            errors = [line for line in proc.log_tail(10_000).splitlines() if " ERROR " in line or "Traceback" in line]
            if errors:
                raise AssertionError(f"{variant.name}: errors in the bot's log: {errors[:3]}")
    finally:
        if proc is not None:
            await proc.stop()
        await world.stop()


def report(variants: list[Variant]) -> bool:
    bare = next(v for v in variants if v.args == ["bare"] and v.transport == "aiohttp")
    bot = next(v for v in variants if not v.args and not v.limiter and v.transport == "aiohttp")
    rows = []
    met_all = True
    for v in variants:
        for name in ("/start", "button"):
            is_target = v is bot
            met = v.rates[name] >= TARGET
            met_all &= met or not is_target
            rows.append(
                [
                    v.name,
                    name,
                    f"{v.repeat} × {v.updates[name]}",
                    f"{v.rates[name]:.0f} ({v.spread[name][0]:.0f}-{v.spread[name][1]:.0f})",
                    f"{v.rates[name] / bare.rates[name]:.2f}",
                    f"{v.cpu_ms[name]:.2f}",
                    f"{v.cpu_ms[name] / bare.cpu_ms[name]:.2f}",
                    f"{v.emulator_cpu_ms[name]:.2f}",
                    f"{v.rss:.0f}",
                    f">= {TARGET:.0f}/s: {ok(met)}" if is_target else "",
                ]
            )
    headers = [
        "application",
        "update",
        "runs × updates",
        "updates/s, median (range)",
        "÷ bare",
        "bot CPU ms/update",
        "÷ bare",
        "emulator CPU ms/update",
        "peak RSS MB",
        "target",
    ]
    print(table(headers, rows))
    return met_all


async def main_async(args: argparse.Namespace) -> bool:
    variants = [
        Variant("bare PTB (baseline)", ["bare"], False, args.per_user, args.repeat),
        Variant("bot, no flood limiter", [], False, args.per_user, args.repeat),
        Variant("bare PTB, stock HTTPXRequest", ["bare"], False, args.per_user, args.repeat, "httpx"),
        Variant("bot, no flood limiter, stock HTTPXRequest", [], False, args.per_user, args.repeat, "httpx"),
        Variant("bot, production (TelegramLimits)", [], True, args.limited_per_user),
    ]
    for variant in variants:
        await run_variant(variant, args)
    return report(variants)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--per-user", type=int, default=20, help="updates per user and kind")
    parser.add_argument("--limited-per-user", type=int, default=3, help="the same, for the rate-limited run")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each phase (the median is shown)")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    print_header("Benchmark 3: bot overhead without exchanges (updates/s through long polling)")
    started = time.perf_counter()
    met = asyncio.run(main_async(args))
    print(f"\nwall time {time.perf_counter() - started:.0f} s; target {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
