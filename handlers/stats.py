"""/stats [7d|30d] in the support chat (staff only), and the optional weekly digest: the insights picture.

Thin: parse the period, check who asks, let `bot.insights` build the report and draw the picture (in a child
process), send it with sendPhoto and the caption. The weekly digest posts the same picture to the support chat
on a configured weekday and hour through PTB's JobQueue; when it fires is `bot.insights.DigestSchedule`.

`stats_handlers()` is registered in the main group; `bot.app.build_application` calls `schedule_digest(app,
settings.stats_digest)` once (None, the default, or no support chat: off).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from typing import Any

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import CommandHandler, ContextTypes, Job, filters

from bot.insights import DigestSchedule, PeriodError, RenderError, make_insights, parse_period, parse_timezone
from bot.insights.texts import t
from bot.services import Services, services_of
from handlers.policy import staff_or_refused

log = logging.getLogger(__name__)

COMMAND = "stats"
DIGEST_JOB_NAME = "stats-digest"


def _now(services: Services) -> datetime:
    return datetime.fromtimestamp(services.clock(), UTC)


def _timezone(services: Services) -> tzinfo:
    """STATS_TIMEZONE (UTC when it cannot be read)."""
    try:
        return parse_timezone(services.settings.stats_timezone)
    except PeriodError:
        return UTC


async def _say(message: Message, text: str) -> None:
    """Answer in the same chat and topic; a failure (flood limit, closed topic) is only logged."""
    try:
        await message.reply_text(
            text, parse_mode=None, do_quote=message.build_reply_arguments(allow_sending_without_reply=True)
        )
    except TelegramError as exc:
        log.info("/stats answer not sent: %s", type(exc).__name__)


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/stats [period]`: the picture of the last 7 days (or the period given), for staff in the support chat."""
    message = update.effective_message
    services = services_of(context)
    if message is None or services.support is None or message.chat_id != services.support.chat_id:
        return  # only the support chat has insights; elsewhere the command means nothing
    lang = services.settings.staff_language
    if not await staff_or_refused(
        services,
        message,
        what="/stats",
        answer=lambda text: _say(message, text),
        refusal=t(lang, "stats_staff_only"),
        language=lang,
    ):
        return
    try:
        days = parse_period(" ".join(context.args or ()))
    except PeriodError as exc:
        await _say(message, t(lang, "stats_usage", error=exc.rule_in(lang) + "."))  # never repeats what was typed
        return
    try:
        await message.chat.send_chat_action("upload_photo", message_thread_id=_thread(message))
    except TelegramError as exc:
        log.info("/stats chat action not sent: %s", type(exc).__name__)
    try:
        insights = await make_insights(services.db, days, _now(services), _timezone(services), language=lang)
    except RenderError as exc:
        log.warning("/stats picture not made: %s", exc)
        await _say(message, t(lang, "stats_failed"))
        return
    await message.reply_photo(
        insights.png,
        caption=insights.caption,
        parse_mode=None,
        do_quote=message.build_reply_arguments(allow_sending_without_reply=True),
    )


def _thread(message: Message) -> int | None:
    return message.message_thread_id if message.is_topic_message else None


def stats_handlers() -> list[Any]:
    """For the main group: /stats in groups (a private /stats is left to the unknown-command answer)."""
    return [CommandHandler(COMMAND, stats_command, filters=filters.ChatType.GROUPS)]


# -- the weekly digest ---------------------------------------------------------------------------------------------
async def post_digest(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The digest job: the picture of the schedule's period, posted to the support chat (its General topic)."""
    job = context.job
    schedule: DigestSchedule | None = job.data if job is not None else None  # type: ignore[assignment]
    services = services_of(context)
    chat_id = services.support.chat_id if services.support is not None else None  # where the support chat is now
    if schedule is None or chat_id is None:
        return
    try:
        language = services.settings.staff_language
        insights = await make_insights(services.db, schedule.days, _now(services), schedule.tz, language=language)
        await context.bot.send_photo(chat_id, insights.png, caption=insights.caption, parse_mode=None)
    except (RenderError, TelegramError) as exc:
        log.warning("weekly insights digest not posted: %s", exc)
        return
    log.info("weekly insights digest posted (%s)", schedule.describe())


def schedule_digest(app: Any, schedule: DigestSchedule | None) -> Job[Any] | None:
    """Post the digest every week on the schedule (replacing an earlier schedule); None when off or no JobQueue."""
    if app.job_queue is None:
        if schedule is not None:
            log.warning("the weekly insights digest needs PTB's JobQueue (python-telegram-bot[job-queue])")
        return None
    for old in app.job_queue.get_jobs_by_name(DIGEST_JOB_NAME):
        old.schedule_removal()
    if schedule is None:
        return None
    job = app.job_queue.run_daily(
        post_digest, time=schedule.at, days=schedule.ptb_days, name=DIGEST_JOB_NAME, data=schedule
    )
    log.info("weekly insights digest: %s", schedule.describe())
    return job
