"""Benchmark 1: verdict latency with a simulated exchange that adds a fixed latency L to every request.

For L = 50 ms and 200 ms the real bot (in this process, started as `bot.runner.serve` starts it, PTB's
AIORateLimiter included) checks a good MEXC key 50 times: /check, exchange button, campaign button, then key and
secret in one message. Each latency runs from that message's injection into the Bot API emulator to the verdict
message arriving there. One check runs first and loads the markets (reported apart as the first-check cost), so
the 50 figures are steady state. Flows are spaced `--gap` seconds apart so that one user's back-to-back flows do
not run into PTB's 30 calls/s flood limiter (the many-users benchmark measures that). In the same run, with
the same fake exchange:

* "checker only": `KeyChecker.check` called directly (no Telegram, no database): the exchange part alone;
* "naive": a new ccxt client with ccxt's default options, `load_markets()`, the three probes one after another,
  the default `close()` (the baseline the ratios compare with);
* "naive, throttle off": the same with `enableRateLimit: False`, to tell ccxt's throttler from the design.

`--telegram-rtt S` adds S seconds to every Bot API call (a remote Telegram instead of a local emulator).

Run: `.venv/bin/python -m benchmarks.verdict_latency [--checks 50] [--naive 3] [--latency 0.05 0.2]`
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ccxt.async_support as ccxt_async

from benchmarks._common import (
    ChatDriver,
    RemoteTelegram,
    bot_in_process,
    median,
    ok,
    open_key_step,
    percentile,
    print_header,
    table,
    temp_dir,
)
from bot.exchanges.catalog import get_spec
from bot.exchanges.credentials import Credentials
from bot.exchanges.factory import rewrite_urls
from bot.exchanges.probes import trades_call
from bot.sandbox.exchanges.base import FakeAccount
from bot.sandbox.exchanges.mexc import FakeMexc
from bot.sandbox.telegram_api import TelegramEmulator

TIMEOUT = 30.0
COUNTED = ("deleteMessage", "sendMessage", "editMessageText")


@dataclass
class Run:
    latency: float
    first: float = 0.0
    first_requests: int = 0
    bot: list[float] = field(default_factory=list)
    checker: list[float] = field(default_factory=list)
    naive: list[dict[str, float]] = field(default_factory=list)
    naive_fast: list[dict[str, float]] = field(default_factory=list)
    requests_per_check: float = 0.0
    naive_requests: float = 0.0
    calls_in_check: dict[str, float] = field(default_factory=dict)
    failed_calls_in_check: float = 0.0


async def bot_check(api: TelegramEmulator, driver: ChatDriver, account: FakeAccount) -> tuple[float, int, int]:
    """One check through the whole bot: (seconds from the key message to the verdict, index of the first
    Bot API call of the check, index after the verdict)."""
    user = api.default_user
    await open_key_step(api, driver, user)
    verdict = driver.expect_verdict(user.id)
    start_index = len(api.calls)
    injected = time.monotonic()
    api.send_text(f"{account.api_key}:{account.secret}", user=user)
    action = await asyncio.wait_for(verdict, TIMEOUT)
    if "passes every check" not in (action.text or ""):
        raise AssertionError(f"a good key did not pass: {action.text!r}")
    return action.time - injected, start_index, len(api.calls)


async def naive_check(base_url: str, account: FakeAccount, *, throttle: bool = True) -> dict[str, float]:
    """A new client with ccxt's defaults, load_markets, three sequential probes, the default close."""
    spec = get_spec("mexc")
    config: dict[str, object] = {"apiKey": account.api_key, "secret": account.secret}
    if not throttle:
        config["enableRateLimit"] = False
    started = time.perf_counter()
    client = ccxt_async.mexc(config)
    client.urls["api"] = rewrite_urls(client.urls["api"], base_url)
    try:
        await client.load_markets()
        loaded = time.perf_counter()
        await client.fetch_balance()
        await client.fetch_deposit_address("ETH", dict(spec.deposit_params))
        symbol, since, limit, params = trades_call(spec.trades, int(time.time() * 1000))
        await client.fetch_my_trades(symbol, since, limit, params)
        probed = time.perf_counter()
    finally:
        await client.close()
    closed = time.perf_counter()
    return {"total": closed - started, "markets": loaded - started, "probes": probed - loaded, "close": closed - probed}


