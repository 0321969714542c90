"""Benchmark 2: bursts of 200, 400 and 1,000 users checking keys at once, with a bystander who keeps sending /start.

The bot runs as its own process (`python -m benchmarks._bot_child`: the real `python -m bot run` with the fake
exchanges' URLs plugged in), with CHECKS_PER_HOUR=1000 and the default MAX_CONCURRENT_CHECKS (20). Every exchange
is simulated and every fake lists as many spot markets as the real one (`bot/sandbox/markets.py`): the bot loads
all their markets at start, so its memory is what it is in production. Every fake adds `--latency` to each request.
The fake MEXC answers "rate limited" past `--exchange-limit` requests in any rolling second (our catalog allows
ourselves 20/s towards MEXC).

For each size N (`--users`, a fresh bot and fresh fakes per size):

1. **Presses at once.** The N users are brought to the "send me the key" step in three waves, each wave sent by
   all N users at once: /check, then the exchange button, then the campaign button. Per wave: when the last
   reply arrived, how many presses Telegram refused to let the bot answer (the emulator refuses an
   answerCallbackQuery more than 15 s after the press, as Telegram does), and how many flows got stuck (no reply
   within `--timeout`).
2. **The burst.** Their key messages are injected spread evenly over `--spread` seconds. Most are good MEXC keys;
   one in 20 is a MEXC key with a wrong secret (a failing key), and one in 20 is a key on Gate, which is under
   maintenance for the whole burst (an outage verdict). Per user: the latency from the key message to the
   verdict. A verdict is right when its headline is the one the same kind of key got when checked alone before
   the burst.
3. **The bystander.** A user who has nothing to do with the burst sends /start every `--bystander-every` seconds
   (Telegram's budget for one private chat is about one message a second) from the first key message until the
   last verdict: the latency of each welcome.

Reported: waves (last reply s, answers refused, stuck); verdicts right / wrong / lost per kind; latency median /
p95 / max; the floor the exchange limit sets (MEXC requests / limit); the most requests the fake MEXC saw in any
rolling second and its over-limit count (Gate's too, against its catalog rate); the bystander's p95; Bot API calls
per check; the bot's CPU per update (the waves: /check and button presses) and per key flow (the waves and the
key message, over N); RSS idle / peak. `--bot-source DIR` runs the bot child from another checkout (an older
commit) with the same benchmark, for a same-run comparison.

Run: `.venv/bin/python -m benchmarks.many_users [--users 200 400 1000]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
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
    max_in_window,
    median,
    ok,
    percentile,
    print_header,
    table,
    temp_dir,
    wait_quiet,
)
from bot.exchanges.catalog import get_spec
from bot.sandbox.exchanges.base import FakeAccount
from bot.sandbox.exchanges.mexc import FakeMexc
from bot.sandbox.markets import REAL_SIZES, SIZE_SETTING
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.telegram_model import User
from bot.sandbox.world import SandboxWorld

RSS_TARGET_MB = 300.0
BYSTANDER_TARGET_S = 0.5
OUTAGE_EXCHANGE = "gate"
TICK = os.sysconf("SC_CLK_TCK")
#: what each step of the flow answers with (English, the emulator's users have no language)
WAVES = (
    ("/check", "Which exchange"),
    ("exchange button", "Which kind of HuFi campaign"),
    ("campaign button", "Send me the"),
)
WELCOME = "I help HuFi users"
FINGERPRINT = re.compile(r"\S+…\S+")


@dataclass
class Wave:
    name: str
    last: float = 0.0
    p95: float = 0.0
    refused_answers: int = 0
    stuck: int = 0
    cpu: float = 0.0


@dataclass
class Result:
    users: int
    kinds: Counter[str] = field(default_factory=Counter)
    waves: list[Wave] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    right: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    wrong_said: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    lost_said: Counter[str] = field(default_factory=Counter)  # the last thing a user without a verdict got
    expected: dict[str, str] = field(default_factory=dict)
    makespan: float = 0.0
    mexc_requests: int = 0
    mexc_max_in_window: int = 0
    mexc_over_limit: int = 0
    gate_requests: int = 0
    gate_max_in_window: int = 0
    bystander: list[float] = field(default_factory=list)
    bystander_lost: int = 0
    bystander_sent: list[float] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    refused_calls: int = 0
    queued_notes: int = 0
    burst_cpu: float = 0.0
    bystander_updates: int = 0
    rss_idle: float = 0.0
    rss_peak: float = 0.0
    startup: float = 0.0
    log_errors: int = 0
    log_tail: str = ""  # the bot's last log lines, when a verdict was lost

    @property
    def all_latencies(self) -> list[float]:
        return [x for values in self.latencies.values() for x in values]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def headline(text: str | None) -> str:
    """A verdict's first line, without the key's fingerprint (`mx0v…tflW`): what the verdict says."""
    return FINGERPRINT.sub("…", (text or "").splitlines()[0])[:80] if text else ""


async def sample_rss(proc: BotProcess, peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], proc.status().get("VmRSS", 0.0))
        try:
            await asyncio.wait_for(stop.wait(), 0.1)
        except TimeoutError:
            pass


def press(api: TelegramEmulator, user: User, wave: int, exchange: str, previous: object) -> None:
    """One user's move in wave `wave` (0: /check, 1: the exchange button, 2: the campaign button)."""
    if wave == 0:
        api.send_text("/check", user=user)
    else:
        api.press_button(previous.message, f"ex:{exchange}" if wave == 1 else "ct:any")  # type: ignore[attr-defined]


