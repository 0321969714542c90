"""The checks behind /status: HealthService against the fake HuFi and the fake MEXC, rendering and verdicts."""

from __future__ import annotations

import ast
import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ccxt
import pytest

from bot.exchanges.catalog import CATALOG
from bot.exchanges.factory import ClientFactory
from bot.health import (
    CAMPAIGN_LAUNCHER,
    DATABASE,
    RECORDING_ORACLE,
    TELEGRAM,
    Group,
    HealthService,
    HealthSnapshot,
    Outcome,
    Probe,
    State,
    build_health_service,
    classify_exchange_error,
    database_check,
    down_verdict,
    exchange_check,
    exchange_check_name,
    format_summary,
    launcher_check,
    probe_public_api,
    recording_oracle_check,
    standard_checks,
    telegram_check,
)
from bot.hufi_api import ExchangeDirectory, HufiClient
from bot.sandbox.exchanges.bitmart import FakeBitmart
from bot.sandbox.exchanges.mexc import FakeMexc
from bot.sandbox.hufi import FakeHufi
from bot.security import MASK

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
NOW = datetime(2026, 7, 24, 9, 30, 15, tzinfo=UTC)
MEXC = exchange_check_name("mexc")
ROOT = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self) -> None:
        self.t = 500.0

    def __call__(self) -> float:
        return self.t


class Counter:
    """An async callback that counts its calls (the database write/read, Telegram getMe)."""

    def __init__(self, result: object = None, error: Exception | None = None) -> None:
        self.calls = 0
        self.result = result
        self.error = error

    async def __call__(self) -> object:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.result


@dataclass
class World:
    hufi: FakeHufi
    mexc: FakeMexc
    client: HufiClient
    factory: ClientFactory
    directory: ExchangeDirectory
    database: Counter
    telegram: Counter
    clock: Clock

    def service(self, *, timeout_s: float = 1.0, ttl_s: float = 60.0) -> HealthService:
        checks = standard_checks(
            hufi=self.client,
            factory=self.factory,
            exchange_ids=["mexc"],
            database=self.database,
            telegram=self.telegram,
        )
        return HealthService(
            checks, timeout_s=timeout_s, ttl_s=ttl_s, clock=self.clock, now=lambda: NOW, directory=self.directory
        )


@pytest.fixture
async def world() -> AsyncIterator[World]:
    hufi = FakeHufi(slow_delay=5.0)
    mexc = FakeMexc()
    await hufi.start()
    await mexc.start()
    client = HufiClient(hufi.base_url, hufi.base_url, timeout_s=1.0)
    try:
        yield World(
            hufi=hufi,
            mexc=mexc,
            client=client,
            factory=ClientFactory(url_overrides={"mexc": mexc.base_url}),
            directory=ExchangeDirectory(client),
            database=Counter(),
            telegram=Counter("@hufi_support_bot"),
            clock=Clock(),
        )
    finally:
        await client.close()
        await mexc.stop()
        await hufi.stop()


def states(snapshot: HealthSnapshot) -> dict[str, str]:
    return {c.name: str(c.state) for c in snapshot.checks}


# -- rounds against the fakes ----------------------------------------------------------------------------------


async def test_everything_up(world: World) -> None:
    snap = await world.service().snapshot()
    assert states(snap) == {RECORDING_ORACLE: "ok", CAMPAIGN_LAUNCHER: "ok", MEXC: "ok", TELEGRAM: "ok", DATABASE: "ok"}
    assert snap.overall is State.OK and snap.healthy and snap.taken_at == NOW
    assert all(c.latency_ms is not None and c.checked_at == NOW for c in snap.checks)
    assert snap.get(CAMPAIGN_LAUNCHER).detail == "production, git 5f0c1e2"  # type: ignore[union-attr]
    assert snap.get(TELEGRAM).detail == "@hufi_support_bot"  # type: ignore[union-attr]
    mexc = snap.exchange("mexc")
    assert mexc is not None and mexc.group is Group.EXCHANGE and mexc.label == "MEXC"
    assert [r.path for r in world.mexc.requests] == ["/api/v3/ping"]  # ccxt fetch_status, no markets


