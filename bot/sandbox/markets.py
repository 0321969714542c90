"""Realistic market lists for the simulated exchanges: as many spot markets and currencies as the real ones list.

The bot loads every exchange's markets at start and on every refresh, so the size of those lists decides its
memory and how long parsing them takes. A fake that lists two markets hides both. Each fake's public market and
currency endpoints therefore list `REAL_SIZES[exchange_id]` entries by default (`FakeExchange(markets=N)` or the
environment variable `SANDBOX_MARKETS=N` changes the number of spot markets; the currency count scales with it),
in the exchange's own row format: the fake builds each row from its own template with the codes generated here.

What is generated: ETH/USDT and BTC/USDT first (the probes' symbol and the fakes' classic pair), then bases made of
a few dozen real tickers and deterministic invented ones (three to six letters), each quoted in USDT, then USDC,
BTC and ETH, ... until the count is reached; currencies are the bases and quotes, plus coins listed without a spot
market, until the exchange's currency count. The same exchange id always yields the same lists.

Sizes, and where they come from (spot markets as each exchange's public market endpoint returns them, which ccxt
parses in full, delisted rows included where the endpoint keeps them):

* Binance 3,000 spot / 750 currencies: the synthetic Binance data measured in the project's reference notes
  (reference/testing.md §5: 3,002 spot markets, 754 currencies), which follows `GET /api/v3/exchangeInfo` (it keeps
  halted "BREAK" symbols next to the ~1,500 trading ones).
* MEXC 2,500 / 2,400: the count this project's many-users benchmark has used since its first run; MEXC itself
  advertises "more than 3,000 altcoins" (https://www.cube.exchange/what-is/mexc).
* Gate 2,600 / 2,800, HTX 1,000 / 900, KuCoin 1,300 / 900, OKX 700 / 350, Kraken 1,100 / 500: Coin Metrics'
  market-data coverage lists 1,603 Gate, 962 Huobi (HTX), 927 KuCoin, 631 OKX and 349 Kraken spot markets
  (https://github.com/coinmetrics/docs-website/blob/main/exchanges/all-exchanges.md, 2021); the figures here are
  scaled up to today's listings (Gate and KuCoin kept listing, Kraken's `AssetPairs` grew past a thousand pairs).
* Bybit 650 / 500, Bitget 800 / 700, XT 1,000 / 1,000, BitMart 1,200 / 1,100, BigONE 300 / 250: estimates of
  today's spot listings of these exchanges; the search corpora held no current count for them. They are of the
  right order, which is what memory and parse time depend on.

Kraken, KuCoin and BigONE are sized here for completeness; the bot never loads their markets (HuFi judges their
keys by key-info endpoints and BigONE's own calls), so their fakes serve no market endpoint.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

#: environment variable: spot markets per simulated exchange instead of the real number (a smaller, faster sandbox)
SIZE_SETTING = "SANDBOX_MARKETS"


@dataclass(frozen=True, slots=True)
class MarketSize:
    spot: int
    currencies: int


REAL_SIZES: Mapping[str, MarketSize] = {
    "binance": MarketSize(3000, 750),
    "mexc": MarketSize(2500, 2400),
    "gate": MarketSize(2600, 2800),
    "htx": MarketSize(1000, 900),
    "kucoin": MarketSize(1300, 900),
    "okx": MarketSize(700, 350),
    "kraken": MarketSize(1100, 500),
    "bybit": MarketSize(650, 500),
    "bitget": MarketSize(800, 700),
    "xt": MarketSize(1000, 1000),
    "bitmart": MarketSize(1200, 1100),
    "bigone": MarketSize(300, 250),
}

#: quote currencies in the order bases are paired with them
QUOTES = ("USDT", "USDC", "BTC", "ETH", "EUR", "TRY", "FDUSD", "BRL", "JPY", "DAI")
#: real tickers listed first, so the lists look like an exchange's (names for the few the fakes show)
MAJORS: Mapping[str, str] = {
    "ETH": "Ethereum",
    "BTC": "Bitcoin",
    "SOL": "Solana",
    "XRP": "XRP",
    "DOGE": "Dogecoin",
    "ADA": "Cardano",
    "TRX": "TRON",
    "LINK": "Chainlink",
    "DOT": "Polkadot",
    "LTC": "Litecoin",
    "AVAX": "Avalanche",
    "TON": "Toncoin",
    "SHIB": "Shiba Inu",
    "BCH": "Bitcoin Cash",
    "NEAR": "NEAR Protocol",
    "UNI": "Uniswap",
    "APT": "Aptos",
    "ARB": "Arbitrum",
    "OP": "Optimism",
    "ATOM": "Cosmos",
    "FIL": "Filecoin",
    "HBAR": "Hedera",
    "ICP": "Internet Computer",
    "SUI": "Sui",
    "PEPE": "Pepe",
    "AAVE": "Aave",
    "INJ": "Injective",
    "TIA": "Celestia",
    "SEI": "Sei",
    "HMT": "Human Protocol",
}
_NAMES: Mapping[str, str] = {
    **MAJORS,
    "USDT": "Tether",
    "USDC": "USD Coin",
    "EUR": "Euro",
    "TRY": "Turkish Lira",
    "FDUSD": "First Digital USD",
    "BRL": "Brazilian Real",
    "JPY": "Japanese Yen",
    "DAI": "Dai",
}


def size_of(exchange_id: str, markets: int | None = None) -> MarketSize:
    """How many spot markets and currencies the fake of `exchange_id` lists.

    `markets` None: the number in the environment variable `SANDBOX_MARKETS` when it is set to one (the test
    suite sets 2: its tests do not measure market loading), else as many as the real exchange lists.
    """
    real = REAL_SIZES.get(exchange_id, MarketSize(2, 3))
    if markets is None:
        configured = os.environ.get(SIZE_SETTING, "").strip()
        if not configured.isdigit():
            return real
        markets = int(configured)
    markets = max(2, markets)
    currencies = max(3, round(real.currencies * markets / real.spot))
    return MarketSize(markets, currencies)


def _invented(rng: random.Random, taken: set[str]) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    while True:
        code = rng.choice(letters) + "".join(rng.choice(letters + "0123456789") for _ in range(rng.randint(2, 5)))
        if code not in taken:
            taken.add(code)
            return code


@cache
def _lists(exchange_id: str, spot: int, currencies: int) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    rng = random.Random(f"hufi-sandbox-{exchange_id}")
    taken = set(_NAMES)
    n_bases = max(2, currencies - 1)  # at least USDT as a quote
    bases = [b for b in MAJORS][:n_bases]
    while len(bases) < n_bases:
        bases.append(_invented(rng, taken))
    pairs: list[tuple[str, str]] = [("ETH", "USDT"), ("BTC", "USDT")]
    seen = set(pairs)
    for quote in QUOTES:
        for base in bases:
            if len(pairs) >= spot:
                break
            if base != quote and (base, quote) not in seen:
                pairs.append((base, quote))
                seen.add((base, quote))
    while len(pairs) < spot:  # more markets than bases x quotes: pair invented bases with USDT
        base = _invented(rng, taken)
        pairs.append((base, "USDT"))
    coins = dict.fromkeys(["ETH", "BTC", "USDT"])
    for base, quote in pairs:
        coins[base] = coins[quote] = None
    for base in bases:
        if len(coins) >= currencies:
            break
        coins[base] = None
    return tuple(pairs[:spot]), tuple(coins)


def spot_pairs(exchange_id: str, markets: int | None = None) -> tuple[tuple[str, str], ...]:
    """(base, quote) codes in upper case, ETH/USDT first and BTC/USDT second."""
    size = size_of(exchange_id, markets)
    return _lists(exchange_id, size.spot, size.currencies)[0]


def currency_codes(exchange_id: str, markets: int | None = None) -> tuple[str, ...]:
    """Currency codes in upper case: ETH, BTC and USDT first, every code of `spot_pairs`, then unpaired coins."""
    size = size_of(exchange_id, markets)
    return _lists(exchange_id, size.spot, size.currencies)[1]


def coin_name(code: str) -> str:
    """A display name: the real one for the tickers above, else one made from the code."""
    return _NAMES.get(code.upper(), f"{code.upper().title()} Token")


def cached_json(owner: Any, key: str, build: Callable[[], Any]) -> str:
    """`json.dumps(build())`, built once per `owner` and `key` (a fake's market list does not change)."""
    store: dict[str, str] | None = getattr(owner, "_market_json", None)
    if store is None:
        store = {}
        owner._market_json = store
    text = store.get(key)
    if text is None:
        text = store[key] = json.dumps(build(), separators=(",", ":"))
    return text


__all__ = ["QUOTES", "REAL_SIZES", "MarketSize", "cached_json", "coin_name", "currency_codes", "size_of", "spot_pairs"]
