"""Key checks run as tasks: the handler that starts one returns at once.

A check can wait minutes for a free slot (MAX_CONCURRENT_CHECKS, then the exchange's request budget). Awaited in
its handler, it held one of PTB's concurrent update slots and its chat's turn all that time: with 1,000 users
pressing buttons at once, the presses waited behind the checks until their answers were refused as too late.
So the handler admits the check and hands it to `CheckTasks.start`, which runs it with the Application's
`create_task`: an exception in it goes to the error handler (its redacted log line and the user's short answer),
as one in a handler does.

What still holds while it runs:

* one press is one action: a repeated press of the button that started a check is ignored until the check has
  finished (`bot.presses.Presses.hold`, which `start` is given the press's key for);
* what an update started is part of its answer: `settled(update_ids)` waits for the checks those updates started
  (the demo shows its prompt only after the verdict: `bot.lifecycle.RunningBot.settled`);
* stopping: `finish(grace)` waits up to `grace` seconds for the checks in flight, then cancels the rest and tells
  their users to try again (`bot.lifecycle.serving` calls it once no more updates come in, before the Application
  stops).

Nothing here keeps a secret: the registry is in this module, keyed by the Application (not in `bot_data`), and
holds the tasks only while they run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable
from typing import Any

from telegram import Update

log = logging.getLogger(__name__)

#: seconds a stopping bot waits for the checks in flight before it cancels the rest
STOP_GRACE_SECONDS = 5.0
#: seconds a cancelled check has to tell its user (the bot is stopping)
TELL_SECONDS = 2.0

Tell = Callable[[], Awaitable[object]]


class CheckTasks:
    """The key checks of one Application that run as tasks (see the module docstring)."""

    def __init__(self, application: Any) -> None:
        self._app = weakref.ref(application)
        self._tasks: dict[asyncio.Task[Any], tuple[int | None, Tell | None]] = {}
        self._by_update: dict[int, set[asyncio.Task[Any]]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def start(
        self,
        check: Coroutine[Any, Any, Any],
        update: object,
        *,
        press: Hashable | None = None,
        presses: Any = None,
        on_cancel: Tell | None = None,
    ) -> asyncio.Task[Any]:
        """Run `check` as a task of the Application (errors go to its error handler with `update`). `press`: the
        key of the button press that started it (`presses` then holds it as running until the check ends);
        `on_cancel`: how to tell the user when the check is cancelled because the bot stops."""
        application = self._app()
        assert application is not None
        update_id = update.update_id if isinstance(update, Update) else None
        task: asyncio.Task[Any] = application.create_task(check, update=update, name="key-check")
        self._tasks[task] = (update_id, on_cancel)
        if update_id is not None:
            self._by_update.setdefault(update_id, set()).add(task)
        if press is not None and presses is not None:
            presses.hold(press, task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        update_id, _ = self._tasks.pop(task, (None, None))
        if update_id is not None:
            started = self._by_update.get(update_id)
            if started is not None:
                started.discard(task)
                if not started:
                    del self._by_update[update_id]

    async def settled(self, update_ids: Iterable[int]) -> None:
        """Wait until every check started by these updates has ended (however it ended)."""
        for update_id in update_ids:
            tasks = list(self._by_update.get(update_id, ()))
            if tasks:
                await asyncio.wait(tasks)

    async def finish(self, grace: float | None = None) -> None:
        """The bot is stopping (no more updates come in): wait up to `grace` seconds (STOP_GRACE_SECONDS) for
        the checks in flight, then cancel the rest, telling their users (best effort, briefly)."""
        if not self._tasks:
            return
        grace = STOP_GRACE_SECONDS if grace is None else grace
        _, pending = await asyncio.wait(list(self._tasks), timeout=grace)
        if not pending:
            return
        log.warning("stopping: %d key checks did not finish in %.0f s and are cancelled", len(pending), grace)
        tells = [self._tasks.get(task, (None, None))[1] for task in pending]
        for task in pending:
            task.cancel()
        await asyncio.wait(pending)
        notes = [asyncio.ensure_future(tell()) for tell in tells if tell is not None]
        if notes:
            _, late = await asyncio.wait(notes, timeout=TELL_SECONDS)
            for note in late:
                note.cancel()
            for note in notes:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    note.result()


_REGISTRY: weakref.WeakKeyDictionary[Any, CheckTasks] = weakref.WeakKeyDictionary()


def check_tasks(application: Any) -> CheckTasks:
    """The running checks of `application` (made on first use)."""
    tasks = _REGISTRY.get(application)
    if tasks is None:
        tasks = _REGISTRY[application] = CheckTasks(application)
    return tasks


__all__ = ["STOP_GRACE_SECONDS", "CheckTasks", "check_tasks"]
