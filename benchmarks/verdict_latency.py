"""Benchmark 1: verdict latency with a simulated exchange that adds a fixed latency L to every request.

Three kinds of process, as in production, where Telegram and the exchange are not in the bot's process:

* this process runs the Bot API emulator (`RemoteTelegram`: every Bot API call but getUpdates takes
  `--telegram-rtt` more, 30 ms by default: Telegram is not on this machine, and a local emulator would hide how
  many round trips the bot makes in sequence) and the fake MEXC (about 2,500 markets, L added to every request),
  and plays the users;
* the bot is its own process: the real `python -m bot run` (`benchmarks._bot_child`: long polling, its Bot API
  limiter `bot.telegram_limits`, markets warmed at start by `bot.runner`, `gc.freeze` of the start-up objects),
  with the fake MEXC's address from BENCH_URL_OVERRIDES and CHECKS_PER_HOUR / CHECKS_PER_KEY_PER_HOUR at 1,000
  (every check is of the same key). The other exchanges are not simulated: the child's loopback guard refuses
  their host lookups, so their start-up market warm-up fails at once (a warning each in the bot's log);
* the parts of the floor are measured in a child process of their own (`python -m benchmarks._bot_child floor`),
  for the same reason, up beside the bot and asked for one of its checks and one pair of its round trips after
  each of the bot's checks, so the machine's load, which comes and goes, weighs on both alike; the peers run in
  child processes of their own (`... peer`) after the bot has stopped.

For L = 50 ms and 200 ms the bot checks a good MEXC key `--checks` times (50): /check, exchange button, campaign
button, then key and secret in one message, each check by a new user (one chat's budget at Telegram is not what
this measures), `--gap` seconds after the previous verdict. Each latency runs from that message's injection into
the emulator to the verdict message arriving there. One check runs first and is reported apart (the bot's first
check after start; the markets were loaded before it, by the start-up warm-up, which the benchmark waits for), so
the 50 are steady state; during them the fake must see no market or currency list request. Against the same fake
and emulator, each of the 50 followed by one measurement of each part of the floor:

* the honest floor: what the bot can't avoid: a deleteMessage round trip (the key message goes first, by the
  secret rules), then the longer of a sendMessage round trip (the progress message) and the check ("checker
  only" below: the bot's own `KeyChecker.check`, built by `bot.services.open_services`, markets loaded once
  first; it builds its exchange client as part of the check, where the bot's key flow builds it when it asks
  for the key, `ClientFactory.prepare`), then a sendMessage round trip (the verdict). The round trips
  are a bare ExtBot's on the bot's transport, without a limiter. All measured in the `floor` child. Target: the
  bot's median at most 1.05 x that;
* "HuFi-shaped peer" (the baseline of the ratios): what HuFi's own check does, shared markets (a client per
  check, `set_markets_from_exchange` from one loaded template), the three probes in parallel, ccxt's throttler on
  (ccxt's default), in the `peer` child;
* "HuFi-shaped peer, throttler off": the same with `enableRateLimit: False`, in another `peer` child.

Each child runs once untimed first (connections, first use) and that run is not counted. `--trace` also records
inside the bot when each step of a check happens (`benchmarks._trace`) and prints the medians. What a figure does
not cover: a network (everything is on 127.0.0.1: the 30 ms is a fixed wait added at the emulator, and L at the fake;
real round trips vary), a busy bot (benchmark 2), and a quiet machine (the cores are shared with other work).

Run: `.venv/bin/python -m benchmarks.verdict_latency [--checks 50] [--peer 5] [--trace] [--latency 0.05 0.2]`
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    BotProcess,
    ChatDriver,
    LineChild,
    RemoteTelegram,
    child_env,
    json_child,
    median,
    ok,
    open_key_step,
    percentile,
    print_header,
    table,
    temp_dir,
)
from benchmarks._trace import breakdown
from bot.sandbox.exchanges.base import FakeAccount, FakeExchange
from bot.sandbox.exchanges.mexc import FakeMexc
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.telegram_model import User

TIMEOUT = 30.0
COUNTED = ("deleteMessage", "sendMessage", "editMessageText")
FLOOR_TARGET = 1.05
CHILD = (sys.executable, "-m", "benchmarks._bot_child")


@dataclass
class Run:
    latency: float
    first: float = 0.0
    first_requests: int = 0
    startup_list_requests: int = 0
    bot: list[float] = field(default_factory=list)
    checker: list[float] = field(default_factory=list)
    peer: list[float] = field(default_factory=list)
    peer_fast: list[float] = field(default_factory=list)
    send_rtt: list[float] = field(default_factory=list)
    delete_rtt: list[float] = field(default_factory=list)
    bot_requests: int = 0
    checker_requests: int = 0
    peer_requests: float = 0.0
    calls_in_check: dict[str, float] = field(default_factory=dict)
    failed_calls_in_check: float = 0.0
    trace: dict[str, float] = field(default_factory=dict)

    @property
    def requests_per_check(self) -> float:
        return self.bot_requests / max(len(self.bot), 1)

    @property
    def requests_per_checker_run(self) -> float:
        return self.checker_requests / max(len(self.checker), 1)

    @property
    def floor(self) -> float:
        """delete + max(progress message, check) + verdict, from this run's medians."""
        send = median(self.send_rtt)
        return median(self.delete_rtt) + max(send, median(self.checker)) + send