async def run_waves(
    api: TelegramEmulator,
    driver: ChatDriver,
    proc: BotProcess,
    users: list[User],
    exchange_of: dict[int, str],
    timeout: float,  # noqa: ASYNC109
) -> tuple[list[Wave], list[User]]:
    """Bring every user to the key step, each step sent by all users at once; the waves and the users who got
    there."""
    waves = []
    replies: dict[int, object] = {}
    live = list(users)
    for number, (name, fragment) in enumerate(WAVES):
        wave = Wave(name)
        refused_before = sum(1 for c in api.calls_to("answerCallbackQuery") if c.error is not None)
        cpu0 = cpu_seconds(proc.pid)
        start = time.monotonic()
        for user in live:
            press(api, user, number, exchange_of[user.id], replies.get(user.id))
        waits = {u.id: asyncio.ensure_future(driver.wait_text(u.id, fragment, timeout)) for u in live}
        await asyncio.wait(waits.values())
        times, still = [], []
        for user in live:
            task = waits[user.id]
            if task.exception() is not None:
                wave.stuck += 1
                continue
            action = task.result()
            replies[user.id] = action
            times.append(action.time - start)
            still.append(user)
        wave.cpu = cpu_seconds(proc.pid) - cpu0
        wave.last = max(times, default=float("nan"))
        wave.p95 = percentile(times, 0.95) if times else float("nan")
        wave.refused_answers = (
            sum(1 for c in api.calls_to("answerCallbackQuery") if c.error is not None) - refused_before
        )
        waves.append(wave)
        live = still
    return waves, live


async def bystander(
    api: TelegramEmulator, driver: ChatDriver, user: User, every: float, stop: asyncio.Event, out: Result
) -> None:
    """/start every `every` seconds until `stop`; the latency of each welcome."""
    while not stop.is_set():
        sent = time.monotonic()
        api.send_text("/start", user=user)
        try:
            action = await driver.wait_text(user.id, WELCOME, 30.0)
            out.bystander_sent.append(sent)
            out.bystander.append(action.time - sent)
        except TimeoutError:
            out.bystander_lost += 1
        out.bystander_updates += 1
        pause = every - (time.monotonic() - sent)
        if pause > 0:
            try:
                await asyncio.wait_for(stop.wait(), pause)
            except TimeoutError:
                pass


async def one_check(
    api: TelegramEmulator, driver: ChatDriver, user: User, account: FakeAccount, secret: str, exchange: str
) -> str:
    """One user alone, from /check to the verdict; the verdict's headline."""
    previous: object = None
    for number, (_name, fragment) in enumerate(WAVES):
        press(api, user, number, exchange, previous)
        previous = await driver.wait_text(user.id, fragment, 30.0)
    verdict = driver.expect_verdict(user.id)
    api.send_text(f"{account.api_key}:{secret}", user=user)
    return headline((await asyncio.wait_for(verdict, 30.0)).text)


