"""The simulated exchanges' public side: every endpoint /status calls answers, markets come in real numbers."""

from __future__ import annotations

import pytest

from bot.exchanges.catalog import CATALOG, CheckStyle, cex_ids
from bot.exchanges.factory import ClientFactory
from bot.health import State, exchange_check
from bot.sandbox import markets
from bot.sandbox.exchanges import fake_classes
from bot.sandbox.world import SandboxWorld


async def test_every_exchange_is_green_in_the_sandbox_and_red_when_a_fault_is_injected() -> None:
    async with SandboxWorld() as world:
        factory = ClientFactory(url_overrides=world.url_overrides)
        for exchange_id in cex_ids():
            outcome = await exchange_check(factory, CATALOG[exchange_id], slow_ms=None)()
            assert outcome is not None and outcome.state is State.OK, (exchange_id, outcome)
        for exchange_id in cex_ids():
            world.fakes[exchange_id].force(mode="disconnect", include_public=True)
            outcome = await exchange_check(factory, CATALOG[exchange_id], slow_ms=None)()
            assert outcome is not None and outcome.state is State.DOWN, (exchange_id, outcome)


def test_every_fake_is_sized_like_the_real_exchange() -> None:
    assert set(markets.REAL_SIZES) == set(cex_ids())
    for exchange_id in cex_ids():
        size = markets.REAL_SIZES[exchange_id]
        pairs = markets.spot_pairs(exchange_id, size.spot)
        codes = markets.currency_codes(exchange_id, size.spot)
        assert len(pairs) == size.spot and len(set(pairs)) == size.spot
        assert pairs[0] == ("ETH", "USDT")
        assert abs(len(codes) - size.currencies) <= 5 and len(set(codes)) == len(codes)
        assert {c for pair in pairs for c in pair} <= set(codes)
    assert markets.spot_pairs("mexc", 2500) == markets.spot_pairs("mexc", 2500)  # deterministic


def test_the_sandbox_size_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(markets.SIZE_SETTING, "")
    assert markets.size_of("gate") == markets.REAL_SIZES["gate"]
    monkeypatch.setenv(markets.SIZE_SETTING, "10")
    assert markets.size_of("gate").spot == 10 and len(markets.spot_pairs("gate")) == 10


@pytest.mark.parametrize(
    "exchange_id", [e for e in cex_ids() if CATALOG[e].check_style is CheckStyle.PROBES and e in fake_classes()]
)
async def test_markets_load_at_real_size_and_only_what_the_probes_read_is_kept(exchange_id: str) -> None:
    fake = fake_classes()[exchange_id](markets=markets.REAL_SIZES[exchange_id].spot)
    async with fake:
        spec = CATALOG[exchange_id]
        full = ClientFactory(url_overrides={exchange_id: fake.base_url}, trim_markets=False)
        await full.preload(spec)
        listed = full._templates[exchange_id][1]
        assert len(listed.markets) == markets.REAL_SIZES[exchange_id].spot
        trimmed = ClientFactory(url_overrides={exchange_id: fake.base_url})
        await trimmed.preload(spec)
        kept = trimmed._templates[exchange_id][1]
        assert list(kept.markets) == [spec.trades.symbol]
        assert set(kept.currencies) <= {"ETH", "USDT"} and "ETH" in kept.currencies
        assert kept.markets[spec.trades.symbol]["id"] == listed.markets[spec.trades.symbol]["id"]