async def run_latency(latency: float, checks: int, checker_runs: int, naive_runs: int, gap: float, rtt: float) -> Run:
    run = Run(latency)
    fake = FakeMexc(latency=latency)
    await fake.start()
    try:
        # many checks in one chat, back to back: not about the flood budget
        async with temp_dir("bench-latency-") as tmp, RemoteTelegram(rtt=rtt, private_rate=None) as api:
            driver = ChatDriver(api)
            errors: list[BaseException] = []
            account = fake.add_account()
            async with bot_in_process(
                api, {"mexc": fake.base_url}, tmp / "bot.sqlite3", checks_per_hour=1000, errors=errors
            ) as (services, _app):
                before = len(fake.requests)
                run.first, _, _ = await bot_check(api, driver, account)
                run.first_requests = len(fake.requests) - before
                loads = services.factory.markets_loads
                before = len(fake.requests)
                for _ in range(checks):
                    await asyncio.sleep(gap)
                    elapsed, first_call, end = await bot_check(api, driver, account)
                    run.bot.append(elapsed)
                    for call in api.calls[first_call:end]:
                        if call.method in COUNTED:
                            run.calls_in_check[call.method] = run.calls_in_check.get(call.method, 0) + 1 / checks
                            if call.error is not None:
                                run.failed_calls_in_check += 1 / checks
                run.requests_per_check = (len(fake.requests) - before) / checks
                if services.factory.markets_loads != loads:
                    raise AssertionError("markets were loaded again during the steady-state checks")
                creds = Credentials(account.api_key, account.secret)
                for _ in range(checker_runs):
                    await asyncio.sleep(gap)  # back to back, the shared 20 requests/s limiter would pace them
                    started = time.perf_counter()
                    report = await services.key_checker.check("mexc", creds)
                    run.checker.append(time.perf_counter() - started)
                    if not report.ok:
                        raise AssertionError("the checker failed a good key")
            if errors:
                raise AssertionError(f"handler errors: {errors[:3]!r}")
        before = len(fake.requests)
        for _ in range(naive_runs):
            run.naive.append(await naive_check(fake.base_url, account))
        run.naive_requests = (len(fake.requests) - before) / max(naive_runs, 1)
        for _ in range(naive_runs):
            run.naive_fast.append(await naive_check(fake.base_url, account, throttle=False))
    finally:
        await fake.stop()
    return run


def report(runs: list[Run]) -> bool:
    rows = []
    met_all = True
    for r in runs:
        lat = r.latency
        naive_med = median([n["total"] for n in r.naive])
        target_med, target_p95 = 1.3 * lat + 0.020, 1.5 * lat + 0.040
        bot_med, bot_p95 = median(r.bot), percentile(r.bot, 0.95)
        met = bot_med <= target_med and bot_p95 <= target_p95
        met_all &= met
        paths = (
            (
                "bot, end to end",
                r.bot,
                r.requests_per_check,
                f"{target_med * 1e3:.0f} / {target_p95 * 1e3:.0f}",
                ok(met),
            ),
            ("checker only", r.checker, r.requests_per_check, "", ""),
            ("naive (baseline)", [n["total"] for n in r.naive], r.naive_requests, "", ""),
            ("naive, throttle off", [n["total"] for n in r.naive_fast], r.naive_requests, "", ""),
        )
        for name, values, requests, target, status in paths:
            med, p95 = median(values), percentile(values, 0.95)
            rows.append(
                [
                    f"{lat * 1000:.0f}",
                    name,
                    len(values),
                    f"{requests:.1f}",
                    f"{med * 1000:.1f}",
                    f"{p95 * 1000:.1f}",
                    f"{med / lat:.2f}",
                    f"{p95 / lat:.2f}",
                    f"{med / naive_med:.3f}",
                    target,
                    status,
                ]
            )
    headers = ["L ms", "path", "n", "requests", "median ms", "p95 ms", "median/L", "p95/L", "median/naive"]
    print(table([*headers, "target median / p95 ms", "status"], rows))
    print()
    rows = []
    for r in runs:
        lat = r.latency
        calls = ", ".join(f"{m} {n:.1f}" for m, n in sorted(r.calls_in_check.items()))
        rows.append(
            [
                f"{lat * 1000:.0f}",
                f"{r.first * 1000:.0f}",
                f"{r.first / lat:.2f}",
                r.first_requests,
                f"{median([n['markets'] for n in r.naive]) * 1000:.0f}",
                f"{median([n['probes'] for n in r.naive]) * 1000:.0f}",
                f"{median([n['close'] for n in r.naive]) * 1000:.0f}",
                f"{median([n['markets'] for n in r.naive_fast]) * 1000:.0f}",
                f"{median([n['probes'] for n in r.naive_fast]) * 1000:.0f}",
                f"{calls} ({r.failed_calls_in_check:.1f} refused)",
            ]
        )
    headers = [
        "L ms",
        "first check ms",
        "first/L",
        "first check requests",
        "naive markets ms",
        "naive probes ms",
        "naive close ms",
        "throttle off: markets ms",
        "throttle off: probes ms",
        "Bot API calls from key message to verdict",
    ]
    print(table(headers, rows))
    return met_all


async def main_async(args: argparse.Namespace) -> bool:
    runs = []
    for latency in args.latency:
        runs.append(await run_latency(latency, args.checks, args.checker, args.naive, args.gap, args.telegram_rtt))
    return report(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=50)
    parser.add_argument("--checker", type=int, default=20, help="checker-only checks per latency")
    parser.add_argument("--naive", type=int, default=3, help="naive baseline checks per latency and variant")
    parser.add_argument("--latency", type=float, nargs="+", default=[0.05, 0.2], help="seconds")
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between one check's verdict and the next")
    parser.add_argument("--telegram-rtt", type=float, default=0.0, help="seconds added to every Bot API call")
    args = parser.parse_args(argv)
    print_header("Benchmark 1: verdict latency (simulated MEXC with a fixed latency L per request)")
    if args.telegram_rtt:
        print(f"Bot API round trip simulated: {args.telegram_rtt * 1000:.0f} ms per call\n")
    started = time.perf_counter()
    met = asyncio.run(main_async(args))
    print(f"\nwall time {time.perf_counter() - started:.0f} s; targets {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