async def test_recording_oracle_db_down_names_the_dependency(world: World) -> None:
    await world.hufi.set_mode("db_down")
    service = world.service()
    snap = await service.snapshot()
    ro = snap.get(RECORDING_ORACLE)
    assert ro is not None and ro.state is State.DOWN and ro.reason == "dependency"
    assert ro.detail == "database down: timeout"
    assert snap.overall is State.DOWN and snap.hufi_state is State.DOWN
    assert await service.hufi_state() is State.DOWN
    assert snap.get(CAMPAIGN_LAUNCHER).state is State.OK  # type: ignore[union-attr]


async def test_hufi_down_shows_both_services_down_and_the_catalog_list(world: World) -> None:
    await world.hufi.set_mode("down")
    snap = await world.service().snapshot()
    assert snap.get(RECORDING_ORACLE).reason == "unreachable"  # type: ignore[union-attr]
    assert snap.hufi_state is State.DOWN and snap.get(CAMPAIGN_LAUNCHER).state is State.DOWN  # type: ignore[union-attr]
    text = format_summary(snap, world.directory, detailed=True)
    assert "Exchange list: built-in catalog; last fetch failed: unreachable" in text
    assert "🟢 MEXC" in text and "🔴 HuFi recording oracle (key checks)" in text
    assert down_verdict("mexc", snap, world.directory) == (
        "HuFi's servers are having trouble right now; this is not your key. Try again later."
    )


async def test_a_check_that_times_out_is_down_and_does_not_hold_up_the_others(world: World) -> None:
    await world.hufi.set_mode("slow")  # the client's own timeout (1 s) is longer than the service's
    started = time.perf_counter()
    snap = await world.service(timeout_s=0.2).snapshot()
    elapsed = time.perf_counter() - started
    assert elapsed < 0.35
    ro = snap.get(RECORDING_ORACLE)
    assert ro is not None and ro.state is State.DOWN and ro.reason == "timeout"
    assert ro.detail == "no answer within 0.2 s" and ro.latency_ms is not None and ro.latency_ms >= 190
    assert snap.get(CAMPAIGN_LAUNCHER).state is State.OK  # type: ignore[union-attr]
    assert snap.get(MEXC).state is State.OK  # type: ignore[union-attr]
    others = [c.latency_ms or 0 for c in snap.checks if c.name != RECORDING_ORACLE]
    assert max(others) < 150


async def test_launcher_list_names_exchanges_and_catalog_is_the_fallback(world: World) -> None:
    next(e for e in world.hufi.exchanges if e["name"] == "mexc")["display_name"] = "MEXC Global"
    snap = await world.service().snapshot()
    text = format_summary(snap, world.directory, detailed=False)
    assert "🟢 MEXC Global" in text
    # HuFi's exchanges we don't probe in this test are only named to staff; the user sees the probed ones
    assert "Bybit" not in text
    assert "Bybit: not checked by this bot" in format_summary(snap, world.directory, detailed=True)
    async with FakeHufi(mode="down") as gone, HufiClient(gone.base_url, gone.base_url, timeout_s=0.5) as c:
        fallback = ExchangeDirectory(c)
        await fallback.ensure_fresh()
    assert fallback.source == "catalog"
    assert "🟢 MEXC\n" in format_summary(snap, fallback, detailed=False)


async def test_exchange_switched_off_by_hufi_is_disabled_and_not_probed(world: World) -> None:
    world.hufi.switch_off("mexc")
    service = world.service()
    first = await service.snapshot()  # the list arrives during this round: mexc is marked afterwards
    mexc = first.exchange("mexc")
    assert mexc is not None and mexc.state is State.DISABLED and mexc.reason == "switched_off"
    probed = len(world.mexc.requests)
    second = await service.snapshot(force=True)
    assert second.exchange("mexc").state is State.DISABLED  # type: ignore[union-attr]
    assert len(world.mexc.requests) == probed  # skipped this time
    assert second.overall is State.OK  # switched off is not a fault
    assert await service.exchange_state("mexc") is State.DISABLED
    for detailed in (False, True):
        assert "⚪ MEXC: switched off by HuFi" in format_summary(second, world.directory, detailed=detailed)
    verdict = down_verdict("mexc", second, world.directory)
    assert verdict is not None and verdict.startswith("HuFi has switched MEXC off for now")


