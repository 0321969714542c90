"""The recogniser of HuFi error messages pasted into the chat, with HuFi's real texts (reference/hufi.md §5)."""

from __future__ import annotations

import pytest

from bot.diagnosis.model import Permission
from bot.hufi_errors import HufiErrorKind, exchange_named, normalise, permissions_named, recognise

BALANCE, DEPOSIT, TRADES = list(Permission)

#: HuFi's own texts: the add-key dialog, the join error filter, the tooltip, the UI fallbacks, the sign-in banner.
HUFI_TEXTS = [
    (
        "Provided API key can't be authorized on exchange. Missing permissions: VIEW_DEPOSIT_ADDRESS, "
        "VIEW_SPOT_TRADING_HISTORY.",
        HufiErrorKind.MISSING,
        (DEPOSIT, TRADES),
    ),
    (
        "Provided API key can't be authorized on exchange. Missing: VIEW_ACCOUNT_BALANCE, VIEW_DEPOSIT_ADDRESS",
        HufiErrorKind.MISSING,
        (BALANCE, DEPOSIT),
    ),
    ("Missing permissions: VIEW_SPOT_TRADING_HISTORY", HufiErrorKind.MISSING, (TRADES,)),
    ("Provided API key can't be authorized on exchange", HufiErrorKind.MISSING, ()),
    ("Failed to add API key.", HufiErrorKind.FAILED, ()),
    ("Failed to edit API key.", HufiErrorKind.FAILED, ()),
    ("Failed to join campaign. Please try again.", HufiErrorKind.FAILED, ()),
    ("Incomplete credentials supplied for exchange", HufiErrorKind.INCOMPLETE, ()),
    ("Some of your API keys are invalid or missing permissions.", HufiErrorKind.INVALID_BANNER, ()),
]


@pytest.mark.parametrize(("text", "kind", "perms"), HUFI_TEXTS)
def test_hufis_own_texts(text: str, kind: HufiErrorKind, perms: tuple[Permission, ...]) -> None:
    found = recognise(text)
    assert found is not None and found.kind is kind and found.permissions == perms and found.exchange_id is None


@pytest.mark.parametrize(
    "text",
    [
        "provided api key cant be authorized on exchange. missing permissions: view_deposit_address",
        "PROVIDED API KEY CAN’T BE AUTHORIZED ON EXCHANGE — MISSING PERMISSIONS: VIEW_DEPOSIT_ADDRESS!!!",
        "hi, HuFi keeps saying “Provided API key cannot be authorised on exchange. Missing permissions: "
        "view deposit address” what do I do?",
        "Provided API key can't be authorized on exchange.\nMissing permissions:\n  VIEW-DEPOSIT-ADDRESS",
        "Ｍｉｓｓｉｎｇ ｐｅｒｍｉｓｓｉｏｎｓ: VIEW_DEPOSIT_ADDRESS",
        "missing permissions: FETCH_DEPOSIT_ADDRESS",  # HuFi's names before #591
    ],
)
def test_any_case_punctuation_and_words_around(text: str) -> None:
    found = recognise(text)
    assert found is not None and found.kind is HufiErrorKind.MISSING and found.permissions == (DEPOSIT,)


def test_old_permission_names_and_order() -> None:
    assert permissions_named("FETCH_MY_TRADES, FETCH_BALANCE") == (BALANCE, TRADES)  # HuFi's enum order
    assert permissions_named("nothing here") == ()


@pytest.mark.parametrize(
    ("text", "exchange"),
    [
        ("MEXC: Failed to add API key.", "mexc"),
        ("on gate.io: Provided API key can't be authorized on exchange", "gate"),
        ("Huobi says Failed to add API key", "htx"),
        ("XT.COM — Failed to add API key.", "xt"),
        ("my kucoin key: Missing permissions: VIEW_ACCOUNT_BALANCE", "kucoin"),
        ("Failed to add API key.", None),
        ("binance or bybit? Failed to add API key.", None),  # two named: ask
        ("Failed to add API key. The next step...", None),  # "next" is not XT, "navigate" is not Gate
    ],
)
def test_the_exchange_a_paste_names(text: str, exchange: str | None) -> None:
    found = recognise(text)
    assert found is not None and found.exchange_id == exchange
    assert exchange_named(text) == exchange


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "my key is not working",
        "how do I add an API key to HuFi?",
        "I failed to add the milk",
        "/check",
        "VIEW_DEPOSIT_ADDRESS",  # a permission name alone says nothing about what HuFi said
        None,
    ],
)
def test_ordinary_messages_are_not_hufi_errors(text: str | None) -> None:
    assert recognise(text) is None


def test_normalise_is_gentle() -> None:
    assert normalise("  Can’t\n\tBE  ") == "cant be"
    assert len(normalise("x" * 10_000)) <= 2000
