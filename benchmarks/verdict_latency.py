"""Benchmark 1: verdict latency with a simulated exchange that adds a fixed latency L to every request.

For L = 50 ms and 200 ms the real bot (in this process, started as `bot.runner.serve` starts it, with its Bot API
limiter, `bot.telegram_limits`) checks a good MEXC key 50 times: /check, exchange button, campaign button, then
key and secret in one message, each check by a new user (one chat's budget at Telegram is not what this
measures). Each latency runs from that message's injection into the Bot API emulator to the verdict message
arriving there. Every Bot API call takes `--telegram-rtt` more (30 ms by default: Telegram is
not on this machine, and a local emulator would hide how many round trips the bot makes in sequence). One check
runs first and loads the markets (reported apart as the first-check cost), so the 50 figures are steady state.
The settings allow one user and one key 1,000 checks an hour (CHECKS_PER_HOUR, CHECKS_PER_KEY_PER_HOUR), since
all 50 check the same key. In the same run, with the same fake exchange and emulator:

* the honest floor: what the bot can't avoid, measured here: a deleteMessage round trip (the key message goes
  first, by the secret rules), then the longer of a sendMessage round trip (the progress message) and the check
  ("checker only" below, `KeyChecker.check` alone), then a sendMessage round trip (the verdict). The round trips
  are a bare ExtBot's on the same transport, without a limiter. Target: the bot's median at most 1.05 x that;
* "HuFi-shaped peer" (the baseline of the ratios): what HuFi's own check does, shared markets (a client per
  check, `set_markets_from_exchange` from one loaded template), the three probes in parallel, ccxt's throttler on
  (ccxt's default);
* "HuFi-shaped peer, throttler off": the same with `enableRateLimit: False`, to show what the throttler costs.

Run: `.venv/bin/python -m benchmarks.verdict_latency [--checks 50] [--peer 5] [--latency 0.05 0.2]`
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ccxt.async_support as ccxt_async
from telegram.ext import ExtBot

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
from bot.app import local_request
from bot.exchanges.catalog import get_spec
from bot.exchanges.credentials import Credentials
from bot.exchanges.factory import rewrite_urls
from bot.exchanges.probes import trades_call
from bot.sandbox.exchanges.base import FakeAccount
from bot.sandbox.exchanges.mexc import FakeMexc
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.telegram_model import User

TIMEOUT = 30.0
COUNTED = ("deleteMessage", "sendMessage", "editMessageText")
FLOOR_TARGET = 1.05


@dataclass
class Run:
    latency: float
    first: float = 0.0
    first_requests: int = 0
    bot: list[float] = field(default_factory=list)
    checker: list[float] = field(default_factory=list)
    peer: list[float] = field(default_factory=list)
    peer_fast: list[float] = field(default_factory=list)
    send_rtt: list[float] = field(default_factory=list)
    delete_rtt: list[float] = field(default_factory=list)
    requests_per_check: float = 0.0
    peer_requests: float = 0.0
    calls_in_check: dict[str, float] = field(default_factory=dict)
    failed_calls_in_check: float = 0.0

    @property
    def floor(self) -> float:
        """delete + max(progress message, check) + verdict, from this run's medians."""
        send = median(self.send_rtt)
        return median(self.delete_rtt) + max(send, median(self.checker)) + send


async def bot_check(
    api: TelegramEmulator, driver: ChatDriver, account: FakeAccount, user: User
) -> tuple[float, int, int]:
    """One check through the whole bot, by `user` (each check its own user: fifty flows in one chat would run
    into Telegram's budget for one chat, which is not what this measures): (seconds from the key message to the
    verdict, index of the first Bot API call of the check, index after the verdict)."""
    await open_key_step(api, driver, user)
    verdict = driver.expect_verdict(user.id)
    start_index = len(api.calls)
    injected = time.monotonic()
    api.send_text(f"{account.api_key}:{account.secret}", user=user)
    action = await asyncio.wait_for(verdict, TIMEOUT)
    if "passes every check" not in (action.text or ""):
        raise AssertionError(f"a good key did not pass: {action.text!r}")
    return action.time - injected, start_index, len(api.calls)


async def load_template(base_url: str) -> Any:
    """One mexc client with its markets loaded, closed: the peer's shared markets."""
    template = ccxt_async.mexc({"enableRateLimit": False})
    template.urls["api"] = rewrite_urls(template.urls["api"], base_url)
    try:
        await template.load_markets()
    finally:
        await template.close()
    return template


async def peer_check(base_url: str, template: Any, account: FakeAccount, *, throttle: bool = True) -> float:
    """HuFi's shape: a new client with the shared markets, the three probes in parallel; seconds until the last
    probe answered (ccxt's default close sleep is not counted)."""
    spec = get_spec("mexc")
    config: dict[str, object] = {"apiKey": account.api_key, "secret": account.secret, "timeout_on_exit": 0}
    if not throttle:
        config["enableRateLimit"] = False
    started = time.perf_counter()
    client = ccxt_async.mexc(config)
    client.urls["api"] = rewrite_urls(client.urls["api"], base_url)
    try:
        client.set_markets_from_exchange(template)
        symbol, since, limit, params = trades_call(spec.trades, int(time.time() * 1000))
        await asyncio.gather(
            client.fetch_balance(),
            client.fetch_deposit_address("ETH", dict(spec.deposit_params)),
            client.fetch_my_trades(symbol, since, limit, params),
        )
        return time.perf_counter() - started
    finally:
        await client.close()


