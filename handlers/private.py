"""The private chat: /start, /help, the key flow, the verdict with its steps, check again, forget.

The key flow's position survives a crash: each step writes the position it leads to before it asks its question
(`_at`, storage.persistence `save_now`), and what the user typed so far is in the encrypted draft. An abandoned
flow ends after DRAFT_TTL_SECONDS (the draft's lifetime) with a calm note; its timeout job keeps who and where,
never the message that set it (`KeyFlow`). Every button handler is wrapped in `handlers.common.button`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import checks
from bot.advice import connect_hint, exchange_words
from bot.checks import CheckResult, RateLimited
from bot.diagnosis.formats import FORMATS
from bot.diagnosis.model import CampaignType, Cause, Permission
from bot.exchanges.catalog import CATALOG, ExchangeSpec, get_spec
from bot.exchanges.credentials import Credentials
from bot.exchanges.report import KeyCheckReport
from bot.i18n import format_number
from bot.secret_scan import single_value
from bot.services import DRAFT_TTL_SECONDS, Services, services_of
from bot.telegram_limits import Priority, priority
from bot.verdict import verdict_view
from handlers import callbacks
from handlers.check_tasks import check_tasks
from handlers.common import LiveMessage, button, delete_secret_message, safe_edit, safe_send
from handlers.hufi_paste import HUFI_PASTE, focus_for
from handlers.policy import ensure_language, language_of, not_banned
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
from storage.vault import StoredKey

log = logging.getLogger(__name__)

EXCHANGE, CAMPAIGN, KEY, SECRET, EXTRA = "exchange", "campaign", "key", "secret", "extra"
END = ConversationHandler.END
#: The key flow's name in the conversations table.
FLOW_NAME = "key_flow"
#: Seconds a progress edit waits for more probes to finish before it goes: a check's probes run in parallel and,
#: when the exchange answers them alike, finish within milliseconds, so the edit for the first would go out just
#: as the verdict does and compete with it; gathered, they cost one edit, after the verdict.
PROGRESS_GATHER = 0.1
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
    lang = language_of(context)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(t(lang, "btn_check"), callback_data=callbacks.CHECK)]])
    await update.effective_chat.send_message(t(lang, "welcome", name=esc(user.first_name)), reply_markup=keyboard)


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
        await _at(update, context, END)
        await start(update, context)
        return END
    services = services_of(context)
    user, chat = update.effective_user, update.effective_chat
    await services.users.upsert(user.id, user.first_name, user.username, user.language_code)
    lang = language_of(context)
    if not spec.needs_key:
        await _at(update, context, END)
        hint = connect_hint(spec.id, lang)
        await chat.send_message(t(lang, "dex_no_key", exchange=esc(spec.display_name), hint=esc(hint)))
        return END
    if not await _admit(chat, services, user.id, lang):
        await _at(update, context, END)
        return END
    await services.drafts.wipe(user.id)  # a draft of another exchange, if the flow was running
    await services.drafts.put(user.id, spec.id, Credentials("", ""), None)
    await _at(update, context, CAMPAIGN)
    text = t(lang, "start_with_exchange", name=esc(user.first_name), exchange=esc(spec.display_name))
    await chat.send_message(text + "\n\n" + t(lang, "pick_campaign"), reply_markup=campaign_keyboard(lang))
    return CAMPAIGN


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What the bot does and which commands it knows."""
    services = services_of(context)
    minutes = services.settings.key_retention_minutes
    assert update.effective_chat is not None
    lang = language_of(context)
    text = t(lang, "help", minutes=minutes) if minutes else t(lang, "help_no_keep")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(t(lang, "btn_check"), callback_data=callbacks.CHECK)]])
    await update.effective_chat.send_message(text, reply_markup=keyboard)


@button
async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Wipe every key and draft kept for this user (/forget and the "Forget my key" button); ends the flow."""
    services = services_of(context)
    user = update.effective_user
    assert user is not None and update.effective_chat is not None
    services.checks.forgotten(user.id)  # a check running now (a staff re-check) keeps nothing either
    wiped = await services.vault.wipe(user.id) + await services.drafts.wipe(user.id)
    await _at(update, context, END)
    lang = language_of(context)
    await update.effective_chat.send_message(t(lang, "forgot") if wiped else t(lang, "forgot_nothing"))
    return END


async def cancel_outside(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await update.effective_chat.send_message(t(language_of(context), "nothing_to_cancel"))


# -- the key flow --------------------------------------------------------------------------------------------------
def _flow_key(update: Update) -> tuple[int, int] | None:
    """The flow's conversation key (per chat and user, as ConversationHandler builds it)."""
    chat, user = update.effective_chat, update.effective_user
    return None if chat is None or user is None else (chat.id, user.id)


