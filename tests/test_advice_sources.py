"""Per-exchange advice (issue #16): every exchange's menu path, permission labels, key lifetime and extra steps, each
with its source page, and the advice texts built from them; the one table of what each cause means for "check again"
and for HuFi's app."""

from __future__ import annotations

import re

import pytest

from bot.advice import CAUSE_TRAITS, HufiNext, Step, recheck_helps, steps_for
from bot.advice.exchanges import GUIDES, Checked, Source, guide, permission_names
from bot.advice.texts import LANGUAGES
from bot.diagnosis import Cause, Diagnosis, Permission
from bot.exchanges.catalog import CATALOG, ExchangeKind

EN = LANGUAGES["en"]
KEYED = sorted(s.id for s in CATALOG.values() if s.kind is ExchangeKind.CEX)
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
IPS = ["203.0.113.10", "198.51.100.20"]


def text_of(steps: list[Step]) -> str:
    return "\n".join(f"{s.title}\n{s.text}" for s in steps)


def _sources(exchange: str) -> list[Source]:
    found = GUIDES[exchange]
    out = [found.menu.source, found.labels.source]
    out += [found.expiry.source] if found.expiry is not None else []
    out += [e.source for e in found.extras] + [v.source for v in found.variants]
    return out


def test_the_twelve_key_based_exchanges_each_have_a_guide() -> None:
    assert sorted(GUIDES) == KEYED
    assert len(KEYED) == 12


@pytest.mark.parametrize("exchange", KEYED)
def test_every_exchange_has_a_menu_path_labels_and_a_source_for_each(exchange: str) -> None:
    found = GUIDES[exchange]
    assert found.menu.path and all(item.strip() for item in found.menu.path) and found.menu.create.strip()
    assert set(found.labels.names) == set(Permission) and all(found.labels.names.values())
    for source in _sources(exchange):
        assert re.fullmatch(r"https://[a-z0-9.-]+\.[a-z]{2,}/\S*", source.url), source
        assert isinstance(source.checked, Checked)
    for extra in found.extras:
        assert extra.text in EN["extras"], extra
    if found.expiry is not None:
        assert found.expiry.text in EN["expiry"]


@pytest.mark.parametrize("exchange", KEYED)
def test_the_advice_names_the_menu_path_and_the_exact_labels(exchange: str) -> None:
    found = GUIDES[exchange]
    text = text_of(steps_for(Diagnosis(Cause.PERMISSION_MISSING), exchange))
    assert " → ".join(found.menu.path) in text
    labels = set(found.labels.names.values())
    if exchange != "kraken":  # Kraken's own steps spell out its four boxes
        assert all(label in text for label in labels), (labels, text)
    new_key = text_of(steps_for(Diagnosis(Cause.SECRET_MISMATCH), exchange))
    assert " → ".join((*found.menu.path, found.menu.create)) in new_key


@pytest.mark.parametrize("exchange", KEYED)
@pytest.mark.parametrize("cause", [c for c in Cause if c not in (Cause.OK, Cause.NO_KEY_NEEDED)], ids=str)
def test_every_cause_has_advice_for_every_exchange_ending_with_hufi(exchange: str, cause: Cause) -> None:
    steps = steps_for(Diagnosis(cause), exchange, outbound_ips=IPS, granted=[])
    assert len(steps) >= 2 and not PLACEHOLDER.search(text_of(steps))
    assert steps[-1].title == "Then in HuFi" and CATALOG[exchange].display_name in steps[-1].text
    assert any(s.title == "Check again" for s in steps) is recheck_helps(cause)


def test_bigone_names_its_own_scopes() -> None:
    text = text_of(steps_for(Diagnosis(Cause.PERMISSION_MISSING), "bigone"))
    for label in ("View Account Balance Information", "View Deposit Address", "View Trade Information"):
        assert label in text
    assert "API Settings" in text and "Read (" not in text


@pytest.mark.parametrize("exchange", ["htx", "gate"])
def test_removing_the_ip_allow_list_says_the_key_then_expires_after_90_days(exchange: str) -> None:
    without = text_of(steps_for(Diagnosis(Cause.IP_NOT_WHITELISTED), exchange))
    assert "expires after 90 days" in without and "support" in without
    with_ips = text_of(steps_for(Diagnosis(Cause.IP_NOT_WHITELISTED), exchange, outbound_ips=IPS))
    first = steps_for(Diagnosis(Cause.IP_NOT_WHITELISTED), exchange, outbound_ips=IPS)[0].text
    assert "expires after 90 days" in first and "Binding HuFi's addresses to the key (203.0.113.10" in first
    assert with_ips.count("expires after 90 days") == 1  # said once, where the advice removes the allow-list
    assert "expires" not in text_of(steps_for(Diagnosis(Cause.IP_NOT_WHITELISTED), "binance"))


