"""What the benchmarks share: machine facts, statistics, tables, a chat driver, and the bot in-process or as a child.

Everything talks only to 127.0.0.1: the Bot API emulator and the fake exchanges run in the benchmark process; the
bot runs either in the same event loop (`bot_in_process`, the production start-up sequence of `bot.runner.serve`)
or as a child process (`BotProcess`: `python -m benchmarks._bot_child`, which is `python -m bot run` with the fake
exchanges' URLs plugged into the client factory), so its memory can be read from /proc/<pid>/status.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot.config import Settings  # noqa: E402
from bot.lifecycle import ALLOWED_UPDATES, Polling, running  # noqa: E402
from bot.runner import freeze_startup_objects  # noqa: E402
from bot.sandbox.telegram_api import TelegramEmulator  # noqa: E402
from bot.sandbox.telegram_model import Action, User  # noqa: E402
from bot.services import Services  # noqa: E402

#: base64 of 32 bytes; benchmarks only
BENCH_KEY = "YmVuY2htYXJrLWtleS1mb3ItdGhlLXZhdWx0LTMyYnk="
#: settings the child must not inherit from the caller's environment
_BOT_ENV = (
    "TELEGRAM_BOT_TOKEN TELEGRAM_API_BASE_URL SUPPORT_CHAT_ID STAFF_USER_IDS DATABASE_PATH BOT_ENCRYPTION_KEY "
    "EXCHANGE_SANDBOX HUFI_RECORDING_ORACLE_URL HUFI_CAMPAIGN_LAUNCHER_URL HUFI_OUTBOUND_IPS LOG_LEVEL "
    "KEY_RETENTION_MINUTES CHECKS_PER_HOUR MAX_CONCURRENT_CHECKS WEBHOOK_URL WEBHOOK_LISTEN WEBHOOK_PORT "
    "WEBHOOK_SECRET_TOKEN SUPPORT_CONTACT"
).split()


# --- machine, statistics, tables ------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """The facts the README records next to the figures."""
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    versions = []
    for dist in ("python-telegram-bot", "ccxt", "aiohttp", "httpx", "aiosqlite"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} ?")
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "libraries": ", ".join(versions),
    }


def print_header(title: str) -> None:
    m = machine()
    print(f"# {title}")
    print(f"machine: {m['cores']} cores, {m['cpu']}, {m['memory']}; Python {m['python']}; {m['libraries']}")
    print()


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th quantile (0..1) with linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most events in any half-open interval of `window` seconds."""
    times = sorted(times)
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def median(values: Sequence[float]) -> float:
    return percentile(values, 0.5)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table (so the output can be pasted into the README as it is)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.0f}"
    return str(value)


def ok(flag: bool) -> str:
    return "met" if flag else "NOT met"