async def test_fifty_concurrent_snapshots_run_each_check_once(world: World) -> None:
    service = world.service()
    snaps = await asyncio.gather(*(service.snapshot() for _ in range(50)))
    assert all(s is snaps[0] for s in snaps)
    assert service.rounds == 1
    assert world.hufi.hits == {"/health/check": 1, "/health/ping": 1, "/exchanges": 1}
    assert len(world.mexc.requests) == 1
    assert world.database.calls == 1 and world.telegram.calls == 1
    again = await asyncio.gather(*(service.snapshot() for _ in range(50)))  # cached now
    assert all(s is snaps[0] for s in again) and world.hufi.hits["/health/check"] == 1


async def test_ttl_expiry_reruns_the_checks(world: World) -> None:
    service = world.service(ttl_s=60)
    first = await service.snapshot()
    world.clock.t += 59.9
    assert await service.snapshot() is first
    assert world.hufi.hits["/health/check"] == 1
    world.clock.t += 0.1
    second = await service.snapshot()
    assert second is not first and service.rounds == 2
    assert world.hufi.hits["/health/check"] == 2 and world.database.calls == 2
    assert world.hufi.hits["/exchanges"] == 1  # the exchange list keeps its own hourly schedule
    assert service.last is second


async def test_force_joins_a_round_in_flight_and_a_cancelled_caller_does_not_cancel_it(world: World) -> None:
    gate = asyncio.Event()
    runs = 0

    async def slow_ok() -> None:
        nonlocal runs
        runs += 1
        await gate.wait()

    service = HealthService({"bot:gate": slow_ok}, timeout_s=1.0)
    impatient = asyncio.create_task(service.snapshot())
    forced = asyncio.create_task(service.snapshot(force=True))
    await asyncio.sleep(0)
    impatient.cancel()
    await asyncio.sleep(0)
    gate.set()
    snap = await forced
    assert runs == 1 and snap.get("bot:gate").state is State.OK  # type: ignore[union-attr]
    assert impatient.cancelled()
    await service.close()


async def test_close_cancels_a_round_in_flight() -> None:
    async def forever() -> None:
        await asyncio.sleep(3600)

    closed = Counter()
    service = HealthService({"bot:hang": forever}, timeout_s=30, on_close=closed)
    waiter = asyncio.create_task(service.snapshot())
    await asyncio.sleep(0)
    await service.close()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert closed.calls == 1 and service.last is None


# -- exchange probes -------------------------------------------------------------------------------------------


async def test_exchange_maintenance_is_down_with_its_own_verdict(world: World) -> None:
    world.mexc.force("exchange_maintenance", include_public=True)
    service = world.service()
    snap = await service.snapshot()
    mexc = snap.exchange("mexc")
    assert mexc is not None and mexc.state is State.DOWN and mexc.reason == "maintenance"
    assert "OnMaintenance" in mexc.detail
    assert snap.overall is State.DEGRADED  # an exchange down is not the whole service down
    assert await service.exchange_state("mexc") is State.DOWN
    assert down_verdict("mexc", snap, world.directory) == (
        "MEXC is under maintenance right now; this is not your key. Try again once it is back."
    )


async def test_exchange_not_answering_gives_the_not_your_key_verdict(world: World) -> None:
    await world.mexc.stop()
    snap = await world.service().snapshot()
    mexc = snap.exchange("mexc")
    assert mexc is not None and mexc.state is State.DOWN and mexc.reason == "unreachable"
    assert down_verdict("mexc", snap, world.directory) == (
        "MEXC's API is not answering right now; this is not your key. Try again later."
    )
    assert "🔴 MEXC: not answering" in format_summary(snap, world.directory, detailed=False)


async def test_exchange_answering_with_errors_is_degraded_after_trying_server_time(world: World) -> None:
    world.mexc.force(status=400, body='{"code":-1,"msg":"unexpected"}', include_public=True)
    snap = await world.service().snapshot()
    mexc = snap.exchange("mexc")
    assert mexc is not None and mexc.state is State.DEGRADED and mexc.reason == "error"
    assert [r.path for r in world.mexc.requests] == ["/api/v3/ping", "/api/v3/time"]
    assert down_verdict("mexc", snap, world.directory) is None


