"""Where a check's milliseconds go inside the bot process: timestamps at the steps of the key flow.

`install(path)` (the bot child, `BENCH_TRACE=<path>`) wraps a few of the bot's own functions before the
Application is built and appends one line of JSON per step to `path`: the chat the step is for, the step's
name and `time.monotonic()` (one clock for every process of the machine, so the benchmark can subtract the
moment it injected the key message). The chat comes from the update being handled, carried into the tasks it
starts by a context variable. `breakdown(path, injected)` turns the lines into the median time of each step's
first occurrence after each chat's key message.

The steps: the update reaches the Application (`update`), the deletion starts (`delete`) and has its answer
(`deleted`), the check is admitted (`admitted`), the checker starts and ends (`check`, `checked`), the check is
stored (`stored`), a Bot API request leaves the bot (`out:<method>`; the second of a method is
`out:<method> #2`) or has its answer (`in:<method>`), and an exchange request leaves (`exchange out`) or has its
answer (`exchange in`).

A measuring aid: wrapping costs a few microseconds a step, and it never runs unless asked (`--trace`).
"""

from __future__ import annotations

import contextvars
import functools
import json
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_CHAT: contextvars.ContextVar[int | None] = contextvars.ContextVar("bench_trace_chat", default=None)
_lines: list[str] = []
_path: Path | None = None


def mark(step: str, chat: int | None = None) -> None:
    chat = chat if chat is not None else _CHAT.get()
    if chat is not None:
        _lines.append(json.dumps({"chat": chat, "step": step, "t": time.monotonic()}))


def flush() -> None:
    if _path is not None and _lines:
        with _path.open("a") as out:
            out.write("\n".join(_lines) + "\n")
        _lines.clear()


def _around(owner: Any, name: str, before: str | None, after: str | None) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    async def traced(*args: Any, **kwargs: Any) -> Any:
        if before:
            mark(before)
        result = await original(*args, **kwargs)
        if after:
            mark(after)
        return result

    setattr(owner, name, traced)


def install(path: str) -> None:
    """Wrap the steps (see the module docstring); the lines are written when the bot stops (`flush`)."""
    global _path
    import atexit

    from telegram import Update
    from telegram.ext import Application

    import bot.telegram_request as transport
    import handlers.private as private
    from bot.checks import CheckService
    from bot.exchanges.probes import KeyChecker
    from storage.checks import CheckRepository

    _path = Path(path)
    atexit.register(flush)
    process_update = Application.process_update

    @functools.wraps(process_update)
    async def update_traced(self: Any, update: object) -> Any:
        chat = update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
        token = _CHAT.set(chat)
        try:
            mark("update")
            return await process_update(self, update)
        finally:
            _CHAT.reset(token)

    Application.process_update = update_traced  # type: ignore[method-assign]
    _around(private, "delete_secret_message", "delete", "deleted")
    _around(CheckService, "admit_key", None, "admitted")
    _around(KeyChecker, "check", "check", "checked")
    _around(CheckRepository, "add", None, "stored")
    do_request = transport.AiohttpRequest.do_request

    @functools.wraps(do_request)
    async def request_traced(self: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        method = url.rsplit("/", 1)[-1]
        mark("out:" + method)
        result = await do_request(self, url, *args, **kwargs)
        mark("in:" + method)
        return result

    transport.AiohttpRequest.do_request = request_traced  # type: ignore[method-assign]
    from ccxt.async_support.base import exchange as ccxt_base

    fetch = ccxt_base.Exchange.fetch

    @functools.wraps(fetch)
    async def fetch_traced(self: Any, *args: Any, **kwargs: Any) -> Any:
        mark("exchange out")
        result = await fetch(self, *args, **kwargs)
        mark("exchange in")
        return result

    ccxt_base.Exchange.fetch = fetch_traced  # type: ignore[method-assign]


def breakdown(path: Path, injected: Mapping[int, float]) -> dict[str, float]:
    """Median ms from each chat's key message (`injected`: chat -> monotonic time) to each step after it (a
    step's second occurrence is `<step> #2`, and so on), over the chats where the step occurred."""
    firsts: dict[str, list[float]] = defaultdict(list)
    seen: dict[int, Counter[str]] = defaultdict(Counter)
    if not path.exists():
        return {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        chat, step, at = int(row["chat"]), row["step"], float(row["t"])
        start = injected.get(chat)
        if start is None or at < start:
            continue
        seen[chat][step] += 1
        if seen[chat][step] > 1:
            step = f"{step} #{seen[chat][step]}"  # the verdict is the check's second sendMessage
        firsts[step].append((at - start) * 1000)
    return dict(sorted(((s, statistics.median(v)) for s, v in firsts.items()), key=lambda kv: kv[1]))
