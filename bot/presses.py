"""One press is one action: a button pressed again while the action it started still runs is ignored.

A Telegram client sends a callback query for every tap, so a double tap, or a tap repeated because the first
seemed to do nothing (the bot was busy with a check), reaches the bot as two presses. The bot handles the
updates of one chat in order (`bot.app.PerChatUpdateProcessor`), so the second press is handled only after the
first action has finished: asking "is it running?" at that point would let it through. What tells a repeat is
when the press *arrived*: the update processor notes each update's arrival (`arrived`), and a press of the same
action (the caller's key: the user and the button's data) that arrived before the previous run of that action
finished is a repeat. A press that arrives after it finished is a new action.

An action can outlive its handler: a "check again" press starts the check as a task and the handler returns
(`handlers.check_tasks`). `hold(key, task)` keeps such an action running until the task ends, so a press of the
same button meanwhile is still a repeat.

A press is answered once (`claim_answer`): by its handler, first thing (`handlers.common.button`), or, when it
waits too long for its turn (a burst holds every update slot, or its chat is busy), by the update processor with
an empty answer before Telegram's answer window closes (`bot.app.PerChatUpdateProcessor`); whoever comes second
does not answer again (Telegram would refuse it).

Transport-free and in memory (a restart forgets it, which is right: nothing runs after a restart). Times are
monotonic; every table is bounded.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

#: How many arrivals and finished actions are remembered (a repeat arrives within seconds of the first press).
REMEMBERED = 4096


class Presses:
    """Arrivals of updates, and the button actions running or finished, to tell a repeated press."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, *, keep: int = REMEMBERED) -> None:
        self._clock = clock
        self._keep = keep
        self._arrivals: OrderedDict[int, float] = OrderedDict()
        self._running: set[Hashable] = set()
        self._held: Counter[Hashable] = Counter()  # actions going on in a task after their handler returned
        self._finished: OrderedDict[Hashable, float] = OrderedDict()
        self._answered: OrderedDict[str, None] = OrderedDict()

    def arrived(self, update_id: int) -> None:
        """Note that update `update_id` came in now (before it waits for its turn in its chat)."""
        self._remember(self._arrivals, update_id, self._clock())

    def arrival(self, update_id: int) -> float | None:
        """When update `update_id` came in, if it was noted."""
        return self._arrivals.get(update_id)

    def claim_answer(self, query_id: str) -> bool:
        """Whether the caller is the one to answer callback query `query_id` (True once per query)."""
        if query_id in self._answered:
            return False
        self._remember(self._answered, query_id, None)
        return True

    def is_repeat(self, key: Hashable, update_id: int) -> bool:
        """Whether a press of `key` (update `update_id`) came while the same action ran."""
        if key in self._running or key in self._held:
            return True
        finished = self._finished.get(key)
        arrived = self._arrivals.get(update_id, self._clock())
        return finished is not None and arrived < finished

    @contextmanager
    def action(self, key: Hashable, update_id: int) -> Iterator[bool]:
        """Run the action of one press: yields False for a repeat (do nothing), True otherwise; the action's
        end is noted when the block ends, however it ends."""
        if self.is_repeat(key, update_id):
            yield False
            return
        self._running.add(key)
        try:
            yield True
        finally:
            self._running.discard(key)
            self._ended(key)

    def hold(self, key: Hashable, until: asyncio.Future[object]) -> None:
        """The action of `key` goes on after its handler returned, until `until` is done (a task it started):
        presses of `key` meanwhile are repeats, and the action ends when `until` does."""
        if until.done():
            return
        self._held[key] += 1

        def release(_: object) -> None:
            self._held[key] -= 1
            if self._held[key] <= 0:
                del self._held[key]
            self._ended(key)

        until.add_done_callback(release)

    def _ended(self, key: Hashable) -> None:
        self._remember(self._finished, key, self._clock())

    def _remember(self, table: OrderedDict[Any, Any], key: Hashable, value: object) -> None:
        """`table[key] = value` as its newest entry, the oldest dropped past `keep`."""
        table[key] = value
        table.move_to_end(key)
        while len(table) > self._keep:
            table.popitem(last=False)

    @property
    def running(self) -> int:
        """How many actions run now (in their handler, or in a task they started)."""
        return len(self._running | set(self._held))
