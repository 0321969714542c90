"""The diagnosis card staff see (bot.support.card, rendered by handlers.card): content, escaping, length, no secret."""

from __future__ import annotations

from bot.diagnosis.model import Cause, Diagnosis, Permission
from bot.exchanges.report import KeyCheckReport, ProbeOutcome, ProbeStatus
from bot.sandbox.telegram_model import parse_html
from bot.support.card import SupportCard, support_card
from bot.support.topics import topic_name
from handlers.card import MAX_MESSAGE_LENGTH, render_card
from storage.checks import CheckRecord
from storage.users import UserRecord

SECRET = "Zq81kd9Wm2" * 4
NOW = 1_800_000_000.0


def _record(detail: str = "IP [1.2.3.4] not in the ip white list", campaign: str | None = "HOLDING") -> CheckRecord:
    report = KeyCheckReport("mexc", key_fingerprint="mx0v…abcd")
    report.set_outcome(ProbeOutcome(Permission.VIEW_ACCOUNT_BALANCE, ProbeStatus.GRANTED, summary="3 assets"))
    report.set_outcome(
        ProbeOutcome(
            Permission.VIEW_DEPOSIT_ADDRESS,
            ProbeStatus.FAILED,
            diagnosis=Diagnosis(Cause.IP_NOT_WHITELISTED, code="700006"),
            error_type="PermissionDenied",
            error_message=f'mexc {{"code":700006}} signature={SECRET}',
        )
    )
    report.diagnosis = Diagnosis(Cause.IP_NOT_WHITELISTED, (Cause.KEY_INVALID,), "700006", detail)
    return CheckRecord(3, 42, "mexc", "mx0v…abcd", campaign, "ip_not_whitelisted", False, report.to_dict(), NOW - 60)


def _user(name: str = "Alice") -> UserRecord:
    return UserRecord(42, name, "alice", "de", NOW, NOW, False)


def card_text(**kwargs: object) -> str:
    """Build the card as the desk does, send it through the outbox's JSON, render it as the sender does."""
    card = support_card(**kwargs)  # type: ignore[arg-type]
    travelled = SupportCard.model_validate_json(card.model_dump_json())
    assert travelled == card
    return render_card(travelled)


def test_the_card_names_the_user_check_cause_and_steps() -> None:
    text = card_text(
        ticket_id=7, user_id=42, user=_user(), description="HuFi refuses it", check=_record(), version="9.9", now=NOW
    )
    plain, _ = parse_html(text)  # valid Telegram HTML
    for fragment in (
        "Ticket #7",
        "Alice @alice · id 42 · language English (en), Telegram app in de",
        "HuFi refuses it",
        "Check #3 at 2027-01-15 07:59 UTC · MEXC · key mx0v…abcd",
        "Campaign type: Holding",
        "✅ Account balance — 3 assets",
        "❌ ETH deposit address — ip_not_whitelisted · code 700006 · PermissionDenied",
        "▫️ Spot trade history",
        "(ip_not_whitelisted)",
        "Or else: The API key was not recognised (key_invalid)",
        "Exchange code: 700006",
        "Detail: IP [1.2.3.4] not in the ip white list",
        "Steps shown to the user:\n1. ",
        "Bot 9.9",
    ):
        assert fragment in plain, fragment
    assert SECRET not in text


def test_hostile_text_is_escaped_and_credentials_masked() -> None:
    text = card_text(
        ticket_id=1,
        user_id=42,
        user=_user("<b>Boss</b> & co"),
        description=f"my key is {SECRET} <script>",
        check=_record(detail="<i>odd</i> & " + SECRET),
        version="1",
        now=NOW,
    )
    plain, _ = parse_html(text)
    assert "<b>Boss</b> & co" in plain and "<script>" in plain and "<i>odd</i>" in plain
    assert SECRET not in text
    assert SECRET not in topic_name(_user(f"Eve {SECRET}"), 42)


def test_the_card_stays_under_telegrams_limit() -> None:
    text = card_text(
        ticket_id=1,
        user_id=42,
        user=_user("N" * 5000),
        description="word " * 2000,
        check=_record(detail="x " * 5000),
        version="1",
        now=NOW,
    )
    plain, _ = parse_html(text)
    assert len(text) < MAX_MESSAGE_LENGTH and len(plain) < MAX_MESSAGE_LENGTH
    assert "Ticket #1" in plain and "Bot 1" in plain


def test_no_check_and_no_description() -> None:
    text = card_text(ticket_id=2, user_id=5, user=None, description="", check=None, version="1", now=NOW)
    assert "user 5" in text and "(no description)" in text and "No key check on record" in text
