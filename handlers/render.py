"""Turning views into chat messages and keyboards (Telegram HTML). No I/O here.

The verdict comes in as a `VerdictView` (bot.verdict), worked out once for the chat, the card and the CLI; this
module only words it and escapes what it interpolates. Every function takes the language it words in (`lang`, the
user's: `handlers.policy.language_of`).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot.diagnosis.model import CampaignType, Permission
from bot.exchanges.catalog import CATALOG, ExchangeKind, ExchangeSpec
from bot.exchanges.report import KeyCheckReport
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, join_items, native_name
from bot.verdict import VerdictView, campaign_name
from handlers import callbacks
from handlers.texts import t


def esc(text: object) -> str:
    return html.escape(str(text), quote=False)


def rows(buttons: Sequence[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def exchange_keyboard(
    enabled: set[str] | None = None,
    *,
    callback: Callable[[str], str] = callbacks.pick_exchange,
    lang: str = DEFAULT_LANGUAGE,
) -> InlineKeyboardMarkup:
    """HuFi's exchanges first (key-based, then DEXs), then the ones HuFi does not list today. `callback` builds each
    button's data from the exchange id (`callbacks.another_key`: key-based exchanges only, straight to the key)."""
    specs = [s for s in CATALOG.values() if callback is callbacks.pick_exchange or s.needs_key]

    def button(spec: ExchangeSpec) -> InlineKeyboardButton:
        off = enabled is not None and spec.hufi_listed and spec.id not in enabled
        label = t(lang, "exchange_off", exchange=spec.display_name) if off else spec.display_name
        return InlineKeyboardButton(label, callback_data=callback(spec.id))

    listed = sorted((s for s in specs if s.hufi_listed and s.kind is ExchangeKind.CEX), key=lambda s: s.display_name)
    dex = [s for s in specs if s.kind is ExchangeKind.DEX]
    other = sorted((s for s in specs if not s.hufi_listed), key=lambda s: s.display_name)
    keyboard = rows([button(s) for s in listed], 3) + rows([button(s) for s in dex], 2)
    keyboard += [[InlineKeyboardButton("— " + t(lang, "pick_exchange_more") + " —", callback_data=callbacks.NOOP)]]
    keyboard += rows([button(s) for s in other], 3)
    return InlineKeyboardMarkup(keyboard)


def campaign_keyboard(lang: str = DEFAULT_LANGUAGE) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(campaign_name(ct, lang), callback_data=callbacks.pick_campaign(ct.value))
        for ct in CampaignType
    ]
    buttons.append(InlineKeyboardButton(t(lang, "campaign_any"), callback_data=callbacks.pick_campaign("any")))
    return InlineKeyboardMarkup(rows(buttons, 2))


