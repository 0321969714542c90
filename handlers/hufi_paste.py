"""A HuFi error message pasted into the private chat: say what HuFi meant, then start a check focused on what it named.

The recogniser is the core's (`bot.hufi_errors`); this module only wires it in. The explanation comes with the way
into the key flow: a button for the exchange the paste names, or the exchanges to pick from when it names none (both
the key flow's "Use another key" entry, which asks for the key as usual). The permissions HuFi named are kept in
`user_data` (never a secret: permission names and an exchange id, in memory only) until the verdict of the next
check on that exchange, which leads with them (`focus_for`).

Registered in the main group before the support handlers and the fallbacks. It never takes a message that looks like
it holds a credential (the secret guard deletes those first), nor one the support flow is waiting for (a description
that quotes HuFi is for the human), and the key flow does not take a paste for an answer (its `ANSWER` filter).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, ContextTypes, MessageHandler, filters

from bot.diagnosis.model import Permission
from bot.exchanges.catalog import CATALOG
from bot.hufi_errors import HufiError, HufiErrorKind, recognise
from bot.secret_scan import looks_like_secret
from bot.services import services_of
from handlers import callbacks
from handlers.policy import language_of, not_banned
from handlers.render import esc, exchange_keyboard
from handlers.support import user_message
from handlers.texts import t

log = logging.getLogger(__name__)

#: `user_data` key of the focus a pasted HuFi error set, and how long it lasts (seconds)
FOCUS_KEY = "hufi_focus"
FOCUS_TTL = 30 * 60


class _HufiPaste(filters.MessageFilter):
    """A text message in a private chat that is one of HuFi's error messages and holds no credential."""

    def filter(self, message: Message) -> bool:
        text = message.text or ""
        if not text or message.chat.type != "private" or text.startswith("/"):
            return False
        return recognise(text) is not None and not looks_like_secret(text)


HUFI_PASTE = filters.UpdateType.MESSAGE & filters.TEXT & _HufiPaste()


class _NotTakenBy(filters.UpdateFilter):
    """True when none of `handlers` (another conversation waiting for this very message) would take the update."""

    def __init__(self, handlers: Sequence[BaseHandler[Any, Any, Any]]) -> None:
        super().__init__(name="not_taken_by_other_flows")
        self._handlers = tuple(handlers)

    def filter(self, update: Update) -> bool:
        return not any(h.check_update(update) not in (None, False) for h in self._handlers)


def _explanation(found: HufiError, lang: str) -> str:
    spec = CATALOG.get(found.exchange_id or "")
    exchange = esc(spec.display_name) if spec is not None else t(lang, "hufi_the_exchange")
    perms = ", ".join(f"{t(lang, 'perm_' + p.value)} (<code>{p.value}</code>)" for p in found.permissions)
    if found.kind is HufiErrorKind.MISSING:
        named = t(lang, "hufi_missing_named", perms=perms) if perms else t(lang, "hufi_missing_unnamed")
        only_deposit = found.permissions == (Permission.VIEW_DEPOSIT_ADDRESS,)
        deposit = t(lang, "hufi_missing_deposit") if only_deposit else ""
        return t(lang, "hufi_missing", named=named, exchange=exchange) + deposit
    if found.kind is HufiErrorKind.INVALID_BANNER:
        return t(lang, "hufi_invalid_banner", exchange=exchange)
    if found.kind is HufiErrorKind.INCOMPLETE:
        return t(lang, "hufi_incomplete", exchange=exchange)
    return t(lang, "hufi_failed", exchange=exchange)


@not_banned
async def pasted(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain the HuFi message and offer the focused check: the named exchange's button, else the exchanges."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    found = recognise(message.text)
    if found is None:  # the filter said yes a moment ago; nothing to do should the text have changed
        return
    services = services_of(context)
    support = services.support
    if support is not None and (
        await support.desk.describing(user.id) is not None or await support.desk.open_ticket_of(user.id) is not None
    ):
        # the user is talking to support (the description step may be known from the database only, after a
        # restart): the paste is for the person, who sees it with the ticket
        await user_message(update, context)
        return
    await services.users.upsert(user.id, user.first_name, user.username, user.language_code)
    if context.user_data is not None:
        context.user_data[FOCUS_KEY] = {
            "exchange": found.exchange_id,
            "permissions": [p.value for p in found.permissions],
            "at": time.monotonic(),
        }
    log.info("pasted HuFi error recognised: %s, %d permission(s) named", found.kind, len(found.permissions))
    spec = CATALOG.get(found.exchange_id or "")
    lang = language_of(context)
    if spec is not None and spec.needs_key:
        button = InlineKeyboardButton(
            t(lang, "btn_check_exchange", exchange=spec.display_name), callback_data=callbacks.another_key(spec.id)
        )
        text = _explanation(found, lang) + "\n\n" + t(lang, "hufi_check_named", exchange=esc(spec.display_name))
        await message.chat.send_message(text, reply_markup=InlineKeyboardMarkup([[button]]))
        return
    enabled = services.status_page.enabled_exchanges()
    keyboard = exchange_keyboard(enabled, callback=callbacks.another_key, lang=lang)
    await message.chat.send_message(
        _explanation(found, lang) + "\n\n" + t(lang, "pick_exchange"), reply_markup=keyboard
    )


def hufi_paste_handlers(defer_to: Sequence[BaseHandler[Any, Any, Any]] = ()) -> list[BaseHandler[Any, Any, Any]]:
    """The handler for the main group; `defer_to`: conversations that come first when they wait for the message
    (the support flow's description step)."""
    return [MessageHandler(HUFI_PASTE & _NotTakenBy(defer_to), pasted)]


def focus_for(context: Any, exchange_id: str) -> Sequence[Permission]:
    """The permissions a pasted HuFi error named, for the verdict of a check on `exchange_id` (taken once: the next
    verdict on that exchange leads with them, later ones don't; a paste older than FOCUS_TTL is forgotten). Empty
    when there is none."""
    data = getattr(context, "user_data", None)
    focus = data.get(FOCUS_KEY) if isinstance(data, dict) else None
    if not isinstance(focus, dict) or focus.get("exchange") not in (None, exchange_id):
        return ()
    data.pop(FOCUS_KEY, None)  # type: ignore[union-attr]
    if time.monotonic() - float(focus.get("at") or 0.0) > FOCUS_TTL:
        return ()
    return tuple(p for p in Permission if p.value in (focus.get("permissions") or ()))