def probe_paths(fake: FakeExchange) -> frozenset[str]:
    """The fake's endpoints that need a permission: the probes. Every other request is a market, currency or time
    list (loaded once and shared, never per check)."""
    return frozenset(r.path for r in fake.routes() if r.permission is not None)


def count(fake: FakeExchange, since: int, paths: frozenset[str]) -> tuple[int, int]:
    """(probe requests, other requests) the fake saw from index `since` on."""
    probes = sum(1 for r in fake.requests[since:] if r.path in paths)
    return probes, len(fake.requests) - since - probes


async def bot_check(
    api: TelegramEmulator, driver: ChatDriver, account: FakeAccount, user: User
) -> tuple[float, int, int, float]:
    """One check through the whole bot, by `user` (each check its own user: fifty flows in one chat would run
    into Telegram's budget for one chat, which is not what this measures): (seconds from the key message to the
    verdict, index of the first Bot API call of the check, index after the verdict, the key message's
    injection time on the monotonic clock)."""
    await open_key_step(api, driver, user)
    verdict = driver.expect_verdict(user.id)
    start_index = len(api.calls)
    injected = time.monotonic()
    api.send_text(f"{account.api_key}:{account.secret}", user=user)
    action = await asyncio.wait_for(verdict, TIMEOUT)
    if "passes every check" not in (action.text or ""):
        raise AssertionError(f"a good key did not pass: {action.text!r}")
    return action.time - injected, start_index, len(api.calls), injected


