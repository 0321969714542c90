"""The one verdict view (bot.verdict): every cause, with and without a pre-check, and the three edges that render it
(the chat, the support card, the command line) saying the same thing."""

from __future__ import annotations

import html

import pytest

from bot.__main__ import render_report
from bot.advice import cause_title, question_for, steps_for
from bot.diagnosis.model import CampaignType, Cause, Diagnosis, Permission
from bot.exchanges.report import KeyCheckReport, ProbeOutcome, ProbeStatus
from bot.sandbox.telegram_model import parse_html
from bot.support.card import support_card
from bot.verdict import verdict_view
from handlers.card import render_card
from handlers.render import verdict_text
from storage.checks import CheckRecord

IPS = ("203.0.113.7",)
FAILING = [c for c in Cause if c is not Cause.OK]


def _report(exchange: str = "mexc") -> KeyCheckReport:
    """Balance granted, deposit address and trade history refused."""
    report = KeyCheckReport(exchange, key_fingerprint="mx0v…abcd")
    report.set_outcome(ProbeOutcome(Permission.VIEW_ACCOUNT_BALANCE, ProbeStatus.GRANTED, summary="3 assets"))
    for perm in (Permission.VIEW_DEPOSIT_ADDRESS, Permission.VIEW_SPOT_TRADING_HISTORY):
        report.set_outcome(
            ProbeOutcome(perm, ProbeStatus.FAILED, diagnosis=Diagnosis(Cause.PERMISSION_MISSING, code="700007"))
        )
    return report


def _passing() -> KeyCheckReport:
    report = KeyCheckReport("mexc", key_fingerprint="mx0v…abcd")
    for perm in Permission:
        report.set_outcome(ProbeOutcome(perm, ProbeStatus.GRANTED))
    return report


def test_the_report_says_its_verdict_once_precheck_first() -> None:
    report = _report()
    assert report.verdict is None
    report.diagnosis = Diagnosis(Cause.PERMISSION_MISSING)
    assert report.verdict is report.diagnosis
    report.precheck = Diagnosis(Cause.INCOMPLETE_CREDENTIALS)
    assert report.verdict is report.precheck  # the pre-request problem wins, whatever the diagnosis says


def test_a_passing_key() -> None:
    view = verdict_view(_passing(), outbound_ips=IPS)
    assert view.ok and view.cause is None and view.steps == () and view.question is None
    assert view.qualifies == tuple(CampaignType) and view.missing == () and not view.stopped_early
    assert view.exchange_name == "MEXC" and view.fingerprint == "mx0v…abcd"


@pytest.mark.parametrize("cause", FAILING, ids=str)
def test_every_cause_after_the_probes(cause: Cause) -> None:
    report = _report()
    report.diagnosis = Diagnosis(cause, code="X-1", detail="what the exchange said")
    view = verdict_view(report, outbound_ips=IPS)
    assert not view.ok and not view.stopped_early
    assert view.cause is cause and view.title == cause_title(cause, exchange_id="mexc")
    assert (view.code, view.detail) == ("X-1", "what the exchange said")
    assert view.granted == (Permission.VIEW_ACCOUNT_BALANCE,)
    assert view.missing == (Permission.VIEW_DEPOSIT_ADDRESS, Permission.VIEW_SPOT_TRADING_HISTORY)
    assert view.qualifies == tuple(ct for ct, ok in report.campaign_types.items() if ok)
    expected = steps_for(
        report.diagnosis,
        "mexc",
        outbound_ips=IPS,
        granted=[Permission.VIEW_ACCOUNT_BALANCE],
        missing=list(view.missing),
    )
    assert list(view.steps) == expected and view.steps  # a failed key always gets something to do
    assert [p.status for p in view.probes] == [report.outcomes[p].status for p in Permission]


@pytest.mark.parametrize("cause", FAILING, ids=str)
def test_every_cause_as_a_precheck(cause: Cause) -> None:
    report = KeyCheckReport("kucoin", key_fingerprint="abcd…wxyz")
    report.precheck = Diagnosis(cause, detail="stopped before any request")
    report.diagnosis = Diagnosis(Cause.KEY_INVALID)  # never shown: the pre-check wins
    view = verdict_view(report, outbound_ips=IPS)
    assert view.stopped_early and not view.ok and view.cause is cause
    assert view.title == cause_title(cause, exchange_id="kucoin")
    assert view.granted == view.missing == view.qualifies == ()  # no probe ran: nothing is said about them
    assert list(view.steps) == steps_for(report.precheck, "kucoin", outbound_ips=IPS, granted=[], missing=None)


def test_a_failed_report_without_a_diagnosis_is_unknown() -> None:
    view = verdict_view(_report())
    assert view.cause is Cause.UNKNOWN and view.steps


def test_the_users_answer_replaces_the_cause_and_keeps_the_exchanges_code() -> None:
    report = _report("kraken")
    report.diagnosis = Diagnosis(Cause.NONCE_WINDOW, (Cause.NONCE_REUSED,), code="EAPI:Invalid nonce")
    asked = verdict_view(report)
    assert asked.question == question_for(report.diagnosis, "kraken") and asked.question is not None
    assert [a.cause for a in asked.alternatives] == [Cause.NONCE_REUSED]
    answered = verdict_view(report, chosen=Cause.NONCE_REUSED)
    assert answered.cause is Cause.NONCE_REUSED and answered.code == "EAPI:Invalid nonce"
    assert answered.alternatives == () and answered.question is None


def _record(report: KeyCheckReport) -> CheckRecord:
    return CheckRecord(9, 42, report.exchange_id, report.key_fingerprint, None, "x", report.ok, report.to_dict(), 1.8e9)


@pytest.mark.parametrize("precheck", [False, True], ids=["after-probes", "precheck"])
@pytest.mark.parametrize("cause", FAILING, ids=str)
def test_chat_card_and_command_line_render_the_same_verdict(cause: Cause, precheck: bool) -> None:
    report = _report()
    if precheck:
        report.precheck = Diagnosis(cause)
    else:
        report.diagnosis = Diagnosis(cause, code="X-1")
    view = verdict_view(report)
    title = view.title
    chat, _ = parse_html(verdict_text(view))
    card = support_card(
        ticket_id=1, user_id=42, user=None, description=None, check=_record(report), version="1", now=1.8e9
    )
    staff, _ = parse_html(render_card(card))
    cli = render_report(report, None)
    for text in (chat, staff, cli):
        assert html.unescape(title) in text, text
    assert f"({cause.value})" in staff and f"({cause.value})" in cli
    assert ("Stopped before any request" in staff) is precheck
    first_step = view.steps[0]
    assert first_step.title in chat and f"1. {first_step.title}" in staff and f"1. {first_step.title}" in cli
