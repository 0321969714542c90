"""HuFi's public endpoints: the client against the fake HuFi, and the exchange directory."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bot.exchanges.catalog import CATALOG
from bot.hufi_api import (
    DirectorySource,
    ExchangeDirectory,
    HufiClient,
    HufiError,
    parse_exchanges,
    parse_health,
)
from bot.sandbox.hufi import GIT_HASH, FakeHufi, default_exchanges
from bot.security import MASK

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def hufi() -> AsyncIterator[FakeHufi]:
    fake = FakeHufi(slow_delay=5.0)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def client(hufi: FakeHufi) -> AsyncIterator[HufiClient]:
    async with HufiClient(hufi.base_url, hufi.base_url, timeout_s=1.0) as c:
        yield c


# -- the client ------------------------------------------------------------------------------------------------


async def test_health_up_reports_every_dependency(client: HufiClient, hufi: FakeHufi) -> None:
    report = await client.health_check()
    assert report.ok and report.http_status == 200
    assert set(report.up) == {"database", "cache-client"}
    assert not report.failed and report.summary == "ok"
    assert hufi.hits["/health/check"] == 1


async def test_health_503_names_the_failed_dependency(client: HufiClient, hufi: FakeHufi) -> None:
    await hufi.set_mode("db_down")
    report = await client.health_check()
    assert not report.ok and report.http_status == 503
    assert dict(report.failed) == {"database": "timeout"}
    assert report.up == ("cache-client",)
    assert report.summary == "database down: timeout"


async def test_health_slow_hits_the_client_timeout(hufi: FakeHufi) -> None:
    await hufi.set_mode("slow")
    async with HufiClient(hufi.base_url, hufi.base_url, timeout_s=0.1) as c:
        started = time.perf_counter()
        with pytest.raises(HufiError) as err:
            await c.health_check()
    assert err.value.reason == "timeout"
    assert time.perf_counter() - started < 0.5


async def test_health_down_is_connection_refused_and_comes_back(client: HufiClient, hufi: FakeHufi) -> None:
    await hufi.set_mode("down")
    with pytest.raises(HufiError) as err:
        await client.health_check()
    assert err.value.reason == "unreachable"
    await hufi.set_mode("up")
    assert (await client.health_check()).ok


async def test_fake_started_down_refuses_connections() -> None:
    async with FakeHufi(mode="down") as fake, HufiClient(fake.base_url, fake.base_url, timeout_s=1.0) as c:
        assert fake.base_url.startswith("http://127.0.0.1:")
        with pytest.raises(HufiError) as err:
            await c.launcher_ping()
        assert err.value.reason == "unreachable"


async def test_launcher_ping(client: HufiClient, hufi: FakeHufi) -> None:
    info = await client.launcher_ping()
    assert info == {"node_env": "production", "git_hash": GIT_HASH}
    hufi.launcher_mode = "error"
    with pytest.raises(HufiError) as err:
        await client.launcher_ping()
    assert err.value.reason == "http" and err.value.status == 503
    assert hufi.hits["/health/ping"] == 2


async def test_exchanges_lists_hufi_exchanges_from_the_catalog(client: HufiClient) -> None:
    listed = await client.exchanges()
    assert [e.name for e in listed] == [s.id for s in CATALOG.values() if s.hufi_listed]
    assert all(e.enabled for e in listed)
    assert {e.type for e in listed} == {"cex", "dex"}
    mexc = next(e for e in listed if e.name == "mexc")
    assert mexc.display_name == "MEXC" and mexc.url == "https://www.mexc.com" and mexc.logo


async def test_session_ignores_proxy_environment(client: HufiClient) -> None:
    await client.health_check()
    session = client._session
    assert session is not None and session.trust_env is False


# -- parsing ---------------------------------------------------------------------------------------------------


def test_non_terminus_reply_is_a_failure_without_dependencies() -> None:
    report = parse_health(502, "<html><body>502 Bad Gateway</body></html>")
    assert not report.ok and not report.failed and report.summary == "HTTP 502"


def test_dependency_messages_are_redacted_and_short() -> None:
    body = (
        '{"status":"error","info":{},"error":{"database":{"status":"down","message":"connect '
        + BOT_TOKEN
        + " "
        + "x" * 400
        + '"}},"details":{}}'
    )
    report = parse_health(503, body)
    message = report.failed["database"]
    assert BOT_TOKEN not in message and MASK in message
    assert len(message) <= 120


def test_parse_exchanges_validates_and_normalises() -> None:
    listed = parse_exchanges(
        [
            {"name": " MEXC ", "enabled": "false", "display_name": "", "type": "CEX"},
            {"name": ""},
            "junk",
            {"name": "newex", "display_name": "NewEx"},
        ]
    )
    assert [(e.name, e.enabled, e.display_name, e.type) for e in listed] == [
        ("mexc", False, "mexc", "cex"),
        ("newex", True, "NewEx", "cex"),
    ]
    for bad in ({}, [], [{"nope": 1}], None):
        with pytest.raises(HufiError) as err:
            parse_exchanges(bad)
        assert err.value.reason == "bad_reply"


# -- the directory ---------------------------------------------------------------------------------------------


async def test_directory_uses_the_launcher_list(client: HufiClient, hufi: FakeHufi) -> None:
    hufi.exchanges = [*default_exchanges(), {"name": "newex", "enabled": True, "display_name": "NewEx", "type": "cex"}]
    next(e for e in hufi.exchanges if e["name"] == "gate")["display_name"] = "Gate.io"
    hufi.switch_off("bitmart")
    directory = ExchangeDirectory(client)
    assert directory.source is DirectorySource.CATALOG
    assert await directory.ensure_fresh() is DirectorySource.LAUNCHER
    assert directory.refreshed_at is not None and directory.last_error == ""
    assert directory.display_name("gate") == "Gate.io"  # HuFi's name wins
    assert directory.is_enabled("mexc")
    assert not directory.is_enabled("bitmart") and directory.is_switched_off("bitmart")
    assert directory.status("binance") == "unlisted"  # we support it, HuFi does not list it
    assert directory.status("nope") == "unknown" and directory.display_name("nope") == "nope"
    newex = directory.entry("newex")
    assert newex is not None and not newex.known and newex.listed and newex.enabled
    assert [e.id for e in directory.listed()][-1] == "newex"


async def test_exchange_hufi_dropped_from_its_list_counts_as_switched_off(client: HufiClient, hufi: FakeHufi) -> None:
    hufi.exchanges = [e for e in default_exchanges() if e["name"] != "xt"]
    directory = ExchangeDirectory(client)
    await directory.ensure_fresh()
    assert directory.status("xt") == "disabled"
    assert directory.display_name("xt") == "XT.COM"


async def test_catalog_is_the_fallback_when_the_launcher_is_down(hufi: FakeHufi) -> None:
    await hufi.set_mode("down")
    async with HufiClient(hufi.base_url, hufi.base_url, timeout_s=1.0) as c:
        directory = ExchangeDirectory(c)
        assert await directory.ensure_fresh() is DirectorySource.CATALOG
    assert "unreachable" in directory.last_error
    assert [e.id for e in directory.listed()] == [s.id for s in CATALOG.values() if s.hufi_listed]
    assert directory.is_enabled("mexc") and directory.display_name("xt") == "XT.COM"
    assert directory.status("binance") == "unlisted" and not directory.is_switched_off("binance")


async def test_directory_refreshes_at_most_hourly(client: HufiClient, hufi: FakeHufi) -> None:
    clock = Clock()
    directory = ExchangeDirectory(client, clock=clock)
    await asyncio.gather(*(directory.ensure_fresh() for _ in range(10)))
    assert hufi.hits["/exchanges"] == 1 and directory.fetches == 1
    clock.t += 3599
    await directory.ensure_fresh()
    assert hufi.hits["/exchanges"] == 1
    hufi.switch_off("mexc")
    clock.t += 1
    await directory.ensure_fresh()
    assert hufi.hits["/exchanges"] == 2
    assert directory.is_switched_off("mexc")


async def test_failed_refresh_keeps_the_last_list_and_retries_sooner(client: HufiClient, hufi: FakeHufi) -> None:
    clock = Clock()
    hufi.switch_off("kraken")
    directory = ExchangeDirectory(client, clock=clock, ttl_s=3600, retry_s=300)
    await directory.ensure_fresh()
    hufi.launcher_mode = "error"
    clock.t += 3600
    await directory.ensure_fresh()
    assert hufi.hits["/exchanges"] == 2
    assert directory.source is DirectorySource.LAUNCHER and "HTTP 503" in directory.last_error
    assert directory.is_switched_off("kraken")  # still HuFi's last word
    clock.t += 299
    await directory.ensure_fresh()
    assert hufi.hits["/exchanges"] == 2
    hufi.launcher_mode = "up"
    clock.t += 1
    await directory.ensure_fresh()
    assert hufi.hits["/exchanges"] == 3 and directory.last_error == ""


async def test_directory_without_a_client_is_the_catalog() -> None:
    directory = ExchangeDirectory(None)
    assert not directory.is_due()
    assert await directory.ensure_fresh() is DirectorySource.CATALOG
    assert not await directory.refresh()
    assert directory.is_enabled("bigone")
