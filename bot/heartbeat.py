"""The running bot's liveness: a heartbeat file it keeps fresh, and `python -m bot status --self`, which reads it.

The bot (`bot.lifecycle`) calls `Heartbeat.beat()` after every successful `getUpdates` (long polling) and, in
webhook mode, after every successful `getWebhookInfo` it asks at a fixed interval; on a clean stop it writes
"stopped". The file sits next to the database (`bot.sqlite3.heartbeat`) and holds a small JSON object: the
process id, the host name, when the bot started and when it last heard from Telegram. It is replaced atomically
(a temporary file in the same folder, then `os.replace`), at most once a second, so a reader never sees half of it.

`status --self` is the container's health check, run every minute next to the bot: it must cost what a health
check should. So this module imports only the standard library (python-dotenv too, and only when `.env` has to
be read): no ccxt, no telegram, no pydantic, no asyncio, no database, no network. It fails (one line, exit 1)
when the file is missing, unreadable, says the bot stopped, names a process that is gone, or is older than
`HEARTBEAT_MAX_AGE_SECONDS` (a hung bot: its event loop no longer gets answers from Telegram, or Telegram has
been unreachable that long).

It reads two settings itself, the way `bot.config.Settings` does (environment first, then `.env`; names in any
case; empty values ignored): `DATABASE_PATH` and `HEARTBEAT_MAX_AGE_SECONDS` (tests/test_heartbeat.py keeps the two
readings in step). Loading `Settings` would import pydantic and, through `storage`, telegram.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot import __version__

DEFAULT_DATABASE_PATH = "./data/bot.sqlite3"  # the same default as bot.config (a test keeps them equal)
DEFAULT_MAX_AGE_SECONDS = 120
MAX_AGE_RANGE = (5, 3600)
SUFFIX = ".heartbeat"
#: the longest a long poll waits for updates (Telegram answers an idle poll after this many seconds)
LONGEST_POLL_SECONDS = 10


def heartbeat_path(database_path: str | os.PathLike[str]) -> Path:
    """Where the bot using this database keeps its heartbeat: `bot.sqlite3` -> `bot.sqlite3.heartbeat`."""
    path = Path(database_path)
    return path.with_name(path.name + SUFFIX)


def contact_interval(max_age_seconds: float) -> int:
    """How often the bot must hear from Telegram to stay well within `max_age_seconds`: the long-poll timeout,
    and in webhook mode the interval of its getWebhookInfo calls (a quarter of the limit, 1-10 s)."""
    return int(max(1, min(LONGEST_POLL_SECONDS, max_age_seconds // 4)))


class Heartbeat:
    """The writer, owned by the running bot. `beat()` is cheap enough to call on every successful poll."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
        min_interval: float = 1.0,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.min_interval = min_interval
        self.started_at = clock()
        self.pid = os.getpid()
        self.host = socket.gethostname()
        self.webhook_error: dict[str, Any] | None = None
        self._written_at = float("-inf")

    def beat(self, via: str, *, webhook_error: dict[str, Any] | None = None, force: bool = False) -> None:
        """Telegram answered (`via`: "getUpdates", "getWebhookInfo"); rewrite the file unless it is fresh."""
        now = self.clock()
        changed = webhook_error != self.webhook_error
        self.webhook_error = webhook_error
        if not force and not changed and now - self._written_at < self.min_interval:
            return
        self._write({"state": "running", "at": now, "via": via, "webhook_error": webhook_error})
        self._written_at = now

    def stopped(self) -> None:
        """The bot stopped cleanly: `status --self` says so instead of waiting for the file to go stale."""
        self._write({"state": "stopped", "at": self.clock(), "via": "stop", "webhook_error": None})

    def _write(self, fields: Mapping[str, Any]) -> None:
        record = {
            "pid": self.pid,
            "host": self.host,
            "version": __version__,
            "started_at": self.started_at,
            **fields,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{self.pid}.tmp")  # one writer per process
        try:
            tmp.write_text(json.dumps(record), encoding="utf-8")
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise


# -- reading ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Liveness:
    """What `status --self` concludes: healthy or not, in one line."""

    ok: bool
    line: str


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists but belongs to someone else (or we may not ask): not "gone"
    return True


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _clock_time(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def assess(
    path: Path,
    *,
    max_age: float,
    now: float | None = None,
    process_exists: Callable[[int], bool] = _process_exists,
    host: str | None = None,
) -> Liveness:
    """Read the heartbeat at `path` and judge it; never raises for anything the file or the system can do."""
    now = time.time() if now is None else now
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if not path.parent.is_dir():
            return Liveness(False, f"The bot is not running here: the data folder {path.parent} does not exist.")
        return Liveness(
            False, f"The bot is not running: no heartbeat at {path} (the bot writes it once it has reached Telegram)."
        )
    except OSError as exc:
        return Liveness(False, f"The heartbeat {path} can't be read: {exc.strerror or type(exc).__name__}.")
    try:
        record = json.loads(raw.decode("utf-8"))
        pid, at = int(record["pid"]), float(record["at"])
        state, via = str(record.get("state", "running")), str(record.get("via", "?"))
    except (ValueError, TypeError, KeyError, AttributeError):  # UnicodeDecodeError is a ValueError
        return Liveness(False, f"The heartbeat {path} is damaged (not the JSON the bot writes); restart the bot.")
    age = now - at
    if state == "stopped":
        return Liveness(False, f"The bot is not running: it stopped at {_clock_time(at)} (pid {pid}).")
    same_host = record.get("host") in (None, host or socket.gethostname())
    if same_host and not process_exists(pid):
        return Liveness(
            False,
            f"The bot is not running: its process (pid {pid}) is gone without a clean stop; it last heard from "
            f"Telegram {_ago(age)} ago.",
        )
    if age > max_age:
        return Liveness(
            False,
            f"The bot (pid {pid}) has not heard from Telegram for {_ago(age)} (limit {_ago(max_age)}): it is hung, "
            "or Telegram is unreachable from it.",
        )
    error = record.get("webhook_error")
    if isinstance(error, dict) and error.get("pending"):
        return Liveness(
            False,
            f"Telegram can't deliver updates to the webhook ({error.get('pending')} waiting): "
            f"{str(error.get('message') or 'no reason given')[:200]}",
        )
    return Liveness(True, f"The bot is running (pid {pid}): last {via} {_ago(age)} ago.")


# -- the two settings, read as bot.config reads them ---------------------------------------------------------------
def _setting(name: str, environ: Mapping[str, str], env_file: Path | None) -> str | None:
    wanted = name.lower()
    for key, value in environ.items():
        if key.lower() == wanted and value and value.strip():
            return value.strip()
    if env_file is None or not env_file.is_file():
        return None
    from dotenv import dotenv_values  # only when there is a .env to read

    for key, file_value in dotenv_values(env_file).items():
        if key.lower() == wanted and file_value and file_value.strip():
            return file_value.strip()
    return None


class SettingError(ValueError):
    pass


def self_check_settings(
    environ: Mapping[str, str] | None = None, env_file: str | os.PathLike[str] | None = ".env"
) -> tuple[Path, int]:
    """(heartbeat path, max age) from DATABASE_PATH and HEARTBEAT_MAX_AGE_SECONDS; SettingError names a bad one."""
    environ = os.environ if environ is None else environ
    dotenv = Path(env_file) if env_file is not None else None
    database = _setting("DATABASE_PATH", environ, dotenv) or DEFAULT_DATABASE_PATH
    raw = _setting("HEARTBEAT_MAX_AGE_SECONDS", environ, dotenv)
    max_age = DEFAULT_MAX_AGE_SECONDS
    if raw is not None:
        low, high = MAX_AGE_RANGE
        try:
            max_age = int(raw)
        except ValueError:
            max_age = -1
        if not low <= max_age <= high:
            raise SettingError(
                f"HEARTBEAT_MAX_AGE_SECONDS must be a whole number of seconds between {low} and {high} "
                f"(got {raw[:30]!r})"
            )
    return heartbeat_path(database), max_age


def _paint(text: str, ok: bool, stream: TextIO) -> str:
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty() or os.environ.get("NO_COLOR"):
        return text
    return f"\033[{32 if ok else 31}m{text}\033[0m"


def self_check(max_age: float | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """`python -m bot status --self`: one line, exit 0 (running and in touch with Telegram), 1 (not) or 2 (a bad
    setting). Never a traceback: whatever goes wrong is that one line."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        path, configured = self_check_settings()
        liveness = assess(path, max_age=configured if max_age is None else max_age)
    except SettingError as exc:
        print(_paint(f"✗ {exc}", False, err), file=err)
        return 2
    except Exception as exc:  # noqa: BLE001 - a health check answers with a line, whatever happened
        print(_paint(f"✗ The health check itself failed: {type(exc).__name__}: {exc}"[:300], False, err), file=err)
        return 1
    stream = out if liveness.ok else err
    print(_paint(("✓ " if liveness.ok else "✗ ") + liveness.line, liveness.ok, stream), file=stream)
    return 0 if liveness.ok else 1