async def round_trips(api: TelegramEmulator, runs: int) -> tuple[list[float], list[float]]:
    """A bare ExtBot's sendMessage and deleteMessage round trips to the same emulator (no limiter, same transport)."""
    sends, deletes = [], []
    async with ExtBot(api.token, base_url=api.base_url, request=local_request()) as bot:
        for n in range(runs):
            started = time.perf_counter()
            message = await bot.send_message(api.default_user.id, f"round trip {n}")
            sends.append(time.perf_counter() - started)
            started = time.perf_counter()
            await bot.delete_message(api.default_user.id, message.message_id)
            deletes.append(time.perf_counter() - started)
    return sends, deletes


async def run_latency(latency: float, checks: int, checker_runs: int, peer_runs: int, gap: float, rtt: float) -> Run:
    run = Run(latency)
    fake = FakeMexc(latency=latency)
    await fake.start()
    try:
        async with temp_dir("bench-latency-") as tmp, RemoteTelegram(rtt=rtt, private_rate=None) as api:
            driver = ChatDriver(api)
            errors: list[BaseException] = []
            account = fake.add_account()
            async with bot_in_process(
                api,
                {"mexc": fake.base_url},
                tmp / "bot.sqlite3",
                checks_per_hour=1000,
                checks_per_key_per_hour=1000,  # all the checks are of one key
                errors=errors,
            ) as (services, _app):
                before = len(fake.requests)
                run.first, _, _ = await bot_check(api, driver, account, api.add_user("First"))
                run.first_requests = len(fake.requests) - before
                loads = services.factory.markets_loads
                before = len(fake.requests)
                for n in range(checks):
                    await asyncio.sleep(gap)
                    elapsed, first_call, end = await bot_check(api, driver, account, api.add_user(f"User{n}"))
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
            run.send_rtt, run.delete_rtt = await round_trips(api, checker_runs)
        template = await load_template(fake.base_url)
        before = len(fake.requests)
        for _ in range(peer_runs):
            await asyncio.sleep(gap)
            run.peer.append(await peer_check(fake.base_url, template, account))
        run.peer_requests = (len(fake.requests) - before) / max(peer_runs, 1)
        for _ in range(peer_runs):
            await asyncio.sleep(gap)
            run.peer_fast.append(await peer_check(fake.base_url, template, account, throttle=False))
    finally:
        await fake.stop()
    return run


def report(runs: list[Run], rtt: float) -> bool:
    rows = []
    met_all = True
    for r in runs:
        lat, floor = r.latency, r.floor
        peer_med = median(r.peer)
        bot_med = median(r.bot)
        met = bot_med <= FLOOR_TARGET * floor
        met_all &= met
        paths = (
            ("bot, end to end", r.bot, r.requests_per_check, f"{FLOOR_TARGET * floor * 1000:.0f}", ok(met)),
            ("checker only", r.checker, r.requests_per_check, "", ""),
            ("HuFi-shaped peer (baseline)", r.peer, r.peer_requests, "", ""),
            ("HuFi-shaped peer, throttler off", r.peer_fast, r.peer_requests, "", ""),
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
                    f"{med / peer_med:.3f}",
                    f"{med / floor:.3f}" if name.startswith("bot") else "",
                    target,
                    status,
                ]
            )
    headers = ["L ms", "path", "n", "requests", "median ms", "p95 ms", "median/L", "÷ peer", "÷ floor"]
    print(table([*headers, f"target median ms ({FLOOR_TARGET} × floor)", "status"], rows))
    print()
    rows = []
    for r in runs:
        lat = r.latency
        calls = ", ".join(f"{m} {n:.1f}" for m, n in sorted(r.calls_in_check.items()))
        rows.append(
            [
                f"{lat * 1000:.0f}",
                f"{median(r.delete_rtt) * 1000:.1f}",
                f"{median(r.send_rtt) * 1000:.1f}",
                f"{median(r.checker) * 1000:.1f}",
                f"{r.floor * 1000:.1f}",
                f"{(median(r.bot) - r.floor) * 1000:.1f}",
                f"{r.first * 1000:.0f}",
                f"{r.first / lat:.2f}",
                r.first_requests,
                f"{calls} ({r.failed_calls_in_check:.1f} refused)",
            ]
        )
    headers = [
        "L ms",
        "deleteMessage round trip ms",
        "sendMessage round trip ms",
        "check (checker only) ms",
        "floor ms",
        "bot - floor ms",
        "first check ms",
        "first/L",
        "first check requests",
        "Bot API calls from key message to verdict",
    ]
    print(table(headers, rows))
    print(f"\nBot API round trip added by the emulator: {rtt * 1000:.0f} ms per call")
    return met_all


async def main_async(args: argparse.Namespace) -> bool:
    runs = []
    for latency in args.latency:
        runs.append(await run_latency(latency, args.checks, args.checker, args.peer, args.gap, args.telegram_rtt))
    return report(runs, args.telegram_rtt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=50)
    parser.add_argument("--checker", type=int, default=20, help="checker-only checks per latency")
    parser.add_argument("--peer", type=int, default=5, help="HuFi-shaped peer checks per latency and variant")
    parser.add_argument("--latency", type=float, nargs="+", default=[0.05, 0.2], help="seconds")
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between one check's verdict and the next")
    parser.add_argument("--telegram-rtt", type=float, default=0.03, help="seconds added to every Bot API call")
    args = parser.parse_args(argv)
    print_header("Benchmark 1: verdict latency (simulated MEXC with a fixed latency L per request)")
    print(f"Bot API round trip simulated: {args.telegram_rtt * 1000:.0f} ms per call\n")
    started = time.perf_counter()
    met = asyncio.run(main_async(args))
    print(f"\nwall time {time.perf_counter() - started:.0f} s; targets {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
