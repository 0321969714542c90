"""The private chat: /start, /help, the key flow, the verdict with its steps, check again, forget."""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.checks import CheckResult, RateLimited
from bot.diagnosis.model import CampaignType, Cause, Permission
from bot.exchanges.catalog import CATALOG, get_spec
from bot.exchanges.credentials import Credentials
from bot.exchanges.report import KeyCheckReport
from bot.secret_scan import single_value, split_pair
from bot.services import Services, services_of
from bot.verdict import verdict_view
from handlers import callbacks
from handlers.common import LiveMessage, delete_secret_message, safe_edit, safe_send
from handlers.hufi_paste import HUFI_PASTE, focus_for
from handlers.policy import not_banned
from handlers.render import (
    ask_key_message,
    campaign_keyboard,
    esc,
    exchange_keyboard,
    progress_text,
    question_keyboard,
    result_keyboard,
    verdict_text,
)
from handlers.texts import t

log = logging.getLogger(__name__)

EXCHANGE, CAMPAIGN, KEY, SECRET, EXTRA = "exchange", "campaign", "key", "secret", "extra"
END = ConversationHandler.END
PRIVATE = filters.ChatType.PRIVATE
# a pasted HuFi error is not an answer to the flow's questions: handlers.hufi_paste explains it (mid-flow too)
ANSWER = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & PRIVATE & ~HUFI_PASTE
#: `/start <parameter>` that opens the flow: `check`, or a catalog exchange id (t.me/<bot>?start=mexc); any other
#: parameter is left to the plain /start (the normal welcome), and a secret-looking one to the secret guard.
_START_WORDS = "|".join(re.escape(w) for w in sorted([callbacks.CHECK, *CATALOG], key=len, reverse=True))
START_LINK = filters.Regex(re.compile(rf"^/start(?:@\w+)?\s+({_START_WORDS})\s*\Z", re.IGNORECASE))