async def run_size(users_n: int, args: argparse.Namespace) -> Result:
    result = Result(users_n)
    world = SandboxWorld(latency=args.latency)
    mexc = world.fakes["mexc"] = FakeMexc(latency=args.latency, max_requests_per_second=args.exchange_limit)
    gate = world.fakes[OUTAGE_EXCHANGE]
    await world.start()
    proc: BotProcess | None = None
    try:
        async with temp_dir("bench-users-") as tmp, TelegramEmulator() as api:
            driver = ChatDriver(api)
            extra = {
                "CHECKS_PER_HOUR": "1000",
                "BENCH_URL_OVERRIDES": json.dumps(world.url_overrides),
            }
            env = child_env(api, tmp / "bot.sqlite3", extra)
            if args.bot_source:
                env["PYTHONPATH"] = os.pathsep.join([args.bot_source, env["PYTHONPATH"]])
            proc = BotProcess([sys.executable, "-m", "benchmarks._bot_child"], env, tmp)
            result.startup = await proc.start(api)
            await wait_quiet(world)
            result.rss_idle = proc.status().get("VmRSS", 0.0)

            # each kind of key checked alone first: the verdict the burst must give it too
            good, bad, down = mexc.add_account(), mexc.add_account(), gate.add_account()
            result.expected["good"] = await one_check(api, driver, api.add_user("SoloGood"), good, good.secret, "mexc")
            result.expected["bad"] = await one_check(
                api, driver, api.add_user("SoloBad"), bad, mexc.new_secret(), "mexc"
            )
            gate.force("exchange_maintenance")
            result.expected["outage"] = await one_check(
                api, driver, api.add_user("SoloDown"), down, down.secret, OUTAGE_EXCHANGE
            )

            users = [api.add_user(f"User{i}", username=f"user{i}") for i in range(users_n)]
            kind_of: dict[int, str] = {}
            exchange_of: dict[int, str] = {}
            keys: dict[int, str] = {}
            for i, user in enumerate(users):
                kind = "bad" if i % 20 == 7 else "outage" if i % 20 == 13 else "good"
                kind_of[user.id] = kind
                result.kinds[kind] += 1
                exchange_of[user.id] = OUTAGE_EXCHANGE if kind == "outage" else "mexc"
                if kind == "outage":
                    account = gate.add_account()
                    keys[user.id] = f"{account.api_key}:{account.secret}"
                else:
                    account = mexc.add_account()
                    secret = account.secret if kind == "good" else mexc.new_secret()
                    keys[user.id] = f"{account.api_key}:{secret}"

            stop = asyncio.Event()
            peak = [0.0]
            sampler = asyncio.create_task(sample_rss(proc, peak, stop))
            # a flow stuck on the way can't send its key: it counts as lost
            result.waves, ready = await run_waves(api, driver, proc, users, exchange_of, args.timeout)
            await asyncio.sleep(1.1)  # the exchange's one-second window drains

            mexc_before, gate_before = len(mexc.requests), len(gate.requests)
            over_before = mexc.over_limit
            calls_before = len(api.calls)
            futures = {u.id: driver.expect_verdict(u.id) for u in ready}
            injected: dict[int, float] = {}
            watcher = api.add_user("Bystander")
            done = asyncio.Event()
            cpu0 = cpu_seconds(proc.pid)
            side = asyncio.create_task(bystander(api, driver, watcher, args.bystander_every, done, result))
            start = time.monotonic()
            for i, user in enumerate(ready):
                delay = start + i * args.spread / len(ready) - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                injected[user.id] = time.monotonic()
                api.send_text(keys[user.id], user=user)
            await asyncio.wait(futures.values(), timeout=args.timeout)
            done.set()
            await side
            result.burst_cpu = cpu_seconds(proc.pid) - cpu0
            stop.set()
            await sampler

            last = start
            for user in ready:
                kind = kind_of[user.id]
                future = futures[user.id]
                if not future.done():
                    result.lost[kind] += 1
                    queue = driver.queues[user.id]
                    texts = []
                    while not queue.empty():
                        action = queue.get_nowait()
                        texts.append(f"{action.method}: {(action.text or '')[:50]}")
                    result.lost_said[texts[-1] if texts else "nothing after the key message"] += 1
                    future.cancel()
                    continue
                action = future.result()
                result.latencies.setdefault(kind, []).append(action.time - injected[user.id])
                last = max(last, action.time)
                said = headline(action.text)
                if said == result.expected[kind]:
                    result.right[kind] += 1
                else:
                    result.wrong[kind] += 1
                    result.wrong_said[said[:60]] += 1
            for kind, n in result.kinds.items():
                result.lost[kind] += n - sum(1 for u in ready if kind_of[u.id] == kind)
            result.makespan = last - start
            # only the /starts sent while the burst lasted (a lost verdict keeps the wait going until the timeout)
            result.bystander = [x for x, at in zip(result.bystander, result.bystander_sent, strict=True) if at <= last]
            result.mexc_requests = len(mexc.requests) - mexc_before
            result.mexc_max_in_window = max_in_window([r.at for r in mexc.requests])
            result.mexc_over_limit = mexc.over_limit - over_before
            result.gate_requests = len(gate.requests) - gate_before
            result.gate_max_in_window = max_in_window([r.at for r in gate.requests])
            for call in api.calls[calls_before:]:
                if call.method != "getUpdates" and str(call.params.get("chat_id")) != str(watcher.id):
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
                1 for line in proc.log_tail(100_000).splitlines() if " ERROR " in line or "Traceback" in line
            )
            if sum(result.lost.values()):
                result.log_tail = proc.log_tail(15)
    finally:
        if proc is not None:
            await proc.stop()
        await world.stop()
    return result


