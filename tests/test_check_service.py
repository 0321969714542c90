"""The check service (bot.checks) on its own: real repositories on a SQLite file, the real key checker against the
simulated MEXC, a clock the test moves. Admission per hour, the queue behind the concurrency cap, what is stored
and what is kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.checks import CheckResult, CheckService, RateLimited
from bot.diagnosis.model import CampaignType, Cause, Permission
from bot.exchanges.credentials import Credentials
from bot.exchanges.factory import ClientFactory
from bot.exchanges.probes import KeyChecker
from bot.sandbox.world import SandboxWorld
from storage.checks import CheckRepository
from storage.db import Database
from storage.moderation import AbuseLimiter, Limits, derive_limit_key
from storage.vault import Vault

KEY = bytes(range(32))
USER = 7


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    service: CheckService
    world: SandboxWorld
    history: CheckRepository
    vault: Vault
    clock: Clock
    db: Database


async def _setup(tmp_path: Path, world: SandboxWorld, *, max_concurrent: int = 20, keep: int = 1800) -> Setup:
    clock = Clock()
    db = await Database.open(tmp_path / "bot.sqlite3")
    history = CheckRepository(db, clock)
    limiter = AbuseLimiter(db, derive_limit_key(KEY), Limits(checks_per_user_per_hour=3), clock)
    vault = Vault(db, KEY, ttl_seconds=keep, clock=clock)
    service = CheckService(
        KeyChecker(ClientFactory(url_overrides=world.url_overrides)),
        history=history,
        limiter=limiter,
        vault=vault,
        max_concurrent=max_concurrent,
        clock=clock,
    )
    return Setup(service, world, history, vault, clock, db)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    async with SandboxWorld(["mexc"]) as world:
        s = await _setup(tmp_path, world)
        try:
            yield s
        finally:
            await s.db.close()


def _creds(account: object) -> Credentials:
    return Credentials(account.api_key, account.secret)  # type: ignore[attr-defined]


async def test_a_user_gets_so_many_checks_an_hour_then_is_told_when_to_come_back(setup: Setup) -> None:
    account = setup.world.fakes["mexc"].add_account()
    for _ in range(3):
        await setup.service.admit(USER)
        await setup.service.run(USER, "mexc", _creds(account))
        setup.clock.now += 60
    with pytest.raises(RateLimited) as limited:
        await setup.service.admit(USER)
    assert limited.value.minutes == 57  # the first of the three leaves the hour in 57 minutes
    await setup.service.admit(USER + 1)  # another user is not held up
    await setup.service.run(USER, "mexc", _creds(account), count_towards_limit=False)  # staff re-checks are free
    setup.clock.now += 57 * 60 + 1
    await setup.service.admit(USER)


async def test_a_failing_key_is_stored_without_secrets_and_kept_encrypted(setup: Setup) -> None:
    account = setup.world.fakes["mexc"].add_account()
    account.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
    result = await setup.service.run(USER, "mexc", _creds(account), campaign_type=CampaignType.HOLDING)
    assert not result.report.ok and result.kept_for_recheck and result.check_id is not None
    record = await setup.history.get(result.check_id)
    assert record is not None and record.cause == Cause.PERMISSION_MISSING and record.campaign_type == "HOLDING"
    raw = await setup.db.fetchval("SELECT report_json FROM checks WHERE id = ?", (result.check_id,))
    assert account.secret not in raw and account.api_key not in raw
    kept = await setup.vault.get(USER, "mexc")
    assert kept is not None and kept.credentials.secret == account.secret and kept.campaign_type == "HOLDING"


async def test_the_result_is_shown_once_stored_while_the_key_is_kept_or_wiped(setup: Setup) -> None:
    """`on_stored` (the chat sends its verdict there) gets the stored check, and runs side by side with keeping
    or wiping the key: each waits here for the other to have started, which would never happen if one ran
    after the other."""
    account = setup.world.fakes["mexc"].add_account()
    account.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
    keeping, showing = asyncio.Event(), asyncio.Event()
    seen: list[CheckResult] = []

    def meanwhile(vault_call: Any) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            keeping.set()
            await asyncio.wait_for(showing.wait(), 5)
            return await vault_call(*args, **kwargs)

        return call

    async def on_stored(result: CheckResult) -> None:
        showing.set()
        await asyncio.wait_for(keeping.wait(), 5)
        assert await setup.history.get(result.check_id or 0) is not None  # stored before it is shown
        seen.append(result)

    setup.vault.put = meanwhile(setup.vault.put)  # type: ignore[method-assign]
    setup.vault.wipe = meanwhile(setup.vault.wipe)  # type: ignore[method-assign]
    failed = await setup.service.run(USER, "mexc", _creds(account), on_stored=on_stored)
    assert seen == [failed] and failed.kept_for_recheck  # a failing key, kept for "check again"
    assert await setup.vault.get(USER, "mexc") is not None
    account.grant(Permission.VIEW_SPOT_TRADING_HISTORY)
    keeping.clear()
    showing.clear()
    passed = await setup.service.run(USER, "mexc", _creds(account), on_stored=on_stored)
    assert seen == [failed, passed] and passed.report.ok and not passed.kept_for_recheck
    assert await setup.vault.get(USER, "mexc") is None  # wiped


async def test_a_passing_key_and_a_stopped_check_are_not_kept(setup: Setup) -> None:
    account = setup.world.fakes["mexc"].add_account()
    account.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
    await setup.service.run(USER, "mexc", _creds(account))
    account.grant(Permission.VIEW_SPOT_TRADING_HISTORY)
    passed = await setup.service.run(USER, "mexc", _creds(account))
    assert passed.report.ok and not passed.kept_for_recheck
    assert await setup.vault.get(USER, "mexc") is None  # the passing check wiped the kept key
    stopped = await setup.service.run(USER, "mexc", Credentials(account.api_key, ""))
    assert stopped.report.precheck is not None and not stopped.kept_for_recheck
    record = await setup.history.get(stopped.check_id or 0)
    assert record is not None and record.cause == stopped.report.precheck.cause  # the verdict: the pre-check
    assert await setup.vault.get(USER, "mexc") is None


@dataclass
class Held:
    """A service with one slot, held by a check of a good key until `gate` is set (`first`: that check)."""

    setup: Setup
    account: object
    first: asyncio.Task[CheckResult]
    gate: asyncio.Event


@asynccontextmanager
async def one_slot_held(tmp_path: Path) -> AsyncIterator[Held]:
    async with SandboxWorld(["mexc"]) as world:
        s = await _setup(tmp_path, world, max_concurrent=1)
        try:
            account = world.fakes["mexc"].add_account()
            gate, holding = asyncio.Event(), asyncio.Event()

            async def hold(report: object, outcome: object) -> None:
                holding.set()
                await gate.wait()

            first = asyncio.create_task(s.service.run(USER, "mexc", _creds(account), on_progress=hold))
            await asyncio.wait_for(holding.wait(), 10)
            yield Held(s, account, first, gate)
        finally:
            await s.db.close()


async def test_checks_beyond_the_cap_queue_in_order_and_learn_their_place(tmp_path: Path) -> None:
    async with one_slot_held(tmp_path) as held:
        service = held.setup.service
        positions: list[int] = []
        queued = asyncio.Event()

        async def on_queued(position: int) -> None:
            positions.append(position)
            queued.set()

        assert service.running == 1
        second = asyncio.create_task(service.run(USER + 1, "mexc", _creds(held.account), on_queued=on_queued))
        await asyncio.wait_for(queued.wait(), 10)
        assert positions == [1] and service.queue_length == 1
        held.gate.set()
        results = await asyncio.wait_for(asyncio.gather(held.first, second), 20)
        assert all(r.report.ok for r in results)
        assert service.running == 0 and service.queue_length == 0


async def test_no_client_is_built_ahead_for_a_check_that_will_wait_for_a_slot(tmp_path: Path) -> None:
    async with one_slot_held(tmp_path) as held:
        service = held.setup.service
        factory = service.key_checker.factory
        service.prepare("mexc")  # every slot is taken: built when the check starts
        assert not factory._spares.get("mexc")
        held.gate.set()
        assert (await asyncio.wait_for(held.first, 20)).report.ok
        service.prepare("mexc")  # a slot is free
        assert len(factory._spares["mexc"]) == 1


async def test_one_key_from_many_accounts_and_everyone_together_are_limited_too(tmp_path: Path) -> None:
    async with SandboxWorld(["mexc"]) as world:
        s = await _setup(tmp_path, world)
        try:
            limiter = s.service.limiter
            assert isinstance(limiter, AbuseLimiter)
            limiter.limits = Limits(checks_per_user_per_hour=3, checks_per_key_per_hour=2, checks_per_hour=4)
            account = world.fakes["mexc"].add_account()
            await s.service.run(USER, "mexc", _creds(account))
            await s.service.run(USER + 1, "mexc", _creds(account))  # a second account, the same key
            requests = len(world.fakes["mexc"].requests)
            with pytest.raises(RateLimited) as by_key:
                await s.service.run(USER + 2, "mexc", _creds(account))
            assert by_key.value.limit == "key" and by_key.value.allowed == 2
            assert len(world.fakes["mexc"].requests) == requests  # refused before any request
            for n in range(2):
                await s.service.run(USER + 3 + n, "mexc", _creds(world.fakes["mexc"].add_account()))
            with pytest.raises(RateLimited) as ceiling:
                await s.service.admit(USER + 9)  # before the key is known: the user's and everyone's limit
            assert ceiling.value.limit == "global" and ceiling.value.minutes == 60
            await s.service.run(USER, "mexc", _creds(account), count_towards_limit=False)  # staff: never limited
        finally:
            await s.db.close()


async def test_a_check_running_when_the_user_says_forget_keeps_nothing(setup: Setup) -> None:
    account = setup.world.fakes["mexc"].add_account()
    account.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
    running, go_on = asyncio.Event(), asyncio.Event()

    async def hold(report: object, outcome: object) -> None:
        running.set()
        await go_on.wait()

    check = asyncio.create_task(setup.service.run(USER, "mexc", _creds(account), on_progress=hold))
    await asyncio.wait_for(running.wait(), 10)
    setup.service.forgotten(USER)  # /forget while a (staff) re-check of the user's key runs
    await setup.vault.wipe(USER)
    go_on.set()
    result = await asyncio.wait_for(check, 20)
    assert not result.report.ok and not result.kept_for_recheck
    assert await setup.vault.get(USER, "mexc") is None
    again = await setup.service.run(USER, "mexc", _creds(account))  # a later check keeps it again
    assert again.kept_for_recheck
