"""The Telegram application: the bot's HTTP transport, the Application with every handler, and its start-up steps.

`make_bot(settings)` builds the Bot (the project's aiohttp transport, HTML defaults, Telegram's flood limits with
answers to users first: `bot.telegram_limits`);
`telegram_sender(bot)` is support's messenger over it; `build_application(services, bot)` builds the PTB
Application with persistence, per-chat ordering, the jobs and every handler (`handlers.register_all`). The
Application's `post_init`/`post_stop` hooks are the bot's start-up and stop steps, so any runner that starts it the
way `run_polling` does (`bot.lifecycle.serving`) runs them. Services come in built (`bot.services`); nothing here
constructs one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any

from telegram import BotCommand, CallbackQuery, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, BaseUpdateProcessor, Defaults, ExtBot
from telegram.request import BaseRequest

from bot.config import Settings
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, TELEGRAM_CODES
from bot.i18n.catalogs import preload
from bot.presses import Presses
from bot.services import DRAFT_TTL_SECONDS, Services, services_of
from bot.telegram_limits import TelegramLimits
from bot.telegram_request import AiohttpRequest
from handlers import register_all
from handlers.private import FLOW_NAME
from handlers.stats import schedule_digest
from handlers.support import verify_support_chat
from handlers.support_sender import TelegramSender
from handlers.texts import COMMANDS
from handlers.webapp import attach_webapp
from storage.persistence import SqliteConversationPersistence

log = logging.getLogger(__name__)

WIPE_JOB = "wipe-expired-keys"
EXCHANGE_LIST_JOB = "hufi-exchange-list"

App = Application[Any, Any, Any, Any, Any, Any]


class HandledUpdates:
    """Which updates the application has finished handling (the last few thousand), to wait for one."""

    def __init__(self, keep: int = 4096) -> None:
        self._keep = keep
        self._done: OrderedDict[int, None] = OrderedDict()
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}

    def finished(self, update_id: int) -> None:
        self._done[update_id] = None
        while len(self._done) > self._keep:
            self._done.popitem(last=False)
        for waiter in self._waiters.pop(update_id, []):
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, update_id: int) -> None:
        """Return once update `update_id` has been handled (its handlers ran and returned)."""
        if update_id in self._done:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(update_id, []).append(waiter)
        await waiter


#: A button press still waiting for its handler this many seconds after it arrived is answered empty (the spinner
#: stops; the action still happens when its turn comes). Telegram refuses answers after about 15 s
#: (`bot.sandbox.telegram_methods.CALLBACK_ANSWER_WINDOW`); a handler answers within milliseconds when it runs.
ANSWER_WITHIN = 2.0


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of one chat are handled one after another, in order; different chats run concurrently.

    PTB's default handles every update in sequence, so one user's key check (an exchange round trip) would
    hold up everybody else. The conversation flow needs order only within a chat, which a FIFO lock per chat
    keeps (asyncio.Lock wakes waiters in arrival order, and PTB starts the update tasks in arrival order).
    `handled` says which updates are done (the demo waits on it before it shows its prompt).

    With `presses` (`bot.presses`): each update's arrival is noted as it comes in, before it waits for one of
    the `max_concurrent_updates` slots or for its chat (one press is one action), and a button press whose
    handler has not answered it `answer_within` seconds after it came in is answered empty, so a burst that
    holds every slot (a thousand users pressing at once, their edits paced by Telegram's 30 calls/s) never
    leaves a press unanswered past Telegram's window. The handler then does not answer again.
    """

    def __init__(
        self,
        max_concurrent_updates: int = 256,
        *,
        presses: Presses | None = None,
        answer_within: float | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        self.handled = HandledUpdates()
        self._presses = presses
        self._answer_within = ANSWER_WITHIN if answer_within is None else answer_within

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        late: list[asyncio.Task[None]] = []
        timer: asyncio.TimerHandle | None = None
        if self._presses is not None and isinstance(update, Update):
            self._presses.arrived(update.update_id)
            query = update.callback_query
            if query is not None:

                def answer_now(query: CallbackQuery = query) -> None:
                    late.append(asyncio.ensure_future(self._answer_late(query)))

                timer = asyncio.get_running_loop().call_later(self._answer_within, answer_now)
        try:
            await super().process_update(update, coroutine)
        finally:
            if timer is not None:
                timer.cancel()
            for task in late:  # the update is done when its answer is (the application waits for updates)
                await task

    async def _answer_late(self, query: CallbackQuery) -> None:
        assert self._presses is not None
        if not self._presses.claim_answer(query.id):
            return
        try:
            await query.answer()
        except TelegramError as exc:
            log.info("late button press not answered (%s: %s)", type(exc).__name__, str(exc)[:80])

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await self._in_order(update, coroutine)
        finally:
            if isinstance(update, Update):
                self.handled.finished(update.update_id)

    async def _in_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            left = self._users[key] - 1
            if left:
                self._users[key] = left
            else:
                del self._users[key]
                del self._locks[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


def local_request(**kwargs: Any) -> AiohttpRequest:
    """The bot's HTTP transport to the Bot API (aiohttp; a proxy only when given: `Settings.proxy_options`)."""
    return AiohttpRequest(**kwargs)


def make_bot(
    settings: Settings, *, rate_limiter: bool = True, get_updates_request: BaseRequest | None = None
) -> ExtBot[Any]:
    """The Bot: token, Bot API address, the project's transport, HTML by default, and Telegram's flood limits
    (`bot.telegram_limits.TelegramLimits`: answers to users before a check's messages, progress edits last).
    `get_updates_request`: long polling's transport, when the caller wraps it (the heartbeat does)."""
    base_url = settings.telegram_api_base_url
    return ExtBot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=base_url,
        base_file_url=base_url.replace("/bot", "/file/bot"),
        request=local_request(connection_pool_size=64, **settings.proxy_options),
        get_updates_request=get_updates_request or local_request(**settings.proxy_options),
        defaults=Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)),
        rate_limiter=TelegramLimits(max_retries=3) if rate_limiter else None,
    )