def targets_met(r: Result, args: argparse.Namespace) -> bool:
    return (
        not sum(r.lost.values())
        and not sum(r.wrong.values())
        and r.mexc_over_limit == 0
        and r.mexc_max_in_window <= args.exchange_limit
        and not r.bystander_lost
        and bool(r.bystander)
        and percentile(r.bystander, 0.95) <= BYSTANDER_TARGET_S
        and not any(w.stuck for w in r.waves)
        and r.rss_peak <= RSS_TARGET_MB
    )


def report(results: list[Result], args: argparse.Namespace) -> bool:
    met_all = True
    gate_rate = get_spec(OUTAGE_EXCHANGE).rate_limit_per_second
    rows = []
    for r in results:
        met = targets_met(r, args)
        met_all &= met
        latencies = r.all_latencies
        floor = r.mexc_requests / args.exchange_limit
        delivered = sum(r.right.values()) + sum(r.wrong.values())
        kinds = ", ".join(f"{k} {r.kinds[k]}" for k in ("good", "bad", "outage"))
        right = ", ".join(f"{k} {r.right[k]}/{r.kinds[k]}" for k in ("good", "bad", "outage"))
        rows.append(
            [
                r.users,
                kinds,
                f"{delivered}/{r.users}",
                right,
                sum(r.wrong.values()),
                sum(r.lost.values()),
                " / ".join(f"{x:.2f}" for x in (median(latencies), percentile(latencies, 0.95), max(latencies))),
                f"{r.makespan:.1f}",
                f"{floor:.1f}",
                f"{r.makespan / floor:.2f}" if floor else "-",
                f"{r.mexc_max_in_window} ({r.mexc_over_limit})",
                f"{r.gate_max_in_window} (limit {gate_rate:g})",
                f"{len(r.bystander)} ({r.bystander_lost})",
                f"{median(r.bystander):.3f} / {percentile(r.bystander, 0.95):.3f} / {max(r.bystander, default=0):.3f}",
                f"{r.rss_idle:.0f} / {r.rss_peak:.0f}",
                ok(met),
            ]
        )
    print(
        table(
            [
                "users",
                "keys",
                "verdicts",
                "right (as when alone)",
                "wrong",
                "lost",
                "latency median / p95 / max s",
                "last verdict s",
                "MEXC floor s",
                "last ÷ floor",
                f"MEXC most in any 1 s, limit {args.exchange_limit:.0f} (refused)",
                "Gate most in any 1 s",
                "bystander /start n (lost)",
                f"bystander median / p95 / max s (target p95 {BYSTANDER_TARGET_S})",
                "RSS idle / peak MB",
                "targets",
            ],
            rows,
        )
    )
    print()
    rows = []
    for r in results:
        for w in r.waves:
            rows.append(
                [
                    r.users,
                    w.name,
                    f"{w.p95:.1f}",
                    f"{w.last:.1f}",
                    w.refused_answers if w.name != "/check" else "-",
                    w.stuck,
                    f"{w.cpu / r.users * 1000:.2f}",
                ]
            )
    print(
        table(
            [
                "users",
                "all at once",
                "reply p95 s",
                "last reply s",
                "answers refused (too late)",
                "stuck",
                "bot CPU ms/update",
            ],
            rows,
        )
    )
    print()
    rows = []
    for r in results:
        checks = sum(r.right.values()) + sum(r.wrong.values()) or 1
        calls = ", ".join(f"{m} {n / checks:.2f}" for m, n in sorted(r.calls.items()))
        waves_cpu = sum(w.cpu for w in r.waves)
        wrong = "; ".join(f"{n}× {t!r}" for t, n in r.wrong_said.most_common(3)) or "-"
        lost = "; ".join(f"{n}× {t!r}" for t, n in r.lost_said.most_common(3)) or "-"
        rows.append(
            [
                r.users,
                f"{r.mexc_requests / max(r.kinds['good'] + r.kinds['bad'], 1):.2f}",
                calls,
                r.refused_calls,
                r.queued_notes,
                f"{waves_cpu / (3 * r.users) * 1000:.2f}",
                f"{r.burst_cpu / r.users * 1000:.2f}",
                f"{(waves_cpu + r.burst_cpu) / r.users * 1000:.2f}",
                f"{r.startup:.2f}",
                r.log_errors,
                wrong,
                lost,
            ]
        )
    print(
        table(
            [
                "users",
                "MEXC requests/check",
                "Bot API calls per check (key message to verdict)",
                "refused calls",
                "queue notes",
                "CPU ms/update (waves)",
                "CPU ms/key message (burst, bystander included)",
                "CPU ms per key flow",
                "start-up s",
                "bot log errors",
                "wrong verdicts said",
                "last message without a verdict",
            ],
            rows,
        )
    )
    print()
    for r in results:
        print(
            f"{r.users} users, verdict headlines when alone: " + "; ".join(f"{k}: {v!r}" for k, v in r.expected.items())
        )
        if r.log_tail:
            print(f"{r.users} users, the bot's last log lines:\n{r.log_tail}")
    return met_all