def proc_status(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process in MB, from /proc/<pid>/status."""
    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0]) / 1024
    return out


class RemoteTelegram(TelegramEmulator):
    """The emulator with a fixed delay on every Bot API call except getUpdates: the round trip to Telegram's
    servers, which a local emulator hides (`rtt=0` is the plain emulator)."""

    def __init__(self, *args: Any, rtt: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rtt = rtt

    async def _handle(self, request: Any) -> Any:
        if self.rtt and request.match_info.get("method", "").lower() != "getupdates":
            await asyncio.sleep(self.rtt)
        return await super()._handle(request)


# --- driving chats ----------------------------------------------------------------------------------------------


def is_verdict(action: Action) -> bool:
    """The verdict message: a new message that says the key passes, or starts with the failure mark."""
    if action.method != "sendMessage":
        return False
    text = action.text or ""
    return "passes every check" in text or text.startswith("❌")


@dataclass
class ChatDriver:
    """Routes the bot's actions to per-chat queues; records every verdict with its arrival time."""

    api: TelegramEmulator
    queues: dict[int, asyncio.Queue[Action]] = field(default_factory=lambda: defaultdict(asyncio.Queue))
    verdicts: dict[int, list[Action]] = field(default_factory=lambda: defaultdict(list))
    methods: Counter[str] = field(default_factory=Counter)
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.api.on_action = self._on_action
        self._verdict_waiters: dict[int, asyncio.Future[Action]] = {}

    def _on_action(self, action: Action) -> None:
        self.methods[action.method] += 1
        chat = action.chat_id
        if chat is None:  # answerCallbackQuery
            return
        chat = int(chat)
        if is_verdict(action):
            self.verdicts[chat].append(action)
            waiter = self._verdict_waiters.pop(chat, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(action)
            return
        self.queues[chat].put_nowait(action)

    def expect_verdict(self, chat_id: int) -> asyncio.Future[Action]:
        """A future for this chat's next verdict; create it before injecting the message that triggers it."""
        future: asyncio.Future[Action] = asyncio.get_running_loop().create_future()
        self._verdict_waiters[chat_id] = future
        return future

    async def wait_text(self, chat_id: int, fragment: str, timeout: float = 30.0) -> Action:  # noqa: ASYNC109
        """Pop this chat's actions until a message containing `fragment` arrives."""
        queue = self.queues[chat_id]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen: list[str] = []
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"chat {chat_id}: never saw {fragment!r}; saw {seen[-5:]}")
            try:
                action = await asyncio.wait_for(queue.get(), remaining)
            except TimeoutError:
                raise TimeoutError(f"chat {chat_id}: never saw {fragment!r}; saw {seen[-5:]}") from None
            if action.message is not None and fragment in (action.text or ""):
                return action
            seen.append(f"{action.method}: {(action.text or '')[:60]!r}")


async def open_key_step(
    api: TelegramEmulator,
    driver: ChatDriver,
    user: User,
    exchange: str = "mexc",
    campaign: str = "ct:any",
    timeout: float = 60.0,  # noqa: ASYNC109
) -> None:
    """/check → exchange button → campaign button, up to "Send me the … key"."""
    api.send_text("/check", user=user)
    picker = await driver.wait_text(user.id, "Which exchange", timeout)
    api.press_button(picker.message, f"ex:{exchange}")  # type: ignore[arg-type]
    kind = await driver.wait_text(user.id, "Which kind of HuFi campaign", timeout)
    api.press_button(kind.message, campaign)  # type: ignore[arg-type]
    await driver.wait_text(user.id, "Send me the", timeout)


# --- the bot in this process ------------------------------------------------------------------------------------


def bench_settings(api: TelegramEmulator, db_path: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "telegram_bot_token": api.token,
        "telegram_api_base_url": api.base_url,
        "database_path": db_path,
        "bot_encryption_key": BENCH_KEY,
        "log_level": "WARNING",
    }
    return Settings(**{**base, **overrides})


@asynccontextmanager
async def bot_in_process(
    api: TelegramEmulator,
    url_overrides: Mapping[str, str],
    db_path: Path,
    *,
    rate_limiter: bool = True,
    errors: list[BaseException] | None = None,
    **settings: Any,
) -> AsyncIterator[tuple[Services, Any]]:
    """The real Application started the way `python -m bot run` starts it (`bot.lifecycle.running`, long polling,
    timeout 10 s, then `bot.runner.freeze_startup_objects`: here that also takes the simulated exchanges' market
    lists, which live in this process, out of the cycle collector's walks, as they are not in the bot's)."""
    config = bench_settings(api, db_path, **settings)

    async def record_error(update: object, context: Any) -> None:
        if errors is not None and context.error is not None:
            errors.append(context.error)

    updates = Polling(timeout=10, allowed_updates=ALLOWED_UPDATES)
    async with running(config, updates=updates, url_overrides=url_overrides, rate_limiter=rate_limiter) as bot:
        bot.app.add_error_handler(record_error)
        await api.wait_call("getUpdates", timeout=10)
        freeze_startup_objects()
        try:
            yield bot.services, bot.app
        finally:
            gc.unfreeze()


# --- the bot as a child process ---------------------------------------------------------------------------------


def child_env(api: TelegramEmulator, db_path: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _BOT_ENV}
    env.update(
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_BASE_URL=api.base_url,
        DATABASE_PATH=str(db_path),
        BOT_ENCRYPTION_KEY=BENCH_KEY,
        PTB_TIMEDELTA="1",
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


class BotProcess:
    """A bot child process against the emulator; `start` returns once its first getUpdates arrived."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], workdir: Path) -> None:
        self.args = list(args)
        self.env = dict(env)
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "bot-stderr.log"
        self.spawned_at = 0.0
        self.peak_rss_mb = float("nan")

    async def start(self, api: TelegramEmulator, timeout: float = 60.0) -> float:  # noqa: ASYNC109
        """Spawn and wait for the first getUpdates; returns seconds from spawn to that call."""
        before = len(api.calls_to("getUpdates"))
        self.proc = self._spawn()
        deadline = self.spawned_at + timeout
        while time.monotonic() < deadline:
            calls = api.calls_to("getUpdates")
            if len(calls) > before:
                return calls[before].time - self.spawned_at
            if self.proc.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.proc.returncode}:\n{self.log_tail()}")
            await asyncio.sleep(0.005)
        await self.stop()
        raise TimeoutError(f"no getUpdates within {timeout} s:\n{self.log_tail()}")

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("wb") as log:
            self.spawned_at = time.monotonic()
            return subprocess.Popen(
                self.args, env=self.env, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def status(self) -> dict[str, float]:
        return proc_status(self.pid) if self.proc is not None and self.proc.poll() is None else {}

    async def stop(self, timeout: float = 20.0) -> int | None:  # noqa: ASYNC109
        """Read the peak RSS, then SIGTERM (SIGKILL after `timeout`); returns the exit code."""
        if self.proc is None:
            return None
        self.peak_rss_mb = self.status().get("VmHWM", self.peak_rss_mb)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.proc.wait, timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                await asyncio.to_thread(self.proc.wait, 5)
        return self.proc.returncode

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


async def json_child(
    args: Sequence[str],
    env: Mapping[str, str],
    workdir: Path,
    job: Mapping[str, Any],
    timeout: float = 300.0,  # noqa: ASYNC109
) -> dict[str, Any]:
    """Run a measuring child process (`python -m benchmarks._bot_child floor`, ...) without blocking this event
    loop (the emulator and the fakes it talks to run on it): `job` as JSON on its stdin, its one JSON object from
    stdout; its stderr goes to `workdir/<mode>-stderr.log` and is quoted when it fails."""
    log_path = workdir / f"{Path(args[-1]).name}-stderr.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            *args, env=dict(env), cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(json.dumps(job).encode()), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
    if proc.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"{' '.join(args[-3:])} exited with {proc.returncode}:\n{tail}")
    return json.loads(out.decode().strip().splitlines()[-1])


class LineChild:
    """A measuring child spoken to line by line (`python -m benchmarks._bot_child floor`): its job as the first
    line of JSON on stdin, then one command per line, one line of JSON back for each; `close` says `quit` and
    returns its last line. Its stderr goes to `workdir/<mode>-stderr.log` and is quoted when it fails."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], workdir: Path) -> None:
        self.args = list(args)
        self.env = dict(env)
        self.workdir = workdir
        self.log_path = workdir / f"{Path(self.args[-1]).name}-stderr.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, job: Mapping[str, Any], timeout: float = 120.0) -> dict[str, Any]:  # noqa: ASYNC109
        with self.log_path.open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *self.args, env=self.env, cwd=self.workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
            )
        return await self._send(json.dumps(job), timeout)

    async def ask(self, command: str, timeout: float = 60.0) -> dict[str, Any]:  # noqa: ASYNC109
        return await self._send(command, timeout)

    async def close(self, timeout: float = 60.0) -> dict[str, Any]:  # noqa: ASYNC109
        return await self._send("quit", timeout)

    async def _send(self, line: str, timeout: float) -> dict[str, Any]:  # noqa: ASYNC109
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()
        answer = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not answer:
            await self.proc.wait()
            tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])
            raise RuntimeError(f"{' '.join(self.args[-3:])} exited with {self.proc.returncode}:\n{tail}")
        return dict(json.loads(answer))

    async def stop(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """Wait for it to end (after `close`), killing it if it does not."""
        if self.proc is None:
            return
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


@asynccontextmanager
async def temp_dir(prefix: str) -> AsyncIterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


async def wait_quiet(world: Any, quiet: float = 0.5, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """Wait until the fakes have seen no request for `quiet` seconds (the bot's start-up market loading)."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        seen = sum(len(f.requests) for f in world.fakes.values())
        if seen == last and seen > 0:
            return
        last = seen
        await asyncio.sleep(quiet)