# -- commands ------------------------------------------------------------------------------------------------------
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet the user and offer the key check."""
    user = update.effective_user
    assert user is not None and update.effective_chat is not None
    await services_of(context).users.upsert(user.id, user.first_name, user.username, user.language_code)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(t("btn_check"), callback_data=callbacks.CHECK)]])
    await update.effective_chat.send_message(t("welcome", name=esc(user.first_name)), reply_markup=keyboard)


@not_banned
async def start_link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """`/start <exchange>` from a link (HuFi's page can link to t.me/<bot>?start=mexc): the flow opens with that
    exchange chosen, at the campaign question. `/start check` (the group secret warning links to it) opens it at the
    exchange question."""
    assert update.effective_user is not None and update.effective_chat is not None
    arg = (context.args[0] if context.args else "").strip().lower()
    if arg == callbacks.CHECK:
        return await begin(update, context)
    spec = CATALOG.get(arg)
    if spec is None:  # the filter lets only known parameters through; this is the fallback should that change
        await start(update, context)
        return END
    services = services_of(context)
    user, chat = update.effective_user, update.effective_chat
    await services.users.upsert(user.id, user.first_name, user.username, user.language_code)
    if not spec.needs_key:
        await chat.send_message(t("dex_no_key", exchange=esc(spec.display_name), hint=esc(spec.connect_hint)))
        return END
    if not await _admit(chat, services, user.id):
        return END
    await _save_draft(services, user.id, spec.id, None, Credentials("", ""))
    text = t("start_with_exchange", name=esc(user.first_name), exchange=esc(spec.display_name))
    await chat.send_message(text + "\n\n" + t("pick_campaign"), reply_markup=campaign_keyboard())
    return CAMPAIGN


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What the bot does and which commands it knows."""
    services = services_of(context)
    minutes = services.settings.key_retention_minutes
    assert update.effective_chat is not None
    text = t("help", minutes=minutes) if minutes else t("help_no_keep")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(t("btn_check"), callback_data=callbacks.CHECK)]])
    await update.effective_chat.send_message(text, reply_markup=keyboard)


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Wipe every key and draft kept for this user (/forget and the "Forget my key" button)."""
    services = services_of(context)
    user = update.effective_user
    assert user is not None and update.effective_chat is not None
    if update.callback_query:
        await update.callback_query.answer()
    wiped = await services.vault.wipe(user.id) + await services.drafts.wipe(user.id)
    await update.effective_chat.send_message(t("forgot") if wiped else t("forgot_nothing"))


async def cancel_outside(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await update.effective_chat.send_message(t("nothing_to_cancel"))


# -- the key flow --------------------------------------------------------------------------------------------------
async def _admit(chat: Any, services: Services, user_id: int) -> bool:
    """Whether the user may start a check now; if not, tell them when they can."""
    try:
        await services.checks.admit(user_id)
    except RateLimited as limited:
        await chat.send_message(t("rate_limited", limit=services.checks.checks_per_hour, minutes=limited.minutes))
        return False
    return True


@not_banned
async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """/check or the "Check a key" button: pick the exchange."""
    services = services_of(context)
    if update.callback_query:
        await update.callback_query.answer()
    user = update.effective_user
    assert user is not None and update.effective_chat is not None
    await services.users.upsert(user.id, user.first_name, user.username, user.language_code)
    if not await _admit(update.effective_chat, services, user.id):
        return END
    await services.drafts.wipe(user.id)
    enabled = services.status_page.enabled_exchanges()
    await update.effective_chat.send_message(t("pick_exchange"), reply_markup=exchange_keyboard(enabled))
    return EXCHANGE


async def picked_exchange(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    query = update.callback_query
    assert query is not None and context.match is not None and update.effective_user is not None
    await query.answer()
    spec = CATALOG.get(context.match.group(1))
    if spec is None:
        await safe_edit(query.message, t("stale_button"))  # type: ignore[arg-type]
        return END
    if not spec.needs_key:
        await safe_edit(query.message, t("dex_no_key", exchange=esc(spec.display_name), hint=esc(spec.connect_hint)))  # type: ignore[arg-type]
        return END
    await _save_draft(services_of(context), update.effective_user.id, spec.id, None, Credentials("", ""))
    await safe_edit(query.message, t("pick_campaign"), reply_markup=campaign_keyboard())  # type: ignore[arg-type]
    return CAMPAIGN


async def picked_campaign(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    query = update.callback_query
    assert query is not None and context.match is not None and update.effective_user is not None
    await query.answer()
    services = services_of(context)
    draft = await services.drafts.get(update.effective_user.id)
    if draft is None:
        await safe_edit(query.message, t("draft_lost"))  # type: ignore[arg-type]
        return END
    value = context.match.group(1)
    campaign = value if value in CampaignType.__members__ else None
    await _save_draft(services, update.effective_user.id, draft.exchange_id, campaign, Credentials("", ""))
    name = CATALOG[draft.exchange_id].display_name
    form = services.webapp.page_url(draft.exchange_id, campaign, update.effective_user.language_code)
    text, markup = ask_key_message(name, form)
    await safe_edit(query.message, text, reply_markup=markup)  # type: ignore[arg-type]
    return KEY


@not_banned
async def use_another_key(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """The "Use another key" button: same exchange, ask for the key again."""
    query = update.callback_query
    assert query is not None and context.match is not None and update.effective_user is not None
    await query.answer()
    services = services_of(context)
    spec = CATALOG.get(context.match.group(1))
    if spec is None or not spec.needs_key:
        await safe_send(query.message.chat.send_message, t("stale_button"))  # type: ignore[union-attr]
        return END
    if not await _admit(update.effective_chat, services, update.effective_user.id):
        return END
    await services.vault.wipe(update.effective_user.id, spec.id)
    await _save_draft(services, update.effective_user.id, spec.id, None, Credentials("", ""))
    assert update.effective_chat is not None
    form = services.webapp.page_url(spec.id, None, update.effective_user.language_code)
    text, markup = ask_key_message(spec.display_name, form)
    await update.effective_chat.send_message(text, reply_markup=markup)
    return KEY


async def got_key(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    text = message.text or ""
    await delete_secret_message(message, context, "what_key")
    services = services_of(context)
    draft = await services.drafts.get(update.effective_user.id)
    if draft is None:
        await message.chat.send_message(t("draft_lost"))
        return END
    spec = get_spec(draft.exchange_id)
    pair = split_pair(text)
    creds = Credentials(pair[0], pair[1]) if pair else Credentials(single_value(text), "")
    if not pair:
        await _save_draft(services, update.effective_user.id, spec.id, draft.campaign_type, creds)
        await message.chat.send_message(t("ask_secret", fingerprint=esc(creds.fingerprint)), protect_content=True)
        return SECRET
    return await _after_secret(update, context, draft.exchange_id, draft.campaign_type, creds)


async def got_secret(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    text = message.text or ""
    await delete_secret_message(message, context, "what_secret")
    draft = await services_of(context).drafts.get(update.effective_user.id)
    if draft is None or not draft.credentials.api_key:
        await message.chat.send_message(t("draft_lost"))
        return END
    creds = Credentials(draft.credentials.api_key, single_value(text))
    return await _after_secret(update, context, draft.exchange_id, draft.campaign_type, creds)


async def _after_secret(
    update: Update, context: Any, exchange_id: str, campaign: str | None, creds: Credentials
) -> str | int:
    spec = get_spec(exchange_id)
    assert update.effective_user is not None and update.effective_chat is not None
    if spec.extra_credentials:
        extra = spec.extra_credentials[0]
        await _save_draft(services_of(context), update.effective_user.id, exchange_id, campaign, creds)
        await update.effective_chat.send_message(
            t("ask_extra", exchange=esc(spec.display_name), label=esc(extra.label))
        )
        return EXTRA
    await _finish(update, context, exchange_id, campaign, creds)
    return END


async def got_extra(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    text = message.text or ""
    await delete_secret_message(message, context, "what_extra")
    draft = await services_of(context).drafts.get(update.effective_user.id)
    if draft is None or not draft.credentials.secret:
        await message.chat.send_message(t("draft_lost"))
        return END
    spec = get_spec(draft.exchange_id)
    value = single_value(text)
    extra = spec.extra_credentials[0].name
    base = draft.credentials
    creds = Credentials(
        base.api_key,
        base.secret,
        passphrase=value if extra == "passphrase" else None,
        memo=value if extra == "memo" else None,
    )
    await _finish(update, context, draft.exchange_id, draft.campaign_type, creds)
    return END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/cancel inside the flow: forget the draft."""
    assert update.effective_user is not None and update.effective_chat is not None
    await services_of(context).drafts.wipe(update.effective_user.id)
    await update.effective_chat.send_message(t("cancelled"))
    return END


