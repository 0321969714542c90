"""Who may do what, decided once per update and applied as decorators (the way freqtrade's `authorized_only` is).

- `not_banned`: a banned user gets one polite refusal and the handler does not run.
- `with_support`: the handler gets the `Support` as a third argument; when support is off, `when_off` answers
  instead (so no handler ever asks whether support exists).
- `staff_only`: for actions in the support chat; the sender must be staff by the one rule (`bot.support.staff`:
  a member of the support chat, and listed in STAFF_USER_IDS when that is set; an anonymous administrator posting
  as the support chat is staff when no list is set, and is told how to post as themselves otherwise). /status and
  /stats ask `is_staff` too.
- `for_user`: a staff action about a user's ticket gets that user's id, resolved once (`StaffRequest.target`: an
  id typed after the command, else the topic, else the message replied to), or staff are told how to name one.
- the language: `resolve_language` runs first for every update (its own handler group, before the secret guard;
  it reads nothing the user typed) and decides the language of everything said in answer: the staff language
  (STAFF_LANGUAGE) in the support chat, else the language of the user who sent it (stored with the user, from
  Telegram's `language_code` on first contact, changed with /language). Handlers read it with
  `language_of(context)`; code that runs outside an update (a flow's timeout, the Mini App) calls
  `ensure_language` first. Staff actions answer in `StaffRequest.language`.

A new handler picks the decorators it needs; the order is: `handlers.common.button` outermost on every button
handler (it answers the press, once), then `with_support`, then `not_banned`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

from telegram import Chat, Message, ReplyParameters, Update, User
from telegram.error import TelegramError
from telegram.ext import ContextTypes, ConversationHandler

from bot.i18n import DEFAULT_LANGUAGE
from bot.services import Services, services_of
from bot.support import StaffVerdict, Support
from handlers.callbacks import user_id as parse_user_id
from handlers.render import esc
from handlers.texts import t

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
Context = ContextTypes.DEFAULT_TYPE
END = ConversationHandler.END


# -- the language -----------------------------------------------------------------------------------------------
#: The attribute of the update's context that holds its language (PTB builds one context per update and hands it
#: to every handler group, so the language step's answer reaches every handler of that update).
LANGUAGE_ATTRIBUTE = "language"


async def update_language(services: Services, update: Update) -> str:
    """The language to answer `update` in: the staff language in the support chat, else its sender's."""
    chat, user = update.effective_chat, update.effective_user
    support = services.support
    if chat is not None and support is not None and chat.id == support.chat_id:
        return services.settings.staff_language
    if user is None:
        return DEFAULT_LANGUAGE
    return await services.users.language(user.id, user.language_code)


async def resolve_language(update: object, context: Context) -> None:
    """The language step: decide the update's language once, before any other handler (its own group)."""
    if not isinstance(update, Update):
        return
    try:
        language = await update_language(services_of(context), update)
    except Exception as exc:  # noqa: BLE001 - a language is never a reason not to answer
        log.warning("language not resolved (%s); English is used", type(exc).__name__)
        language = DEFAULT_LANGUAGE
    setattr(context, LANGUAGE_ATTRIBUTE, language)


def language_of(context: object) -> str:
    """The language of the update being handled (English when no language step ran: a job, the application)."""
    language = getattr(context, LANGUAGE_ATTRIBUTE, None)
    return language if isinstance(language, str) else DEFAULT_LANGUAGE


async def ensure_language(update: Update, context: Context) -> str:
    """The update's language, resolved now if the language step did not run for this context (a timeout job's)."""
    language = getattr(context, LANGUAGE_ATTRIBUTE, None)
    if not isinstance(language, str):
        await resolve_language(update, context)
    return language_of(context)


def set_language(context: object, language: str) -> None:
    """The user changed their language (/language): the rest of this update speaks it."""
    setattr(context, LANGUAGE_ATTRIBUTE, language)


def posted_as(message: Message | None) -> Chat | None:
    """The chat a message was posted as, when that is the chat it is in (an anonymous administrator); else None."""
    if message is None or message.sender_chat is None or message.sender_chat.id != message.chat_id:
        return None
    return message.sender_chat


async def staff_verdict(services: Services, user: User | None, message: Message | None = None) -> StaffVerdict:
    """The staff rule for a sender: `user` (the message's `from`), or the chat `message` was posted as."""
    as_chat = posted_as(message)
    if as_chat is None and user is None:
        return StaffVerdict.NOT_STAFF
    return await services.staff.verdict(
        user.id if user is not None else None,
        is_bot=user.is_bot if user is not None else False,
        as_chat=as_chat.id if as_chat is not None else None,
    )


async def is_staff(services: Services, user: User | None, message: Message | None = None) -> bool:
    """The staff rule, for one Telegram user (and, given the `message`, an anonymous administrator of the support
    chat posting as it)."""
    return await staff_verdict(services, user, message) is StaffVerdict.STAFF


def not_banned(
    handler: Callable[Concatenate[Update, Context, P], Awaitable[R]],
) -> Callable[Concatenate[Update, Context, P], Awaitable[R | int]]:
    """Refuse banned users politely (and end any conversation) before `handler` runs."""

    @functools.wraps(handler)
    async def checked(update: Update, context: Context, *args: P.args, **kwargs: P.kwargs) -> R | int:
        services = services_of(context)
        user, chat = update.effective_user, update.effective_chat
        if user is not None and chat is not None and await services.bans.is_banned(user.id):
            await chat.send_message(t(language_of(context), "banned", contact=esc(services.settings.support_contact)))
            return END
        return await handler(update, context, *args, **kwargs)

    return checked


