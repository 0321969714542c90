"""Advice: every cause has English steps on every exchange, texts are complete, IPs and campaign types show up."""

from __future__ import annotations

import re

import pytest

from bot.advice import (
    HUFI_ORDER,
    Question,
    Step,
    cause_title,
    exchange_permission_names,
    qualifying_campaigns,
    question_for,
    recheck_helps,
    steps_for,
)
from bot.advice.texts import LANGUAGES
from bot.diagnosis import CampaignType, Cause, Diagnosis, Permission
from bot.diagnosis.classify import PRIORITY
from bot.exchanges.catalog import CATALOG

EN = LANGUAGES["en"]
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
IPS = ["203.0.113.10", "198.51.100.20"]


def all_text(steps: list[Step]) -> str:
    return "\n".join(f"{s.title}\n{s.text}" for s in steps)


@pytest.mark.parametrize("exchange", sorted(CATALOG))
@pytest.mark.parametrize("cause", list(Cause))
def test_every_cause_has_steps_on_every_exchange(cause: Cause, exchange: str) -> None:
    steps = steps_for(Diagnosis(cause), exchange, outbound_ips=IPS)
    assert steps, (cause, exchange)
    for step in steps:
        assert isinstance(step, Step)
        assert step.title.strip() and step.text.strip()
        assert not PLACEHOLDER.search(step.title + step.text), step


def test_the_text_tables_cover_every_cause() -> None:
    for table in ("titles", "summaries", "steps"):
        assert set(EN[table]) == {c.value for c in Cause}, table
    assert set(HUFI_ORDER) == set(Cause)


def test_every_cause_has_one_place_in_both_priority_orders() -> None:
    """HuFi's troubleshooting order (advice) and the report's verdict order (diagnosis) each name every cause once."""
    for order in (HUFI_ORDER, PRIORITY):
        assert len(order) == len(set(order)) == len(Cause)
        assert set(order) == set(Cause)


@pytest.mark.parametrize("exchange", sorted(CATALOG))
@pytest.mark.parametrize("cause", list(Cause))
def test_every_cause_reads_as_an_alternative_on_every_exchange(cause: Cause, exchange: str) -> None:
    primary = Cause.UNKNOWN if cause is not Cause.UNKNOWN else Cause.KEY_INVALID
    steps = steps_for(Diagnosis(primary, (cause,)), exchange, outbound_ips=IPS)
    title = cause_title(cause, exchange_id=exchange)
    (step,) = [s for s in steps if title in s.title]
    assert step.text.strip() and not PLACEHOLDER.search(step.title + step.text), step


@pytest.mark.parametrize(
    ("cause", "words"),
    [
        (Cause.KEY_FROZEN, "frozen"),
        (Cause.SUBACCOUNT_NO_API, "main account"),
        (Cause.RISK_CONTROL, "risk control"),
        (Cause.REGION_BLOCKED, "region"),
        (Cause.HUFI_FORM_LIMIT, "200"),
    ],
)
def test_new_causes_say_what_to_do(cause: Cause, words: str) -> None:
    text = all_text(steps_for(Diagnosis(cause), "okx"))
    assert words in text.lower()
    assert ("Check again" in text) is recheck_helps(cause)  # a key HuFi's form refuses can't pass on a re-check
    assert "Then in HuFi" in text


@pytest.mark.parametrize("cause", list(Cause))
def test_titles(cause: Cause) -> None:
    for exchange in ("", "bitmart", "okx"):
        title = cause_title(cause, exchange_id=exchange)
        assert title and "\n" not in title and not PLACEHOLDER.search(title)
    assert cause_title(Cause.KEY_INVALID) == "The API key was not recognised"
    assert "memo" in cause_title(Cause.PASSPHRASE_WRONG, exchange_id="bitmart")


def test_ip_advice_lists_the_outbound_ips() -> None:
    text = all_text(steps_for(Diagnosis(Cause.IP_NOT_WHITELISTED), "okx", outbound_ips=[*IPS, "not-an-ip", IPS[0]]))
    for ip in IPS:
        assert ip in text
    assert "not-an-ip" not in text
    assert "shared" in text
    assert text.count(IPS[0]) == 1


def test_ip_advice_without_ips_sends_to_support() -> None:
    text = all_text(steps_for(Diagnosis(Cause.IP_NOT_WHITELISTED), "okx"))
    assert "support" in text
    assert "switch IP restriction off" in text


def test_ambiguous_diagnosis_gets_follow_up_steps_in_hufi_order() -> None:
    diag = Diagnosis(Cause.KEY_INVALID, (Cause.IP_NOT_WHITELISTED, Cause.PERMISSION_MISSING, Cause.KEY_EXPIRED))
    titles = [s.title for s in steps_for(diag, "binance", outbound_ips=IPS)]
    follow = [t for t in titles if t.startswith("If that wasn't it")]
    assert len(follow) == 3
    assert "permission" in follow[0] and "expired" in follow[1] and "IP" in follow[2]
    assert titles[-2:] == ["Check again", "Then in HuFi"]


def test_permission_advice_names_the_exchange_checkboxes_and_never_trading() -> None:
    kraken = all_text(steps_for(Diagnosis(Cause.PERMISSION_MISSING), "kraken"))
    for name in ("Query Funds", "Query Open Orders & Trades", "Query Closed Orders & Trades", "Export Data", "5000"):
        assert name in kraken
    assert "General" in all_text(steps_for(Diagnosis(Cause.PERMISSION_MISSING), "kucoin"))
    assert "Enable Reading" in all_text(steps_for(Diagnosis(Cause.PERMISSION_MISSING), "binance"))
    for exchange in CATALOG:
        for cause in Cause:
            for step in steps_for(Diagnosis(cause), exchange):
                for sentence in re.split(r"(?<=[.;:])\s", step.text):
                    if re.search(r"withdraw|trading|transfer", sentence, re.I) and re.search(
                        r"\b(turn on|tick|enable)\b", sentence, re.I
                    ):
                        assert re.search(r"\b(off|never|not)\b", sentence, re.I), sentence


