"""Market loading off the event loop: the pieces that keep it from stalling the loop behave like what they replace."""

from __future__ import annotations

import gc
import json

import pytest

from bot.exchanges.catalog import get_spec
from bot.exchanges.factory import (
    YIELDING_JSON_MIN_CHARS,
    ClientFactory,
    _no_cycle_collection,
    yielding_json_loads,
)
from bot.sandbox import markets
from bot.sandbox.exchanges.mexc import FakeMexc


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
        assert list(template.markets) == ["ETH/USDT"]
        assert template.last_http_response is None  # no copy of the whole market list kept
    assert gc.isenabled()