def ask_key_message(
    exchange: str, form_url: str | None, *, lang: str = DEFAULT_LANGUAGE
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The request for the key. With the Mini App on (`form_url`: its page for this exchange), the message offers
    "Enter the key securely" first, a `web_app` button that opens the form, and the chat as the fallback."""
    if form_url is None:
        return t(lang, "ask_key", exchange=esc(exchange)), None
    button = InlineKeyboardButton(t(lang, "btn_webapp"), web_app=WebAppInfo(form_url))
    return t(lang, "ask_key_webapp", exchange=esc(exchange)), InlineKeyboardMarkup([[button]])


def language_keyboard(current: str) -> InlineKeyboardMarkup:
    """/language: one button per language, each named in itself, the current one marked; two to a row."""
    buttons = [
        InlineKeyboardButton(
            t(code, "language_current", language=native_name(code)) if code == current else native_name(code),
            callback_data=callbacks.pick_language(code),
        )
        for code in LANGUAGES
    ]
    return InlineKeyboardMarkup(rows(buttons, 2))


def progress_text(report: KeyCheckReport, exchange: str, note: str = "", *, lang: str = DEFAULT_LANGUAGE) -> str:
    lines = [t(lang, "checking", exchange=esc(exchange), fingerprint=esc(report.key_fingerprint))]
    for perm in Permission:
        outcome = report.outcomes[perm]
        mark = t(lang, f"state_{outcome.status.value}")
        lines.append(f"{mark} {t(lang, 'perm_' + perm.value)}")
    if note:
        lines.append("")
        lines.append(note)
    return "\n".join(lines)


def result_keyboard(
    check_id: int, view: VerdictView, *, step: int = 0, lang: str = DEFAULT_LANGUAGE
) -> InlineKeyboardMarkup:
    """The verdict's buttons: check again (only where checking the same key again can help), next step, support,
    another key, forget."""
    another = InlineKeyboardButton(t(lang, "btn_another"), callback_data=callbacks.another_key(view.exchange_id))
    if view.ok:
        return InlineKeyboardMarkup([[another]])
    first: list[InlineKeyboardButton] = []
    if view.recheck:
        first.append(InlineKeyboardButton(t(lang, "btn_again"), callback_data=callbacks.check_again(check_id)))
    if step + 1 < len(view.steps):
        first.append(InlineKeyboardButton(t(lang, "btn_next"), callback_data=callbacks.next_step(check_id, step + 1)))
    keyboard = [first] if first else []
    keyboard += [
        [InlineKeyboardButton(t(lang, "btn_support"), callback_data=callbacks.talk_to_support(check_id)), another],
        [InlineKeyboardButton(t(lang, "btn_forget"), callback_data=callbacks.FORGET)],
    ]
    return InlineKeyboardMarkup(keyboard)


def question_keyboard(view: VerdictView, check_id: int) -> list[list[InlineKeyboardButton]]:
    """The answers to the verdict's question, one row (none when there is no question)."""
    if view.question is None or view.ok:
        return []
    return [
        [
            InlineKeyboardButton(option.label, callback_data=callbacks.answer(check_id, option.cause.value))
            for option in view.question.answers
        ]
    ]


def verdict_text(
    view: VerdictView,
    *,
    step: int = 0,
    kept_minutes: int | None = None,
    down_note: str | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> str:
    """The verdict message, showing step `step` of the view's steps (`view` built in `lang`)."""
    name = esc(view.exchange_name)
    qualified = view.campaign_names(lang)
    if view.ok:
        lines = [t(lang, "verdict_ok", exchange=name, fingerprint=esc(view.fingerprint))]
        lines += focus_lines(view, lang)
        lines.append(t(lang, "qualifies", types=esc(join_items(qualified, lang))))
        if view.hufi_next:
            lines.append(t(lang, "hufi_next_ok", text=esc(view.hufi_next)))
        lines.append(t(lang, "forgot_after_ok"))
        return "\n".join(lines)
    lines = [t(lang, "verdict_fail", title=esc(view.title))]
    lines += focus_lines(view, lang)
    if down_note:
        lines.append(esc(down_note))
    if not view.stopped_early:
        granted_names = [t(lang, "perm_" + p.value) for p in view.granted]
        missing_names = [t(lang, "perm_" + p.value) for p in view.missing]
        if granted_names and missing_names:
            lines.append(
                t(
                    lang,
                    "verdict_partial",
                    granted=esc(join_items(granted_names, lang)),
                    missing=esc(join_items(missing_names, lang)),
                )
            )
        if qualified:
            lines.append(t(lang, "qualifies", types=esc(join_items(qualified, lang))))
    said = said_line(view, lang)
    if said:
        lines.append(said)
    if view.question is not None and step == 0:
        lines.append("")
        lines.append(t(lang, "question_prefix", question=esc(view.question.text)))
    if view.steps:
        step = max(0, min(step, len(view.steps) - 1))
        current = view.steps[step]
        lines.append("")
        lines.append(
            t(lang, "step_header", n=step + 1, total=len(view.steps), title=esc(current.title), text=esc(current.text))
        )
    if kept_minutes is not None and not view.stopped_early and view.recheck:
        lines.append("")
        lines.append(t(lang, "kept_for_recheck", minutes=kept_minutes) if kept_minutes else t(lang, "not_kept"))
    return "\n".join(lines)


def said_line(view: VerdictView, lang: str = DEFAULT_LANGUAGE) -> str:
    """What the exchange said, in its words and with its code, escaped; "" when there is nothing to show."""
    said = view.said
    if said is None:
        return ""
    name = esc(view.exchange_name)
    if said.words and said.code:
        return t(lang, "exchange_said_words", exchange=name, words=esc(said.words), code=esc(said.code))
    if said.words:
        return t(lang, "exchange_said_words_only", exchange=name, words=esc(said.words))
    if said.code:
        return t(lang, "exchange_said_code", exchange=name, code=esc(said.code))
    return t(lang, "exchange_note", note=esc(said.note)) if said.note else ""


def focus_lines(view: VerdictView, lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """When a pasted HuFi error named permissions: those first, each with what this check found."""
    if not view.focus:
        return []
    names = join_items((t(lang, "perm_" + p.value) for p in view.focus), lang)
    lines = [t(lang, "focus_header", perms=esc(names))]
    for perm in view.focus:
        state = "granted" if perm in view.granted else "failed" if perm in view.missing else "not_checked"
        lines.append(t(lang, "focus_line", mark=t(lang, f"state_{state}"), perm=t(lang, "perm_" + perm.value)))
    if view.ok:
        lines.append(t(lang, "focus_all_work"))
    return lines
