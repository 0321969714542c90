"""Benchmark 2: 200 users submit keys to the same exchange within one second.

The bot runs as its own process (`python -m benchmarks._bot_child`: the real `python -m bot run` with the fake
exchange's URL plugged in), with CHECKS_PER_HOUR=1000 and the default MAX_CONCURRENT_CHECKS (20). Every fake
exchange lists as many spot markets as the real one (`bot/sandbox/markets.py`), and the bot loads all their
markets at start, so its memory is what it is in production. The fake MEXC
adds `--latency` to each request and answers "rate limited" past `--exchange-limit` requests in any second
(our catalog allows ourselves 20/s towards MEXC). Each of the 200 users has a private chat and a key of their
own; all are brought to the "send me the key" step first, then their key messages are injected spread evenly
over `--spread` seconds. Per user: the latency from the key message's injection to their verdict.

Reported: verdicts delivered and lost, latency median / p95 / max, the ratio of p95 to two baselines from the
same run (one check alone, and the floor the exchange limit sets: requests / limit), the most requests the fake
saw in any one-second window and its over-limit count, Bot API calls per check, and the bot process's RSS
(idle, after the first check, peak = VmHWM). Two variants: the production Application (PTB's AIORateLimiter,
30 Bot API calls/s overall, Telegram's flood limit) and the same without it, to tell the two limits apart.

Run: `.venv/bin/python -m benchmarks.many_users [--users 200] [--variants telegram-limiter no-telegram-limiter]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    BotProcess,
    ChatDriver,
    child_env,
    median,
    ok,
    open_key_step,
    percentile,
    print_header,
    table,
    temp_dir,
    wait_quiet,
)
from bot.sandbox.exchanges.mexc import FakeMexc
from bot.sandbox.markets import REAL_SIZES, SIZE_SETTING, size_of
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.world import SandboxWorld

VARIANTS = {"telegram-limiter": "1", "no-telegram-limiter": "0"}
RSS_TARGET_MB = 300.0


@dataclass
class Result:
    variant: str
    users: int
    latencies: list[float] = field(default_factory=list)
    passed: int = 0
    failed_verdicts: int = 0
    lost: int = 0
    lost_reasons: Counter[str] = field(default_factory=Counter)
    wrong_reasons: Counter[str] = field(default_factory=Counter)
    single: float = 0.0
    first: float = 0.0
    makespan: float = 0.0
    requests: int = 0
    max_in_window: int = 0
    over_limit: int = 0
    queued_notes: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    refused_calls: int = 0
    rss_idle: float = 0.0
    rss_after_first: float = 0.0
    rss_peak: float = 0.0
    startup: float = 0.0
    log_errors: int = 0


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most events in any half-open interval of `window` seconds."""
    times = sorted(times)
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def one_check(api: TelegramEmulator, driver: ChatDriver, user_id: int, key: str, secret: str) -> float:
    user = api.users[user_id]
    await open_key_step(api, driver, user)
    verdict = driver.expect_verdict(user.id)
    injected = time.monotonic()
    api.send_text(f"{key}:{secret}", user=user)
    action = await asyncio.wait_for(verdict, 30)
    return action.time - injected


