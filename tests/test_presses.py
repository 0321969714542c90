"""One press is one action (bot/presses.py): a repeat is a press of the same action that arrived before the
previous run finished; a later press is a new action."""

from __future__ import annotations

import asyncio

import pytest

from bot.presses import Presses


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_press_that_arrived_while_the_action_ran_is_a_repeat() -> None:
    clock = Clock()
    presses = Presses(clock)
    presses.arrived(1)
    clock.now += 0.1
    presses.arrived(2)  # the double tap, waiting behind the first in its chat
    with presses.action(("user", "again:5"), 1) as first:
        assert first
        clock.now += 3  # the check runs
        assert presses.running == 1
    with presses.action(("user", "again:5"), 2) as second:
        assert not second  # it arrived before the first finished
    clock.now += 10
    presses.arrived(3)
    with presses.action(("user", "again:5"), 3) as later:
        assert later  # pressed after it finished: a new action
    presses.arrived(4)
    with presses.action(("user", "again:6"), 4) as other:
        assert other  # another button is another action


def test_the_end_is_noted_however_the_action_ends_and_unknown_arrivals_count_as_now() -> None:
    clock = Clock()
    presses = Presses(clock, keep=2)
    presses.arrived(1)
    with pytest.raises(RuntimeError), presses.action("key", 1):
        raise RuntimeError("the handler failed")
    assert presses.running == 0
    clock.now += 1
    with presses.action("key", 99) as first:  # never noted (no update processor): arrived now
        assert first
    for update_id in range(10, 20):
        presses.arrived(update_id)
    assert presses.arrival(10) is None and presses.arrival(19) == clock.now  # bounded


async def test_an_action_held_by_its_task_lasts_until_the_task_ends() -> None:
    """A press that started a task (a check) stays one action until the task is done, not only its handler."""
    clock = Clock()
    presses = Presses(clock)
    gate = asyncio.Event()
    presses.arrived(1)
    with presses.action(("user", "again:5"), 1) as first:
        assert first
        task = asyncio.create_task(gate.wait())
        presses.hold(("user", "again:5"), task)
    clock.now += 1
    presses.arrived(2)  # pressed again after the handler returned, while the check runs
    with presses.action(("user", "again:5"), 2) as second:
        assert not second
    assert presses.running == 1
    clock.now += 1
    presses.arrived(3)  # arrived while the task ran, handled after it ended: still a repeat
    clock.now += 1
    gate.set()
    await task
    with presses.action(("user", "again:5"), 3) as third:
        assert not third
    clock.now += 1
    presses.arrived(4)
    with presses.action(("user", "again:5"), 4) as later:
        assert later  # pressed after the check ended: a new action
    assert presses.running == 0


def test_a_press_is_answered_once_whoever_comes_first() -> None:
    presses = Presses(keep=2)
    assert presses.claim_answer("q1")  # the update processor (the press waited) or its handler
    assert not presses.claim_answer("q1")  # the other one does not answer again
    assert presses.claim_answer("q2") and presses.claim_answer("q3")
    assert presses.claim_answer("q1")  # bounded: the oldest is forgotten (long past Telegram's answer window)