def with_support(
    when_off: Callable[[Update, Context], Awaitable[Any]],
) -> Callable[
    [Callable[Concatenate[Update, Context, Support, P], Awaitable[R]]],
    Callable[Concatenate[Update, Context, P], Awaitable[Any]],
]:
    """Give the handler the `Support`; when SUPPORT_CHAT_ID is not set, `when_off` handles the update instead."""

    def decorate(
        handler: Callable[Concatenate[Update, Context, Support, P], Awaitable[R]],
    ) -> Callable[Concatenate[Update, Context, P], Awaitable[Any]]:
        @functools.wraps(handler)
        async def resolved(update: Update, context: Context, *args: P.args, **kwargs: P.kwargs) -> Any:
            support = services_of(context).support
            if support is None:
                return await when_off(update, context)
            return await handler(update, context, support, *args, **kwargs)

        return resolved

    return decorate


async def support_unavailable(update: Update, context: Context) -> int:
    """The answer to asking for a person when no support chat is configured."""
    assert update.effective_chat is not None
    contact = esc(services_of(context).settings.support_contact)
    await update.effective_chat.send_message(t(language_of(context), "support_unavailable", contact=contact))
    return END


# -- the support chat ------------------------------------------------------------------------------------------------
@dataclass
class StaffRequest:
    """A message in the support chat, resolved once: the command, whose ticket it is about, how to answer."""

    context: Context
    services: Services
    support: Support
    message: Message
    command: str | None = None
    args: list[str] = field(default_factory=list)
    #: whose ticket the message belongs to (its topic, or the support message it replies to)
    owner: int | None = None
    #: the support-chat message it replies to (a real reply, not a topic's implicit one)
    reply_to: int | None = None

    @property
    def language(self) -> str:
        """The staff language: every answer in the support chat is in it."""
        return self.services.settings.staff_language

    @property
    def typed_user(self) -> int | None:
        """A user id typed right after the command ("/close 123456789")."""
        return parse_user_id(self.args[0]) if self.args else None

    @property
    def anonymous(self) -> bool:
        """Posted as the support chat (an anonymous administrator): nobody in particular."""
        return posted_as(self.message) is not None

    @property
    def staff_id(self) -> int | None:
        """Who acted, when they can be told (not for an anonymous administrator)."""
        sender = self.message.from_user
        return None if self.anonymous or sender is None else sender.id

    @property
    def target(self) -> int | None:
        """The user a staff command is about: a typed id, else the ticket the message belongs to."""
        return self.typed_user if self.typed_user is not None else self.owner

    async def answer(self, text: str) -> None:
        """Answer in the support chat, in the same topic; a failure (flood limit, closed topic) is only logged."""
        message = self.message
        try:
            await self.context.bot.send_message(
                message.chat_id,
                text,
                message_thread_id=message.message_thread_id if message.is_topic_message else None,
                reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
            )
        except TelegramError as exc:
            log.info("answer in the support chat not sent: %s", type(exc).__name__)


StaffAction = Callable[Concatenate[StaffRequest, P], Awaitable[None]]


async def staff_or_refused(
    services: Services,
    message: Message,
    *,
    what: str,
    answer: Callable[[str], Awaitable[None]],
    refusal: str | None,
    language: str,
) -> bool:
    """The staff rule for `message`'s sender, with its refusals: True for staff. An anonymous administrator who
    can't be identified (STAFF_USER_IDS is set) is told how to post as themselves; anyone else gets `refusal`
    (None: nothing, only a log line). `what`: the command or "a message", for the log."""
    sender = message.from_user
    verdict = await staff_verdict(services, sender, message)
    if verdict is StaffVerdict.STAFF:
        return True
    if verdict is StaffVerdict.UNIDENTIFIED:
        log.info("refused %s from an anonymous administrator", what)
        await answer(t(language, "staff_anonymous"))
        return False
    log.info("refused %s from non-staff user %s", what, sender.id if sender is not None else None)
    if refusal is not None:
        await answer(refusal)
    return False


def staff_only(*, quiet: bool = False) -> Callable[[StaffAction[P]], StaffAction[P]]:
    """Run the action only for staff; others are told so (or, `quiet`, ignored with a log line). An anonymous
    administrator who can't be identified (STAFF_USER_IDS is set) is always told how to post as themselves."""

    def decorate(action: StaffAction[P]) -> StaffAction[P]:
        @functools.wraps(action)
        async def checked(request: StaffRequest, *args: P.args, **kwargs: P.kwargs) -> None:
            if await staff_or_refused(
                request.services,
                request.message,
                what=f"/{request.command}" if request.command else "a message",
                answer=request.answer,
                refusal=None if quiet else t(request.language, "staff_only"),
                language=request.language,
            ):
                await action(request, *args, **kwargs)

        return checked

    return decorate


def for_user(action: Callable[[StaffRequest, int], Awaitable[None]]) -> StaffAction[[]]:
    """Resolve the user the command is about once; without one, tell staff how to name them."""

    @functools.wraps(action)
    async def resolved(request: StaffRequest) -> None:
        user_id = request.target
        if user_id is None:
            await request.answer(t(request.language, "staff_need_user", command=request.command))
            return
        await action(request, user_id)

    return resolved