async def sample_rss(proc: BotProcess, peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        status = proc.status()
        peak[0] = max(peak[0], status.get("VmRSS", 0.0))
        try:
            await asyncio.wait_for(stop.wait(), 0.1)
        except TimeoutError:
            pass


async def run_variant(variant: str, args: argparse.Namespace) -> Result:
    result = Result(variant, args.users)
    # every exchange is simulated: the bot loads every exchange's markets at start (bot.runner)
    world = SandboxWorld(latency=args.latency)
    # every fake lists as many markets as the real exchange (bot.sandbox.markets); MEXC also enforces its limit
    fake = world.fakes["mexc"] = FakeMexc(
        latency=args.latency, max_requests_per_second=args.exchange_limit, markets=args.markets
    )
    await world.start()
    proc: BotProcess | None = None
    try:
        async with temp_dir("bench-users-") as tmp, TelegramEmulator() as api:
            driver = ChatDriver(api)
            env = child_env(
                api,
                tmp / "bot.sqlite3",
                {
                    "CHECKS_PER_HOUR": "1000",
                    "BENCH_URL_OVERRIDES": json.dumps(world.url_overrides),
                    "BENCH_TELEGRAM_LIMITER": VARIANTS[variant],
                },
            )
            proc = BotProcess([sys.executable, "-m", "benchmarks._bot_child"], env, tmp)
            result.startup = await proc.start(api)
            await wait_quiet(world)
            result.rss_idle = proc.status().get("VmRSS", 0.0)

            # one user alone (markets are warm by now): the first check, then the single-check baseline
            solo = api.add_user("Solo")
            account = fake.add_account()
            result.first = await one_check(api, driver, solo.id, account.api_key, account.secret)
            await asyncio.sleep(1.0)
            result.single = await one_check(api, driver, solo.id, account.api_key, account.secret)
            result.rss_after_first = proc.status().get("VmRSS", 0.0)

            users = [api.add_user(f"User{i}", username=f"user{i}") for i in range(args.users)]
            accounts = {u.id: fake.add_account() for u in users}
            await asyncio.wait_for(
                asyncio.gather(*(open_key_step(api, driver, u, timeout=args.timeout) for u in users)), args.timeout
            )
            await asyncio.sleep(1.1)  # let the exchange's one-second window and the flood limiter drain

            requests_before = len(fake.requests)
            over_before = fake.over_limit
            calls_before = len(api.calls)
            futures = {u.id: driver.expect_verdict(u.id) for u in users}
            injected: dict[int, float] = {}
            stop = asyncio.Event()
            peak = [0.0]
            sampler = asyncio.create_task(sample_rss(proc, peak, stop))
            start = time.monotonic()
            for i, user in enumerate(users):
                delay = start + i * args.spread / len(users) - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                injected[user.id] = time.monotonic()
                acc = accounts[user.id]
                api.send_text(f"{acc.api_key}:{acc.secret}", user=user)
            await asyncio.wait(futures.values(), timeout=args.timeout)
            stop.set()
            await sampler

            last = start
            for user in users:
                future = futures[user.id]
                if not future.done():
                    result.lost += 1
                    queue = driver.queues[user.id]
                    texts = []
                    while not queue.empty():
                        texts.append((queue.get_nowait().text or "")[:40])
                    result.lost_reasons[texts[-1] if texts else "no reply"] += 1
                    future.cancel()
                    continue
                action = future.result()
                result.latencies.append(action.time - injected[user.id])
                last = max(last, action.time)
                if "passes every check" in (action.text or ""):
                    result.passed += 1
                else:
                    result.failed_verdicts += 1
                    result.wrong_reasons[(action.text or "").splitlines()[0][:60]] += 1
            result.makespan = last - start
            burst = fake.requests[requests_before:]
            result.requests = len(burst)
            result.max_in_window = max_in_window([r.at for r in fake.requests])
            result.over_limit = fake.over_limit - over_before
            for call in api.calls[calls_before:]:
                if call.method != "getUpdates":
                    result.calls[call.method] += 1
                    result.refused_calls += call.error is not None
            result.queued_notes = sum(
                1
                for call in api.calls[calls_before:]
                if call.method == "editMessageText" and "in the queue" in str(call.params.get("text", ""))
            )
            await proc.stop()
            result.rss_peak = max(proc.peak_rss_mb, peak[0])
            result.log_errors = sum(
                1 for line in proc.log_tail(10_000).splitlines() if " ERROR " in line or "Traceback" in line
            )
    finally:
        if proc is not None:
            await proc.stop()
        await world.stop()
    return result


def report(results: list[Result], args: argparse.Namespace) -> bool:
    met_all = True
    rows = []
    for r in results:
        p95 = percentile(r.latencies, 0.95)
        floor = r.requests / args.exchange_limit
        met = r.lost == 0 and r.failed_verdicts == 0 and r.rss_peak <= RSS_TARGET_MB and r.over_limit == 0
        met_all &= met
        rows.append(
            [
                r.variant,
                f"{r.passed + r.failed_verdicts}/{r.users}",
                r.lost,
                r.failed_verdicts,
                f"{median(r.latencies):.2f}",
                f"{p95:.2f}",
                f"{max(r.latencies, default=float('nan')):.2f}",
                f"{r.makespan:.1f}",
                f"{floor:.1f}",
                f"{p95 / floor:.2f}",
                f"{r.single * 1000:.0f}",
                f"{p95 / r.single:.0f}",
                r.max_in_window,
                r.over_limit,
                f"{r.rss_idle:.0f} / {r.rss_after_first:.0f} / {r.rss_peak:.0f}",
                ok(met),
            ]
        )
    print(
        table(
            [
                "variant",
                "verdicts",
                "lost",
                "wrong verdicts",
                "median s",
                "p95 s",
                "max s",
                "last verdict s",
                "exchange floor s",
                "p95/floor",
                "one check alone ms",
                "p95/alone",
                f"max requests in 1 s (limit {args.exchange_limit:.0f})",
                "over limit",
                "RSS idle / after 1st / peak MB",
                "targets",
            ],
            rows,
        )
    )
    print()
    rows = []
    for r in results:
        checks = r.passed + r.failed_verdicts or 1
        calls = ", ".join(f"{m} {n / checks:.2f}" for m, n in sorted(r.calls.items()))
        reasons = "; ".join(f"{n}× {t!r}" for t, n in r.lost_reasons.most_common(3)) or "-"
        wrong = "; ".join(f"{n}× {t!r}" for t, n in r.wrong_reasons.most_common(3)) or "-"
        rows.append(
            [
                r.variant,
                f"{r.requests / checks:.2f}",
                calls,
                r.refused_calls,
                r.queued_notes,
                f"{r.first * 1000:.0f}",
                f"{r.startup:.2f}",
                r.log_errors,
                reasons,
                wrong,
            ]
        )
    print(
        table(
            [
                "variant",
                "exchange requests/check",
                "Bot API calls per check",
                "refused calls",
                "queue notes",
                "first check ms",
                "start-up s",
                "bot log errors",
                "lost because",
                "wrong verdicts said",
            ],
            rows,
        )
    )
    return met_all


async def main_async(args: argparse.Namespace) -> bool:
    results = [await run_variant(v, args) for v in args.variants]
    return report(results, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spread", type=float, default=1.0, help="seconds over which the keys arrive")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake exchange adds per request")
    parser.add_argument("--exchange-limit", type=float, default=20.0, help="requests/s the fake exchange accepts")
    parser.add_argument(
        "--markets", type=int, default=None, help="spot markets the fake MEXC lists (default: as many as MEXC, 2,500)"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for all verdicts")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    args = parser.parse_args(argv)
    os.environ.pop(SIZE_SETTING, None)  # every fake at its real size
    print_header(f"Benchmark 2: {args.users} users submit keys within {args.spread:g} s to one exchange")
    sizes = ", ".join(f"{e} {s.spot}" for e, s in REAL_SIZES.items())
    print(
        f"fakes' spot markets: {sizes}\n"
        f"fake MEXC: {size_of('mexc', args.markets).spot} spot markets, {args.latency * 1000:.0f} ms per request, "
        f"{args.exchange_limit:.0f} requests/s accepted; "
        "CHECKS_PER_HOUR=1000, MAX_CONCURRENT_CHECKS default (20)\n"
    )
    started = time.perf_counter()
    met = asyncio.run(main_async(args))
    print(f"\nwall time {time.perf_counter() - started:.0f} s; targets {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