def telegram_sender(bot: ExtBot[Any]) -> TelegramSender:
    """Support's messenger (`bot.support.sender.SupportSender`) over this bot."""
    return TelegramSender(bot)


def flow_persistence(services: Services) -> SqliteConversationPersistence:
    """Conversation states in the database; a key-flow position lives as long as its draft."""
    return SqliteConversationPersistence(services.db, max_age={FLOW_NAME: DRAFT_TTL_SECONDS}, clock=services.clock)


def build_application(services: Services, bot: ExtBot[Any], *, updater: bool = True) -> App:
    """The Application with its persistence, jobs, start-up and stop steps, and every handler registered."""
    builder = (
        ApplicationBuilder()
        .bot(bot)
        .persistence(flow_persistence(services))
        .concurrent_updates(PerChatUpdateProcessor(presses=services.presses))
        .post_init(on_start)
        .post_stop(on_stop)
    )
    if not updater:
        builder = builder.updater(None)
    app = builder.build()
    app.bot_data["services"] = services
    register_all(app)
    attach_webapp(app)  # keys from the Mini App are checked in the user's chat
    if app.job_queue is not None:
        app.job_queue.run_repeating(_wipe_expired, interval=60, first=60, name=WIPE_JOB)
    schedule_digest(app, services.settings.stats_digest if services.support is not None else None)
    return app


def handled_updates(app: App) -> HandledUpdates | None:
    """What the application's update processor knows about handled updates (None for another processor)."""
    processor = app.update_processor
    return processor.handled if isinstance(processor, PerChatUpdateProcessor) else None


def command_menu(language: str) -> list[BotCommand]:
    """The command menu in `language` (handlers.texts.COMMANDS)."""
    return [BotCommand(name, COMMANDS(language, name)) for name in COMMANDS.source]


async def set_command_menus(app: App) -> None:
    """The command menu in every language: English as the default list, and one list per other language for users
    whose Telegram app is in it (setMyCommands' `language_code`, https://core.telegram.org/bots/api#setmycommands)."""
    await app.bot.set_my_commands(command_menu(DEFAULT_LANGUAGE))
    for language in LANGUAGES:
        if language != DEFAULT_LANGUAGE:
            await app.bot.set_my_commands(command_menu(language), language_code=TELEGRAM_CODES[language])


async def on_start(app: App) -> None:
    """The bot's start-up steps (PTB's post_init): the catalogs, the command menus, the support chat's set-up,
    background work."""
    services = services_of(app)
    preload()  # a catalog that can't be read fails the start, not a user's first message
    await set_command_menus(app)
    if services.support is not None:
        services.support.chat_problems = await verify_support_chat(app.bot, services.settings, services.support)
    await services.start()
    if app.job_queue is not None:
        app.job_queue.run_once(_read_exchange_list, when=0, name=EXCHANGE_LIST_JOB)


async def on_stop(app: App) -> None:
    """The bot's stop steps (PTB's post_stop): background work finishes what is in flight."""
    await services_of(app).stop()


async def _read_exchange_list(context: Any) -> None:
    await services_of(context).status_page.refresh_exchange_list()


async def _wipe_expired(context: Any) -> None:
    """Every minute: expired keys and drafts, key-flow positions abandoned as long as a draft lives, and what is
    older than RETENTION_DAYS (check reports, ticket texts) or than the limits look back (their ledger)."""
    services = services_of(context)
    wiped = await services.vault.wipe_expired() + await services.drafts.wipe_expired()
    if wiped:
        log.info("wiped %d expired key entries", wiped)
    persistence = context.application.persistence
    if isinstance(persistence, SqliteConversationPersistence):
        stale = await persistence.forget_stale(FLOW_NAME, DRAFT_TTL_SECONDS)
        if stale:
            log.info("forgot %d abandoned key-flow positions", stale)
    purged = await services.retention.purge()
    if purged.total:
        log.info(
            "retention: deleted %d check reports and %d ticket texts older than %d days, %d limit entries",
            purged.checks,
            purged.ticket_texts,
            services.settings.retention_days,
            purged.ledger_rows,
        )