async def test_bitmart_is_asked_its_server_time_not_its_markets() -> None:
    async with FakeBitmart() as fake:
        factory = ClientFactory(url_overrides={"bitmart": fake.base_url})
        service = HealthService({"x": exchange_check(factory, CATALOG["bitmart"])}, timeout_s=1.0)
        snap = await service.snapshot()
    check = snap.exchange("bitmart")
    assert check is not None and check.state is State.OK and check.detail.startswith("server time, clock offset")
    assert [r.path for r in fake.requests] == ["/system/time"]  # not BitMart's 1,200 markets, on the loop


async def test_probe_prefers_status_then_time() -> None:
    class Stub:
        def __init__(self, has: dict[str, bool], status: Any = None) -> None:
            self.has = has
            self.status = status
            self.calls: list[str] = []

        async def fetch_status(self) -> Any:
            self.calls.append("status")
            if isinstance(self.status, Exception):
                raise self.status
            return self.status

        async def fetch_time(self) -> int:
            self.calls.append("time")
            return int(time.time() * 1000)

    stub = Stub({"fetchStatus": True, "fetchTime": True}, {"status": "maintenance", "eta": "10:00"})
    outcome = await probe_public_api(stub)
    assert outcome == Outcome(State.DOWN, "exchange reports maintenance until 10:00", "maintenance")
    stub = Stub({"fetchStatus": True, "fetchTime": True}, ccxt.NotSupported("x"))
    outcome = await probe_public_api(stub)
    assert outcome.state is State.OK and outcome.detail.startswith("server time, clock offset")
    assert stub.calls == ["status", "time"]
    stub = Stub({"fetchStatus": True, "fetchTime": True}, ccxt.RequestTimeout("mexc GET"))
    with pytest.raises(ccxt.RequestTimeout):
        await probe_public_api(stub)
    assert stub.calls == ["status"]  # a network error is the answer; no second endpoint


@pytest.mark.parametrize(
    ("error", "state", "reason"),
    [
        (ccxt.OnMaintenance("x"), State.DOWN, "maintenance"),
        (
            ccxt.ExchangeNotAvailable('binance {"code":1,"msg":"System is under maintenance."}'),
            State.DOWN,
            "maintenance",
        ),
        (ccxt.ExchangeNotAvailable("mexc GET http://x 502"), State.DOWN, "unreachable"),
        (ccxt.RequestTimeout("x"), State.DOWN, "timeout"),
        (ccxt.RateLimitExceeded("x"), State.DEGRADED, "rate_limited"),
        (ccxt.DDoSProtection("x"), State.DEGRADED, "rate_limited"),
        (ccxt.ExchangeError("x"), State.DEGRADED, "error"),
        (ccxt.ExchangeError('htx {"err-code":"system-maintenance"}'), State.DOWN, "maintenance"),
        (ccxt.BadResponse("x"), State.DEGRADED, "error"),
        (OSError("x"), State.DOWN, "error"),
    ],
)
def test_classify_exchange_error(error: Exception, state: State, reason: str) -> None:
    outcome = classify_exchange_error(error)
    assert (outcome.state, outcome.reason) == (state, reason)


# -- generic behaviour -----------------------------------------------------------------------------------------


async def test_failures_are_redacted_slow_is_degraded_and_last_error_is_kept() -> None:
    flaky = Counter(error=RuntimeError(f"POST /bot{BOT_TOKEN}/getMe failed " + "y" * 500))

    async def slow() -> None:
        await asyncio.sleep(0.02)

    clock = Clock()
    service = HealthService(
        {"bot:telegram": telegram_check(flaky), "db": Probe(Group.BOT, "Database", slow, slow_ms=5)},
        timeout_s=1.0,
        clock=clock,
        now=lambda: NOW,
    )
    snap = await service.snapshot()
    tg = snap.get("bot:telegram")
    assert tg is not None and tg.state is State.DOWN and tg.reason == "error"
    assert BOT_TOKEN not in tg.detail and MASK in tg.detail and len(tg.detail) <= 160
    assert tg.last_error == tg.detail
    db = snap.get("db")
    assert db is not None and db.state is State.DEGRADED and db.reason == "slow"
    flaky.error = None
    clock.t += 60
    later = await service.snapshot()
    tg = later.get("bot:telegram")
    assert tg is not None and tg.state is State.OK and tg.detail == ""
    assert tg.last_error and tg.last_error_at == NOW
    text = format_summary(later, None, detailed=True)
    assert "last error 09:30 UTC: RuntimeError: POST /bot[REDACTED]/getMe failed" in text
    assert BOT_TOKEN not in text


