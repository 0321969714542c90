"""Market loading off the event loop: the pieces that keep it from stalling the loop behave like what they replace."""

from __future__ import annotations

import asyncio
import gc
import json
import sys

import ccxt
import pytest
from aiohttp import web

from bot.exchanges.catalog import get_spec
from bot.exchanges.factory import (
    MARKET_FIELDS,
    YIELDING_JSON_MIN_CHARS,
    ClientFactory,
    MarketsTemplate,
    _no_cycle_collection,
    yielding_json_loads,
)
from bot.exchanges.probes import KeyChecker
from bot.sandbox import markets
from bot.sandbox.exchanges.mexc import FakeMexc
from tests.exchange_harness import creds_of


def test_the_yielding_decoder_decodes_like_json_loads() -> None:
    fake = FakeMexc(markets=2500)
    large = markets.cached_json(fake, "symbols", fake._symbols)
    assert len(large) > YIELDING_JSON_MIN_CHARS
    assert yielding_json_loads(large) == json.loads(large)
    small = '{"code":429,"msg":"Too Many Requests","n":1.5,"ok":true,"x":null}'
    assert yielding_json_loads(small) == json.loads(small)
    with pytest.raises(ValueError):
        yielding_json_loads(large[:-1])  # cut short, as a dropped connection would


def test_cycle_collection_pauses_nest_and_resume() -> None:
    assert gc.isenabled()
    with _no_cycle_collection():
        assert not gc.isenabled()
        with _no_cycle_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer parse is still running
    assert gc.isenabled()


async def test_a_market_load_on_the_worker_takes_its_turns_on_the_exchange_limiter() -> None:
    async with FakeMexc(markets=300) as fake:
        factory = ClientFactory(url_overrides={"mexc": fake.base_url})
        spec = get_spec("mexc")
        limiter = factory.limiter(spec)
        await factory.preload(spec)
        sent = [r for r in fake.requests if r.path in ("/api/v3/exchangeInfo", "/api/v1/contract/detail")]
        assert len(sent) >= 1 and limiter.released == len(fake.requests)
        assert limiter.in_flight == 0  # every slot given back once its reply was read
        template = factory._templates["mexc"][1]
        assert isinstance(template, MarketsTemplate) and list(template.markets) == ["ETH/USDT"]
        # the markets as data, nothing else: no copy of the whole market list, no ccxt instance with its tree
        assert set(MarketsTemplate.__slots__) == {"id", "options", *MARKET_FIELDS}
    assert gc.isenabled()


class GatedMexc(FakeMexc):
    """The fake MEXC whose market list, once gated, waits until the test opens the gate."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.gated = False
        self.arrived = asyncio.Event()
        self.gate = asyncio.Event()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if self.gated and request.path == "/api/v3/exchangeInfo":
            self.arrived.set()
            await self.gate.wait()
        return await super()._dispatch(request)


async def test_a_refresh_swaps_the_markets_in_once_loaded_and_checks_meanwhile_do_not_wait() -> None:
    async with GatedMexc(markets=300) as fake:
        factory = ClientFactory(url_overrides={"mexc": fake.base_url})
        spec = get_spec("mexc")
        await factory.preload(spec)
        before = factory._templates["mexc"][1]
        account = fake.add_account()
        fake.gated = True
        refresh = asyncio.create_task(factory.refresh_markets(spec))
        await fake.arrived.wait()  # the new market list is on its way and held
        # a check now uses the current markets: no wait for the reload, no load of its own
        report = await asyncio.wait_for(KeyChecker(factory).check("mexc", creds_of(account)), 10)
        assert report.ok and factory.markets_loads == 1 and factory._templates["mexc"][1] is before
        fake.gate.set()
        await refresh
        assert factory.markets_loads == 2
        after = factory._templates["mexc"][1]
        assert after is not before and list(after.markets) == ["ETH/USDT"]


async def test_a_failed_refresh_keeps_the_current_markets() -> None:
    async with FakeMexc(markets=300) as fake:
        factory = ClientFactory(url_overrides={"mexc": fake.base_url})
        spec = get_spec("mexc")
        await factory.preload(spec)
        before = factory._templates["mexc"][1]
        fake.force(status=503, body="<html>503</html>", path="/api/v3/exchangeInfo", include_public=True)
        with pytest.raises(ccxt.ExchangeNotAvailable):
            await factory.refresh_markets(spec)
        assert factory._templates["mexc"][1] is before  # checks go on with what they had


def clean_slate() -> None:
    """A full collection before the measurement, so that only this test's objects are counted. Whatever earlier
    tests of this worker left for the cycle collector is freed here; a socket one of them left unclosed is that
    test's leak, not this one's, and its ResourceWarning is not reported against this test (seen once under
    pytest-xdist, where the order of tests differs; a run with a collection after every test found no test that
    leaks)."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        gc.collect()
    finally:
        sys.unraisablehook = hook


async def test_a_loaded_template_leaves_no_cycles_behind() -> None:
    """The client a market list was loaded with is emptied: what it held goes by reference counting, and the next
    cycle collection has nothing of it to walk or free."""
    async with FakeMexc(markets=300) as fake:
        factory = ClientFactory(url_overrides={"mexc": fake.base_url}, markets_in_thread=False)
        clean_slate()
        gc.disable()
        try:
            await factory.preload(get_spec("mexc"))
            await factory.refresh_markets(get_spec("mexc"))  # the first template is dropped here
            found = [o for o in gc.get_objects() if type(o).__name__ == "mexc"]
        finally:
            gc.enable()
        assert found == []  # neither the loading clients nor the replaced template's client is left for gc
