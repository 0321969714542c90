"""Simulated exchanges, one class per exchange id (the tests, the demo and staging use the same ones)."""

from __future__ import annotations

import importlib

from bot.sandbox.exchanges.base import FakeAccount, FakeExchange

_MODULES = {
    "binance": "FakeBinance",
    "bigone": "FakeBigone",
    "bitget": "FakeBitget",
    "bitmart": "FakeBitmart",
    "bybit": "FakeBybit",
    "gate": "FakeGate",
    "htx": "FakeHtx",
    "kraken": "FakeKraken",
    "kucoin": "FakeKucoin",
    "mexc": "FakeMexc",
    "okx": "FakeOkx",
    "xt": "FakeXt",
}


def fake_classes() -> dict[str, type[FakeExchange]]:
    """Every simulated exchange that is available, by exchange id."""
    found: dict[str, type[FakeExchange]] = {}
    for exchange_id, class_name in _MODULES.items():
        try:
            module = importlib.import_module(f"bot.sandbox.exchanges.{exchange_id}")
        except ModuleNotFoundError:
            continue
        cls = getattr(module, class_name, None)
        if cls is None:
            cls = next(
                (
                    v
                    for v in vars(module).values()
                    if isinstance(v, type) and issubclass(v, FakeExchange) and v.exchange_id == exchange_id
                ),
                None,
            )
        if cls is not None:
            found[exchange_id] = cls
    return found


__all__ = ["FakeAccount", "FakeExchange", "fake_classes"]