async def _at(update: Update, context: Any, state: object) -> None:
    """Write the flow's next position now, before the question that leads there goes out (END: the flow is over),
    so a crash right after the question finds the user where they are (storage.persistence `save_now`). Every
    way out of a flow handler writes the state it returns."""
    save_now = getattr(context.application.persistence, "save_now", None)
    key = _flow_key(update)
    if save_now is not None and key is not None:
        await save_now(FLOW_NAME, key, None if state == END else state)


def _settled(update: Update, application: Any) -> None:
    """The handler that wrote the flow's position ahead is done (storage.persistence `settled`)."""
    settled = getattr(application.persistence, "settled", None)
    key = _flow_key(update)
    if settled is not None and key is not None:
        settled(FLOW_NAME, key)


async def _tell_limited(chat: Any, limited: RateLimited, lang: str) -> None:
    """Tell the user which limit stopped the check and when they can check again."""
    wait = t(lang, "wait_minutes", minutes=limited.minutes)
    if limited.limit == checks.GLOBAL:
        text = t(lang, "rate_limited_global", minutes=limited.minutes)
    elif limited.limit == checks.KEY:
        text = t(lang, "rate_limited_key", limit=limited.allowed, wait=wait)
    else:
        text = t(lang, "rate_limited", limit=limited.allowed, wait=wait)
    await safe_send(chat.send_message, text)


async def _admit(chat: Any, services: Services, user_id: int, lang: str) -> bool:
    """Whether the user may start a check now (their limit and the global ceiling); if not, tell them when."""
    try:
        await services.checks.admit(user_id)
    except RateLimited as limited:
        await _tell_limited(chat, limited, lang)
        return False
    return True


@button
@not_banned
async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """/check or the "Check a key" button: pick the exchange."""
    services = services_of(context)
    user = update.effective_user
    assert user is not None and update.effective_chat is not None
    await services.users.upsert(user.id, user.first_name, user.username, user.language_code)
    lang = language_of(context)
    if not await _admit(update.effective_chat, services, user.id, lang):
        await _at(update, context, END)
        return END
    await services.drafts.wipe(user.id)
    enabled = services.status_page.enabled_exchanges()
    await _at(update, context, EXCHANGE)
    keyboard = exchange_keyboard(enabled, lang=lang)
    await update.effective_chat.send_message(t(lang, "pick_exchange"), reply_markup=keyboard)
    return EXCHANGE


