"""Telegram adapters only: parse the update, call a service, render a view. Registered from `bot.app` alone.

Handlers import `bot.services` (for `services_of`) and the core, never `bot.app`; they construct nothing and
never ask whether a service exists. Who may do what is a decorator from `handlers.policy` (`not_banned`,
`with_support`, `staff_only`, `for_user`), decided once per update, and so is the language of the answer (the
language step, `handlers.policy.language_of(context)`). Words live in `handlers.texts` (English source of the
catalogs, `t(lang, key, ...)`), layouts in
`handlers.render` (the chat) and `handlers.card` (the support card); callback data is built and matched strictly
in `handlers.callbacks`.

Adding a handler:
1. write `async def my_command(update, context)` in the module of its chat (private.py, support.py, status.py, or a
   new one): `services = services_of(context)`, call the service, render with `handlers.render`/`handlers.texts`;
2. add the decorators it needs (`@not_banned` for anything a user starts; `@with_support(when_off=...)` to get the
   `Support`; staff actions take a `StaffRequest` and get `@staff_only()`);
3. for a button, add its data builder and strict pattern to `handlers.callbacks` (and the pattern to PATTERNS, so the
   forged-data test covers it), wrap the handler in `handlers.common.button` (outermost: it answers the press, best
   effort, and makes one press one action; never call `query.answer()`), and register
   `CallbackQueryHandler(my_handler, pattern=callbacks.MY_PATTERN)`;
4. list the handler in its module's `*_handlers()` function; `register_all` puts each list in its group.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, ConversationHandler, TypeHandler

from handlers.errors import fallback_handlers, on_error
from handlers.guard import guard_handlers
from handlers.hufi_paste import hufi_paste_handlers
from handlers.language import language_handlers
from handlers.policy import resolve_language
from handlers.private import key_flow, private_handlers
from handlers.stats import stats_handlers
from handlers.status import status_handlers
from handlers.support import support_chat_handlers, support_handlers

#: Handler groups: the language step (it decides the update's language and reads nothing the user typed), the
#: secret guard, then the support chat, then everything else (fallbacks last).
LANGUAGE_GROUP, GUARD_GROUP, SUPPORT_CHAT_GROUP, MAIN_GROUP = -3, -2, -1, 0


def register_all(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Every handler of the bot. Within a group only the first matching handler runs, so the fallbacks come
    last in the main group; the secret guard runs before everything in its own group."""
    main = private_handlers()
    flow = next(h for h in main if isinstance(h, ConversationHandler))
    support = support_handlers()
    # a pasted HuFi error: before support's relay and the fallbacks, after the support flow's description step
    pastes = hufi_paste_handlers(defer_to=[h for h in support if isinstance(h, ConversationHandler)])
    app.add_handler(TypeHandler(Update, resolve_language), group=LANGUAGE_GROUP)
    app.add_handlers(guard_handlers(flow), group=GUARD_GROUP)
    app.add_handlers(support_chat_handlers(), group=SUPPORT_CHAT_GROUP)
    app.add_handlers(
        [*main, *language_handlers(), *status_handlers(), *stats_handlers(), *pastes, *support, *fallback_handlers()],
        group=MAIN_GROUP,
    )
    app.add_error_handler(on_error)


__all__ = ["key_flow", "register_all"]