def test_missing_narrows_the_permission_list() -> None:
    text = all_text(steps_for(Diagnosis(Cause.PERMISSION_MISSING), "gate", missing=[Permission.VIEW_DEPOSIT_ADDRESS]))
    assert "Wallet: Read Only (deposit address)" in text
    assert "Spot/Margin" not in text


def test_deposit_address_advice_explains_why() -> None:
    text = all_text(steps_for(Diagnosis(Cause.NO_DEPOSIT_ADDRESS), "gate"))
    assert "ERC20" in text and "score 0" in text and "identity" in text
    assert "Ether (Hex)" in all_text(steps_for(Diagnosis(Cause.NO_DEPOSIT_ADDRESS), "kraken"))


def test_general_issues_start_with_retry_and_unknown_follows_hufi_order() -> None:
    steps = steps_for(Diagnosis(Cause.UNKNOWN), "mexc")
    titles = [s.title.lower() for s in steps]
    order = ["try again", "try later", "permission", "typo", "another key", "expired", "ip", "deposit"]
    positions = [next(i for i, t in enumerate(titles) if word in t) for word in order]
    assert positions == sorted(positions)


def test_campaign_types_the_key_qualifies_for() -> None:
    granted = [Permission.VIEW_ACCOUNT_BALANCE, Permission.VIEW_DEPOSIT_ADDRESS]
    assert qualifying_campaigns(granted) == [CampaignType.HOLDING, CampaignType.THRESHOLD]
    text = all_text(steps_for(Diagnosis(Cause.PERMISSION_MISSING), "okx", granted=granted))
    assert "Holding, Threshold" in text
    assert "doesn't qualify" in all_text(steps_for(Diagnosis(Cause.KEY_INVALID), "okx", granted=[]))
    assert "every HuFi campaign type" in all_text(steps_for(Diagnosis(Cause.OK), "okx", granted=list(Permission)))


def test_question_for_ambiguous_diagnoses() -> None:
    diag = Diagnosis(Cause.KEY_INVALID, (Cause.IP_NOT_WHITELISTED, Cause.PERMISSION_MISSING))
    q = question_for(diag, "binance")
    assert isinstance(q, Question) and q.key == "ip_allow_list"
    assert 2 <= len(q.answers) <= 4 and all(isinstance(a.cause, Cause) for a in q.answers)
    assert {a.cause for a in q.answers} == {Cause.IP_NOT_WHITELISTED, Cause.KEY_INVALID}
    assert "Binance" in q.text


@pytest.mark.parametrize(
    ("causes", "key"),
    [
        ((Cause.KEY_INVALID, Cause.KEY_EXPIRED), "key_still_active"),
        ((Cause.KEY_INVALID, Cause.SECRET_MISMATCH, Cause.KEY_EXPIRED), "key_matches_page"),
        ((Cause.SECRET_MISMATCH, Cause.PASSPHRASE_WRONG), "secret_or_passphrase"),
        ((Cause.PERMISSION_MISSING, Cause.IP_NOT_WHITELISTED), "ip_allow_list_perm"),
        ((Cause.NONCE_REUSED, Cause.NONCE_WINDOW, Cause.CLOCK_SKEW), "key_shared"),
        ((Cause.KEY_FROZEN, Cause.KEY_EXPIRED, Cause.ACCOUNT_RESTRICTED), "key_frozen_or_expired"),
    ],
)
def test_question_picks_the_pair(causes: tuple[Cause, ...], key: str) -> None:
    q = question_for(Diagnosis(causes[0], causes[1:]), "bitmart")
    assert q is not None and q.key == key
    assert not PLACEHOLDER.search(q.text + "".join(a.label for a in q.answers))


def test_no_question_when_nothing_is_ambiguous() -> None:
    assert question_for(Diagnosis(Cause.SECRET_MISMATCH), "okx") is None
    assert question_for(Diagnosis(Cause.EXCHANGE_UNREACHABLE, (Cause.EXCHANGE_MAINTENANCE,)), "okx") is None
    assert question_for(None, "okx") is None


def test_every_question_is_well_formed() -> None:
    for q in EN["questions"]:
        assert len(q["about"]) == 2 and all(Cause(c) for c in q["about"])
        assert 2 <= len(q["answers"]) <= 4
        for _label, target in q["answers"]:
            assert target == "primary" or Cause(target)


@pytest.mark.parametrize("exchange", sorted(CATALOG))
def test_exchange_permission_names(exchange: str) -> None:
    names = exchange_permission_names(exchange)
    assert set(names) == set(Permission) and all(names.values())
    assert exchange_permission_names("nowhere")[Permission.VIEW_ACCOUNT_BALANCE]


def test_unknown_language_falls_back_to_english() -> None:
    diag = Diagnosis(Cause.KEY_EXPIRED)
    assert steps_for(diag, "okx", language="xx") == steps_for(diag, "okx")
    assert steps_for(diag, "okx", language="en-GB") == steps_for(diag, "okx")
    assert cause_title(Cause.KEY_EXPIRED, "zz") == cause_title(Cause.KEY_EXPIRED)


def test_unknown_exchange_still_gets_advice() -> None:
    steps = steps_for(Diagnosis(Cause.PERMISSION_MISSING), "somewhere-new")
    assert steps and not PLACEHOLDER.search(all_text(steps))
