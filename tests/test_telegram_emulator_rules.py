"""The emulator's Bot API rules, each driven through python-telegram-bot's real ``Bot`` and HTTP stack.

Every case checks the exception class PTB raises and the exact description the real server sends (the emulator
records it on the call; PTB capitalises its copy). Sources of the rules: ``bot/sandbox/telegram_methods.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, WebAppInfo
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.telegram_methods import NOT_MODIFIED, QUERY_TOO_OLD
from tests.telegram_harness import local_request

NOW = 1_800_000_000.0
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Check again", callback_data="check")]])


@pytest.fixture
async def api() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(clock=lambda: NOW) as api:  # a still clock: only advance() moves time
        yield api


@pytest.fixture
async def bot(api: TelegramEmulator) -> AsyncIterator[Bot]:
    async with Bot(
        api.token, base_url=api.base_url, request=local_request(), get_updates_request=local_request()
    ) as bot:
        yield bot


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22.8 warns when it builds a RetryAfter unless durations are opted in as timedelta."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


async def refused(
    api: TelegramEmulator, call: Awaitable[Any], error: type[TelegramError] = BadRequest
) -> tuple[TelegramError, str]:
    """Run a Bot call that must fail with ``error``; returns PTB's exception and the server's description."""
    with pytest.raises(error) as caught:
        await call
    recorded = api.calls[-1].error
    assert recorded is not None, f"{api.calls[-1].method} did not fail on the emulator"
    assert isinstance(caught.value, error)
    return caught.value, recorded.description


# --- callback queries ---------------------------------------------------------------------------------------


async def test_callback_query_can_be_answered_once_within_the_window(api: TelegramEmulator, bot: Bot) -> None:
    menu = await bot.send_message(api.default_user.id, "menu", reply_markup=KEYBOARD)
    query = api.press_button(menu.to_dict(), "check")
    api.advance(api.callback_answer_window - 1)
    assert await bot.answer_callback_query(query["id"], "Checking…")
    exc, text = await refused(api, bot.answer_callback_query(query["id"]))
    assert text == f"Bad Request: {QUERY_TOO_OLD}"
    assert str(exc) == "Query is too old and response timeout expired or query id is invalid"


async def test_answer_after_the_window_is_too_old(api: TelegramEmulator, bot: Bot) -> None:
    menu = await bot.send_message(api.default_user.id, "menu", reply_markup=KEYBOARD)
    query = api.press_button(menu.to_dict(), "check")
    api.advance(api.callback_answer_window + 0.5)
    _, text = await refused(api, bot.answer_callback_query(query["id"]))
    assert text == "Bad Request: query is too old and response timeout expired or query ID is invalid"


async def test_late_presses_and_expired_queries(api: TelegramEmulator, bot: Bot) -> None:
    menu = await bot.send_message(api.default_user.id, "menu", reply_markup=KEYBOARD)
    late = api.press_button(menu.to_dict(), "check", late=True)
    _, text = await refused(api, bot.answer_callback_query(late["id"]))
    assert text.endswith(QUERY_TOO_OLD)
    first, second = (api.press_button(menu.to_dict(), "check") for _ in range(2))
    assert api.expire_callback_queries() == 2
    for query in (first, second):
        await refused(api, bot.answer_callback_query(query["id"]))
    fresh = api.press_button(menu.to_dict(), "check")
    assert await bot.answer_callback_query(fresh["id"], "x" * 200)
    long_one = api.press_button(menu.to_dict(), "check")
    _, text = await refused(api, bot.answer_callback_query(long_one["id"], "x" * 201))
    assert text == "Bad Request: MESSAGE_TOO_LONG"


# --- copying ------------------------------------------------------------------------------------------------


async def test_service_messages_cant_be_copied(api: TelegramEmulator, bot: Bot) -> None:
    group = api.add_group()
    staff = api.add_user("Sam")
    api.set_member(group, staff, "administrator")
    topic = await bot.create_forum_topic(group.id, "Alice")
    thread = topic.message_thread_id
    note = api.send_text("staff note", staff, group, thread=thread)
    services = [
        group.topics[thread].created_message,
        api.pin_message(note, staff),
        api.rename_topic(group, thread, "Alice · mexc", staff),
        api.close_topic(group, thread, staff),
        api.reopen_topic(group, thread, staff),
        api.add_members(group, api.add_user("Newcomer")),
        api.inject_service(group, {"new_chat_title": "HuFi support desk"}, staff),
    ]
    for service in services:
        exc, text = await refused(api, bot.copy_message(api.default_user.id, group.id, service["message_id"]))
        assert text == "Bad Request: the message can't be copied" and str(exc) == "The message can't be copied"
    copied = await bot.copy_message(api.default_user.id, group.id, note["message_id"])
    assert api.transcript(api.default_user)[-1]["message_id"] == copied.message_id


async def test_copy_of_a_missing_message_and_copies_of_several(api: TelegramEmulator, bot: Bot) -> None:
    group = api.add_group()
    staff = api.add_user("Sam")
    api.set_member(group, staff, "administrator")
    _, text = await refused(api, bot.copy_message(api.default_user.id, group.id, 999))
    assert text == "Bad Request: message to copy not found"
    note = api.send_text("note", staff, group)
    pin = api.pin_message(note, staff)
    ids = await bot.copy_messages(api.default_user.id, group.id, [note["message_id"], pin["message_id"], 999])
    assert len(ids) == 1  # missing and service messages are skipped
    _, text = await refused(api, bot.copy_messages(api.default_user.id, group.id, [pin["message_id"], 999]))
    assert text == "Bad Request: messages can't be forwarded"


async def test_forwarding_protected_content_is_refused_but_copying_is_not(api: TelegramEmulator, bot: Bot) -> None:
    group = api.add_group(forum=False)
    secret = await bot.send_message(api.default_user.id, "masked key", protect_content=True)
    _, text = await refused(api, bot.forward_message(group.id, api.default_user.id, secret.message_id))
    assert text == "Bad Request: the message can't be forwarded"
    assert await bot.copy_message(group.id, api.default_user.id, secret.message_id)


# --- group upgraded to a supergroup -------------------------------------------------------------------------


async def test_writes_to_an_upgraded_group_raise_chat_migrated(api: TelegramEmulator, bot: Bot) -> None:
    old = api.add_group("Support", forum=False, supergroup=False)
    earlier = await bot.send_message(old.id, "before the upgrade")
    new = api.upgrade_group(old)
    assert new.type == "supergroup" and new.is_forum and new.id != old.id
    calls: list[Awaitable[Any]] = [
        bot.send_message(old.id, "hello"),
        bot.copy_message(old.id, api.default_user.id, api.send_text("hi")["message_id"]),
        bot.send_chat_action(old.id, "typing"),
        bot.delete_message(old.id, earlier.message_id),
        bot.get_chat_administrators(old.id),
    ]
    for call in calls:
        exc, text = await refused(api, call, ChatMigrated)
        assert isinstance(exc, ChatMigrated) and exc.new_chat_id == new.id
        assert text == "Bad Request: group chat was upgraded to a supergroup chat"
        assert api.calls[-1].error is not None and api.calls[-1].error.parameters == {"migrate_to_chat_id": new.id}
    assert (await bot.get_chat(old.id)).type == "group"  # reading the old chat still works
    assert await bot.edit_message_text("edited", old.id, earlier.message_id)
    moved = await bot.send_message(new.id, "in the new chat")
    assert moved.chat.id == new.id and moved.message_id == 2  # message 1 is migrate_from_chat_id
    topic = await bot.create_forum_topic(new.id, "Alice")
    assert topic.message_thread_id > 2


async def test_only_basic_groups_upgrade(api: TelegramEmulator) -> None:
    with pytest.raises(ValueError, match="basic group can't be a forum"):
        api.add_group(forum=True, supergroup=False)
    with pytest.raises(ValueError, match="not a basic group"):
        api.upgrade_group(api.add_group())
    old = api.add_group(forum=False, supergroup=False)
    api.upgrade_group(old)
    with pytest.raises(ValueError, match="was upgraded"):
        api.send_text("still here?", chat=old)


# --- deleting -----------------------------------------------------------------------------------------------


async def test_deleting_in_private_chats(api: TelegramEmulator, bot: Bot) -> None:
    user = api.default_user.id
    gone = api.send_text("KEY:SECRET")
    api.delete_by_user(gone)
    _, text = await refused(api, bot.delete_message(user, gone["message_id"]))
    assert text == "Bad Request: message to delete not found"
    old = api.send_text("old KEY:SECRET", date=api.now() - 48 * 3600 - 1)
    exc, text = await refused(api, bot.delete_message(user, old["message_id"]))
    assert text == "Bad Request: message can't be deleted for everyone"
    assert str(exc) == "Message can't be deleted for everyone"
    edge = api.send_text("exactly 48 h", date=api.now() - 48 * 3600)
    assert await bot.delete_message(user, edge["message_id"])
    own = await bot.send_message(user, "bot text")
    api.advance(48 * 3600 + 1)
    _, text = await refused(api, bot.delete_message(user, own.message_id))
    assert text == "Bad Request: message can't be deleted for everyone"
    chosen = api.send_text("another")
    api.fail_delete(chosen, "message can't be deleted")
    _, text = await refused(api, bot.delete_message(user, chosen["message_id"]))
    assert text == "Bad Request: message can't be deleted"
    assert await bot.delete_message(user, chosen["message_id"])  # times=1


async def test_deleting_in_supergroups(api: TelegramEmulator, bot: Bot) -> None:
    group = api.add_group(rights={"can_delete_messages": False})
    member = api.add_user("Eve")
    theirs = api.send_text("KEY:SECRET", member, group)
    _, text = await refused(api, bot.delete_message(group.id, theirs["message_id"]))
    assert text == "Bad Request: message can't be deleted"
    own = await bot.send_message(group.id, "bot text")
    assert await bot.delete_message(group.id, own.message_id)  # its own messages need no right
    topic = await bot.create_forum_topic(group.id, "Alice")
    _, text = await refused(api, bot.delete_message(group.id, topic.message_thread_id))
    assert text == "Bad Request: message can't be deleted"  # the topic's creation message
    api.set_bot_status(group, "administrator")
    assert await bot.delete_message(group.id, theirs["message_id"])
    old = api.send_text("old", member, group, date=api.now() - 48 * 3600)
    _, text = await refused(api, bot.delete_message(group.id, old["message_id"]))
    assert text == "Bad Request: message can't be deleted"  # supergroups: 48 h and older


async def test_deleting_in_basic_groups(api: TelegramEmulator, bot: Bot) -> None:
    group = api.add_group(forum=False, supergroup=False, bot_status="member")
    theirs = api.send_text("KEY:SECRET", api.add_user("Eve"), group)
    _, text = await refused(api, bot.delete_message(group.id, theirs["message_id"]))
    assert text == "Bad Request: message can't be deleted for everyone"
    api.set_bot_status(group, "administrator")
    assert await bot.delete_message(group.id, theirs["message_id"])
    api.set_bot_status(group, "left")
    _, text = await refused(api, bot.delete_message(group.id, 1), Forbidden)
    assert text == "Forbidden: bot is not a member of the group chat"


async def test_delete_messages_skips_missing_ids_but_fails_whole_on_one_refusal(
    api: TelegramEmulator, bot: Bot
) -> None:
    user = api.default_user.id
    first, second = api.send_text("one"), api.send_text("two")
    old = api.send_text("old", date=api.now() - 49 * 3600)
    _, text = await refused(api, bot.delete_messages(user, [first["message_id"], old["message_id"]]))
    assert text == "Bad Request: message can't be deleted for everyone"
    assert [m["message_id"] for m in api.transcript(user)] == [first["message_id"], second["message_id"], 3]
    assert await bot.delete_messages(user, [first["message_id"], second["message_id"], 999])
    assert api.deleted == [(user, first["message_id"]), (user, second["message_id"])]


# --- editing ------------------------------------------------------------------------------------------------


async def test_edit_errors(api: TelegramEmulator, bot: Bot) -> None:
    user = api.default_user.id
    sent = await bot.send_message(user, "<b>status</b>", parse_mode="HTML", reply_markup=KEYBOARD)
    exc, text = await refused(
        api, bot.edit_message_text("<b>status</b>", user, sent.message_id, parse_mode="HTML", reply_markup=KEYBOARD)
    )
    assert text == f"Bad Request: {NOT_MODIFIED}"
    assert text == (
        "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
        "as a current content and reply markup of the message"
    )
    assert str(exc).startswith("Message is not modified: specified new message content")
    assert await bot.edit_message_text("<i>status</i>", user, sent.message_id, parse_mode="HTML", reply_markup=KEYBOARD)
    _, text = await refused(api, bot.edit_message_text("", user, sent.message_id))
    assert text == "Bad Request: message text is empty"
    _, text = await refused(api, bot.edit_message_text(" \n ", user, sent.message_id))
    assert text == "Bad Request: text must be non-empty"
    _, text = await refused(api, bot.edit_message_text("x", user, 999))
    assert text == "Bad Request: message to edit not found"
    theirs = api.send_text("user text")
    _, text = await refused(api, bot.edit_message_text("x", user, theirs["message_id"]))
    assert text == "Bad Request: message can't be edited"
    photo = await bot.send_photo(user, InputFile(b"\x89PNG", filename="a.png"))
    _, text = await refused(api, bot.edit_message_text("x", user, photo.message_id))
    assert text == "Bad Request: there is no text in the message to edit"
    _, text = await refused(api, bot.edit_message_reply_markup(user, sent.message_id, reply_markup=KEYBOARD))
    assert text == f"Bad Request: {NOT_MODIFIED}"


# --- threads and topics -------------------------------------------------------------------------------------


async def test_message_thread_rules(api: TelegramEmulator, bot: Bot) -> None:
    _, text = await refused(api, bot.send_message(api.default_user.id, "x", message_thread_id=5))
    assert text == "Bad Request: message thread not found"
    forum = api.add_group()
    _, text = await refused(api, bot.send_message(forum.id, "x", message_thread_id=1))
    assert text == "Bad Request: message thread not found"  # General can't be named
    topic = await bot.create_forum_topic(forum.id, "Alice")
    assert await bot.delete_forum_topic(forum.id, topic.message_thread_id)
    _, text = await refused(api, bot.send_message(forum.id, "x", message_thread_id=topic.message_thread_id))
    assert text == "Bad Request: message thread not found"
    _, text = await refused(api, bot.close_forum_topic(forum.id, topic.message_thread_id))
    assert text == "Bad Request: TOPIC_ID_INVALID"
    plain = api.add_group(forum=False)
    sent = await bot.send_message(plain.id, "x", message_thread_id=77)  # outside forums the thread is ignored
    assert sent.message_thread_id is None


async def test_closed_topics_take_messages_from_their_creator_and_topic_managers(
    api: TelegramEmulator, bot: Bot
) -> None:
    group = api.add_group(rights={"can_manage_topics": False})
    staff = api.add_user("Sam")
    api.set_member(group, staff, "administrator")
    staff_topic = api.create_topic(group, "made by staff", staff)
    api.close_topic(group, staff_topic, staff)
    exc, text = await refused(api, bot.send_message(group.id, "x", message_thread_id=staff_topic))
    assert text == "Bad Request: TOPIC_CLOSED" and str(exc) == "Topic_closed"
    note = api.send_text("staff still write", staff, group, thread=staff_topic)
    _, text = await refused(
        api, bot.copy_message(group.id, group.id, note["message_id"], message_thread_id=staff_topic)
    )
    assert text == "Bad Request: TOPIC_CLOSED"
    api.set_bot_status(group, "administrator", rights={"can_manage_topics": True})
    assert await bot.send_message(group.id, "as a topic manager", message_thread_id=staff_topic)
    with pytest.raises(ValueError, match="closed"):
        api.send_text("a member can't", api.add_user("Eve"), group, thread=staff_topic)


async def test_topic_rights_and_names(api: TelegramEmulator, bot: Bot) -> None:
    group = api.add_group()
    long_name = "Ticket " + "é" * 150
    topic = await bot.create_forum_topic(group.id, long_name)
    assert topic.name == long_name[:128] and len(topic.name) == 128  # cut, not refused
    spaced = await bot.create_forum_topic(group.id, "  Alice \n\n  mexc  ")
    assert spaced.name == "Alice mexc"
    _, text = await refused(api, bot.create_forum_topic(group.id, " \n "))
    assert text == "Bad Request: name must be non-empty"
    assert await bot.edit_forum_topic(group.id, topic.message_thread_id, name="x" * 300)
    assert group.topics[topic.message_thread_id].name == "x" * 128

    api.set_bot_status(group, "administrator", rights={"can_manage_topics": False, "can_delete_messages": False})
    staff_topic = api.create_topic(group, "made by staff")
    for call, refusal in [
        (bot.edit_forum_topic(group.id, staff_topic, name="y"), "not enough rights to edit the topic"),
        (bot.close_forum_topic(group.id, staff_topic), "not enough rights to close or open the topic"),
        (bot.delete_forum_topic(group.id, staff_topic), "not enough rights to delete the topic"),
        (bot.create_forum_topic(group.id, "z"), "not enough rights to create a topic"),
    ]:
        _, text = await refused(api, call)
        assert text == f"Bad Request: {refusal}"
    own = topic.message_thread_id  # the bot's own topics need no rights
    assert await bot.close_forum_topic(group.id, own)
    assert await bot.send_message(group.id, "closed, but mine", message_thread_id=own)
    _, text = await refused(api, bot.close_forum_topic(group.id, own))
    assert text == "Bad Request: TOPIC_NOT_MODIFIED"
    assert await bot.delete_forum_topic(group.id, own)
    _, text = await refused(api, bot.close_forum_topic(group.id, 0))
    assert text == "Bad Request: invalid forum topic identifier specified"


# --- texts --------------------------------------------------------------------------------------------------


async def test_length_is_counted_in_characters_after_parsing(api: TelegramEmulator, bot: Bot) -> None:
    user = api.default_user.id
    keys = "🔑" * 4096  # 4096 characters, 8192 UTF-16 code units
    assert (await bot.send_message(user, keys)).text == keys
    _, text = await refused(api, bot.send_message(user, keys + "🔑"))
    assert text == "Bad Request: message is too long"
    tagged = "<b>" + "x" * 4096 + "</b>"  # the tags don't count
    assert len((await bot.send_message(user, tagged, parse_mode="HTML")).text or "") == 4096
    padded = "x" * 4096 + " \n \n"  # trailing spaces and newlines are cut before counting
    assert (await bot.send_message(user, padded)).text == "x" * 4096
    _, text = await refused(api, bot.send_message(user, "é" * 16385))
    assert text == "Bad Request: text is too long"  # over 32768 bytes before parsing
    _, text = await refused(api, bot.send_message(user, ""))
    assert text == "Bad Request: message text is empty"
    _, text = await refused(api, bot.send_message(user, "<b> </b>\n", parse_mode="HTML"))
    assert text == "Bad Request: text must be non-empty"
    photo = InputFile(b"\x89PNG", filename="a.png")
    assert (await bot.send_photo(user, photo, caption="🔑" * 1024)).caption == "🔑" * 1024
    _, text = await refused(api, bot.send_photo(user, photo, caption="🔑" * 1025))
    assert text == "Bad Request: message caption is too long"
    cleaned = await bot.send_message(user, "line\r\nnext\x07end")
    assert cleaned.text == "line\nnext end"


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("HuFi Support <support@hu.finance>", 'Unsupported start tag "support@hu.finance" at byte offset 13'),
        ("é <html>", 'Unsupported start tag "html" at byte offset 3'),
        ("line<br/>", 'Unsupported start tag "br/" at byte offset 4'),
        ("<a href=https://hu.finance>site</a>", "Unexpected end of name token at byte offset 8"),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("</b>", "Unexpected end tag at byte offset 0"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ('<a href="x', "Unclosed start tag at byte offset 0"),
        ("<b ", 'Empty attribute name in the tag "b" at byte offset 0'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<tg-emoji emoji-id="x">👍</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
async def test_html_errors_name_the_byte_offset(api: TelegramEmulator, bot: Bot, html: str, error: str) -> None:
    exc, text = await refused(api, bot.send_message(api.default_user.id, html, parse_mode="HTML"))
    assert text == f"Bad Request: can't parse entities: {error}"
    assert str(exc).startswith("Can't parse entities")


async def test_html_that_telegram_accepts(api: TelegramEmulator, bot: Bot) -> None:
    sent = await bot.send_message(
        api.default_user.id,
        "<B>a</>&lt;b&gt &amp &#128273; <a href=hu.finance>site</a> <span class=tg-spoiler>s</span> "
        '<blockquote expandable>q</blockquote> <pre><code class="language-py">x</code></pre> '
        "<tg-time unix=1>t</tg-time>",
        parse_mode="HTML",
    )
    assert sent.text == "a<b> & 🔑 site s q x t"
    kinds = [(e.type, e.offset, e.length) for e in sent.entities]
    assert kinds == [
        ("bold", 0, 1),
        ("text_link", 10, 4),  # 🔑 is two UTF-16 code units
        ("spoiler", 15, 1),
        ("expandable_blockquote", 17, 1),
        ("pre", 19, 1),
    ]
    assert sent.entities[1].url == "http://hu.finance" and sent.entities[4].language == "py"
    _, text = await refused(api, bot.send_message(api.default_user.id, "x", parse_mode="Textile"))
    assert text == "Bad Request: unsupported parse_mode"


# --- flood budgets ------------------------------------------------------------------------------------------


async def test_group_budget_is_twenty_a_minute_on_the_emulator_clock(api: TelegramEmulator, bot: Bot) -> None:
    group = api.add_group()
    topic = await bot.create_forum_topic(group.id, "Alice")
    for n in range(20):
        thread = topic.message_thread_id if n % 2 else None  # all topics share the group's budget
        await bot.send_message(group.id, f"card {n}", message_thread_id=thread)
        api.advance(1)
    exc, text = await refused(api, bot.send_message(group.id, "one too many"), RetryAfter)
    assert isinstance(exc, RetryAfter) and exc.retry_after == dt.timedelta(seconds=40)
    assert text == "Too Many Requests: retry after 40"
    assert api.calls[-1].error is not None and api.calls[-1].error.parameters == {"retry_after": 40}
    await refused(api, bot.copy_message(group.id, api.default_user.id, api.send_text("hi")["message_id"]), RetryAfter)
    assert await bot.send_message(api.default_user.id, "private chats have their own budget")
    api.advance(40)
    assert await bot.send_message(group.id, "the oldest message left the window")


async def test_private_budget_and_switching_budgets_off(api: TelegramEmulator, bot: Bot) -> None:
    user = api.default_user.id
    for n in range(30):
        await bot.send_message(user, f"burst {n}")
    exc, text = await refused(api, bot.send_message(user, "31st"), RetryAfter)
    assert text == "Too Many Requests: retry after 30"
    other = api.add_user("Carol")
    assert await bot.send_message(other.id, "another chat, another budget")
    api.private_rate = None  # explicit per test: this one is not about the budget
    assert await bot.send_message(user, "unlimited now")
    group = api.add_group()
    api.group_rate = (2, 10.0)
    await bot.send_message(group.id, "1")
    await bot.send_message(group.id, "2")
    exc, _ = await refused(api, bot.send_message(group.id, "3"), RetryAfter)
    assert isinstance(exc, RetryAfter) and exc.retry_after == dt.timedelta(seconds=10)


async def test_web_app_buttons_need_https_and_a_private_chat(api: TelegramEmulator) -> None:
    """The real server refuses an http:// Web App URL, and any Web App button outside a private chat."""

    def markup(url: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("Open", web_app=WebAppInfo(url))]])

    user = api.default_user
    group = api.add_group("team")
    async with Bot(api.token, base_url=api.base_url, request=local_request()) as bot:
        with pytest.raises(BadRequest, match=r"(?i)only https links are allowed"):
            await bot.send_message(user.id, "form", reply_markup=markup("http://127.0.0.1:8081/webapp/key/mexc"))
        with pytest.raises(BadRequest, match=r"(?i)button_type_invalid"):
            await bot.send_message(group.id, "form", reply_markup=markup("https://bot.example.org/webapp/key/mexc"))
        sent = await bot.send_message(user.id, "form", reply_markup=markup("https://bot.example.org/webapp/key/mexc"))
        with pytest.raises(BadRequest, match=r"(?i)only https links are allowed"):
            await bot.edit_message_reply_markup(user.id, sent.message_id, reply_markup=markup("http://x.example"))
        api.allow_http_web_app = True  # the offline demo's page
        await bot.send_message(user.id, "form", reply_markup=markup("http://127.0.0.1:8081/webapp/key/mexc"))