async def test_plain_callables_get_their_group_from_the_name() -> None:
    async def ok() -> None:
        return None

    async def fails() -> Outcome:
        return Outcome(State.DEGRADED, "half")

    service = HealthService({"exchange:kraken": ok, "hufi:extra": fails, "database": database_check(ok)})
    snap = await service.snapshot()
    kraken = snap.exchange("kraken")
    assert kraken is not None and kraken.group is Group.EXCHANGE and kraken.label == "Kraken"
    assert snap.get("hufi:extra").group is Group.HUFI  # type: ignore[union-attr]
    assert snap.get("database").group is Group.BOT  # type: ignore[union-attr]
    assert snap.overall is State.DEGRADED


async def test_check_factories_report_their_groups(world: World) -> None:
    assert recording_oracle_check(world.client).group is Group.HUFI
    assert launcher_check(world.client).group is Group.HUFI
    probe = exchange_check(world.factory, CATALOG["mexc"])
    assert (probe.group, probe.exchange_id, probe.label) == (Group.EXCHANGE, "mexc", "MEXC")


# -- rendering and verdicts ------------------------------------------------------------------------------------

EXTRA = {
    "Outbox backlog": "3",
    "Open tickets": "2",
    "Active vault entries": "1",
    "Database size": "1.2 MB",
    "Version": "0.1.0",
    "Uptime": "3 h 12 min",
    "Support chat": f"can post, can delete (token {BOT_TOKEN})",
}


async def test_summary_for_users_and_staff(world: World) -> None:
    await world.hufi.set_mode("db_down")
    snap = await world.service().snapshot()
    user = format_summary(snap, world.directory, detailed=False, extra=EXTRA)
    assert user.splitlines()[0] == "🔴 Something important is down right now."
    assert "🔴 HuFi recording oracle (key checks): having problems" in user
    assert "🟢 HuFi campaign launcher" in user
    assert "🟢 MEXC" in user
    assert "🟢 Bot" in user
    assert "Last check: 2026-07-24 09:30:15 UTC" in user
    assert "database down" not in user and " ms" not in user and "Outbox" not in user  # no internals for users

    staff = format_summary(snap, world.directory, detailed=True, extra=EXTRA)
    assert "database down: timeout" in staff
    assert " ms" in staff
    assert "🟢 Telegram Bot API" in staff and "@hufi_support_bot" in staff and "🟢 Database" in staff
    assert "Exchange list: HuFi's campaign launcher (fetched" in staff
    for key in EXTRA:
        assert f"{key}: " in staff
    assert BOT_TOKEN not in staff and "Support chat: can post, can delete (token [REDACTED])" in staff
    assert len(staff) < 4096


async def test_down_verdict_is_none_when_all_is_well_and_prefers_the_exchange(world: World) -> None:
    service = world.service()
    snap = await service.snapshot()
    assert down_verdict("mexc", snap, world.directory) is None
    assert down_verdict("mexc", None) is None
    await world.hufi.set_mode("down")
    await world.mexc.stop()
    snap = await service.snapshot(force=True)
    assert down_verdict("mexc", snap, world.directory) == (
        "MEXC's API is not answering right now; this is not your key. Try again later."
    )
    # without a directory the check's own label names the exchange; unknown ids fall back to the catalog/id
    assert down_verdict("mexc", snap).startswith("MEXC's API")  # type: ignore[union-attr]
    assert (
        down_verdict("okx", snap)
        == "HuFi's servers are having trouble right now; this is not your key. Try again later."
    )


async def test_build_health_service_wires_the_standard_checks(world: World) -> None:
    service = build_health_service(
        world.hufi.base_url,
        world.hufi.base_url,
        world.factory,
        database=world.database,
        telegram=world.telegram,
        exchange_ids=["mexc"],
        timeout_s=1.0,
    )
    try:
        snap = await service.snapshot()
        assert set(states(snap).values()) == {"ok"}
        assert service.directory is not None and service.directory.source == "launcher"
    finally:
        await service.close()


def test_health_modules_never_import_telegram() -> None:
    for rel in ("bot/health.py", "bot/hufi_api.py", "bot/sandbox/hufi.py"):
        tree = ast.parse((ROOT / rel).read_text("utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n == "telegram" or n.startswith("telegram.") for n in names), (rel, names)
