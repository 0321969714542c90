"""The relay limit as a decorator: messages a user has relayed to the support chat, RELAYS_PER_HOUR at most.

Put `@relay_limited` on the handler that passes a user's message to the support chat (inside `not_banned`): a
message over the limit is not relayed, and the user is told once (not once per message) when they can write
again (`bot.limits.RelayLimit`). Without it, one user with an open ticket could fill the support chat's flood
budget (20 messages a minute per group) and hold up every other user's support traffic.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

from telegram import Update
from telegram.ext import ContextTypes

from bot.services import services_of
from handlers.common import safe_send
from handlers.policy import language_of
from handlers.texts import t

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
Context = ContextTypes.DEFAULT_TYPE


def relay_limited(
    handler: Callable[Concatenate[Update, Context, P], Awaitable[R]],
) -> Callable[Concatenate[Update, Context, P], Awaitable[R | None]]:
    """Run `handler` (a relay to the support chat) only while the user is within RELAYS_PER_HOUR; count it."""

    @functools.wraps(handler)
    async def limited(update: Update, context: Context, *args: P.args, **kwargs: P.kwargs) -> R | None:
        user, chat = update.effective_user, update.effective_chat
        if user is None:
            return await handler(update, context, *args, **kwargs)
        verdict = await services_of(context).relays.admit(user.id)
        if verdict.allowed:
            return await handler(update, context, *args, **kwargs)
        log.info("relay limit: message of user %s not passed to support", user.id)
        if verdict.tell and chat is not None:
            text = t(language_of(context), "support_relay_limited", minutes=verdict.minutes)
            await safe_send(chat.send_message, text)
        return None

    return limited