def test_htx_reads_read_only_and_kucoin_general_never_expires() -> None:
    assert permission_names("htx") == dict.fromkeys(Permission, "Read-only")
    kucoin = text_of(steps_for(Diagnosis(Cause.KEY_EXPIRED), "kucoin"))
    assert "General permission never expires" in kucoin
    assert "avatar → API Management → Create API" in kucoin


def test_xt_explains_the_application_review_and_kyc() -> None:
    text = text_of(steps_for(Diagnosis(Cause.KEY_INVALID), "xt"))
    assert "Submit for review" in text and "3 to 5 business days" in text and "KYC" in text
    assert "User Center → API Management" in text


def test_gate_asks_for_the_trading_account_and_bitmart_explains_the_memo() -> None:
    assert "Trading Account" in text_of(steps_for(Diagnosis(Cause.PERMISSION_MISSING), "gate"))
    memo = text_of(steps_for(Diagnosis(Cause.PASSPHRASE_WRONG), "bitmart"))
    assert "whatever you typed in the Memo field" in memo
    kucoin = text_of(steps_for(Diagnosis(Cause.PASSPHRASE_WRONG), "kucoin"))
    assert "choose the API passphrase when you create the key" in kucoin


def test_bybit_names_the_unified_trading_permission() -> None:
    names = permission_names("bybit")
    assert "Unified Trading" in names[Permission.VIEW_ACCOUNT_BALANCE]
    assert "Unified Trading" in names[Permission.VIEW_SPOT_TRADING_HISTORY]


def test_kraken_deposit_funds_only_when_the_reply_says_so() -> None:
    """The deposit probe refused although the key has Query Funds: tick Deposit Funds. Query Funds missing: tick
    Query Funds, and Deposit Funds isn't asked for."""
    deposit = [Permission.VIEW_DEPOSIT_ADDRESS]
    with_query = text_of(
        steps_for(Diagnosis(Cause.PERMISSION_MISSING), "kraken", missing=deposit, key_permissions=["query-funds"])
    )
    assert "Tick Deposit Funds" in with_query and "Withdraw Funds" in with_query
    without = text_of(steps_for(Diagnosis(Cause.PERMISSION_MISSING), "kraken", missing=deposit, key_permissions=[]))
    assert "Tick Deposit Funds" not in without and "Query Funds" in without
    assert "isn't needed unless Kraken refuses" in without
    # another cause, or another missing permission, never gets the variant
    trades = text_of(
        steps_for(
            Diagnosis(Cause.PERMISSION_MISSING),
            "kraken",
            missing=[Permission.VIEW_SPOT_TRADING_HISTORY],
            key_permissions=["query-funds"],
        )
    )
    assert "Tick Deposit Funds" not in trades


def test_the_cause_table_covers_every_cause_once() -> None:
    assert set(CAUSE_TRAITS) == set(Cause)
    cannot = {c for c, tr in CAUSE_TRAITS.items() if not tr.recheck_helps}
    assert {
        Cause.SECRET_MISMATCH,
        Cause.KEY_SECRET_SWAPPED,
        Cause.HUFI_FORM_LIMIT,
        Cause.MALFORMED_CREDENTIALS,
        Cause.INCOMPLETE_CREDENTIALS,
        Cause.PASSPHRASE_WRONG,
    } <= cannot
    assert CAUSE_TRAITS[Cause.PERMISSION_MISSING].recheck_helps and recheck_helps(Diagnosis(Cause.IP_NOT_WHITELISTED))
    assert not recheck_helps(None)
    for tr in CAUSE_TRAITS.values():
        assert tr.hufi is HufiNext.NONE or tr.hufi.value in EN["hufi"]


def test_hufi_next_step_fits_the_cause() -> None:
    fixed = steps_for(Diagnosis(Cause.PERMISSION_MISSING), "mexc")[-1].text
    assert "refresh icon" in fixed and "all three permissions" in fixed
    new = steps_for(Diagnosis(Cause.SECRET_MISMATCH), "kucoin")[-1].text
    assert "edit the KuCoin key" in new and "API passphrase" in new and "Don't delete" in new
    later = steps_for(Diagnosis(Cause.EXCHANGE_MAINTENANCE), "gate")[-1].text
    assert "Nothing to change in HuFi" in later
    assert not [s for s in steps_for(Diagnosis(Cause.NO_KEY_NEEDED), "hyperliquid") if s.title == "Then in HuFi"]


def test_an_exchange_without_a_guide_gets_generic_words() -> None:
    assert guide("hyperliquid") is None and guide("nowhere") is None
    text = text_of(steps_for(Diagnosis(Cause.PERMISSION_MISSING), "nowhere"))
    assert "API management page" in text and not PLACEHOLDER.search(text)
