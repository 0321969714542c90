"""Per-exchange facts the advice needs, as data: what the permission checkboxes are called, which network the
ETH deposit address must be on. Names are the exchanges' own English UI labels, to the best of our knowledge;
where we are not sure, the wording stays generic.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.diagnosis.model import Permission

BALANCE = Permission.VIEW_ACCOUNT_BALANCE
DEPOSIT = Permission.VIEW_DEPOSIT_ADDRESS
TRADES = Permission.VIEW_SPOT_TRADING_HISTORY

GENERIC_PERMISSION_NAMES: Mapping[Permission, str] = MappingProxyType(
    {
        BALANCE: "read access to balances",
        DEPOSIT: "read access to deposit addresses",
        TRADES: "read access to spot orders and trade history",
    }
)


def _all(name: str) -> dict[Permission, str]:
    return dict.fromkeys(Permission, name)


PERMISSION_NAMES: Mapping[str, Mapping[Permission, str]] = MappingProxyType(
    {
        "binance": _all("Enable Reading"),
        "okx": _all("Read"),
        "bybit": {
            BALANCE: "Read-Only, with Assets (Wallet) ticked",
            DEPOSIT: "Read-Only, with Assets (Wallet) ticked",
            TRADES: "Read-Only, with Spot (or Unified Trading) ticked",
        },
        "kucoin": _all("General"),
        "kraken": {
            BALANCE: "Query Funds",
            DEPOSIT: "Query Funds",
            TRADES: "Query Open Orders & Trades, Query Closed Orders & Trades and Export Data",
        },
        "gate": {
            BALANCE: "Spot/Margin Trade: Read Only",
            DEPOSIT: "Wallet: Read Only",
            TRADES: "Spot/Margin Trade: Read Only",
        },
        "mexc": {
            BALANCE: "Account: view account details",
            DEPOSIT: "Wallet: view deposit details",
            TRADES: "Spot: view order and trade details",
        },
        "htx": _all("Read-only"),
        "bitget": {
            BALANCE: "Read-only, Spot",
            DEPOSIT: "Read-only, Wallet",
            TRADES: "Read-only, Spot",
        },
        "bitmart": _all("Read-Only"),
        "xt": _all("Read"),
        "bigone": _all("Read"),
    }
)

#: How to name the network of the ETH deposit address on each exchange.
DEPOSIT_NETWORK: Mapping[str, str] = MappingProxyType(
    {
        "kraken": "Ethereum (the “Ether (Hex)” deposit method)",
        "bigone": "Ethereum",
    }
)
DEFAULT_DEPOSIT_NETWORK = "Ethereum (ERC20)"


def permission_names(exchange_id: str) -> dict[Permission, str]:
    """What each HuFi permission is called on `exchange_id`; generic wording where unknown."""
    names = dict(GENERIC_PERMISSION_NAMES)
    names.update(PERMISSION_NAMES.get((exchange_id or "").strip().lower(), {}))
    return names


def deposit_network(exchange_id: str) -> str:
    return DEPOSIT_NETWORK.get((exchange_id or "").strip().lower(), DEFAULT_DEPOSIT_NETWORK)
