"""The Bot API methods of the emulator: state (users, chats, topics, pending updates) and Telegram's rules.

``BotApiState`` is transport-free: every method takes the decoded parameters and returns the ``result`` or
raises ``ApiError`` with the description the real server uses. ``telegram_api.TelegramEmulator`` serves it over
HTTP. Each rule names its source line in ``tdlib/telegram-bot-api`` (``Client.cpp``) or tdlib (``td/...``), at the
commits given in ``telegram_model``; the checks run in the server's order: the Bot API server's own argument and
chat checks first (Client.cpp), then tdlib's local checks, then what Telegram's servers answer.

How the server words an error: tdlib's message gets "Bad Request: " and its first letter in lower case, unless its
second character is "_" or a capital (then it is an MTProto code such as ``TOPIC_CLOSED``), Client.cpp:187-203.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from bot.sandbox.telegram_model import (
    ADMIN_RIGHTS,
    CAPTION_LIMIT,
    JSON,
    RAW_TEXT_LIMIT,
    TEXT_LIMIT,
    TOPIC_NAME_LIMIT,
    ApiError,
    Chat,
    HtmlError,
    Topic,
    User,
    bad_request,
    clean_formatted,
    parse_html,
    text_length,
)

#: Bots may delete (and revoke) messages for 48 hours: td/telegram/MessagesManager.cpp:8165 (supergroups:
#: "bots can't delete messages older than 2 days") and :8239 (private chats and basic groups, revoke limit).
DELETE_WINDOW = 2 * 86400
#: What getUpdates delivers when allowed_updates was never set: every type but chat_member and reactions.
DEFAULT_UPDATES = frozenset(
    "message edited_message channel_post edited_channel_post business_connection business_message "
    "edited_business_message deleted_business_messages inline_query chosen_inline_result callback_query "
    "shipping_query pre_checkout_query purchased_paid_media poll poll_answer my_chat_member chat_join_request "
    "chat_boost removed_chat_boost".split()
)
#: Message fields that are content (copied by copyMessage); the others are metadata or service content.
CONTENT_KEYS = (
    "text entities caption caption_entities photo document sticker voice video audio animation video_note contact "
    "location venue poll dice".split()
)
#: A message is copyable only with one of these: service messages (pins, topic created/edited/closed/reopened,
#: members joined or left, migrations, ...) are not (td/telegram/MessageContent.cpp:6190 with
#: is_service_message_content, td/telegram/MessageContentType.cpp:570); invoices, giveaways and paid media
#: neither (MessageContent.cpp:6180).
COPYABLE_KEYS = frozenset(
    "text photo document sticker voice video audio animation video_note contact location venue poll dice".split()
)
TOPIC_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)
#: Client.cpp:108-111 turns MTProto's MESSAGE_NOT_MODIFIED into this.
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)
#: Client.cpp:146-148 turns QUERY_ID_INVALID into this.
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
#: How long a callback query can be answered after the press. Telegram does not publish it; measured at about
#: 15 s (https://gist.github.com/d-Rickyy-b/f789c75228bf00f572eec4450ed0d7c9).
CALLBACK_ANSWER_WINDOW = 15.0
#: Bot messages per chat and window (seconds) before 429 "Too Many Requests: retry after N". Telegram's Bot FAQ
#: (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): "not more than 20
#: messages per minute to the same group"; in one chat "avoid sending more than one message per second. We may
#: allow short bursts that go over this limit": the burst size is not published, 30 is our assumption.
GROUP_RATE = (20, 60.0)
PRIVATE_RATE = (30, 30.0)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_EMPTY_SPACES = re.compile("[\u1680\u180e\u2000-\u200a\u202f\u205f\u2800\u3000\ufffc]")
_NAME_SPACES = re.compile("[ \n\u00a0]+")
_TRIM = " \t\r\n\v\0"


def is_service(message: JSON) -> bool:
    """True for a service message (no copyable content): pins, topic events, member changes, migrations."""
    return not COPYABLE_KEYS & message.keys()


def clean_topic_name(name: str) -> str:
    """A topic name as tdlib sends it: Unicode spaces become spaces, the name is trimmed and cut to 128
    characters, then runs of spaces and newlines become one space (td/telegram/misc.cpp:163
    strip_empty_characters, :24 clean_name)."""
    name = _EMPTY_SPACES.sub(" ", name).strip(_TRIM)[:TOPIC_NAME_LIMIT].strip(_TRIM)
    return _NAME_SPACES.sub(" ", name).strip(_TRIM)


class BotApiState:
    """Users, chats and pending updates, and the Bot API methods that act on them.

    Bot API method ``fooBar`` is implemented by ``api_foo_bar(params)``; the prefix keeps the methods apart from
    the emulator's own helpers (``TelegramEmulator.send_photo`` is a *user* sending a photo).
    """

    def __init__(
        self,
        token: str,
        *,
        bot_name: str,
        bot_username: str,
        group_rate: tuple[int, float] | None,
        private_rate: tuple[int, float] | None,
        callback_answer_window: float,
        clock: Callable[[], float],
    ) -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.bot = User(bot_id, bot_name, username=bot_username, language_code=None, is_bot=True)
        #: Max bot messages per group and window in seconds (all topics share it); None: no limit.
        self.group_rate = group_rate
        #: Max bot messages per private chat and window in seconds; None: no limit.
        self.private_rate = private_rate
        #: Seconds after a button press in which answerCallbackQuery still succeeds.
        self.callback_answer_window = callback_answer_window
        #: The real server takes only https:// Web App URLs; the offline demo serves its Mini App page on
        #: http://127.0.0.1 and turns this on (a difference the module docstring lists).
        self.allow_http_web_app = False
        #: Wall clock in seconds; the emulator's time is ``clock() + clock_offset`` (see ``advance``).
        self.clock = clock
        self.clock_offset = 0.0
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.deleted: list[tuple[int, int]] = []
        self.webhook_url = ""
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.pending: deque[JSON] = deque()
        self._update_ids = itertools.count(1)
        self._updates_ready = asyncio.Event()
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATES
        self._poll_generation = 0
        self._closing = False
        self._open_queries: dict[str, float] = {}  # callback query id -> time of the press
        self._undeletable: set[tuple[int, int]] = set()
        self._file_ids = itertools.count(1)

    # --- time ----------------------------------------------------------------------------------------------

    def time(self) -> float:
        """The emulator's time in seconds: message dates, the 48 h delete window, the answer window, budgets."""
        return self.clock() + self.clock_offset

    def now(self) -> int:
        """The current Unix time as the Bot API dates messages."""
        return int(self.time())

    def advance(self, seconds: float) -> None:
        """Move the emulator's time forward (budgets refill, callback queries and messages age); the bot's own
        clock is not touched."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.clock_offset += seconds

    # --- lookups and shared rules --------------------------------------------------------------------------

    def _chat(self, p: JSON, key: str = "chat_id") -> Chat:
        value = p.get(key)
        if value is None or value == "":
            raise bad_request(f"{key} is empty")  # Client.cpp:8201
        if isinstance(value, str) and value.startswith("@"):
            found = next((c for c in self.chats.values() if c.username == value[1:]), None)
            if found is not None and found.type not in ("supergroup", "channel"):
                found = None  # only public supergroups and channels are found by username (Client.cpp:6585)
        else:
            found = self.chats.get(value) if isinstance(value, int) else None
        if found is None:
            raise bad_request("chat not found")  # Client.cpp:6571
        return found

    def _access(self, p: JSON, need: str, key: str = "chat_id") -> Chat:
        """The chat, if the bot has ``need`` access: read, members, edit or write (Client.cpp:8125
        check_chat_access, with the server's USER_IS_BLOCKED for private chats, Client.cpp:125)."""
        chat = self._chat(p, key)
        writes = need in ("edit", "write")
        if chat.type == "private":
            if chat.blocked and writes:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
        elif chat.type == "group":
            if chat.migrated_to is not None:
                if need in ("write", "members"):
                    raise ApiError(
                        400,
                        "Bad Request: group chat was upgraded to a supergroup chat",
                        {"migrate_to_chat_id": chat.migrated_to},
                    )
            elif writes and chat.bot_status in ("left", "kicked"):
                verb = "was kicked from" if chat.bot_status == "kicked" else "is not a member of"
                raise ApiError(403, f"Forbidden: bot {verb} the group chat")
        else:
            kind = "supergroup" if chat.type == "supergroup" else "channel"
            if chat.bot_status == "kicked":
                raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
            if chat.bot_status == "left" and (writes or not chat.username):
                raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        return chat

    def _message(self, chat: Chat, message_id: Any, missing: str) -> JSON:
        message = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if message is None:
            raise bad_request(missing)
        return message

    def _topic_for_send(self, chat: Chat, thread_id: Any) -> Topic | None:
        """The topic a send goes to (Client.cpp:8256 check_message_topic): in private chats the thread is looked
        up (this bot has no topics there), in forums it must exist and not be General (id 1); elsewhere the
        parameter is ignored."""
        if not isinstance(thread_id, int) or thread_id <= 0:
            return None
        if chat.type == "private":
            raise bad_request("message thread not found")  # Client.cpp:6818 (getForumTopic fails)
        if chat.type != "supergroup" or not chat.is_forum:
            return None
        topic = chat.topics.get(thread_id)
        if topic is None or topic.deleted:
            raise bad_request("message thread not found")  # Client.cpp:8277 (General), :6818
        return topic

    @staticmethod
    def _closed_for_bot(chat: Chat, topic: Topic) -> bool:
        """A closed topic takes messages only from its creator and administrators who may manage topics
        (td/telegram/ForumTopicManager.cpp:1250)."""
        return topic.closed and not topic.created_by_bot and not chat.bot_can("can_manage_topics")

    def _reply_target(self, chat: Chat, p: JSON) -> JSON | None:
        rp = p.get("reply_parameters")
        if rp is None and p.get("reply_to_message_id") is not None:
            rp = {"message_id": p["reply_to_message_id"]}
        if not isinstance(rp, dict):
            return None
        target = chat.messages.get(rp.get("message_id"))
        if target is None and not rp.get("allow_sending_without_reply", p.get("allow_sending_without_reply")):
            raise bad_request("message to be replied not found")  # Client.cpp:8516
        return target

    def _rate_of(self, chat: Chat) -> tuple[int, float] | None:
        if chat.is_group:
            return self.group_rate
        return self.private_rate if chat.type == "private" else None

    def _check_budget(self, chat: Chat) -> None:
        rate = self._rate_of(chat)
        if rate is None:
            return
        limit, window = rate
        now, times = self.time(), chat.sent_times
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) >= limit:
            wait = max(1, math.ceil(times[0] + window - now))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})  # Query.cpp:105

    def _parse(self, p: JSON, key: str, entities_key: str, *, required: bool) -> tuple[str, list[JSON]]:
        """The Bot API server's part: presence, raw size, parse mode (Client.cpp:11398, :11308)."""
        raw = p.get(key)
        text = "" if raw is None else str(raw)
        if required and not text:
            raise bad_request("message text is empty")  # Client.cpp:11401
        if len(text.encode("utf-8", "surrogatepass")) > RAW_TEXT_LIMIT:
            raise bad_request("text is too long")  # Client.cpp:11310
        entities = p.get(entities_key) or []
        mode = str(p.get("parse_mode") or "").lower()
        if not text or mode in ("", "none"):
            return text, list(entities)
        if mode == "html":
            try:
                return parse_html(text)
            except HtmlError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None  # td/.../SynchronousRequests.cpp:180
        if mode in ("markdown", "markdownv2"):
            return text, list(entities)  # not parsed by the emulator (see the list of differences)
        raise bad_request("unsupported parse_mode")  # Client.cpp:11323

    @staticmethod
    def _text_content(text: str, entities: list[JSON]) -> JSON:
        """tdlib's part for a text: clean-up, non-empty, at most 4096 characters (MessageEntity.cpp:4698,
        MessageContent.cpp:4665)."""
        text, entities = clean_formatted(text, entities)
        if not text:
            raise bad_request("text must be non-empty")
        if text_length(text) > TEXT_LIMIT:
            raise bad_request("message is too long")
        return {"text": text, "entities": entities} if entities else {"text": text}

    @staticmethod
    def _caption_content(caption: str, entities: list[JSON]) -> JSON:
        """tdlib's part for a caption: clean-up, may be empty, at most 1024 characters (MessageContent.cpp:5101)."""
        caption, entities = clean_formatted(caption, entities)
        if text_length(caption) > CAPTION_LIMIT:
            raise bad_request("message caption is too long")
        content: JSON = {"caption": caption} if caption else {}
        if caption and entities:
            content["caption_entities"] = entities
        return content

    def _inline_markup(self, p: JSON, chat: Chat | None = None) -> JSON | None:
        markup = p.get("reply_markup")
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return None  # reply keyboards are not part of the returned Message
        for row in markup["inline_keyboard"]:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
                if "web_app" in button:
                    self._check_web_app(button, chat)
        return markup

    def _check_web_app(self, button: JSON, chat: Chat | None) -> None:
        """Web App buttons: an https:// URL (Client.cpp get_inline_keyboard_button: "Only HTTPS links are
        allowed"), and only in private chats (tdlib refuses them elsewhere with BUTTON_TYPE_INVALID)."""
        url = str((button.get("web_app") or {}).get("url") or "")
        secure = url.startswith("https://") or (self.allow_http_web_app and url.startswith("http://127.0.0.1"))
        if not secure:
            raise bad_request(f"inline keyboard button Web App URL '{url}' is invalid: Only HTTPS links are allowed")
        if chat is not None and chat.type != "private":
            raise bad_request("BUTTON_TYPE_INVALID")

    def store_message(
        self,
        chat: Chat,
        content: JSON,
        *,
        sender: JSON,
        topic: Topic | None = None,
        reply_to: JSON | None = None,
        date: int | None = None,
        extra: JSON | None = None,
    ) -> JSON:
        """Add a message to the chat's transcript with the chat's next message id, and return it.

        ``extra`` holds metadata fields such as ``sender_chat``, ``author_signature`` or ``forward_origin``.
        """
        if topic is None and reply_to is not None and reply_to.get("is_topic_message"):
            topic = chat.topics.get(reply_to["message_thread_id"])
        message: JSON = {
            "message_id": chat.next_message_id(),
            "from": sender,
            **(extra or {}),
            "chat": chat.to_dict(),
            "date": self.now() if date is None else date,
        }
        if topic is not None:
            message["message_thread_id"] = topic.thread_id
            message["is_topic_message"] = True
            topic.message_ids.append(message["message_id"])
            reply_to = reply_to or (topic.created_message if not is_service(content) else None)
        if reply_to is not None:
            message["reply_to_message"] = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
        message.update(content)
        chat.messages[message["message_id"]] = message
        return message

    def _bot_post(self, p: JSON, make_content: Callable[[], JSON], chat: Chat | None = None) -> JSON:
        """Send as the bot: chat, topic and reply checks, then the content (tdlib's checks), then what the
        server refuses (closed topic, flood budget)."""
        chat = chat or self._access(p, "write")
        topic = self._topic_for_send(chat, p.get("message_thread_id"))
        reply_to = self._reply_target(chat, p)
        if topic is None and reply_to is not None and reply_to.get("is_topic_message"):
            topic = chat.topics.get(reply_to["message_thread_id"])
        content = make_content()
        if topic is not None and self._closed_for_bot(chat, topic):
            raise bad_request("TOPIC_CLOSED")
        self._check_budget(chat)
        if (markup := self._inline_markup(p, chat)) is not None:
            content = {**content, "reply_markup": markup}
        if p.get("protect_content"):
            content = {**content, "has_protected_content": True}
        message = self.store_message(chat, content, sender=self.bot.to_dict(), topic=topic, reply_to=reply_to)
        if self._rate_of(chat) is not None:
            chat.sent_times.append(self.time())
        return message

    def _file(self, value: Any, kind: str) -> JSON:
        if isinstance(value, str) and not value.startswith(("http://", "https://", "attach://")):
            file_id = value
        else:
            file_id = f"{kind}-{next(self._file_ids)}"
        size = value.get("size", 1024) if isinstance(value, dict) else 1024
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size}

    # --- updates and bot-level methods ---------------------------------------------------------------------

    def enqueue(self, update: JSON) -> None:
        """Queue an update (already numbered and validated) for getUpdates, and wake a waiting long poll."""
        self.pending.append(update)
        self._updates_ready.set()

    def _confirm(self, offset: Any) -> None:
        if not isinstance(offset, int) or offset == 0:
            return
        if offset < 0:
            while len(self.pending) > -offset:
                self.pending.popleft()
            return
        while self.pending and self.pending[0]["update_id"] < offset:
            self.pending.popleft()

    def _batch(self, limit: int) -> list[JSON]:
        allowed = self._allowed_updates
        if any(not allowed & u.keys() for u in itertools.islice(self.pending, limit)):
            self.pending = deque(u for u in self.pending if allowed & u.keys())  # Telegram drops them
        return list(itertools.islice(self.pending, limit))

    async def api_get_updates(self, p: JSON) -> list[JSON]:
        """Long poll: pending updates after ``offset``; waits up to ``timeout`` s for one to arrive."""
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in p:
            self._allowed_updates = frozenset(p["allowed_updates"] or ()) or DEFAULT_UPDATES
        self._confirm(p.get("offset"))
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        timeout = float(p.get("timeout") or 0)
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_ready.set()  # an older long poll still waiting is terminated with 409
        deadline = time.monotonic() + timeout
        while True:
            batch = self._batch(limit)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing:
                return batch
            self._updates_ready.clear()
            try:
                await asyncio.wait_for(self._updates_ready.wait(), remaining)
            except TimeoutError:
                return []
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )

    def api_get_me(self, p: JSON) -> JSON:
        flags = "can_read_all_group_messages supports_inline_queries can_connect_to_business has_main_web_app"
        return {**self.bot.to_dict(), "can_join_groups": True, **dict.fromkeys(flags.split(), False)}

    def api_set_webhook(self, p: JSON) -> bool:
        self.webhook_url = str(p.get("url") or "")
        if p.get("drop_pending_updates"):
            self.pending.clear()
        return True

    def api_delete_webhook(self, p: JSON) -> bool:
        return self.api_set_webhook({"url": "", "drop_pending_updates": p.get("drop_pending_updates")})

    def api_get_webhook_info(self, p: JSON) -> JSON:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": len(self.pending)}

    def api_close(self, p: JSON) -> bool:
        return True

    def api_log_out(self, p: JSON) -> bool:
        return True

    @staticmethod
    def _commands_key(p: JSON) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(p.get("language_code") or "")

    def api_set_my_commands(self, p: JSON) -> bool:
        commands = p.get("commands") or []
        for command in commands:
            if not _COMMAND_RE.match(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(p)] = list(commands)
        return True

    def api_get_my_commands(self, p: JSON) -> list[JSON]:
        return self.commands.get(self._commands_key(p), [])

    def api_delete_my_commands(self, p: JSON) -> bool:
        self.commands.pop(self._commands_key(p), None)
        return True

    # --- chats and members ---------------------------------------------------------------------------------

    def member_dict(self, chat: Chat, user: User) -> JSON:
        """The ``ChatMember`` object for a user (or the bot) in a chat."""
        if user.id == self.bot.id:
            status, rights = chat.bot_status, {**ADMIN_RIGHTS, **chat.bot_rights}
        else:
            status = "member" if chat.type == "private" else chat.members.get(user.id, "left")
            rights = {**ADMIN_RIGHTS, "can_promote_members": True}
        data: JSON = {"status": status, "user": user.to_dict()}
        anonymous = user.id in chat.anonymous_admins
        if status == "administrator":
            data.update({"can_be_edited": False, "is_anonymous": anonymous, **rights})
        elif status == "creator":
            data["is_anonymous"] = anonymous
        elif status == "kicked":
            data["until_date"] = 0
        return data

    def api_get_chat(self, p: JSON) -> JSON:
        chat = self._access(p, "read")
        return {
            **chat.to_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def api_get_chat_member(self, p: JSON) -> JSON:
        user_id = p.get("user_id")
        chat = self._access(p, "read" if user_id == self.bot.id else "members")  # Client.cpp process_get_chat_member
        user = self.bot if user_id == self.bot.id else self.users.get(user_id)  # type: ignore[arg-type]
        if user is None:
            raise bad_request("user not found")
        return self.member_dict(chat, user)

    def api_get_chat_administrators(self, p: JSON) -> list[JSON]:
        chat = self._access(p, "members")
        admins = [self.users[uid] for uid, s in chat.members.items() if s in ("creator", "administrator")]
        if chat.bot_status == "administrator":
            admins.append(self.bot)
        return [self.member_dict(chat, user) for user in admins]

    # --- messages ------------------------------------------------------------------------------------------

    def api_send_message(self, p: JSON) -> JSON:
        text, entities = self._parse(p, "text", "entities", required=True)
        return self._bot_post(p, lambda: self._text_content(text, entities))

    def api_send_photo(self, p: JSON) -> JSON:
        if p.get("photo") in (None, ""):
            raise bad_request("there is no photo in the request")
        caption, entities = self._parse(p, "caption", "caption_entities", required=False)
        big = self._file(p["photo"], "photo")
        small = {**big, "file_id": big["file_id"] + "-s", "file_unique_id": big["file_unique_id"] + "-s"}
        sizes = [{**small, "width": 90, "height": 90}, {**big, "width": 800, "height": 800}]
        return self._bot_post(p, lambda: {"photo": sizes, **self._caption_content(caption, entities)})

    def api_send_document(self, p: JSON) -> JSON:
        value = p.get("document")
        if value in (None, ""):
            raise bad_request("there is no document in the request")
        caption, entities = self._parse(p, "caption", "caption_entities", required=False)
        document = self._file(value, "document")
        if isinstance(value, dict):
            document.update(file_name=value.get("file_name"), mime_type=value.get("mime_type"))
        document = {k: v for k, v in document.items() if v is not None}
        return self._bot_post(p, lambda: {"document": document, **self._caption_content(caption, entities)})

    def api_send_chat_action(self, p: JSON) -> bool:
        self._access(p, "write")
        return True

    def _editable(self, p: JSON) -> tuple[Chat, JSON]:
        """The message to edit: found (Client.cpp:13541), the bot's own and not forwarded (MessagesManager.cpp:22833
        can_edit_message: no time limit for a bot's own messages)."""
        if p.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._access(p, "edit")
        message = self._message(chat, p.get("message_id"), "message to edit not found")
        own = message["from"].get("id") == self.bot.id and "sender_chat" not in message
        if not own or "forward_origin" in message or is_service(message):
            raise bad_request("message can't be edited")
        return chat, message

    def _apply_edit(self, message: JSON, changes: JSON, markup: JSON | None) -> JSON:
        before = {k: message.get(k) for k in (*changes, "reply_markup")}
        after = {**changes, "reply_markup": markup}
        if before == after:
            raise bad_request(NOT_MODIFIED)
        for key, value in after.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = self.now()
        return message

    def api_edit_message_text(self, p: JSON) -> JSON:
        text, entities = self._parse(p, "text", "entities", required=True)
        markup = self._inline_markup(p)  # Client.cpp parses the markup before the message is looked up
        chat, message = self._editable(p)
        self._inline_markup(p, chat)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")  # MessagesManager.cpp:23156
        content = self._text_content(text, entities)
        changes = {"text": content["text"], "entities": content.get("entities")}
        return self._apply_edit(message, changes, markup)

    def api_edit_message_reply_markup(self, p: JSON) -> JSON:
        markup = self._inline_markup(p)
        chat, message = self._editable(p)
        self._inline_markup(p, chat)
        return self._apply_edit(message, {}, markup)

    def _deletion_refused(self, chat: Chat, message: JSON) -> str | None:
        """Why tdlib refuses to delete this message for everyone, or None (MessagesManager.cpp:8148
        can_delete_channel_message, :8221 can_revoke_message, :8313 delete_messages)."""
        if (chat.id, message["message_id"]) in self._undeletable:
            return "message can't be deleted"
        age = self.now() - message["date"]
        own = message["from"].get("id") == self.bot.id and "sender_chat" not in message
        if chat.type in ("supergroup", "channel"):
            if age >= DELETE_WINDOW:
                return "message can't be deleted"  # bots can't delete messages older than 2 days
            if message["message_id"] == 1 or {"forum_topic_created", "migrate_from_chat_id"} & message.keys():
                return "message can't be deleted"  # the first message, ChannelMigrateFrom, TopicCreate
            if chat.bot_can("can_delete_messages") or own:
                return None
            return "message can't be deleted"
        admin = chat.type == "group" and chat.bot_status == "administrator"
        mine = own and not is_service(message)
        if (chat.type == "group" and not (mine or admin)) or age > DELETE_WINDOW:
            return "message can't be deleted for everyone"
        return None

    def api_delete_message(self, p: JSON) -> bool:
        chat = self._access(p, "write")  # Client.cpp:13804
        message = self._message(chat, p.get("message_id"), "message to delete not found")
        if (refused := self._deletion_refused(chat, message)) is not None:
            raise bad_request(refused)
        self._remove_message(chat, message["message_id"])
        return True

    def _remove_message(self, chat: Chat, message_id: int) -> None:
        del chat.messages[message_id]
        self.deleted.append((chat.id, message_id))

    def api_delete_messages(self, p: JSON) -> bool:
        """Missing messages are skipped (Client.cpp:13818 allow_empty); one that can't be deleted fails the
        whole call, and nothing is deleted (MessagesManager.cpp:8313)."""
        ids = p.get("message_ids")
        if not ids:
            raise bad_request("message identifiers are not specified")  # Client.cpp:12406
        if len(ids) > 100:
            raise bad_request("too many message identifiers specified")  # Client.cpp:12418
        chat = self._access(p, "write")
        found = [chat.messages[i] for i in dict.fromkeys(ids) if isinstance(i, int) and i in chat.messages]
        for message in found:
            if (refused := self._deletion_refused(chat, message)) is not None:
                raise bad_request(refused)
        for message in found:
            self._remove_message(chat, message["message_id"])
        return True

    def _copies(self, p: JSON, ids: list[Any], forward: bool) -> list[JSON]:
        """copyMessage / forwardMessage (one id) and copyMessages: source chat and message first
        (Client.cpp:13252 check_message, "message to copy not found"), then the target; one message that can't
        be copied fails the call (MessagesManager.cpp:24115), several are skipped and only an empty result fails
        (Client.cpp:6278)."""
        single = len(ids) == 1 and "message_ids" not in p
        noun = "forward" if forward else "copy"
        source = self._access(p, "read", "from_chat_id")
        originals = []
        for message_id in ids:
            original = source.messages.get(message_id) if isinstance(message_id, int) else None
            if original is None and single:
                raise bad_request(f"message to {noun} not found")
            if original is not None:
                originals.append(original)
        target = self._access(p, "write")
        copies = []
        for original in originals:
            refused = is_service(original) or (forward and original.get("has_protected_content"))
            if refused:
                if single:
                    raise bad_request(f"the message can't be {'forwarded' if forward else 'copied'}")
                continue
            copies.append(self._bot_post(p, lambda o=original: self._copy_content(p, o, forward), target))
        if not copies:
            raise bad_request("messages can't be forwarded")
        return copies

    def _copy_content(self, p: JSON, original: JSON, forward: bool) -> JSON:
        content = {k: original[k] for k in CONTENT_KEYS if k in original}
        if forward:
            origin: JSON = {"type": "user", "sender_user": original["from"], "date": original["date"]}
            if "sender_chat" in original:
                origin = {"type": "chat", "sender_chat": original["sender_chat"], "date": original["date"]}
            content["forward_origin"] = origin
        elif "caption" in p and "text" not in content:  # a new caption replaces the media's caption
            content.pop("caption", None)
            content.pop("caption_entities", None)
            caption, entities = self._parse(p, "caption", "caption_entities", required=False)
            content.update(self._caption_content(caption, entities))
        return content

    def api_copy_message(self, p: JSON) -> JSON:
        return {"message_id": self._copies(p, [p.get("message_id")], forward=False)[0]["message_id"]}

    def api_copy_messages(self, p: JSON) -> list[JSON]:
        ids = list(p.get("message_ids") or [])
        if not ids:
            raise bad_request("message identifiers are not specified")
        return [{"message_id": m["message_id"]} for m in self._copies(p, ids, forward=False)]

    def api_forward_message(self, p: JSON) -> JSON:
        return self._copies(p, [p.get("message_id")], forward=True)[0]

    def api_answer_callback_query(self, p: JSON) -> bool:
        """A query can be answered once, within the answer window after the press (Client.cpp:146)."""
        query_id = str(p.get("callback_query_id") or "")
        pressed = self._open_queries.pop(query_id, None)
        if pressed is None or self.time() - pressed > self.callback_answer_window:
            raise bad_request(QUERY_TOO_OLD)
        if text_length(str(p.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        return True

    def api_set_message_reaction(self, p: JSON) -> bool:
        chat = self._access(p, "read")
        self._message(chat, p.get("message_id"), "message to react not found")
        return True

    # --- forum topics --------------------------------------------------------------------------------------

    def new_topic(self, chat: Chat, name: str, icon_color: int, sender: User, emoji: str | None = None) -> Topic:
        """Create a topic (by the bot or a user) with its ``forum_topic_created`` service message."""
        created: JSON = {"name": name, "icon_color": icon_color}
        if emoji:
            created["icon_custom_emoji_id"] = emoji
        message = self.store_message(chat, {"forum_topic_created": created}, sender=sender.to_dict())
        thread_id = message["message_id"]
        message.update(message_thread_id=thread_id, is_topic_message=True)
        topic = Topic(thread_id, name, icon_color, message, sender.id == self.bot.id, emoji, creator_id=sender.id)
        topic.message_ids.append(thread_id)
        chat.topics[thread_id] = topic
        return topic

    def _forum(self, p: JSON) -> Chat:
        chat = self._access(p, "write")  # Client.cpp:14961-15016: every topic method needs write access
        if chat.type != "supergroup" or not chat.is_forum:
            raise bad_request("the chat is not a forum")  # ForumTopicManager.cpp:1219
        return chat

    def api_create_forum_topic(self, p: JSON) -> JSON:
        chat = self._forum(p)
        if not chat.bot_can("can_manage_topics"):
            raise bad_request("not enough rights to create a topic")  # ForumTopicManager.cpp:522
        name = clean_topic_name(str(p.get("name") or ""))
        if not name:
            raise bad_request("name must be non-empty")  # ForumTopicManager.cpp:528
        color = p.get("icon_color") or TOPIC_COLORS[0]
        if not isinstance(color, int) or not 0 <= color <= 0xFFFFFF:
            raise bad_request("invalid icon color specified")  # ForumTopicManager.cpp:536
        if color not in TOPIC_COLORS:
            raise bad_request("TOPIC_ICON_COLOR_INVALID")  # the server's check, not verified (see differences)
        return self.new_topic(chat, name, color, self.bot, p.get("icon_custom_emoji_id")).to_dict()

    def _managed_topic(self, p: JSON, right: str, refusal: str) -> tuple[Chat, Topic]:
        """A topic the bot may change: tdlib checks the right for known topics the bot did not create
        (ForumTopicManager.cpp:575, :946, :1005); an unknown or deleted topic is the server's TOPIC_ID_INVALID."""
        chat = self._forum(p)
        thread_id = p.get("message_thread_id")
        if not isinstance(thread_id, int) or thread_id <= 0:
            raise bad_request("invalid forum topic identifier specified")  # ForumTopicManager.cpp:1240
        topic = chat.topics.get(thread_id)
        if topic is not None and not topic.deleted and not topic.created_by_bot and not chat.bot_can(right):
            raise bad_request(refusal)
        if topic is None or topic.deleted:
            raise bad_request("TOPIC_ID_INVALID")
        return chat, topic

    def api_edit_forum_topic(self, p: JSON) -> bool:
        _, topic = self._managed_topic(p, "can_manage_topics", "not enough rights to edit the topic")
        given = str(p.get("name") or "")
        name = clean_topic_name(given) if given else topic.name
        if given and not name:
            raise bad_request("name must be non-empty")  # ForumTopicManager.cpp:583
        if not given and "icon_custom_emoji_id" not in p:
            return True  # nothing to change: tdlib answers without asking the server (ForumTopicManager.cpp:586)
        emoji = p.get("icon_custom_emoji_id", topic.icon_custom_emoji_id) or None
        if (name, emoji) == (topic.name, topic.icon_custom_emoji_id):
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.name, topic.icon_custom_emoji_id = name, emoji
        return True

    def _set_closed(self, p: JSON, closed: bool) -> bool:
        _, topic = self._managed_topic(p, "can_manage_topics", "not enough rights to close or open the topic")
        if topic.closed == closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = closed
        return True

    def api_close_forum_topic(self, p: JSON) -> bool:
        return self._set_closed(p, True)

    def api_reopen_forum_topic(self, p: JSON) -> bool:
        return self._set_closed(p, False)

    def api_delete_forum_topic(self, p: JSON) -> bool:
        chat, topic = self._managed_topic(p, "can_delete_messages", "not enough rights to delete the topic")
        self.remove_topic(chat, topic)
        return True

    @staticmethod
    def remove_topic(chat: Chat, topic: Topic) -> None:
        """Mark a topic deleted and drop all its messages from the transcript."""
        topic.deleted = True
        for message_id in topic.message_ids:
            chat.messages.pop(message_id, None)
        topic.message_ids.clear()
