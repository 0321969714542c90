"""The verdict shows the exchange's own words (issue #16): its message and code from the stored reply, never one of
our internal labels; Kraken's Deposit Funds decided from the reply, through real ccxt against the fake Kraken."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.__main__ import render_report
from bot.advice.said import MESSAGE_FIELDS, label_note, reply_words
from bot.diagnosis import rules
from bot.diagnosis.exchange_codes import TABLES
from bot.diagnosis.model import Cause, Diagnosis, Permission
from bot.diagnosis.verdict import Verdict
from bot.exchanges.report import KeyCheckReport, ProbeOutcome, ProbeStatus
from bot.sandbox.exchanges.base import fixture_replies
from bot.sandbox.exchanges.kraken import FakeKraken
from bot.sandbox.exchanges.mexc import FakeMexc
from bot.sandbox.telegram_model import parse_html
from bot.security import scrub_request_details
from bot.verdict import verdict_view
from handlers.render import verdict_text
from tests.exchange_harness import creds_of, running

BALANCE, DEPOSIT, TRADES = list(Permission)


def _message(exchange: str, body: str) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    for path in MESSAGE_FIELDS.get(exchange, ()):
        node: Any = data
        for part in path.split("."):
            many = part.endswith("[]")
            node = node.get(part.removesuffix("[]")) if isinstance(node, dict) else None
            if many:
                node = node[0] if isinstance(node, list) and node else None
        if isinstance(node, str) and node.strip() and node.strip().lower() not in ("ok", "success"):
            return node.strip()
    return None


FIXTURES = [
    f
    for f in fixture_replies()
    if f.get("observed_message")
    and "{" in f["observed_message"]  # ccxt kept the reply's body (not only its own words)
    and f.get("body")
    and _message(f["exchange"], f["body"]) is not None
]


def test_the_fixtures_cover_every_exchange_with_messages() -> None:
    exchanges = {f["exchange"] for f in FIXTURES}
    assert exchanges >= set(MESSAGE_FIELDS) - {"kraken", "xt"}  # those two send codes only


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f["id"])
def test_the_exchanges_words_come_out_of_each_real_reply(fixture: dict[str, Any]) -> None:
    """The reply as the bot stores it (signed-request details scrubbed) gives back the message of its JSON body."""
    stored = scrub_request_details(fixture["observed_message"])
    words = reply_words(fixture["exchange"], stored)
    expected = _message(fixture["exchange"], fixture["body"])
    assert words, stored
    if "origin_string" in (expected or ""):  # Bybit echoes the signed string (api key included): masked
        assert "origin_string" in words and re.search(r"[A-Za-z0-9]{16,}", words) is None
    else:
        head = re.sub(r"(?:\d{1,3}\.){3}\d{1,3}", "x.x.x.x", expected or "")[:40]
        assert words.startswith(head), (words, expected)


def test_words_are_cleaned_for_the_user() -> None:
    secretish = "Zx9q7W2eQ1" + "q7W2e" * 6
    body = '{"code":700006,"msg":"IP [203.0.113.9] not in the ip white list for key ' + secretish + '"}'
    words = reply_words("mexc", "mexc " + body)
    assert words is not None and "203.0.113.9" not in words and "x.x.x.x" in words and secretish not in words
    long = reply_words("mexc", 'mexc {"code":1,"msg":"' + "word " * 100 + '"}')
    assert long is not None and len(long) <= 160 and long.endswith("…")
    assert reply_words("mexc", "mexc GET https://api.mexc.com/api/v3/account") is None  # no reply at all
    assert reply_words("mexc", None) is None


def _labels() -> set[str]:
    """Every label our tables can put in a diagnosis' code instead of an exchange's code."""

    def walk(verdict: Verdict) -> set[str]:
        out = {verdict.code} if verdict.code else set()
        for _pattern, inner in verdict.refine:
            out |= walk(inner)
        return out

    found: set[str] = set()
    verdicts: list[Verdict] = [v for _p, v in rules.GENERIC_TEXTS] + list(rules.STATUS_RULES.values())
    for rule in rules.CLASS_RULES:
        verdicts += [v for v in (rule.verdict, rule.answered, rule.deposit) if v is not None]
    for table in TABLES:
        verdicts += list(table.codes.values())
    for statuses in rules.EXCHANGE_STATUS.values():
        verdicts += list(statuses.values())
    for verdict in verdicts:
        found |= walk(verdict)
    # made in classify/probes: no address in a good reply, unjudged probes, Kraken's/KuCoin's key settings
    return found | {"no_address", "not_checked", "key_info", "nonce_window=100", "missing:query-funds", "http_403"}


@pytest.mark.parametrize("label", sorted(_labels()))
def test_every_internal_label_has_plain_words(label: str) -> None:
    note = label_note(label, "kraken", "Kraken")
    assert note and label not in note and "{" not in note


def _failed(exchange: str, code: str | None, message: str | None, cause: Cause) -> KeyCheckReport:
    report = KeyCheckReport(exchange, key_fingerprint="ab…cd")
    report.set_outcome(ProbeOutcome(BALANCE, ProbeStatus.GRANTED))
    report.set_outcome(ProbeOutcome(TRADES, ProbeStatus.GRANTED))
    report.set_outcome(
        ProbeOutcome(
            DEPOSIT, ProbeStatus.FAILED, diagnosis=Diagnosis(cause, code=code), error_message=message, error_type="X"
        )
    )
    report.diagnosis = Diagnosis(cause, code=code)
    return report


def test_no_internal_label_reaches_the_chat_or_the_command_line() -> None:
    message = "mexc fetchDepositAddress() cannot find a deposit address for ETH, consider creating one"
    report = _failed("mexc", "ccxt_empty_address", message, Cause.NO_DEPOSIT_ADDRESS)
    view = verdict_view(report)
    chat, _ = parse_html(verdict_text(view))
    cli = render_report(report, None)
    for text in (chat, cli):
        assert "ccxt_empty_address" not in text and "MEXC's reply held no ETH deposit address" in text
    assert view.code == "ccxt_empty_address"  # staff still see the label on the card


def test_the_exchanges_words_and_code_in_chat_and_command_line() -> None:
    report = _failed(
        "mexc", "700007", 'mexc {"code":700007,"msg":"No permission to access the endpoint."}', Cause.PERMISSION_MISSING
    )
    view = verdict_view(report)
    chat, _ = parse_html(verdict_text(view))
    assert "MEXC said: “No permission to access the endpoint.” (code 700007)" in chat
    assert "MEXC said: “No permission to access the endpoint.” (code 700007)" in render_report(report, None)
    html = verdict_text(
        verdict_view(_failed("mexc", "1", 'mexc {"code":1,"msg":"<b>x</b> & y"}', Cause.PERMISSION_MISSING))
    )
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in html  # escaped at the edge


def test_a_precheck_says_nothing_about_the_exchange() -> None:
    report = KeyCheckReport("okx", key_fingerprint="ab…cd")
    report.precheck = Diagnosis(Cause.MALFORMED_CREDENTIALS, code="masked_value")
    view = verdict_view(report)
    assert view.said is None and "masked_value" not in verdict_text(view)


async def test_a_rejected_mexc_key_shows_mexcs_words_through_real_ccxt() -> None:
    async with running(FakeMexc) as (fake, checker):
        account = fake.add_account()
        account.revoke(TRADES)
        view = verdict_view(await checker.check("mexc", creds_of(account)))
        assert view.said is not None and view.said.code == "700007"
        assert view.said.words == "No permission to access the endpoint."
        ip_bound = fake.add_account(ip_whitelist=["198.51.100.1"])
        view = verdict_view(await checker.check("mexc", creds_of(ip_bound)))
        assert view.cause is Cause.IP_NOT_WHITELISTED and view.said is not None and view.said.code == "700006"


KRAKEN_READ = ["query-funds", "query-open-trades", "query-closed-trades", "export-data"]


async def test_kraken_deposit_funds_decided_from_the_reply() -> None:
    """Kraken's pages disagree on DepositAddresses' permission; the fake answers either way, the bot follows."""
    both = ["query-funds", "deposit-funds"]
    async with running(FakeKraken) as (fake, checker):
        # Kraken wants Deposit Funds too, the key has only Query Funds: refused, and the advice says so
        needs_both = fake.add_account(settings={"deposit_addresses_needs": both})
        report = await checker.check("kraken", creds_of(needs_both))
        view = verdict_view(report)
        assert view.cause is Cause.PERMISSION_MISSING and view.missing == (DEPOSIT,)
        assert view.said is not None and view.said.code == "EGeneral:Permission denied"
        steps = " ".join(s.text for s in view.steps)
        assert "Tick Deposit Funds" in steps and "Withdraw Funds" in steps
        # the same key once Deposit Funds is ticked passes
        needs_both.settings["kraken_permissions"] = [*KRAKEN_READ, "deposit-funds"]
        assert (await checker.check("kraken", creds_of(needs_both))).ok
        # Kraken as its API reference says: Query Funds is enough, and nothing asks for Deposit Funds
        query_only = fake.add_account()
        assert (await checker.check("kraken", creds_of(query_only))).ok
        # no Query Funds at all: the advice is Query Funds, not Deposit Funds
        without = fake.add_account(settings={"kraken_permissions": KRAKEN_READ[1:]})
        view = verdict_view(await checker.check("kraken", creds_of(without)))
        steps = " ".join(s.text for s in view.steps)
        assert view.cause is Cause.PERMISSION_MISSING and "Query Funds" in steps and "Tick Deposit Funds" not in steps
        assert view.said is not None and view.said.note == "Kraken's key settings don't include Query Funds."


def test_the_command_line_says_when_checking_again_cannot_help() -> None:
    report = _failed(
        "mexc", "700002", 'mexc {"code":700002,"msg":"Signature for this request is not valid."}', Cause.SECRET_MISMATCH
    )
    cli = render_report(report, None)
    assert "Signature for this request is not valid." in cli and "won't help" in cli and "Check again:" not in cli
    fixable = render_report(_failed("mexc", "700007", None, Cause.PERMISSION_MISSING), None)
    assert "won't help" not in fixable and "Check again:" in fixable