async def main_async(args: argparse.Namespace) -> bool:
    results = []
    for n in args.users:
        results.append(await run_size(n, args))
    return report(results, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[200, 400, 1000])
    parser.add_argument("--spread", type=float, default=1.0, help="seconds over which the keys arrive")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds every fake exchange adds per request")
    parser.add_argument("--exchange-limit", type=float, default=20.0, help="requests/s the fake MEXC accepts")
    parser.add_argument("--bystander-every", type=float, default=1.2, help="seconds between the bystander's /start")
    parser.add_argument("--timeout", type=float, default=400.0, help="seconds to wait for a wave or the verdicts")
    parser.add_argument("--bot-source", default=None, help="run the bot child from this checkout instead")
    args = parser.parse_args(argv)
    if args.bot_source:
        args.bot_source = str(Path(args.bot_source).resolve())
    os.environ.pop(SIZE_SETTING, None)  # every fake at its real size
    sizes = ", ".join(f"{e} {s.spot}" for e, s in REAL_SIZES.items())
    print_header("Benchmark 2: bursts of users checking keys at once, with a bystander sending /start")
    print(
        f"fakes' spot markets: {sizes}\n"
        f"every fake {args.latency * 1000:.0f} ms per request; fake MEXC accepts {args.exchange_limit:.0f} requests "
        f"in any second; {OUTAGE_EXCHANGE} under maintenance during the burst; CHECKS_PER_HOUR=1000, "
        "MAX_CONCURRENT_CHECKS default (20)" + (f"; bot from {args.bot_source}" if args.bot_source else "") + "\n"
    )
    started = time.perf_counter()
    met = asyncio.run(main_async(args))
    print(f"\nwall time {time.perf_counter() - started:.0f} s; targets {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
