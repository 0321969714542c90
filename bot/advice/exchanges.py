"""What each exchange's own key screens say, as data, each fact with the page it comes from.

For every exchange the advice names: the menu path to the key list and the button that creates a key, the labels of
the permissions to tick for each HuFi probe, how long a key lives depending on the user's choices, the extra steps the
exchange (or HuFi's own guide) asks for, and the network of the ETH deposit address. The sentences that use them
live in `bot.advice.texts`.

Whose words. A `Ui` is the exchange's own words on its screen, in English as the exchange shows them (a menu item,
a button, a checkbox). In another language the advice shows the exchange's localised words where a translator
found them on its localised screens (`bot/i18n/locales/<language>/exchange_labels.toml`, each with the page it comes
from), else the English words in quotes, so the user can still find them. A plain `str` is our own description
("profile icon"), translated through the catalogs like every other text (context `advice.screen`). A `Phrase` is
our words around the exchange's ("{read_only}, with {unified_trading} ticked"). `Ui` and `Phrase` are strings
whose value is the English text, so English reads as before.

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
from bot.i18n import DEFAULT_LANGUAGE, normalise, pgettext
from bot.i18n.labels import exchange_label

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


class Ui(str):
    """Words on the exchange's own screen, in English as it shows them (module docstring)."""


class Phrase(str):
    """Our words around the exchange's: `template` with a placeholder for each `Ui` part; as a string, the English
    text ("Read-Only, with Unified Trading ticked")."""

    template: str
    parts: Mapping[str, Ui]

    def __new__(cls, template: str, **parts: str) -> Phrase:
        ui = {name: Ui(value) for name, value in parts.items()}
        self = super().__new__(cls, template.format(**ui))
        self.template = template
        self.parts = MappingProxyType(ui)
        return self


#: The catalog context of our own words in this table (menu descriptions, phrases around the exchange's words).
SCREEN_CONTEXT = "advice.screen"
#: How a `Ui` is shown in a language that has no localised words for it: the English words, quoted.
QUOTED_CONTEXT = "advice.screen.quoted"
QUOTED = "“{label}”"


def screen_words(value: str, exchange_id: str, language: str = DEFAULT_LANGUAGE) -> str:
    """`value` from this table (or an exchange's credential label) as the user reads it in `language`."""
    language = normalise(language)
    if language == DEFAULT_LANGUAGE:
        return str(value)
    if isinstance(value, Phrase):
        parts = {name: screen_words(ui, exchange_id, language) for name, ui in value.parts.items()}
        try:
            return pgettext(language, SCREEN_CONTEXT, value.template).format(**parts)
        except (KeyError, IndexError, ValueError):
            return value.template.format(**parts)
    if isinstance(value, Ui):
        localised = exchange_label(language, exchange_id, str(value))
        if localised:
            return localised
        quoted = pgettext(language, QUOTED_CONTEXT, QUOTED)
        return quoted.replace("{label}", str(value)) if "{label}" in quoted else QUOTED.format(label=value)
    return pgettext(language, SCREEN_CONTEXT, str(value))


