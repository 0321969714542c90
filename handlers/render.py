"""Turning reports and diagnoses into chat messages and keyboards. No I/O here."""

from __future__ import annotations

import html
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.advice import cause_title, question_for, steps_for
from bot.diagnosis.model import CampaignType, Cause, Diagnosis, Permission
from bot.exchanges.catalog import CATALOG, ExchangeKind, ExchangeSpec
from bot.exchanges.report import KeyCheckReport
from handlers.texts import t

CAMPAIGN_LABELS = {
    CampaignType.MARKET_MAKING: "Market making",
    CampaignType.COMPETITIVE_MARKET_MAKING: "Competitive market making",
    CampaignType.THRESHOLD_MARKET_MAKING: "Threshold market making",
    CampaignType.HOLDING: "Holding",
    CampaignType.THRESHOLD: "Threshold",
}


def esc(text: object) -> str:
    return html.escape(str(text), quote=False)


def rows(buttons: Sequence[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def exchange_keyboard(enabled: set[str] | None = None) -> InlineKeyboardMarkup:
    """HuFi's exchanges first (key-based, then DEXs), then the ones HuFi does not list today."""
    specs = list(CATALOG.values())

    def button(spec: ExchangeSpec) -> InlineKeyboardButton:
        off = enabled is not None and spec.hufi_listed and spec.id not in enabled
        return InlineKeyboardButton(spec.display_name + (" (off)" if off else ""), callback_data=f"ex:{spec.id}")

    listed = sorted((s for s in specs if s.hufi_listed and s.kind is ExchangeKind.CEX), key=lambda s: s.display_name)
    dex = [s for s in specs if s.kind is ExchangeKind.DEX]
    other = sorted((s for s in specs if not s.hufi_listed), key=lambda s: s.display_name)
    keyboard = rows([button(s) for s in listed], 3) + rows([button(s) for s in dex], 2)
    keyboard += [[InlineKeyboardButton("— " + t("pick_exchange_more") + " —", callback_data="noop")]]
    keyboard += rows([button(s) for s in other], 3)
    return InlineKeyboardMarkup(keyboard)


def campaign_keyboard() -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(label, callback_data=f"ct:{ct.value}") for ct, label in CAMPAIGN_LABELS.items()]
    buttons.append(InlineKeyboardButton(t("campaign_any"), callback_data="ct:any"))
    return InlineKeyboardMarkup(rows(buttons, 2))


def progress_text(report: KeyCheckReport, exchange: str, note: str = "") -> str:
    lines = [t("checking", exchange=esc(exchange), fingerprint=esc(report.key_fingerprint))]
    for perm in Permission:
        outcome = report.outcomes[perm]
        mark = t(f"state_{outcome.status.value}")
        lines.append(f"{mark} {t('perm_' + perm.value)}")
    if note:
        lines.append("")
        lines.append(note)
    return "\n".join(lines)


def verdict_diagnosis(report: KeyCheckReport) -> Diagnosis | None:
    """What the verdict is about: the pre-request problem, or the report-level diagnosis."""
    return report.verdict


def result_keyboard(check_id: int, *, step: int, total: int, ok: bool, exchange: str) -> InlineKeyboardMarkup:
    if ok:
        return InlineKeyboardMarkup([[InlineKeyboardButton(t("btn_another"), callback_data=f"another:{exchange}")]])
    first: list[InlineKeyboardButton] = [InlineKeyboardButton(t("btn_again"), callback_data=f"again:{check_id}")]
    if step + 1 < total:
        first.append(InlineKeyboardButton(t("btn_next"), callback_data=f"step:{check_id}:{step + 1}"))
    return InlineKeyboardMarkup(
        [
            first,
            [
                InlineKeyboardButton(t("btn_support"), callback_data=f"support:{check_id}"),
                InlineKeyboardButton(t("btn_another"), callback_data=f"another:{exchange}"),
            ],
            [InlineKeyboardButton(t("btn_forget"), callback_data="forget")],
        ]
    )


def verdict_text(
    report: KeyCheckReport,
    *,
    step: int = 0,
    outbound_ips: Sequence[str] = (),
    chosen: Cause | None = None,
    kept_minutes: int | None = None,
    down_note: str | None = None,
) -> tuple[str, int]:
    """The verdict message and the number of steps. `chosen` overrides the cause (the user's answer)."""
    spec = CATALOG[report.exchange_id]
    name = esc(spec.display_name)
    if report.ok:
        qualified = [CAMPAIGN_LABELS[ct] for ct, ok in report.campaign_types.items() if ok]
        text = "\n".join(
            [
                t("verdict_ok", exchange=name, fingerprint=esc(report.key_fingerprint)),
                t("qualifies", types=esc(", ".join(qualified))),
                t("forgot_after_ok"),
            ]
        )
        return text, 0
    diag = verdict_diagnosis(report) or Diagnosis(Cause.UNKNOWN)
    if chosen is not None:
        diag = Diagnosis(chosen, code=diag.code, detail=diag.detail)
    granted = report.granted if report.precheck is None else []
    missing = report.missing if report.precheck is None else None
    steps = steps_for(diag, report.exchange_id, outbound_ips=outbound_ips, granted=granted, missing=missing or None)
    lines = [t("verdict_fail", title=esc(cause_title(diag.cause, exchange_id=report.exchange_id)))]
    if down_note:
        lines.append(esc(down_note))
    if report.precheck is None:
        granted_names = [t("perm_" + p.value) for p in report.granted]
        missing_names = [t("perm_" + p.value) for p in report.missing]
        if granted_names and missing_names:
            lines.append(
                t("verdict_partial", granted=esc(", ".join(granted_names)), missing=esc(", ".join(missing_names)))
            )
        qualified = [CAMPAIGN_LABELS[ct] for ct, ok in report.campaign_types.items() if ok]
        if qualified:
            lines.append(t("qualifies", types=esc(", ".join(qualified))))
    if diag.code:
        lines.append(t("exchange_said", exchange=name, code=esc(diag.code[:80])))
    if chosen is None and step == 0:
        question = question_for(diag, report.exchange_id)
        if question is not None:
            lines.append("")
            lines.append(t("question_prefix", question=esc(question.text)))
    if steps:
        step = max(0, min(step, len(steps) - 1))
        current = steps[step]
        lines.append("")
        lines.append(t("step_header", n=step + 1, total=len(steps), title=esc(current.title), text=esc(current.text)))
    if kept_minutes is not None and report.precheck is None:
        lines.append("")
        lines.append(t("kept_for_recheck", minutes=kept_minutes) if kept_minutes else t("not_kept"))
    return "\n".join(lines), len(steps)


def question_keyboard(report: KeyCheckReport, check_id: int) -> list[list[InlineKeyboardButton]]:
    diag = verdict_diagnosis(report)
    if diag is None or report.ok:
        return []
    question = question_for(diag, report.exchange_id)
    if question is None:
        return []
    return [
        [
            InlineKeyboardButton(option.label, callback_data=f"ans:{check_id}:{option.cause.value}")
            for option in question.answers
        ]
    ]