async def markets_warmed(fake: FakeExchange, quiet: float = 1.0, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    """Wait until the bot's start-up warm-up has fetched the fake's markets: a first request, then `quiet` seconds
    without one (the list is parsed after its reply arrives)."""
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline:
        if fake.requests and len(fake.requests) == seen:
            return
        seen = len(fake.requests)
        await asyncio.sleep(quiet if fake.requests else 0.05)
    raise TimeoutError(f"the bot did not load the fake's markets within {timeout} s")


async def run_bot(
    run: Run, api: RemoteTelegram, fake: FakeExchange, account: FakeAccount, tmp: Path, args: argparse.Namespace
) -> None:
    """The bot's checks with the bot in its own process, each followed by one of the floor's checks and one
    pair of its round trips (the `floor` child, up alongside), so the machine's load weighs on both alike.
    Both children are stopped before returning."""
    driver = ChatDriver(api)
    paths = probe_paths(fake)
    overrides = {"BENCH_URL_OVERRIDES": json.dumps({fake.exchange_id: fake.base_url})}
    trace = tmp / "trace.jsonl"
    extra = {
        **overrides,
        "CHECKS_PER_HOUR": "1000",
        "CHECKS_PER_KEY_PER_HOUR": "1000",  # all the checks are of one key
        **({"BENCH_TRACE": str(trace)} if args.trace else {}),
    }
    job = {
        "exchange": fake.exchange_id,
        "api_key": account.api_key,
        "secret": account.secret,
        "chat_id": api.default_user.id,
    }
    floor = LineChild([*CHILD, "floor"], child_env(api, tmp / "floor.sqlite3", overrides), tmp)
    proc = BotProcess(list(CHILD), child_env(api, tmp / "bot.sqlite3", extra), tmp)
    injected: dict[int, float] = {}
    try:
        await floor.start(job)  # its markets loaded and its warm-up done before the bot starts
        await proc.start(api)
        await markets_warmed(fake)
        run.startup_list_requests = count(fake, 0, paths)[1]
        before = len(fake.requests)
        run.first, _, _, _ = await bot_check(api, driver, account, api.add_user("First"))
        run.first_requests = len(fake.requests) - before
        before = len(fake.requests)
        for n in range(args.checks):
            await asyncio.sleep(args.gap)
            user = api.add_user(f"User{n}")
            requests_before = len(fake.requests)
            elapsed, first_call, end, injected[user.id] = await bot_check(api, driver, account, user)
            run.bot_requests += len(fake.requests) - requests_before
            run.bot.append(elapsed)
            for call in api.calls[first_call:end]:
                if call.method in COUNTED:
                    run.calls_in_check[call.method] = run.calls_in_check.get(call.method, 0) + 1 / args.checks
                    if call.error is not None:
                        run.failed_calls_in_check += 1 / args.checks
            await asyncio.sleep(args.gap)  # back to back, the shared 20 requests/s limiter would pace them
            requests_before = len(fake.requests)
            run.checker.append((await floor.ask("check"))["checker"])
            run.checker_requests += len(fake.requests) - requests_before
            trips = await floor.ask("rtt")
            run.send_rtt.append(trips["send_rtt"])
            run.delete_rtt.append(trips["delete_rtt"])
        lists = count(fake, before, paths)[1]
        if lists:
            raise AssertionError(f"{lists} market or currency list requests during the steady-state checks")
        loads = (await floor.close())["markets_loads"]
        if loads != 1:
            raise AssertionError(f"the floor's checker loaded markets {loads} times")
    finally:
        await floor.stop()
        code = await proc.stop()
    log = proc.log_tail(100_000)
    errors = [line for line in log.splitlines() if " ERROR " in line or "Traceback" in line]
    if code != 0 or errors:
        raise AssertionError(f"the bot exited with {code}, {len(errors)} errors in its log:\n{proc.log_tail(20)}")
    if args.trace:
        run.trace = breakdown(trace, injected)


async def run_latency(latency: float, args: argparse.Namespace) -> Run:
    run = Run(latency)
    fake = FakeMexc(latency=latency)
    await fake.start()
    paths = probe_paths(fake)
    try:
        async with temp_dir("bench-latency-") as tmp, RemoteTelegram(rtt=args.telegram_rtt, private_rate=None) as api:
            account = fake.add_account()
            overrides = {"BENCH_URL_OVERRIDES": json.dumps({fake.exchange_id: fake.base_url})}
            # this process's own objects (the fake's market lists, the emulator) out of the cycle collector's walks
            # while it answers the measured processes
            gc.collect()
            gc.freeze()
            try:
                await run_bot(run, api, fake, account, tmp, args)
                job: dict[str, Any] = {
                    "exchange": fake.exchange_id,
                    "api_key": account.api_key,
                    "secret": account.secret,
                    "gap": args.gap,
                }
                env = child_env(api, tmp / "peer.sqlite3", overrides)
                before = len(fake.requests)
                peer = await json_child([*CHILD, "peer"], env, tmp, {**job, "runs": args.peer, "throttle": True})
                run.peer = peer["peer"]
                run.peer_requests = count(fake, before, paths)[0] / (args.peer + 1)
                peer = await json_child([*CHILD, "peer"], env, tmp, {**job, "runs": args.peer, "throttle": False})
                run.peer_fast = peer["peer"]
            finally:
                gc.unfreeze()
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
            ("checker only", r.checker, r.requests_per_checker_run, "", ""),
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
    traced = [r for r in runs if r.trace]
    if traced:
        steps = list(dict.fromkeys(step for r in traced for step in r.trace))
        print(
            "\nInside the bot (--trace): median ms from the key message's injection to each step's first occurrence\n"
        )
        rows = [[step, *(f"{r.trace[step]:.1f}" if step in r.trace else "" for r in traced)] for step in steps]
        print(table(["step", *(f"L={r.latency * 1000:.0f}" for r in traced)], rows))
    print(f"\nBot API round trip added by the emulator: {rtt * 1000:.0f} ms per call")
    warmed = ", ".join(f"{r.startup_list_requests} at L={r.latency * 1000:.0f}" for r in runs)
    print(
        f"Market and currency list requests of the bot's start-up warm-up (before the first check): {warmed}; "
        "during the steady-state checks: 0 (checked)"
    )
    print(
        "Processes: the bot (python -m bot run), the floor's parts and each peer variant each in a child process "
        "of its own (the floor's interleaved with the bot's checks, the peers after them); the emulator and the fake "
        "MEXC in this one"
    )
    return met_all


async def main_async(args: argparse.Namespace) -> bool:
    runs = []
    for latency in args.latency:
        runs.append(await run_latency(latency, args))
    return report(runs, args.telegram_rtt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=50)
    parser.add_argument(
        "--trace",
        action="store_true",
        help="also record when each step of a check happens in the bot (benchmarks._trace)",
    )
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
