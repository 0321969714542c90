"""What each exchange's own key screens say, as data, each fact with the page it comes from.

For every exchange the advice names: the menu path to the key list and the button that creates a key, the labels of
the permissions to tick for each HuFi probe, how long a key lives depending on the user's choices, the extra steps the
exchange (or HuFi's own guide) asks for, and the network of the ETH deposit address. Menu items and permission
labels are the exchanges' own English UI words; the sentences that use them live in `bot.advice.texts`.

Every fact carries its `source` (a URL) and how it was checked (`Checked`): read on that page, taken from a
third-party guide that quotes the exchange's screen (the exchange's own page was not among the stored copies we could
search), or taken from the project's reference notes (`reference/realworld.md` §2, `reference/hufi.md` §7) without
re-reading the page. README's "What the bot does" says which facts rest on which kind of source. Checked 2026-12.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from bot.diagnosis.model import Cause, Permission

BALANCE = Permission.VIEW_ACCOUNT_BALANCE
DEPOSIT = Permission.VIEW_DEPOSIT_ADDRESS
TRADES = Permission.VIEW_SPOT_TRADING_HISTORY


class Checked(StrEnum):
    """How a fact was checked."""

    PAGE = "read on the page"
    THIRD_PARTY = "third-party guide quoting the exchange's screen; the exchange's own page was not found"
    NOTES = "from the reference notes, not re-read on the page"


@dataclass(frozen=True, slots=True)
class Source:
    url: str
    checked: Checked


@dataclass(frozen=True, slots=True)
class Menu:
    """Where the key list is (`path`, in the exchange's words) and the button that creates a key."""

    path: tuple[str, ...]
    create: str
    source: Source


@dataclass(frozen=True, slots=True)
class Labels:
    """The permission to tick for each HuFi probe, in the exchange's words."""

    names: Mapping[Permission, str]
    source: Source


@dataclass(frozen=True, slots=True)
class Expiry:
    """How long a key lives. `days_without_ip`: a key without an IP binding lapses after that many days.
    `text`: the key of the sentence in the advice texts (`expiry` table) that says it."""

    text: str
    source: Source
    days_without_ip: int | None = None


@dataclass(frozen=True, slots=True)
class Extra:
    """A step the exchange (or HuFi's guide) asks for beyond ticking permissions. `text` is the key of its sentence
    in the advice texts (`extras` table); `causes`: the verdicts it is shown with (empty: with every verdict whose
    fix touches the key on the exchange)."""

    text: str
    source: Source
    causes: frozenset[Cause] = frozenset()


@dataclass(frozen=True, slots=True)
class Variant:
    """Advice that depends on what the reply showed, not only on the cause: when `missing` failed although the
    key-info reply lists `key_has`, the steps come from `<exchange>@<name>` in the steps table and `labels` replace
    the permission names."""

    name: str
    cause: Cause
    missing: Permission
    key_has: str
    labels: Mapping[Permission, str]
    source: Source


@dataclass(frozen=True, slots=True)
class Guide:
    """One exchange's key screens."""

    menu: Menu
    labels: Labels
    expiry: Expiry | None = None
    extras: tuple[Extra, ...] = ()
    variants: tuple[Variant, ...] = ()
    #: the key-info reply's permission names (Kraken, KuCoin) -> the label on the key page
    key_info_labels: Mapping[str, str] = field(default_factory=dict)


def _all(name: str) -> dict[Permission, str]:
    return dict.fromkeys(Permission, name)


_HUFI_KRAKEN = "https://github.com/Hu-Fi/hufi/tree/main/recording-oracle/src/modules/exchanges/api-client/kraken"
_HUFI_GUIDE = Source("https://docs.hu.finance/campaign-participation/api-keys/", Checked.NOTES)

_KRAKEN_ARTICLE = "https://support.kraken.com/hc/en-us/articles/how-to-create-an-api-key-on-kraken-pro"
_KRAKEN_PERMISSIONS_GUIDE = "https://docs.kraken.com/exchange/guides/rest/api-keys"
_KUCOIN_CREATE = "https://www.kucoin.com/support/360015102174"
_GATE_FAQ = "https://www.gate.com/help/guide/faq/17521/how-to-utilize-api"
_XT_APPLY = (
    "https://xtsupport.zendesk.com/hc/en-us/articles/900006868163-How-to-apply-for-API-trading-and-create-an-API-key"
)
_BITMART_GUIDE = (
    "https://support.bitmart.com/hc/en-us/articles/17855610619803-API-Key-Creation-and-Broker-Trading-Guide"
)
_OKX_FAQ = "https://www.okx.com/help/api-faq"
_BITGET_CREATE = "https://www.bitget.com/support/articles/12560603795900"
_BYBIT_KEY_INFO = "https://bybit-exchange.github.io/docs/v5/user/apikey-info"
_HTX_KEY_API = "https://www.huobi.com/support/en-us/detail/900001195006/"

_NEW_KEY_CAUSES = frozenset(
    {Cause.PERMISSION_MISSING, Cause.KEY_INVALID, Cause.KEY_EXPIRED, Cause.SECRET_MISMATCH, Cause.KEY_FROZEN}
)

GUIDES: Mapping[str, Guide] = MappingProxyType(
    {
        "binance": Guide(
            Menu(
                ("profile icon", "API Management"),
                "Create API",
                Source(
                    "https://www.binance.com/en/support/faq/how-to-create-api-keys-on-binance-360002502072",
                    Checked.THIRD_PARTY,
                ),
            ),
            Labels(
                _all("Enable Reading"),
                # the key-info reply's field is enableReading; the checkbox's words are from the reference notes
                Source("https://developers.binance.com/docs/wallet/account/api-key-permission", Checked.NOTES),
            ),
        ),
        "okx": Guide(
            Menu(("Profile", "API and connections"), "Create API key", Source(_OKX_FAQ, Checked.PAGE)),
            Labels(_all("Read"), Source(_OKX_FAQ, Checked.PAGE)),
            extras=(Extra("passphrase_chosen", Source(_OKX_FAQ, Checked.PAGE), frozenset({Cause.PASSPHRASE_WRONG})),),
        ),
        "bybit": Guide(
            Menu(
                ("profile icon", "API"),
                "Create New Key (System-generated API Keys)",
                Source("https://aotrading.io/blogs/bybit-create-api-key-step-by-step-2026", Checked.THIRD_PARTY),
            ),
            Labels(
                {
                    BALANCE: "Read-Only, with Unified Trading ticked",
                    DEPOSIT: "Read-Only, with Assets ticked",
                    TRADES: "Read-Only, with Unified Trading ticked (SPOT on a classic account)",
                },
                # Bybit's API reference names the permission groups; the screen's words come from a third-party
                # guide (holdix.app/learn/bybitApiKeys) and reference/realworld.md §2.
                Source(_BYBIT_KEY_INFO, Checked.THIRD_PARTY),
            ),
            # the key-info reply has a deadline only "for those api key with no IP bound"; 90 days: third-party guides
            expiry=Expiry("days_without_ip", Source(_BYBIT_KEY_INFO, Checked.THIRD_PARTY), days_without_ip=90),
        ),
        "kucoin": Guide(
            Menu(("avatar", "API Management"), "Create API", Source(_KUCOIN_CREATE, Checked.PAGE)),
            Labels(
                _all("General"),
                Source(
                    "https://www.kucoin.com/support/900006465403-KuCoin-API-key-upgrade-operation-guide", Checked.PAGE
                ),
            ),
            expiry=Expiry("kucoin_general", Source(_KUCOIN_CREATE, Checked.PAGE)),
            extras=(
                Extra(
                    "kucoin_passphrase",
                    Source(_KUCOIN_CREATE, Checked.PAGE),
                    frozenset({Cause.PASSPHRASE_WRONG, Cause.INCOMPLETE_CREDENTIALS, Cause.HUFI_FORM_LIMIT}),
                ),
            ),
            key_info_labels={"General": "General"},
        ),
        "kraken": Guide(
            Menu(
                ("account menu (person icon)", "Settings", "API"),
                "Create API key",
                Source(_KRAKEN_ARTICLE, Checked.PAGE),
            ),
            Labels(
                {
                    BALANCE: "Query Funds",
                    DEPOSIT: "Query Funds",
                    TRADES: "Query Open Orders & Trades, Query Closed Orders & Trades and Export Data",
                },
                # which of them HuFi needs: its KrakenClient (reference/hufi.md §2b); Export Data: Kraken's guide
                Source(_KRAKEN_PERMISSIONS_GUIDE, Checked.PAGE),
            ),
            extras=(
                Extra(
                    "kraken_nonce_window",
                    Source(_HUFI_KRAKEN, Checked.NOTES),
                    # a new key: its own steps for a missing permission or a small nonce window already say it
                    _NEW_KEY_CAUSES - {Cause.PERMISSION_MISSING},
                ),
            ),
            variants=(
                # Kraken's API reference says DepositAddresses needs "Funds permissions - Query"
                # (docs.kraken.com/api-reference/funding/get-deposit-addresses); its support article says "Deposit
                # Funds is required for ... DepositMethods and DepositAddresses". The reply decides: when the key has
                # Query Funds and DepositAddresses is still refused, this key needs Deposit Funds too.
                Variant(
                    "deposit_funds",
                    Cause.PERMISSION_MISSING,
                    DEPOSIT,
                    "query-funds",
                    {DEPOSIT: "Query Funds and Deposit Funds"},
                    Source(_KRAKEN_ARTICLE, Checked.PAGE),
                ),
            ),
            key_info_labels={
                "query-funds": "Query Funds",
                "deposit-funds": "Deposit Funds",
                "query-open-trades": "Query Open Orders & Trades",
                "query-closed-trades": "Query Closed Orders & Trades",
                "export-data": "Export Data",
            },
        ),
        "gate": Guide(
            Menu(("profile icon", "API Management"), "Create API Key", Source(_GATE_FAQ, Checked.PAGE)),
            Labels(
                {BALANCE: "Spot: Read Only", DEPOSIT: "Wallet: Read Only", TRADES: "Spot: Read Only"},
                # "Read Only" is on Gate's FAQ; the group names Spot and Wallet from a third-party guide
                # (docs.tread.fi, connecting-to-exchanges/gate) and Gate's key API (perms "spot", "wallet")
                Source(_GATE_FAQ, Checked.THIRD_PARTY),
            ),
            expiry=Expiry("days_without_ip", Source(_GATE_FAQ, Checked.PAGE), days_without_ip=90),
            extras=(Extra("gate_trading_account", _HUFI_GUIDE, _NEW_KEY_CAUSES),),
        ),
        "mexc": Guide(
            Menu(("profile icon", "API Management"), "Create API Key", _HUFI_GUIDE),
            Labels(
                {
                    BALANCE: "Account: view account details",
                    DEPOSIT: "Wallet: view deposit details",
                    TRADES: "Spot: view order and trade details",
                },
                # HuFi's guide shows the boxes only in screenshots; the API names them SPOT_ACCOUNT_READ,
                # SPOT_WITHDRAW_READ (deposit address) and SPOT_DEAL_READ
                Source("https://mexcdevelop.github.io/apidocs/spot_v3_en/#api-key-permissions", Checked.NOTES),
            ),
        ),
        "htx": Guide(
            Menu(
                ("profile avatar", "API Management"),
                "Create API Key",
                Source("https://help.ufox.ai/bind-api/htx.html", Checked.THIRD_PARTY),
            ),
            # the API value is readOnly ("readOnly is required permission for any API key"); the screen says Read-only
            Labels(_all("Read-only"), Source(_HTX_KEY_API, Checked.PAGE)),
            expiry=Expiry("days_without_ip", Source(_HTX_KEY_API, Checked.PAGE), days_without_ip=90),
        ),
        "bitget": Guide(
            Menu(
                ("profile icon", "API"), "Create API (System-generated API Keys)", Source(_BITGET_CREATE, Checked.PAGE)
            ),
            Labels(
                _all("Read-only"),
                Source("https://help.cryptoworth.com/en/articles/10424547-bitget", Checked.THIRD_PARTY),
            ),
            extras=(
                Extra(
                    "passphrase_chosen",
                    Source(_BITGET_CREATE, Checked.PAGE),
                    frozenset({Cause.PASSPHRASE_WRONG}),
                ),
            ),
        ),
        "bitmart": Guide(
            Menu(("Account", "API Management"), "Create API", Source(_BITMART_GUIDE, Checked.PAGE)),
            Labels(
                _all("Read-Only"),
                Source("https://developer-pro.bitmart.com/en/part1/question/apikey.html", Checked.PAGE),
            ),
            extras=(
                Extra(
                    "bitmart_memo",
                    Source(_BITMART_GUIDE, Checked.PAGE),
                    frozenset({Cause.PASSPHRASE_WRONG, Cause.INCOMPLETE_CREDENTIALS, Cause.HUFI_FORM_LIMIT}),
                ),
            ),
        ),
        "xt": Guide(
            Menu(("User Center", "API Management"), "Create API", Source(_XT_APPLY, Checked.PAGE)),
            # "By default, the API has query permissions."
            Labels(_all("query permission, on by default"), Source(_XT_APPLY, Checked.PAGE)),
            extras=(
                Extra(
                    "xt_application",
                    Source(_XT_APPLY, Checked.PAGE),
                    frozenset({Cause.KEY_INVALID, Cause.PERMISSION_MISSING, Cause.ACCOUNT_RESTRICTED}),
                ),
            ),
        ),
        "bigone": Guide(
            Menu(
                ("API Settings",), "Create API Key", Source("https://open.bigone.com/docs/api-key-setup", Checked.PAGE)
            ),
            Labels(
                {
                    BALANCE: "View Account Balance Information",
                    DEPOSIT: "View Deposit Address",
                    TRADES: "View Trade Information",
                },
                Source("https://open.bigone.com/docs/api-key-setup", Checked.PAGE),
            ),
        ),
    }
)

GENERIC_PERMISSION_NAMES: Mapping[Permission, str] = MappingProxyType(
    {
        BALANCE: "read access to balances",
        DEPOSIT: "read access to deposit addresses",
        TRADES: "read access to spot orders and trade history",
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


def _id(exchange_id: str) -> str:
    return (exchange_id or "").strip().lower()


def guide(exchange_id: str) -> Guide | None:
    """The key screens of `exchange_id`, or None for an exchange without a guide (a DEX, an unknown id)."""
    return GUIDES.get(_id(exchange_id))


def permission_names(exchange_id: str, variant: Variant | None = None) -> dict[Permission, str]:
    """What each HuFi permission is called on `exchange_id`; generic wording where unknown."""
    names = dict(GENERIC_PERMISSION_NAMES)
    found = guide(exchange_id)
    if found is not None:
        names.update(found.labels.names)
    if variant is not None:
        names.update(variant.labels)
    return names


def deposit_network(exchange_id: str) -> str:
    return DEPOSIT_NETWORK.get(_id(exchange_id), DEFAULT_DEPOSIT_NETWORK)


def variant_for(
    exchange_id: str, cause: Cause, missing: frozenset[Permission], key_permissions: frozenset[str]
) -> Variant | None:
    """The reply-dependent advice that applies, if any."""
    found = guide(exchange_id)
    if found is None:
        return None
    for variant in found.variants:
        if variant.cause is cause and variant.missing in missing and variant.key_has in key_permissions:
            return variant
    return None
