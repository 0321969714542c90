"""The Bot API emulator, exercised through python-telegram-bot's real Application and HTTP stack."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberLeft,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.telegram_model import HtmlError, parse_html
from tests.telegram_harness import local_request, running_app

KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Check again", callback_data="check:1")]])


@pytest.fixture
async def api() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as api:
        yield api


@pytest.fixture
async def bot(api: TelegramEmulator) -> AsyncIterator[Bot]:
    """A bare Bot on the emulator (real HTTPXRequest), for calls that need no polling."""
    async with Bot(
        api.token, base_url=api.base_url, request=local_request(), get_updates_request=local_request()
    ) as bot:
        yield bot


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text("Send me your <b>API key</b>", parse_mode="HTML", reply_markup=KEYBOARD)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Checking…")
    await query.edit_message_text(f"Checked ({query.data})")


async def test_start_command_round_trip_through_polling(api: TelegramEmulator) -> None:
    async with running_app(api, handlers=[CommandHandler("start", start)]):
        await api.wait_call("getUpdates")
        sent = api.send_text("/start")
        action = await api.next_action("sendMessage")
    assert [c.method for c in api.calls[:3]] == ["getMe", "deleteWebhook", "getUpdates"]
    assert action.params["chat_id"] == sent["chat"]["id"] == api.default_user.id
    message = Message.de_json(action.message, None)  # type: ignore[arg-type]
    assert message.text == "Send me your API key"  # HTML parsed as Telegram does
    assert message.entities[0].type == "bold" and (message.entities[0].offset, message.entities[0].length) == (13, 7)
    assert message.from_user is not None and message.from_user.is_bot
    assert message.message_id == sent["message_id"] + 1  # one counter per chat, both directions
    assert message.reply_markup == KEYBOARD
    assert [m["message_id"] for m in api.transcript(api.default_user)] == [1, 2]
    final = api.calls_to("getUpdates")[-1]
    assert final.params["timeout"] == 0 and final.params["offset"] == 2  # updater.stop confirmed the update


async def test_command_with_bot_username_and_plain_text(api: TelegramEmulator) -> None:
    seen: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text is not None
        seen.append(update.effective_message.text)
        await update.effective_message.reply_text("ok")

    handlers = [CommandHandler("help", record), MessageHandler(filters.TEXT & ~filters.COMMAND, record)]
    async with running_app(api, handlers=handlers):
        api.send_text("/help@hufi_support_bot")
        await api.next_action("sendMessage")
        api.send_text("just text")
        await api.next_action("sendMessage")
    assert seen == ["/help@hufi_support_bot", "just text"]


async def test_button_press_answers_and_edits(api: TelegramEmulator) -> None:
    async with running_app(api, handlers=[CommandHandler("start", start), CallbackQueryHandler(on_button)]):
        api.send_text("/start")
        menu = await api.next_action("sendMessage")
        assert menu.message is not None
        with pytest.raises(ValueError, match="no button"):
            api.press_button(menu.message, "check:2")
        query = api.press_button(menu.message, text="Check again")
        answer = await api.next_action("answerCallbackQuery")
        edit = await api.next_action("editMessageText")
    assert answer.params == {"callback_query_id": query["id"], "text": "Checking…"}
    assert edit.message is not None and edit.message["text"] == "Checked (check:1)"
    assert "reply_markup" not in edit.message  # editing without reply_markup drops the keyboard, as on Telegram
    assert "edit_date" in api.transcript(api.default_user)[-1]


async def test_handler_exception_reaches_next_action(api: TelegramEmulator) -> None:
    async def broken(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raise RuntimeError("handler bug")

    async with running_app(api, handlers=[CommandHandler("start", broken)]):
        api.send_text("/start")
        with pytest.raises(RuntimeError, match="handler bug"):
            await api.next_action()


async def test_next_action_reports_a_different_action(api: TelegramEmulator, bot: Bot) -> None:
    await bot.send_message(api.default_user.id, "hello")
    with pytest.raises(AssertionError, match="expected deleteMessage, but the bot did sendMessage"):
        await api.next_action("deleteMessage")
    with pytest.raises(AssertionError, match="did nothing"):
        await api.next_action(timeout=0.01)


async def test_delete_message_ok_and_failing(api: TelegramEmulator) -> None:
    async def delete_it(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        try:
            await update.message.delete()
        except BadRequest as exc:
            await update.message.reply_text(f"failed: {exc}")

    async with running_app(api, handlers=[MessageHandler(filters.TEXT, delete_it)]):
        key = api.send_text("KEY:SECRET")
        deleted = await api.next_action("deleteMessage")
        assert deleted.params == {"chat_id": key["chat"]["id"], "message_id": key["message_id"]}
        assert api.deleted == [(key["chat"]["id"], key["message_id"])]
        assert api.transcript(api.default_user) == []

        api.forbid_delete(api.send_text("KEY:OTHER"))
        assert (await api.next_action("sendMessage")).text == "failed: Message can't be deleted"
        assert not api.calls_to("deleteMessage")[-1].ok

        api.send_text("old KEY:SECRET", date=api.now() - 49 * 3600)  # private chats: older than 48 h
        assert (await api.next_action("sendMessage")).text == "failed: Message can't be deleted for everyone"


async def test_delete_twice_and_delete_messages(api: TelegramEmulator, bot: Bot) -> None:
    first, second = api.send_text("one"), api.send_text("two")
    assert await bot.delete_message(first["chat"]["id"], first["message_id"])
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(first["chat"]["id"], first["message_id"])
    assert await bot.delete_messages(first["chat"]["id"], [first["message_id"], second["message_id"]])
    assert api.deleted == [(first["chat"]["id"], m["message_id"]) for m in (first, second)]


async def test_group_deletion_needs_rights(api: TelegramEmulator, bot: Bot) -> None:
    group = api.add_group(forum=False, rights={"can_delete_messages": False})
    message = api.send_text("KEY:SECRET", chat=group)
    with pytest.raises(BadRequest, match="Message can't be deleted"):
        await bot.delete_message(group.id, message["message_id"])
    own = await bot.send_message(group.id, "bot text")
    assert await bot.delete_message(group.id, own.message_id)


@pytest.fixture
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22.8 warns when it builds a RetryAfter unless durations are opted in as timedelta."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.mark.usefixtures("timedelta_periods")
async def test_injected_429_reaches_ptb_as_retry_after(api: TelegramEmulator, bot: Bot) -> None:
    api.fail("sendMessage", (429, "Too Many Requests: retry after 7"), retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(api.default_user.id, "hi")
    assert caught.value.retry_after == dt.timedelta(seconds=7)
    assert (await bot.send_message(api.default_user.id, "hi")).text == "hi"  # times=1


async def test_fail_when_and_forever(api: TelegramEmulator, bot: Bot) -> None:
    other = api.add_user("Carol")
    failure = api.fail(
        "sendMessage", (400, "Bad Request: chat not found"), times=None, when=lambda p: p["chat_id"] == other.id
    )
    for _ in range(2):
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(other.id, "x")
    assert await bot.send_message(api.default_user.id, "x")
    assert failure.times is None
    api.clear_failures()
    assert await bot.send_message(other.id, "x")


@pytest.mark.usefixtures("timedelta_periods")
async def test_group_budget_answers_429() -> None:
    now = [1_000_000.0]
    async with TelegramEmulator(group_rate=(2, 60.0), clock=lambda: now[0]) as api:
        group = api.add_group()
        async with Bot(
            api.token, base_url=api.base_url, request=local_request(), get_updates_request=local_request()
        ) as group_bot:
            await group_bot.send_message(group.id, "1")
            await group_bot.send_message(api.default_user.id, "private chats are not limited")
            await group_bot.send_message(group.id, "2")
            with pytest.raises(RetryAfter):
                await group_bot.send_message(group.id, "3")
            assert api.calls[-1].error is not None and api.calls[-1].error.parameters == {"retry_after": 60}
            now[0] += 61
            assert await group_bot.send_message(group.id, "3")


async def test_blocked_user_gives_forbidden_and_my_chat_member(api: TelegramEmulator) -> None:
    events: list[str] = []

    async def track(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.my_chat_member is not None
        events.append(update.my_chat_member.new_chat_member.status)
        try:
            await context.bot.send_message(update.my_chat_member.chat.id, "are you there?")
        except Forbidden as exc:
            events.append(str(exc))
        with contextlib.suppress(Forbidden):
            await context.bot.send_chat_action(api.default_user.id, "typing")

    async with running_app(api, handlers=[ChatMemberHandler(track)]):
        api.block_bot()
        call = await api.wait_call("sendChatAction")
        assert call.error is not None and call.error.status == 403
        api.send_text("/start")  # writing again unblocks first, as the client's "Restart" button does
        assert (await api.next_action("sendMessage")).text == "are you there?"
    assert events == ["kicked", "Forbidden: bot was blocked by the user", "member"]
    assert [m.get("text") for m in api.transcript(api.default_user)] == ["/start", "are you there?"]


async def test_forum_topic_lifecycle(api: TelegramEmulator, bot: Bot) -> None:
    group = api.add_group()
    topic = await bot.create_forum_topic(group.id, "Alice · binance")
    assert topic.message_thread_id == group.topics[topic.message_thread_id].created_message["message_id"]
    sent = await bot.send_message(group.id, "diagnosis", message_thread_id=topic.message_thread_id)
    assert sent.is_topic_message and sent.message_thread_id == topic.message_thread_id
    assert sent.reply_to_message is not None and sent.reply_to_message.forum_topic_created is not None

    assert await bot.close_forum_topic(group.id, topic.message_thread_id)
    closed_note = await bot.send_message(group.id, "closed", message_thread_id=topic.message_thread_id)
    assert closed_note.message_thread_id == topic.message_thread_id  # its creator still posts in a closed topic
    with pytest.raises(BadRequest, match="Topic_not_modified"):
        await bot.close_forum_topic(group.id, topic.message_thread_id)
    assert await bot.reopen_forum_topic(group.id, topic.message_thread_id)
    assert await bot.edit_forum_topic(group.id, topic.message_thread_id, name="Alice · closed")
    assert await bot.send_message(group.id, "again", message_thread_id=topic.message_thread_id)

    assert await bot.delete_forum_topic(group.id, topic.message_thread_id)
    assert api.transcript(group, thread=topic.message_thread_id) == []
    with pytest.raises(BadRequest, match=r"^Message thread not found$"):
        await bot.send_message(group.id, "x", message_thread_id=topic.message_thread_id)
    actions = [a.method for a in api.drain_actions()]
    assert actions == [
        "createForumTopic",
        "sendMessage",
        "closeForumTopic",
        "sendMessage",
        "reopenForumTopic",
        "editForumTopic",
        "sendMessage",
        "deleteForumTopic",
    ]


async def test_forum_topic_errors(api: TelegramEmulator, bot: Bot) -> None:
    plain = api.add_group(forum=False)
    with pytest.raises(BadRequest, match="The chat is not a forum"):
        await bot.create_forum_topic(plain.id, "x")
    no_rights = api.add_group(rights={"can_manage_topics": False})
    with pytest.raises(BadRequest, match="Not enough rights to create a topic"):
        await bot.create_forum_topic(no_rights.id, "x")
    staff_topic = api.create_topic(no_rights, "made by staff")
    with pytest.raises(BadRequest, match=r"^Not enough rights to close or open the topic$"):
        await bot.close_forum_topic(no_rights.id, staff_topic)
    api.set_bot_status(no_rights, "left")
    with pytest.raises(Forbidden, match="bot is not a member of the supergroup chat"):
        await bot.send_message(no_rights.id, "x")


async def test_user_topic_messages_and_service_messages(api: TelegramEmulator) -> None:
    group = api.add_group()
    staff = api.add_user("Sam", username="sam_staff")
    api.set_member(group, staff, "administrator")
    seen: list[Message] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        seen.append(update.message)
        await context.bot.set_message_reaction(update.message.chat_id, update.message.message_id, "👍")

    async with running_app(api, handlers=[MessageHandler(filters.ALL, record)]):
        thread = api.create_topic(group, "Bob", user=staff)
        api.send_text("hello from staff", user=staff, chat=group, thread=thread)
        api.close_topic(group, thread, user=staff)
        api.reopen_topic(group, thread, user=staff)
        for _ in range(4):
            await api.next_action("setMessageReaction")
    created, text, closed, reopened = seen
    assert created.forum_topic_created is not None and created.forum_topic_created.name == "Bob"
    assert text.is_topic_message and text.message_thread_id == thread
    assert text.reply_to_message is not None and text.reply_to_message.message_id == thread
    assert closed.forum_topic_closed is not None and reopened.forum_topic_reopened is not None
    assert not group.topics[thread].closed


async def test_copy_message_from_private_chat_to_topic(api: TelegramEmulator, bot: Bot) -> None:
    group = api.add_group()
    topic = await bot.create_forum_topic(group.id, "Alice")
    original = api.send_photo(caption="my settings page")
    copied = await bot.copy_message(
        group.id, original["chat"]["id"], original["message_id"], message_thread_id=topic.message_thread_id
    )
    api.drain_actions()
    in_topic = api.transcript(group, thread=topic.message_thread_id)[-1]
    assert in_topic["message_id"] == copied.message_id and in_topic["caption"] == "my settings page"
    assert in_topic["photo"] == original["photo"] and in_topic["from"]["id"] == api.bot.id
    forwarded = await bot.forward_message(group.id, original["chat"]["id"], original["message_id"])
    assert forwarded.forward_origin is not None and forwarded.forward_origin.date.timestamp() == original["date"]
    ids = await bot.copy_messages(group.id, original["chat"]["id"], [original["message_id"], 999])
    assert len(ids) == 1
    with pytest.raises(BadRequest, match="Message to copy not found"):
        await bot.copy_message(group.id, original["chat"]["id"], 999)


async def test_replies_both_ways(api: TelegramEmulator, bot: Bot) -> None:
    question = api.send_text("my key fails")
    answer = await bot.send_message(
        api.default_user.id, "which exchange?", reply_parameters=ReplyParameters(question["message_id"])
    )
    assert answer.reply_to_message is not None and answer.reply_to_message.text == "my key fails"
    reply = api.reply(answer.to_dict(), "binance")
    assert reply["reply_to_message"]["message_id"] == answer.message_id
    assert Message.de_json(reply, None).reply_to_message is not None  # type: ignore[arg-type]
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(api.default_user.id, "x", reply_parameters=ReplyParameters(999))


async def test_edits_by_user_and_bot(api: TelegramEmulator, bot: Bot) -> None:
    seen: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.edited_message is not None and update.edited_message.text is not None
        seen.append(update.edited_message.text)
        await update.edited_message.reply_text("edit seen")

    async with running_app(api, handlers=[MessageHandler(filters.UpdateType.EDITED_MESSAGE, record)]):
        api.edit_text(api.send_text("hello"), "KEY:SECRET")
        await api.next_action("sendMessage")
    assert seen == ["KEY:SECRET"]

    sent = await bot.send_message(api.default_user.id, "status", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("status", api.default_user.id, sent.message_id, reply_markup=KEYBOARD)
    edited = await bot.edit_message_reply_markup(api.default_user.id, sent.message_id)
    assert isinstance(edited, Message) and edited.reply_markup is None
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", api.default_user.id, 1)


async def test_html_errors_and_limits(api: TelegramEmulator, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"Can't parse entities: unsupported start tag \"html\" at byte offset 6"):
        await bot.send_message(api.default_user.id, "error <html> page", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(api.default_user.id, "x" * 4097)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
        await bot.send_message(api.default_user.id, "x", reply_markup=markup)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(42, "x")


def test_parse_html_entities_in_utf16() -> None:
    text, entities = parse_html('🔑 <b>bold <i>both</i></b> &lt;tag&gt; <a href="https://x.y/?a=1&amp;b=2">link</a>')
    assert text == "🔑 bold both <tag> link"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 19, "length": 4, "url": "https://x.y/?a=1&b=2"},
    ]
    assert parse_html('<pre><code class="language-json">{}</code></pre>')[1] == [
        {"type": "pre", "offset": 0, "length": 2, "language": "json"}
    ]
    for bad, error in [
        ("<b>open", 'end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'expected "</b>", found "</i>"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ('<span class="x">y</span>', 'must have class "tg-spoiler"'),
    ]:
        with pytest.raises(HtmlError, match=error):
            parse_html(bad)


async def test_files_multipart_and_json_bodies(api: TelegramEmulator, bot: Bot) -> None:
    photo = await bot.send_photo(api.default_user.id, InputFile(b"\x89PNG fake", filename="a.png"), caption="c")
    assert photo.caption == "c" and photo.photo[-1].file_size == 9
    document = await bot.send_document(
        api.default_user.id, b"KEY=x", filename="keys.txt", caption="<i>doc</i>", parse_mode="HTML"
    )
    assert document.document is not None and document.document.file_name == "keys.txt"
    assert document.caption == "doc" and document.caption_entities[0].type == "italic"
    async with httpx.AsyncClient(trust_env=False) as client:
        base = f"{api.base_url}{api.token}"
        answer = await client.post(f"{base}/sendMessage", json={"chat_id": str(api.default_user.id), "text": "42"})
        assert answer.json()["result"]["text"] == "42"
        assert api.calls[-1].params == {"chat_id": api.default_user.id, "text": "42"}
        missing = await client.get(f"{base}/noSuchMethod")
        assert (missing.status_code, missing.json()["description"]) == (404, "Not Found")
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_members_admins_and_chat_info(api: TelegramEmulator, bot: Bot) -> None:
    group = api.add_group(rights={"can_manage_topics": False})
    staff, stranger = api.add_user("Sam"), api.add_user("Eve")
    api.set_member(group, staff, "administrator")
    me = await bot.get_chat_member(group.id, api.bot.id)
    assert isinstance(me, ChatMemberAdministrator) and me.can_delete_messages and not me.can_manage_topics
    assert isinstance(await bot.get_chat_member(group.id, staff.id), ChatMemberAdministrator)
    assert isinstance(await bot.get_chat_member(group.id, stranger.id), ChatMemberLeft)
    with pytest.raises(BadRequest, match="User not found"):
        await bot.get_chat_member(group.id, 777)
    admins = await bot.get_chat_administrators(group.id)
    assert {a.user.id for a in admins} == {staff.id, api.bot.id}
    info = await bot.get_chat(group.id)
    assert isinstance(info, ChatFullInfo) and info.is_forum and info.title == "HuFi support"


async def test_commands_webhook_and_conflict(api: TelegramEmulator, bot: Bot) -> None:
    assert await bot.set_my_commands([("start", "Start"), ("status", "Health")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "status"]
    assert await bot.get_my_commands(language_code="de") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Bad-Command", "x")])
    assert await bot.set_webhook("https://example.invalid/hook")
    assert (await bot.get_webhook_info()).url == "https://example.invalid/hook"
    with pytest.raises(Exception, match="webhook is active"):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook()
    api.send_text("queued")
    assert [u.message.text for u in await bot.get_updates(timeout=0) if u.message] == ["queued"]


async def test_wrong_token_is_invalid_token(api: TelegramEmulator) -> None:
    requests = local_request(), local_request()
    builder = ApplicationBuilder().token("987654321:wrong-token-0000000000000000000000").base_url(api.base_url)
    app = builder.request(requests[0]).get_updates_request(requests[1]).build()
    with pytest.raises(InvalidToken, match="was rejected by the server"):
        await app.initialize()
    assert api.calls == []  # rejected before any method ran
    for request in requests:  # a failed initialize leaves the HTTP clients open
        await request.shutdown()


async def test_malformed_injection_fails_at_once(api: TelegramEmulator) -> None:
    bad: dict[str, Any] = {"message": {"message_id": 1, "date": 0, "chat": {"id": 1}, "text": "no chat type"}}
    with pytest.raises(ValueError, match="malformed update"):
        api.inject(bad)
    assert not api.pending
    with pytest.raises(ValueError, match="no topic"):
        api.send_text("x", chat=api.add_group(), thread=12345)


async def test_on_action_listener_and_wait_call(api: TelegramEmulator, bot: Bot) -> None:
    printed: list[str] = []
    api.on_action = lambda action: printed.append(str(action))
    await bot.send_message(api.default_user.id, "hello there")
    await bot.send_chat_action(api.default_user.id, "typing")  # not an action: no visible effect
    assert printed == [f"sendMessage(chat_id={api.default_user.id}) 'hello there'"]
    assert (await api.wait_call("sendChatAction")).params["action"] == "typing"
    with pytest.raises(AssertionError, match="no sendChatAction call #2"):
        await api.wait_call("sendChatAction", timeout=0.01, count=2)


async def test_second_poller_terminates_the_first_with_409(api: TelegramEmulator) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        url = f"{api.base_url}{api.token}/getUpdates"
        first = asyncio.create_task(client.post(url, data={"timeout": "5"}))
        await api.wait_call("getUpdates")
        second = await client.post(url, data={"timeout": "0"})
        assert second.json() == {"ok": True, "result": []}
        terminated = await asyncio.wait_for(first, 2)
    assert terminated.status_code == 409 and "terminated by other getUpdates" in terminated.json()["description"]
