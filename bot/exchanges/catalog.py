"""The exchange catalog: everything we know about each exchange, as data.

Nothing outside this table should branch on an exchange id to decide how to talk to it; look the spec up here.
Sources: HuFi recording oracle (`reference/hufi.md` §1-2) for the exchanges HuFi lists; the same probe shape
for binance, okx and bitget, which HuFi does not list today.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

KEY_MAX_LENGTH = 200
SECRET_MAX_LENGTH = 5000


class ExchangeKind(StrEnum):
    CEX = "cex"
    DEX = "dex"


class CheckStyle(StrEnum):
    """How the key is judged."""

    PROBES = "probes"  # the three live probes through a ccxt(-shaped) client
    KRAKEN_KEY_INFO = "kraken_key_info"  # GetApiKeyInfo rules + ETH deposit address
    KUCOIN_KEY_INFO = "kucoin_key_info"  # /api/v1/user/api-key 'General' rule + ETH deposit address
    BIGONE = "bigone"  # HuFi's three BigONE endpoints
    NONE = "none"  # DEX: no key


class ClientKind(StrEnum):
    CCXT = "ccxt"
    BITMART = "bitmart"  # our own client: ccxt dropped BitMart in 4.5.71


@dataclass(frozen=True, slots=True)
class CredentialField:
    """A credential beyond key and secret."""

    name: str  # our name: "passphrase" or "memo"
    ccxt_param: str  # the ccxt config key it is passed as
    label: str  # what the exchange calls it in its UI
    min_length: int = 1
    max_length: int = 200
    no_whitespace: bool = True


@dataclass(frozen=True, slots=True)
class TradesProbe:
    """`fetch_my_trades('ETH/USDT', since, limit, params)` as HuFi calls it.

    `params` values may be the placeholders in `TIME_TOKENS`, resolved against the check's clock.
    """

    symbol: str = "ETH/USDT"
    since: str = "now_ms-1"
    limit: int | None = 100
    params: Mapping[str, object] = field(default_factory=dict)


#: Placeholders a trades probe may use; `bot.exchanges.probes.resolve_time` turns them into numbers.
TIME_TOKENS = ("now_ms", "now_ms-1", "now_ms-2", "now_s+1")


@dataclass(frozen=True, slots=True)
class ExchangeSpec:
    id: str
    display_name: str
    hufi_listed: bool
    kind: ExchangeKind = ExchangeKind.CEX
    check_style: CheckStyle = CheckStyle.PROBES
    client: ClientKind = ClientKind.CCXT
    extra_credentials: tuple[CredentialField, ...] = ()
    deposit_params: Mapping[str, object] = field(default_factory=dict)
    trades: TradesProbe = field(default_factory=TradesProbe)
    #: requests per second we allow ourselves towards this exchange, for all checks together
    rate_limit_per_second: float = 10.0  # roughly the exchange's per-IP limit for private calls
    website: str = ""
    api_management_url: str = ""
    #: for a DEX: how the user connects instead of a key
    connect_hint: str = ""

    @property
    def needs_key(self) -> bool:
        return self.kind is ExchangeKind.CEX

    def credential(self, name: str) -> CredentialField | None:
        return next((c for c in self.extra_credentials if c.name == name), None)


KUCOIN_PASSPHRASE = CredentialField("passphrase", "password", "API passphrase", 7, 32, True)
OKX_PASSPHRASE = CredentialField("passphrase", "password", "API passphrase", 1, 32, True)
BITGET_PASSPHRASE = CredentialField("passphrase", "password", "API passphrase", 1, 32, True)
BITMART_MEMO = CredentialField("memo", "uid", "API memo", 1, 32, False)

_SPECS: tuple[ExchangeSpec, ...] = (
    ExchangeSpec(
        "bigone",
        "BigONE",
        True,
        check_style=CheckStyle.BIGONE,
        trades=TradesProbe(limit=200),
        rate_limit_per_second=10,
        website="https://big.one",
        api_management_url="https://big.one/en/settings/api-keys",
    ),
    ExchangeSpec(
        "bitmart",
        "BitMart",
        True,
        client=ClientKind.BITMART,
        extra_credentials=(BITMART_MEMO,),
        deposit_params={"network": "ETH"},
        trades=TradesProbe(limit=200, params={"endTime": "now_ms-1"}),
        rate_limit_per_second=10,
        website="https://www.bitmart.com",
        api_management_url="https://www.bitmart.com/api-config/en-US",
    ),
    ExchangeSpec(
        "bybit",
        "Bybit",
        True,
        trades=TradesProbe(limit=100, params={"endTime": "now_ms-1"}),
        rate_limit_per_second=20,
        website="https://www.bybit.com",
        api_management_url="https://www.bybit.com/app/user/api-management",
    ),
    ExchangeSpec(
        "gate",
        "Gate",
        True,
        deposit_params={"network": "ERC20"},
        trades=TradesProbe(limit=250, params={"to": "now_s+1", "page": 1}),
        rate_limit_per_second=20,
        website="https://www.gate.com",
        api_management_url="https://www.gate.com/myaccount/api_key_manage",
    ),
    ExchangeSpec(
        "htx",
        "HTX",
        True,
        trades=TradesProbe(since="now_ms-2", limit=None, params={"until": "now_ms", "size": 250, "direct": "next"}),
        rate_limit_per_second=10,
        website="https://www.htx.com",
        api_management_url="https://www.htx.com/en-us/apikey/",
    ),
    ExchangeSpec(
        "kraken",
        "Kraken",
        True,
        check_style=CheckStyle.KRAKEN_KEY_INFO,
        rate_limit_per_second=5,
        website="https://www.kraken.com",
        api_management_url="https://pro.kraken.com/app/settings/api",
    ),
    ExchangeSpec(
        "kucoin",
        "KuCoin",
        True,
        check_style=CheckStyle.KUCOIN_KEY_INFO,
        extra_credentials=(KUCOIN_PASSPHRASE,),
        rate_limit_per_second=20,
        website="https://www.kucoin.com",
        api_management_url="https://www.kucoin.com/account/api",
    ),
    ExchangeSpec(
        "mexc",
        "MEXC",
        True,
        trades=TradesProbe(limit=100, params={"until": "now_ms-1"}),
        rate_limit_per_second=20,
        website="https://www.mexc.com",
        api_management_url="https://www.mexc.com/user/openapi",
    ),
    ExchangeSpec(
        "xt",
        "XT.COM",
        True,
        deposit_params={"network": "ETH"},
        trades=TradesProbe(limit=100, params={"direction": "NEXT", "endTime": "now_ms-1"}),
        rate_limit_per_second=10,
        website="https://www.xt.com",
        api_management_url="https://www.xt.com/en/accounts/user/api",
    ),
    ExchangeSpec(
        "hyperliquid",
        "Hyperliquid",
        True,
        kind=ExchangeKind.DEX,
        check_style=CheckStyle.NONE,
        website="https://hyperliquid.xyz",
        connect_hint="HuFi reads Hyperliquid activity from your EVM wallet address; connect that wallet in HuFi.",
    ),
    ExchangeSpec(
        "pancakeswap",
        "PancakeSwap",
        True,
        kind=ExchangeKind.DEX,
        check_style=CheckStyle.NONE,
        website="https://pancakeswap.finance",
        connect_hint="HuFi reads PancakeSwap activity on chain from your wallet; connect that wallet in HuFi.",
    ),
    ExchangeSpec(
        "binance",
        "Binance",
        False,
        trades=TradesProbe(limit=100, params={"until": "now_ms-1"}),
        rate_limit_per_second=20,
        website="https://www.binance.com",
        api_management_url="https://www.binance.com/en/my/settings/api-management",
    ),
    ExchangeSpec(
        "okx",
        "OKX",
        False,
        extra_credentials=(OKX_PASSPHRASE,),
        trades=TradesProbe(limit=100, params={"until": "now_ms-1"}),
        rate_limit_per_second=10,
        website="https://www.okx.com",
        api_management_url="https://www.okx.com/account/my-api",
    ),
    ExchangeSpec(
        "bitget",
        "Bitget",
        False,
        extra_credentials=(BITGET_PASSPHRASE,),
        trades=TradesProbe(limit=100, params={"until": "now_ms-1"}),
        rate_limit_per_second=10,
        website="https://www.bitget.com",
        api_management_url="https://www.bitget.com/account/newapi",
    ),
)

CATALOG: Mapping[str, ExchangeSpec] = MappingProxyType({s.id: s for s in _SPECS})


class UnknownExchangeError(ValueError):
    """An exchange id that is not in the catalog."""

    def __init__(self, exchange_id: str) -> None:
        self.exchange_id = exchange_id
        supported = ", ".join(sorted(CATALOG))
        shown = exchange_id if len(exchange_id) <= 40 else exchange_id[:40] + "…"
        super().__init__(f"Unknown exchange {shown!r}. Supported: {supported}")


def get_spec(exchange_id: str) -> ExchangeSpec:
    """The spec for `exchange_id` (case-insensitive), or UnknownExchangeError listing the supported ids."""
    spec = CATALOG.get((exchange_id or "").strip().lower())
    if spec is None:
        raise UnknownExchangeError(exchange_id)
    return spec


def cex_ids() -> list[str]:
    return [s.id for s in _SPECS if s.kind is ExchangeKind.CEX]