@button
async def picked_exchange(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    query = update.callback_query
    assert query is not None and context.match is not None and update.effective_user is not None
    spec = CATALOG.get(context.match.group(1))
    lang = language_of(context)
    if spec is None:
        await _at(update, context, END)
        await safe_edit(query.message, t(lang, "stale_button"))  # type: ignore[arg-type]
        return END
    if not spec.needs_key:
        await _at(update, context, END)
        text = t(lang, "dex_no_key", exchange=esc(spec.display_name), hint=esc(connect_hint(spec.id, lang)))
        await safe_edit(query.message, text)  # type: ignore[arg-type]
        return END
    # /check wiped any older draft just before this step: nothing to replace
    await services_of(context).drafts.put(update.effective_user.id, spec.id, Credentials("", ""), None)
    await _at(update, context, CAMPAIGN)
    await safe_edit(query.message, t(lang, "pick_campaign"), reply_markup=campaign_keyboard(lang))  # type: ignore[arg-type]
    return CAMPAIGN


@button
async def picked_campaign(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    query = update.callback_query
    assert query is not None and context.match is not None and update.effective_user is not None
    services = services_of(context)
    lang = language_of(context)
    draft = await services.drafts.get(update.effective_user.id)
    if draft is None:
        await _at(update, context, END)
        await safe_edit(query.message, t(lang, "draft_lost"))  # type: ignore[arg-type]
        return END
    value = context.match.group(1)
    campaign = value if value in CampaignType.__members__ else None
    await services.drafts.put(update.effective_user.id, draft.exchange_id, Credentials("", ""), campaign)
    name = CATALOG[draft.exchange_id].display_name
    await _at(update, context, KEY)
    services.checks.prepare(draft.exchange_id)  # see `_deleted_then_draft`
    form = services.webapp.page_url(draft.exchange_id, campaign, lang)
    text, markup = ask_key_message(name, form, lang=lang)
    await safe_edit(query.message, text, reply_markup=markup)  # type: ignore[arg-type]
    return KEY


@button
@not_banned
async def use_another_key(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """The "Use another key" button: same exchange, ask for the key again."""
    query = update.callback_query
    assert query is not None and context.match is not None and update.effective_user is not None
    services = services_of(context)
    lang = language_of(context)
    spec = CATALOG.get(context.match.group(1))
    if spec is None or not spec.needs_key:
        await _at(update, context, END)
        await safe_send(query.message.chat.send_message, t(lang, "stale_button"))  # type: ignore[union-attr]
        return END
    if not await _admit(update.effective_chat, services, update.effective_user.id, lang):
        await _at(update, context, END)
        return END
    await services.vault.wipe(update.effective_user.id, spec.id)
    await services.drafts.wipe(update.effective_user.id)  # a draft of another exchange, if the flow was running
    await services.drafts.put(update.effective_user.id, spec.id, Credentials("", ""), None)
    assert update.effective_chat is not None
    await _at(update, context, KEY)
    services.checks.prepare(spec.id)  # see `_deleted_then_draft`
    form = services.webapp.page_url(spec.id, None, lang)
    text, markup = ask_key_message(spec.display_name, form, lang=lang)
    await update.effective_chat.send_message(text, reply_markup=markup)
    return KEY


async def got_key(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """The API key, or the key and the secret together. A message that can't be read as exactly that (three
    values, the secret where the key belongs) leaves nothing behind, not even a fingerprint: the user is asked
    for the key and the secret one by one."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    text = message.text or ""
    draft = await _deleted_then_draft(message, context, "what_key", update.effective_user.id)
    services = services_of(context)
    lang = language_of(context)
    if draft is None:
        await _at(update, context, END)
        await message.chat.send_message(t(lang, "draft_lost"))
        return END
    spec = get_spec(draft.exchange_id)
    creds, split = Credentials.from_paste(text, FORMATS.get(spec.id))
    if split.ambiguous:
        await _at(update, context, KEY)
        await message.chat.send_message(t(lang, "ask_separately"))
        return KEY
    if not split.is_pair:
        await services.drafts.put(update.effective_user.id, spec.id, creds, draft.campaign_type)
        await _at(update, context, SECRET)
        text = t(lang, "ask_secret", fingerprint=esc(creds.fingerprint))
        await message.chat.send_message(text, protect_content=True)
        return SECRET
    return await _after_secret(update, context, draft.exchange_id, draft.campaign_type, creds)


async def _deleted_then_draft(message: Message, context: Any, what: str, user_id: int) -> StoredKey | None:
    """Delete the message holding a secret and, while the deletion is on its way, read the user's draft (which
    exchange, the parts sent before): the deletion starts first, nothing is done with the message before it is
    gone, and the draft holds nothing of it. Both are done when this returns.

    The exchange client the check will use (`CheckService.prepare`: ccxt's constructor, a few ms of CPU)
    was built when the flow asked for the key, before its question went out, where those ms delay nothing a
    person could notice: built here, they delayed the deletion's own request and its answer. Here it is built
    only if that one was taken meanwhile (another check of the exchange); it holds nothing of the key (the
    credentials are set when the check starts)."""
    services = services_of(context)

    async def read() -> StoredKey | None:
        draft = await services.drafts.get(user_id)
        if draft is not None:
            services.checks.prepare(draft.exchange_id)  # only if the one built at the question was taken
        return draft

    reading = asyncio.ensure_future(read())  # runs once the deletion waits
    try:
        await delete_secret_message(message, context, what)
    finally:
        draft = await reading
    return draft


async def got_secret(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    text = message.text or ""
    draft = await _deleted_then_draft(message, context, "what_secret", update.effective_user.id)
    if draft is None or not draft.credentials.api_key:
        await _at(update, context, END)
        await message.chat.send_message(t(language_of(context), "draft_lost"))
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
        await services_of(context).drafts.put(update.effective_user.id, exchange_id, creds, campaign)
        await _at(update, context, EXTRA)
        label = exchange_words(extra.label, spec.id, language_of(context))
        await update.effective_chat.send_message(
            t(language_of(context), "ask_extra", exchange=esc(spec.display_name), label=esc(label))
        )
        return EXTRA
    await _finish(update, context, exchange_id, campaign, creds)
    return END


async def got_extra(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    text = message.text or ""
    draft = await _deleted_then_draft(message, context, "what_extra", update.effective_user.id)
    if draft is None or not draft.credentials.secret:
        await _at(update, context, END)
        await message.chat.send_message(t(language_of(context), "draft_lost"))
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
    await _at(update, context, END)
    await update.effective_chat.send_message(t(language_of(context), "cancelled"))
    return END


async def timed_out(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The flow waited DRAFT_TTL_SECONDS for the next answer: forget the draft and the position, say so calmly.
    (`update` is the content-free stand-in `KeyFlow` keeps: who and where.)"""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    await services_of(context).drafts.wipe(user.id)
    await _at(update, context, END)
    _settled(update, context.application)  # PTB ends the conversation right after this handler
    lang = await ensure_language(update, context)  # a timeout job: no language step ran for its context
    await safe_send(chat.send_message, t(lang, "flow_timed_out"))


async def _finish(update: Update, context: Any, exchange_id: str, campaign: str | None, creds: Credentials) -> None:
    """The key is complete: admit and count the check, start it, and end the flow (the draft wiped, the position
    written) while the check's first requests are on their way. The draft holds nothing the check needs any more,
    and the flow's end is written before this handler returns, as every flow handler's is; only the order against
    the check's start changed, so the wipe and the state write (one SQLite connection) no longer delay it."""
    services = services_of(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    lang = language_of(context)
    try:
        await services.checks.admit_key(user.id, creds)  # counted: the user's, the key's and the global limit
    except RateLimited as limited:
        await services.drafts.wipe(user.id)
        await _at(update, context, END)
        await _tell_limited(chat, limited, lang)
        return
    _start_check(update, context, chat, user.id, exchange_id, creds, campaign, lang=lang, admitted=True)
    await services.drafts.wipe(user.id)
    await _at(update, context, END)


def _start_check(
    update: Update,
    context: Any,
    chat: Any,
    user_id: int,
    exchange_id: str,
    creds: Credentials,
    campaign: str | None,
    *,
    lang: str,
    press: tuple[int, str | None] | None = None,
    admitted: bool = False,
) -> None:
    """Run `run_check` as a task and return (`handlers.check_tasks`): waiting for a free slot, the check holds no
    update slot and not its chat's turn. `press`: the button press that started it, held as one action until the
    check ends; `admitted`: the caller admitted and counted it already (`run_check`)."""

    async def stopped() -> None:  # the bot stopped before the check could finish
        await safe_send(chat.send_message, t(lang, "error"))

    check = run_check(chat, context, user_id, exchange_id, creds, campaign, lang=lang, admitted=admitted)
    services = services_of(context)
    check_tasks(context.application).start(check, update, press=press, presses=services.presses, on_cancel=stopped)


# -- running a check and showing the verdict -----------------------------------------------------------------------
async def run_check(
    chat: Any,
    context: Any,
    user_id: int,
    exchange_id: str,
    creds: Credentials,
    campaign: str | None,
    *,
    lang: str,
    admitted: bool = False,
) -> CheckResult | None:
    """Run the check with a live progress message, then send the verdict with its first step (None: not run), in
    the user's language `lang`. `admitted`: the caller admitted and counted it already (the key flow's `_finish`);
    otherwise it is admitted here and the user told when a limit stops it.

    The chat's key flow and "check again" run it as a task (`_start_check`); the Mini App awaits it. Its
    progress message and verdict go after answers to other users' commands and buttons, its progress edits
    last (`bot.telegram_limits`)."""
    services = services_of(context)
    spec = get_spec(exchange_id)
    if not admitted:
        try:
            await services.checks.admit_key(user_id, creds)  # counted: the user's, the key's and the global limit
        except RateLimited as limited:
            await _tell_limited(chat, limited, lang)
            return None
    with priority(Priority.VERDICT):
        return await _checked(chat, context, services, spec, user_id, creds, campaign, lang=lang)


async def _checked(
    chat: Any,
    context: Any,
    services: Services,
    spec: ExchangeSpec,
    user_id: int,
    creds: Credentials,
    campaign: str | None,
    *,
    lang: str,
) -> CheckResult:
    """`run_check` once admitted: the progress message, the check, the verdict."""
    exchange_id = spec.id
    placeholder = KeyCheckReport(spec.id, key_fingerprint=creds.fingerprint)
    placeholder.mark_waiting(list(placeholder.outcomes))
    first_text = progress_text(placeholder, spec.display_name, lang=lang)
    # the probes start while the progress message is on its way: one Bot API round trip less before the verdict;
    # the probes' requests leave first (the exchange's answer is the longer wait), the progress message right after
    sending = safe_send(chat.send_message, first_text, protect_content=True)
    live = LiveMessage.sending(sending, first_text, gather_for=PROGRESS_GATHER, after_caller=True)

    async def on_progress(report: KeyCheckReport, outcome: object) -> None:
        live.show(progress_text(report, spec.display_name, lang=lang))  # edited as probes finish, never waited for

    async def on_queued(position: int) -> None:
        queued = t(lang, "queued", position=format_number(position, lang))
        live.show(progress_text(placeholder, spec.display_name, queued, lang=lang))

    async def on_stored(result: CheckResult) -> None:  # while the key is kept or wiped
        report = result.report
        await live.sent()  # the verdict comes after the progress message in the chat
        # the verdict first, then the last progress edit while the verdict is on its way: the verdict never
        # waits behind an edit, not even for the edit's own share of the processor
        focus = focus_for(context, spec.id)  # what a pasted HuFi error named, if anything
        await asyncio.gather(
            send_verdict(
                chat, services, report, result.check_id or 0, kept=result.kept_for_recheck, focus=focus, lang=lang
            ),
            live.settle(progress_text(report, spec.display_name, lang=lang)),
        )

    campaign_type = CampaignType(campaign) if campaign in CampaignType.__members__ else None
    return await services.checks.run(
        user_id,
        exchange_id,
        creds,
        campaign_type=campaign_type,
        on_progress=on_progress,
        on_queued=on_queued,
        on_stored=on_stored,
        count_towards_limit=False,  # admitted and counted above
    )


async def send_verdict(
    chat: Any,
    services: Services,
    report: KeyCheckReport,
    check_id: int,
    *,
    kept: bool,
    focus: Sequence[Permission] = (),
    lang: str,
) -> None:
    minutes = services.settings.key_retention_minutes if kept else 0
    down_note = await services.status_page.down_note(report, lang)
    view = verdict_view(report, outbound_ips=services.settings.hufi_outbound_ips, focus=focus, language=lang)
    text = verdict_text(view, kept_minutes=minutes, down_note=down_note, lang=lang)
    keyboard = result_keyboard(check_id, view, lang=lang)
    markup = InlineKeyboardMarkup(question_keyboard(view, check_id) + list(keyboard.inline_keyboard))
    await safe_send(chat.send_message, text, reply_markup=markup, protect_content=True)


async def _own_check(update: Update, context: Any, check_id: int) -> KeyCheckReport | None:
    services = services_of(context)
    record = await services.check_history.get(check_id)
    user = update.effective_user
    if record is None or user is None or record.user_id != user.id:
        return None
    return record.to_report()


@button
async def next_step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "Next step": edit the verdict in place to show the next step."""
    assert context.match is not None
    await _show(update, context, int(context.match.group(1)), step=int(context.match.group(2)))


@button
async def answered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An answer to the narrowing-down question: edit the verdict in place for the chosen cause."""
    assert context.match is not None
    value = context.match.group(2)
    chosen = Cause(value) if value in Cause._value2member_map_ else None
    await _show(update, context, int(context.match.group(1)), chosen=chosen)


async def _show(update: Update, context: Any, check_id: int, *, step: int = 0, chosen: Cause | None = None) -> None:
    query = update.callback_query
    assert query is not None
    report = await _own_check(update, context, check_id)
    lang = language_of(context)
    if report is None:
        await safe_send(query.message.chat.send_message, t(lang, "stale_button"))  # type: ignore[union-attr]
        return
    services = services_of(context)
    view = verdict_view(report, outbound_ips=services.settings.hufi_outbound_ips, chosen=chosen, language=lang)
    text = verdict_text(view, step=step, lang=lang)
    markup = result_keyboard(check_id, view, step=step, lang=lang)
    await safe_edit(query.message, text, reply_markup=markup)  # type: ignore[arg-type]


@button
@not_banned
async def check_again(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "Done, check again": re-run the check with the kept key (a second tap meanwhile is ignored: `button`)."""
    query = update.callback_query
    assert query is not None and context.match is not None and update.effective_user is not None
    services = services_of(context)
    report = await _own_check(update, context, int(context.match.group(1)))
    chat = query.message.chat  # type: ignore[union-attr]
    lang = language_of(context)
    if report is None:
        await safe_send(chat.send_message, t(lang, "stale_button"))
        return
    stored = await services.vault.get(update.effective_user.id, report.exchange_id)
    if stored is None:
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t(lang, "btn_another"), callback_data=callbacks.another_key(report.exchange_id))]]
        )
        minutes = services.settings.key_retention_minutes
        await safe_send(chat.send_message, t(lang, "no_stored_key", minutes=minutes), reply_markup=keyboard)
        return
    press = (query.from_user.id, query.data)  # the key `button` knows this press by
    _start_check(
        update,
        context,
        chat,
        update.effective_user.id,
        stored.exchange_id,
        stored.credentials,
        stored.campaign_type,
        lang=lang,
        press=press,
    )


@button
async def noop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A label button (the "not listed on HuFi" row): answering the press is all."""


def _who_and_where(update: Update) -> Update:
    """A stand-in for `update` with its chat and user only: no text, no caption, nothing the user typed."""
    message = Message(0, datetime.now(UTC), update.effective_chat, from_user=update.effective_user)  # type: ignore[arg-type]
    message.set_bot(update.get_bot())
    return Update(update.update_id, message=message)


class KeyFlow(ConversationHandler[Any]):
    """The key flow's ConversationHandler: it tells the persistence when a handler that wrote its position ahead
    is done, and its timeout job keeps who and where, not the last update.

    PTB's timeout job keeps the update that set the state and its context (with a command's arguments) for the
    whole timeout; in this flow that update is a message with an API key or a secret in it. The job here gets a
    stand-in with the chat and the user only (tests/test_flow_restart.py checks the job's data).
    """

    async def handle_update(self, update: Any, application: Any, check_result: Any, context: Any) -> object:
        try:
            return await super().handle_update(update, application, check_result, context)
        finally:
            if isinstance(update, Update):
                _settled(update, application)

    def _schedule_job(
        self, new_state: object, application: Any, update: Update, context: Any, conversation_key: Any
    ) -> None:
        chat, user = update.effective_chat, update.effective_user
        clean = application.context_types.context(
            application, chat_id=chat.id if chat else None, user_id=user.id if user else None
        )
        super()._schedule_job(new_state, application, _who_and_where(update), clean, conversation_key)


def key_flow() -> ConversationHandler[Any]:
    """The persistent conversation that collects a key step by step; it ends after DRAFT_TTL_SECONDS without an
    answer, as the draft expires."""
    with warnings.catch_warnings():
        # per_message=False with CallbackQueryHandlers is deliberate: the flow is per chat and user.
        warnings.simplefilter("ignore", PTBUserWarning)
        return KeyFlow(
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
                ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
            },
            fallbacks=[
                CommandHandler("cancel", cancel),
                CommandHandler("check", begin, filters=PRIVATE),
                CommandHandler("forget", forget, filters=PRIVATE),
                CallbackQueryHandler(begin, pattern=callbacks.START_CHECK),
                CallbackQueryHandler(use_another_key, pattern=callbacks.ANOTHER_KEY),
                CallbackQueryHandler(forget, pattern=callbacks.FORGET_KEY),
            ],
            name=FLOW_NAME,
            persistent=True,
            allow_reentry=True,
            conversation_timeout=DRAFT_TTL_SECONDS,
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