async def _save_draft(
    services: Services, user_id: int, exchange_id: str, campaign: str | None, creds: Credentials
) -> None:
    await services.drafts.wipe(user_id)
    # The drafts table keeps at least an empty key: a draft row is what marks "in the middle of the flow".
    await services.drafts.put(user_id, exchange_id, creds, campaign)


async def _finish(update: Update, context: Any, exchange_id: str, campaign: str | None, creds: Credentials) -> None:
    services = services_of(context)
    assert update.effective_user is not None and update.effective_chat is not None
    await services.drafts.wipe(update.effective_user.id)
    await run_check(update.effective_chat, context, update.effective_user.id, exchange_id, creds, campaign)


# -- running a check and showing the verdict -----------------------------------------------------------------------
async def run_check(
    chat: Any, context: Any, user_id: int, exchange_id: str, creds: Credentials, campaign: str | None
) -> CheckResult | None:
    """Run the check with a live progress message, then send the verdict with its first step (None: not run)."""
    services = services_of(context)
    spec = get_spec(exchange_id)
    if not await _admit(chat, services, user_id):
        return None
    placeholder = KeyCheckReport(spec.id, key_fingerprint=creds.fingerprint)
    placeholder.mark_waiting(list(placeholder.outcomes))
    first_text = progress_text(placeholder, spec.display_name)
    # the probes start while the progress message is on its way: one Bot API round trip less before the verdict
    live = LiveMessage.sending(safe_send(chat.send_message, first_text, protect_content=True), first_text)

    async def on_progress(report: KeyCheckReport, outcome: object) -> None:
        live.show(progress_text(report, spec.display_name))  # edited as probes finish, never waited for

    async def on_queued(position: int) -> None:
        live.show(progress_text(placeholder, spec.display_name, t("queued", position=position)))

    campaign_type = CampaignType(campaign) if campaign in CampaignType.__members__ else None
    result = await services.checks.run(
        user_id, exchange_id, creds, campaign_type=campaign_type, on_progress=on_progress, on_queued=on_queued
    )
    report = result.report
    await live.sent()  # the verdict comes after the progress message in the chat
    # the last progress edit and the verdict go out together: the verdict never waits behind an edit
    focus = focus_for(context, spec.id)  # what a pasted HuFi error named, if anything
    await asyncio.gather(
        live.settle(progress_text(report, spec.display_name)),
        send_verdict(chat, services, report, result.check_id or 0, kept=result.kept_for_recheck, focus=focus),
    )
    return result


async def send_verdict(
    chat: Any,
    services: Services,
    report: KeyCheckReport,
    check_id: int,
    *,
    kept: bool,
    focus: Sequence[Permission] = (),
) -> None:
    minutes = services.settings.key_retention_minutes if kept else 0
    down_note = await services.status_page.down_note(report)
    view = verdict_view(report, outbound_ips=services.settings.hufi_outbound_ips, focus=focus)
    text = verdict_text(view, kept_minutes=minutes, down_note=down_note)
    keyboard = result_keyboard(check_id, view)
    markup = InlineKeyboardMarkup(question_keyboard(view, check_id) + list(keyboard.inline_keyboard))
    await safe_send(chat.send_message, text, reply_markup=markup, protect_content=True)


