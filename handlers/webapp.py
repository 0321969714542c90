"""The Mini App's chat side: a key that arrived through the page is checked in the user's private chat.

`chat_check(application)` is the `bot.webapp.ChatCheck` the core's `CheckSubmitter` calls: it runs the chat's own
`handlers.private.run_check` (the same admission, live progress message and verdict with its buttons as a key
typed into the chat) on the user's private chat, addressed by id: in a private chat the chat id is the user id,
and a `telegram.Chat` bound to the bot is all `run_check` needs to send and edit there. `attach_webapp` hands it
to `Services.webapp` when the application is built (`bot.app`). The "Enter the key securely" button itself is
`handlers.render.ask_key_message`.
"""

from __future__ import annotations

from typing import Any

from telegram import Chat
from telegram.constants import ChatType
from telegram.ext import Application

from bot.checks import CheckResult
from bot.diagnosis.model import CampaignType
from bot.exchanges.credentials import Credentials
from bot.services import services_of
from bot.webapp import ChatCheck
from handlers.private import run_check

App = Application[Any, Any, Any, Any, Any, Any]


def private_chat(application: App, user_id: int) -> Chat:
    """The user's private chat with the bot, as an object that can send into it (no Bot API call)."""
    chat = Chat(id=user_id, type=ChatType.PRIVATE)
    chat.set_bot(application.bot)
    return chat


def chat_check(application: App) -> ChatCheck:
    """Run a check from the Mini App in the user's private chat, exactly as `run_check` does for the chat."""

    async def in_chat(
        user_id: int, exchange_id: str, credentials: Credentials, campaign_type: CampaignType | None
    ) -> CheckResult | None:
        campaign = str(campaign_type) if campaign_type else None
        chat = private_chat(application, user_id)
        lang = await services_of(application).users.language(user_id)  # no update, so no language step ran
        return await run_check(chat, application, user_id, exchange_id, credentials, campaign, lang=lang)

    return in_chat


def attach_webapp(application: App) -> None:
    """Connect the Mini App's submissions to the chat (called once, when the application is built)."""
    services_of(application).webapp.attach(chat_check(application))
