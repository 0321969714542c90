"""What the emulator's helpers make the bot receive, through a real PTB Application polling over HTTP.

These are the updates the behaviour tests of the bot build on: buttons pressed too late, service messages in
topics, a support group upgraded to a supergroup, anonymous administrators and channel posts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, ChatMigrated
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.telegram_model import GROUP_ANONYMOUS_BOT
from tests.telegram_harness import running_app

KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Forget my key", callback_data="forget")]])


@pytest.fixture
async def api() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as api:
        yield api


async def test_a_late_button_press_fails_the_answer_and_the_handler_sees_it(api: TelegramEmulator) -> None:
    outcomes: list[str] = []

    async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("Your key", reply_markup=KEYBOARD)

    async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        try:
            await query.answer()
            outcomes.append("answered")
        except BadRequest as exc:
            outcomes.append(str(exc))
        await query.message.chat.send_message("forgotten")

    async with running_app(api, handlers=[CommandHandler("start", menu), CallbackQueryHandler(forget)]):
        api.send_text("/start")
        sent = await api.next_action("sendMessage")
        assert sent.message is not None
        api.press_button(sent.message, "forget")
        await api.next_action("answerCallbackQuery")
        await api.next_action("sendMessage")
        api.press_button(sent.message, "forget", late=True)  # e.g. pressed while the bot was down
        assert (await api.next_action("sendMessage")).text == "forgotten"
    failed = api.calls_to("answerCallbackQuery")[-1]
    assert failed.error is not None and failed.error.status == 400
    assert outcomes == ["answered", "Query is too old and response timeout expired or query id is invalid"]


async def test_service_messages_in_a_topic_reach_the_bot(api: TelegramEmulator) -> None:
    group = api.add_group()
    staff = api.add_user("Sam")
    api.set_member(group, staff, "administrator")
    seen: list[Message] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        seen.append(update.message)
        await context.bot.set_message_reaction(update.message.chat_id, update.message.message_id, "👀")

    async with running_app(api, handlers=[MessageHandler(filters.ALL, record)]):
        thread = api.create_topic(group, "Alice", staff)
        note = api.send_text("card", staff, group, thread=thread)
        api.pin_message(note, staff)
        api.rename_topic(group, thread, "Alice · solved", staff)
        api.add_members(group, api.add_user("Newcomer"), by=staff)
        for _ in range(5):
            await api.next_action("setMessageReaction")
    _, _, pin, renamed, joined = seen
    assert pin.pinned_message is not None and pin.pinned_message.message_id == note["message_id"]
    assert pin.is_topic_message and pin.message_thread_id == thread
    assert renamed.forum_topic_edited is not None and renamed.forum_topic_edited.name == "Alice · solved"
    assert renamed.message_thread_id == thread and group.topics[thread].name == "Alice · solved"
    assert [u.first_name for u in joined.new_chat_members] == ["Newcomer"]


async def test_upgrade_sends_both_migration_messages_and_old_id_raises(api: TelegramEmulator) -> None:
    old = api.add_group("Support", forum=False, supergroup=False)
    staff = api.add_user("Sam")
    api.set_member(old, staff, "creator")
    seen: list[Message] = []
    migrated: list[int] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        seen.append(update.message)
        if update.message.migrate_to_chat_id:
            try:
                await context.bot.send_message(update.message.chat_id, "still here?")
            except ChatMigrated as exc:
                migrated.append(exc.new_chat_id)
        await context.bot.send_message(update.message.migrate_to_chat_id or update.message.chat_id, "noted")

    async with running_app(api, handlers=[MessageHandler(filters.StatusUpdate.MIGRATE, record)]):
        new = api.upgrade_group(old, forum=True, by=staff)
        await api.next_action("sendMessage")
        await api.next_action("sendMessage")
    moved_to, moved_from = seen
    assert moved_to.chat.id == old.id and moved_to.migrate_to_chat_id == new.id
    assert moved_to.from_user is not None and moved_to.from_user.id == staff.id
    assert moved_from.chat.id == new.id and moved_from.chat.is_forum and moved_from.migrate_from_chat_id == old.id
    assert moved_from.message_id == 1 and moved_from.sender_chat is not None and moved_from.sender_chat.id == new.id
    assert moved_from.from_user is not None and moved_from.from_user.username == "GroupAnonymousBot"
    assert migrated == [new.id]
    assert [m.get("text") for m in api.transcript(new)] == [None, "noted", "noted"]


async def test_anonymous_admins_and_channels_write_on_behalf_of_a_chat(api: TelegramEmulator) -> None:
    group = api.add_group()
    staff = api.add_user("Sam")
    api.set_member(group, staff, "administrator", anonymous=True)
    channel = api.add_channel("HuFi news", username="hufi_news")
    thread = api.create_topic(group, "Alice", staff)
    seen: list[Message] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        seen.append(update.message)
        await context.bot.set_message_reaction(update.message.chat_id, update.message.message_id, "👀")

    async with running_app(api, handlers=[MessageHandler(filters.TEXT, record)]):
        api.send_as_chat("/close", group, thread=thread, signature="Support lead")
        api.send_as_channel("hello from the channel", group, channel)
        api.forward_channel_post(channel, "new campaign", group)
        for _ in range(3):
            await api.next_action("setMessageReaction")
    anonymous, as_channel, forwarded = seen
    assert anonymous.from_user is not None and anonymous.from_user.id == GROUP_ANONYMOUS_BOT.id == 1087968824
    assert anonymous.from_user.is_bot and anonymous.from_user.username == "GroupAnonymousBot"
    assert anonymous.sender_chat is not None and anonymous.sender_chat.id == group.id
    assert anonymous.author_signature == "Support lead" and anonymous.message_thread_id == thread
    assert anonymous.text == "/close" and anonymous.entities[0].type == "bot_command"
    assert as_channel.from_user is not None and as_channel.from_user.id == 136817688
    assert as_channel.sender_chat is not None and as_channel.sender_chat.id == channel.id
    assert forwarded.from_user is not None and forwarded.from_user.id == 777000 and forwarded.is_automatic_forward
    assert forwarded.forward_origin is not None and forwarded.sender_chat is not None
    assert forwarded.sender_chat.id == channel.id
    member = api.member_dict(group, staff)
    assert member["is_anonymous"] is True and member["status"] == "administrator"