async def _own_check(update: Update, context: Any, check_id: int) -> KeyCheckReport | None:
    services = services_of(context)
    record = await services.check_history.get(check_id)
    user = update.effective_user
    if record is None or user is None or record.user_id != user.id:
        return None
    return record.to_report()


async def next_step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "Next step": edit the verdict in place to show the next step."""
    assert context.match is not None
    await _show(update, context, int(context.match.group(1)), step=int(context.match.group(2)))


async def answered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An answer to the narrowing-down question: edit the verdict in place for the chosen cause."""
    assert context.match is not None
    value = context.match.group(2)
    chosen = Cause(value) if value in Cause._value2member_map_ else None
    await _show(update, context, int(context.match.group(1)), chosen=chosen)


async def _show(update: Update, context: Any, check_id: int, *, step: int = 0, chosen: Cause | None = None) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    report = await _own_check(update, context, check_id)
    if report is None:
        await safe_send(query.message.chat.send_message, t("stale_button"))  # type: ignore[union-attr]
        return
    services = services_of(context)
    view = verdict_view(report, outbound_ips=services.settings.hufi_outbound_ips, chosen=chosen)
    text = verdict_text(view, step=step)
    await safe_edit(query.message, text, reply_markup=result_keyboard(check_id, view, step=step))  # type: ignore[arg-type]


@not_banned
async def check_again(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "Done, check again": re-run the check with the kept key."""
    query = update.callback_query
    assert query is not None and context.match is not None and update.effective_user is not None
    await query.answer()
    services = services_of(context)
    report = await _own_check(update, context, int(context.match.group(1)))
    chat = query.message.chat  # type: ignore[union-attr]
    if report is None:
        await safe_send(chat.send_message, t("stale_button"))
        return
    stored = await services.vault.get(update.effective_user.id, report.exchange_id)
    if stored is None:
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t("btn_another"), callback_data=callbacks.another_key(report.exchange_id))]]
        )
        minutes = services.settings.key_retention_minutes
        await safe_send(chat.send_message, t("no_stored_key", minutes=minutes), reply_markup=keyboard)
        return
    await run_check(
        chat, context, update.effective_user.id, stored.exchange_id, stored.credentials, stored.campaign_type
    )


async def noop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.callback_query:
        await update.callback_query.answer()


def key_flow() -> ConversationHandler[Any]:
    """The persistent conversation that collects a key step by step."""
    with warnings.catch_warnings():
        # per_message=False with CallbackQueryHandlers is deliberate: the flow is per chat and user.
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("check", begin, filters=PRIVATE),
                CallbackQueryHandler(begin, pattern=callbacks.START_CHECK),
                CallbackQueryHandler(use_another_key, pattern=callbacks.ANOTHER_KEY),
                CommandHandler("start", start_link, filters=PRIVATE & START_LINK),
            ],
            states={
                EXCHANGE: [CallbackQueryHandler(picked_exchange, pattern=callbacks.PICK_EXCHANGE)],
                CAMPAIGN: [CallbackQueryHandler(picked_campaign, pattern=callbacks.PICK_CAMPAIGN)],
                KEY: [MessageHandler(ANSWER, got_key)],
                SECRET: [MessageHandler(ANSWER, got_secret)],
                EXTRA: [MessageHandler(ANSWER, got_extra)],
            },
            fallbacks=[
                CommandHandler("cancel", cancel),
                CommandHandler("check", begin, filters=PRIVATE),
                CallbackQueryHandler(begin, pattern=callbacks.START_CHECK),
                CallbackQueryHandler(use_another_key, pattern=callbacks.ANOTHER_KEY),
            ],
            name="key_flow",
            persistent=True,
            allow_reentry=True,
        )


def private_handlers() -> list[Any]:
    """Handlers for group 0, the flow first."""
    return [
        key_flow(),
        CommandHandler("start", start, filters=PRIVATE),
        CommandHandler("help", help_command, filters=PRIVATE),
        CommandHandler("forget", forget, filters=PRIVATE),
        CommandHandler("cancel", cancel_outside, filters=PRIVATE),
        CallbackQueryHandler(forget, pattern=callbacks.FORGET_KEY),
        CallbackQueryHandler(next_step, pattern=callbacks.NEXT_STEP),
        CallbackQueryHandler(answered, pattern=callbacks.ANSWER),
        CallbackQueryHandler(check_again, pattern=callbacks.CHECK_AGAIN),
        CallbackQueryHandler(noop, pattern=callbacks.NOTHING),
    ]
