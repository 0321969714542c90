"""/language: the user picks the language the bot writes in (buttons, each language named in itself).

The choice is stored with the user (`storage.users.UserRepository.set_language`) and holds from the answer on:
the confirmation is already in the new language, and so is everything after it, also after a restart. Where the
language comes from before any choice: `handlers.policy` (the language step).
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.i18n import native_name
from bot.services import services_of
from handlers import callbacks
from handlers.common import button, safe_edit
from handlers.policy import language_of, set_language
from handlers.render import language_keyboard
from handlers.texts import t

COMMAND = "language"


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language: the languages as buttons, the current one marked."""
    assert update.effective_chat is not None
    lang = language_of(context)
    text = t(lang, "language_pick", language=native_name(lang))
    await update.effective_chat.send_message(text, reply_markup=language_keyboard(lang))


@button
async def picked_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A language button: store the choice and confirm it in the new language."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None and context.match is not None
    services = services_of(context)
    language = await services.users.set_language(
        user.id,
        context.match.group(1),
        first_name=user.first_name,
        username=user.username,
        language_code=user.language_code,
    )
    set_language(context, language)
    await safe_edit(query.message, t(language, "language_set", language=native_name(language)))  # type: ignore[arg-type]


def language_handlers() -> list[Any]:
    """For the main group: /language in a private chat and its buttons."""
    return [
        CommandHandler(COMMAND, language_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(picked_language, pattern=callbacks.PICK_LANGUAGE),
    ]