def _all(name: str) -> dict[Permission, str]:
    return dict.fromkeys(Permission, Ui(name))


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
                ("profile icon", Ui("API Management")),
                Ui("Create API"),
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
            Menu((Ui("Profile"), Ui("API and connections")), Ui("Create API key"), Source(_OKX_FAQ, Checked.PAGE)),
            Labels(_all("Read"), Source(_OKX_FAQ, Checked.PAGE)),
            extras=(Extra("passphrase_chosen", Source(_OKX_FAQ, Checked.PAGE), frozenset({Cause.PASSPHRASE_WRONG})),),
        ),
        "bybit": Guide(
            Menu(
                ("profile icon", Ui("API")),
                Phrase("{create} ({kind})", create="Create New Key", kind="System-generated API Keys"),
                Source("https://aotrading.io/blogs/bybit-create-api-key-step-by-step-2026", Checked.THIRD_PARTY),
            ),
            Labels(
                {
                    BALANCE: Phrase(
                        "{read_only}, with {unified_trading} ticked",
                        read_only="Read-Only",
                        unified_trading="Unified Trading",
                    ),
                    DEPOSIT: Phrase("{read_only}, with {assets} ticked", read_only="Read-Only", assets="Assets"),
                    TRADES: Phrase(
                        "{read_only}, with {unified_trading} ticked ({spot} on a classic account)",
                        read_only="Read-Only",
                        unified_trading="Unified Trading",
                        spot="SPOT",
                    ),
                },
                # Bybit's API reference names the permission groups; the screen's words come from a third-party
                # guide (holdix.app/learn/bybitApiKeys) and reference/realworld.md §2.
                Source(_BYBIT_KEY_INFO, Checked.THIRD_PARTY),
            ),
            # the key-info reply has a deadline only "for those api key with no IP bound"; 90 days: third-party guides
            expiry=Expiry("days_without_ip", Source(_BYBIT_KEY_INFO, Checked.THIRD_PARTY), days_without_ip=90),
        ),
        "kucoin": Guide(
            Menu(("avatar", Ui("API Management")), Ui("Create API"), Source(_KUCOIN_CREATE, Checked.PAGE)),
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
            key_info_labels={"General": Ui("General")},
        ),
        "kraken": Guide(
            Menu(
                ("account menu (person icon)", Ui("Settings"), Ui("API")),
                Ui("Create API key"),
                Source(_KRAKEN_ARTICLE, Checked.PAGE),
            ),
            Labels(
                {
                    BALANCE: Ui("Query Funds"),
                    DEPOSIT: Ui("Query Funds"),
                    TRADES: Phrase(
                        "{open_trades}, {closed_trades} and {export_data}",
                        open_trades="Query Open Orders & Trades",
                        closed_trades="Query Closed Orders & Trades",
                        export_data="Export Data",
                    ),
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
                    {
                        DEPOSIT: Phrase(
                            "{query_funds} and {deposit_funds}",
                            query_funds="Query Funds",
                            deposit_funds="Deposit Funds",
                        )
                    },
                    Source(_KRAKEN_ARTICLE, Checked.PAGE),
                ),
            ),
            key_info_labels={
                "query-funds": Ui("Query Funds"),
                "deposit-funds": Ui("Deposit Funds"),
                "query-open-trades": Ui("Query Open Orders & Trades"),
                "query-closed-trades": Ui("Query Closed Orders & Trades"),
                "export-data": Ui("Export Data"),
            },
        ),
        "gate": Guide(
            Menu(("profile icon", Ui("API Management")), Ui("Create API Key"), Source(_GATE_FAQ, Checked.PAGE)),
            Labels(
                {BALANCE: Ui("Spot: Read Only"), DEPOSIT: Ui("Wallet: Read Only"), TRADES: Ui("Spot: Read Only")},
                # "Read Only" is on Gate's FAQ; the group names Spot and Wallet from a third-party guide
                # (docs.tread.fi, connecting-to-exchanges/gate) and Gate's key API (perms "spot", "wallet")
                Source(_GATE_FAQ, Checked.THIRD_PARTY),
            ),
            expiry=Expiry("days_without_ip", Source(_GATE_FAQ, Checked.PAGE), days_without_ip=90),
            extras=(Extra("gate_trading_account", _HUFI_GUIDE, _NEW_KEY_CAUSES),),
        ),
        "mexc": Guide(
            Menu(("profile icon", Ui("API Management")), Ui("Create API Key"), _HUFI_GUIDE),
            Labels(
                {
                    BALANCE: Ui("Account: view account details"),
                    DEPOSIT: Ui("Wallet: view deposit details"),
                    TRADES: Ui("Spot: view order and trade details"),
                },
                # HuFi's guide shows the boxes only in screenshots; the API names them SPOT_ACCOUNT_READ,
                # SPOT_WITHDRAW_READ (deposit address) and SPOT_DEAL_READ
                Source("https://mexcdevelop.github.io/apidocs/spot_v3_en/#api-key-permissions", Checked.NOTES),
            ),
        ),
        "htx": Guide(
            Menu(
                ("profile avatar", Ui("API Management")),
                Ui("Create API Key"),
                Source("https://help.ufox.ai/bind-api/htx.html", Checked.THIRD_PARTY),
            ),
            # the API value is readOnly ("readOnly is required permission for any API key"); the screen says Read-only
            Labels(_all("Read-only"), Source(_HTX_KEY_API, Checked.PAGE)),
            expiry=Expiry("days_without_ip", Source(_HTX_KEY_API, Checked.PAGE), days_without_ip=90),
        ),
        "bitget": Guide(
            Menu(
                ("profile icon", Ui("API")),
                Phrase("{create} ({kind})", create="Create API", kind="System-generated API Keys"),
                Source(_BITGET_CREATE, Checked.PAGE),
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
            Menu((Ui("Account"), Ui("API Management")), Ui("Create API"), Source(_BITMART_GUIDE, Checked.PAGE)),
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
            Menu((Ui("User Center"), Ui("API Management")), Ui("Create API"), Source(_XT_APPLY, Checked.PAGE)),
            # "By default, the API has query permissions.": our words, not a label on XT's screen
            Labels(dict.fromkeys(Permission, "query permission, on by default"), Source(_XT_APPLY, Checked.PAGE)),
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
                (Ui("API Settings"),),
                Ui("Create API Key"),
                Source("https://open.bigone.com/docs/api-key-setup", Checked.PAGE),
            ),
            Labels(
                {
                    BALANCE: Ui("View Account Balance Information"),
                    DEPOSIT: Ui("View Deposit Address"),
                    TRADES: Ui("View Trade Information"),
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
        "kraken": Phrase("{ethereum} (the “{ether_hex}” deposit method)", ethereum="Ethereum", ether_hex="Ether (Hex)"),
        "bigone": Ui("Ethereum"),
    }
)
DEFAULT_DEPOSIT_NETWORK = Ui("Ethereum (ERC20)")


def _id(exchange_id: str) -> str:
    return (exchange_id or "").strip().lower()


def guide(exchange_id: str) -> Guide | None:
    """The key screens of `exchange_id`, or None for an exchange without a guide (a DEX, an unknown id)."""
    return GUIDES.get(_id(exchange_id))


def permission_names(
    exchange_id: str, variant: Variant | None = None, language: str = DEFAULT_LANGUAGE
) -> dict[Permission, str]:
    """What each HuFi permission is called on `exchange_id`, as the user reads it in `language`; generic wording
    where unknown."""
    names: dict[Permission, str] = dict(GENERIC_PERMISSION_NAMES)
    found = guide(exchange_id)
    if found is not None:
        names.update(found.labels.names)
    if variant is not None:
        names.update(variant.labels)
    return {perm: screen_words(name, _id(exchange_id), language) for perm, name in names.items()}


def deposit_network(exchange_id: str, language: str = DEFAULT_LANGUAGE) -> str:
    value = DEPOSIT_NETWORK.get(_id(exchange_id), DEFAULT_DEPOSIT_NETWORK)
    return screen_words(value, _id(exchange_id), language)


def screen_values() -> list[tuple[str, str]]:
    """Every (exchange id, value) of this table whose words are shown: menus, buttons, labels, deposit networks
    (extraction: our words go to the template, the exchange's to each language's label file). Exchange id "" for
    the generic names."""
    values: list[tuple[str, str]] = [("", name) for name in GENERIC_PERMISSION_NAMES.values()]
    for exchange_id, found in GUIDES.items():
        values.append((exchange_id, DEPOSIT_NETWORK.get(exchange_id, DEFAULT_DEPOSIT_NETWORK)))
        values += [(exchange_id, item) for item in (*found.menu.path, found.menu.create)]
        values += [(exchange_id, name) for name in found.labels.names.values()]
        values += [(exchange_id, name) for variant in found.variants for name in variant.labels.values()]
        values += [(exchange_id, name) for name in found.key_info_labels.values()]
    return values


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
