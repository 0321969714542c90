"""The Bot API methods of the emulator: state (users, chats, topics, pending updates) and Telegram's rules.

``BotApiState`` is transport-free: every method takes the decoded parameters and returns the ``result`` or
raises ``ApiError`` with the description Telegram uses. ``telegram_api.TelegramEmulator`` serves it over HTTP.
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
    JSON,
    ApiError,
    Chat,
    HtmlError,
    Topic,
    User,
    bad_request,
    parse_html,
    utf16_len,
)

DELETE_WINDOW = 48 * 3600
#: What getUpdates delivers when allowed_updates was never set: every type but chat_member and reactions.
DEFAULT_UPDATES = frozenset(
    "message edited_message channel_post edited_channel_post business_connection business_message "
    "edited_business_message deleted_business_messages inline_query chosen_inline_result callback_query "
    "shipping_query pre_checkout_query purchased_paid_media poll poll_answer my_chat_member chat_join_request "
    "chat_boost removed_chat_boost".split()
)
CONTENT_KEYS = "text entities caption caption_entities photo document sticker voice video audio animation".split()
SERVICE_KEYS = ("forum_topic_created", "forum_topic_closed", "forum_topic_reopened", "forum_topic_edited")
TOPIC_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


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
        clock: Callable[[], float],
    ) -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.bot = User(bot_id, bot_name, username=bot_username, language_code=None, is_bot=True)
        #: Max bot messages per group and window in seconds (all topics share it); None: no limit.
        self.group_rate = group_rate
        #: Wall clock in seconds for message dates, the 48 h delete window and the group budget.
        self.clock = clock
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
        self._open_queries: set[str] = set()
        self._undeletable: set[tuple[int, int]] = set()
        self._file_ids = itertools.count(1)

    # --- lookups and shared rules --------------------------------------------------------------------------

    def now(self) -> int:
        """The current Unix time as the Bot API dates messages."""
        return int(self.clock())

    def _chat(self, p: JSON, key: str = "chat_id") -> Chat:
        value = p.get(key)
        if value is None or value == "":
            raise bad_request(f"{key} is empty")
        if isinstance(value, str) and value.startswith("@"):
            found = next((c for c in self.chats.values() if c.username == value[1:]), None)
        else:
            found = self.chats.get(value) if isinstance(value, int) else None
        if found is None:
            raise bad_request("chat not found")
        return found

    def _writable(self, p: JSON, key: str = "chat_id") -> Chat:
        """The target chat, if the bot may post there (not blocked, still a member)."""
        chat = self._chat(p, key)
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.is_group and chat.bot_status in ("left", "kicked"):
            verb = "was kicked from" if chat.bot_status == "kicked" else "is not a member of"
            raise ApiError(403, f"Forbidden: bot {verb} the {chat.type} chat")
        return chat

    def _message(self, chat: Chat, message_id: Any, missing: str) -> JSON:
        message = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if message is None:
            raise bad_request(missing)
        return message

    def _topic_for_send(self, chat: Chat, thread_id: Any) -> Topic | None:
        if thread_id is None or not chat.is_forum:
            return None
        topic = chat.topics.get(thread_id)
        if topic is None or topic.deleted:
            raise bad_request("message thread not found")
        if topic.closed:
            raise bad_request("TOPIC_CLOSED")
        return topic

    def _reply_target(self, chat: Chat, p: JSON) -> JSON | None:
        rp = p.get("reply_parameters")
        if rp is None and p.get("reply_to_message_id") is not None:
            rp = {"message_id": p["reply_to_message_id"]}
        if not isinstance(rp, dict):
            return None
        target = chat.messages.get(rp.get("message_id"))
        if target is None and not rp.get("allow_sending_without_reply", p.get("allow_sending_without_reply")):
            raise bad_request("message to be replied not found")
        return target

    def _check_budget(self, chat: Chat) -> None:
        if self.group_rate is None or not chat.is_group:
            return
        limit, window = self.group_rate
        now, times = self.clock(), chat.sent_times
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) >= limit:
            wait = max(1, math.ceil(times[0] + window - now))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})

    def _formatted(self, p: JSON, key: str, entities_key: str, limit: int) -> tuple[str, list[JSON]]:
        text = p.get(key) or ""
        entities = p.get(entities_key) or []
        if str(p.get("parse_mode") or "").upper() == "HTML":
            try:
                text, entities = parse_html(text)
            except HtmlError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        if utf16_len(text) > limit:
            raise bad_request("message is too long" if key == "text" else "message caption is too long")
        return text, entities

    def _text_content(self, p: JSON) -> JSON:
        text, entities = self._formatted(p, "text", "entities", 4096)
        if not text.strip():
            raise bad_request("message text is empty")
        return {"text": text, "entities": entities} if entities else {"text": text}

    def _caption_content(self, p: JSON) -> JSON:
        caption, entities = self._formatted(p, "caption", "caption_entities", 1024)
        content: JSON = {"caption": caption} if caption else {}
        if caption and entities:
            content["caption_entities"] = entities
        return content

    @staticmethod
    def _inline_markup(p: JSON) -> JSON | None:
        markup = p.get("reply_markup")
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return None  # reply keyboards are not part of the returned Message
        for row in markup["inline_keyboard"]:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
        return markup

    def store_message(
        self,
        chat: Chat,
        content: JSON,
        *,
        sender: JSON,
        topic: Topic | None = None,
        reply_to: JSON | None = None,
        date: int | None = None,
    ) -> JSON:
        """Add a message to the chat's transcript with the chat's next message id, and return it."""
        if topic is None and reply_to is not None and reply_to.get("is_topic_message"):
            topic = chat.topics.get(reply_to["message_thread_id"])
        message: JSON = {
            "message_id": chat.next_message_id(),
            "from": sender,
            "chat": chat.to_dict(),
            "date": self.now() if date is None else date,
        }
        if topic is not None:
            message["message_thread_id"] = topic.thread_id
            message["is_topic_message"] = True
            topic.message_ids.append(message["message_id"])
            reply_to = reply_to or (topic.created_message if not set(SERVICE_KEYS) & content.keys() else None)
        if reply_to is not None:
            message["reply_to_message"] = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
        message.update(content)
        chat.messages[message["message_id"]] = message
        if sender.get("id") == self.bot.id and chat.is_group and self.group_rate is not None:
            chat.sent_times.append(self.clock())
        return message

    def _bot_post(self, p: JSON, content: JSON, chat: Chat | None = None) -> JSON:
        chat = chat or self._writable(p)
        topic = self._topic_for_send(chat, p.get("message_thread_id"))
        reply_to = self._reply_target(chat, p)
        if topic is None and reply_to is not None and reply_to.get("is_topic_message"):
            topic = self._topic_for_send(chat, reply_to["message_thread_id"])
        self._check_budget(chat)
        if (markup := self._inline_markup(p)) is not None:
            content = {**content, "reply_markup": markup}
        if p.get("protect_content"):
            content = {**content, "has_protected_content": True}
        return self.store_message(chat, content, sender=self.bot.to_dict(), topic=topic, reply_to=reply_to)

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
        if status == "administrator":
            data.update({"can_be_edited": False, "is_anonymous": False, **rights})
        elif status == "creator":
            data["is_anonymous"] = False
        elif status == "kicked":
            data["until_date"] = 0
        return data

    def api_get_chat(self, p: JSON) -> JSON:
        chat = self._chat(p)
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
        chat = self._chat(p)
        user_id = p.get("user_id")
        user = self.bot if user_id == self.bot.id else self.users.get(user_id)  # type: ignore[arg-type]
        if user is None:
            raise bad_request("user not found")
        return self.member_dict(chat, user)

    def api_get_chat_administrators(self, p: JSON) -> list[JSON]:
        chat = self._chat(p)
        admins = [self.users[uid] for uid, s in chat.members.items() if s in ("creator", "administrator")]
        if chat.bot_status == "administrator":
            admins.append(self.bot)
        return [self.member_dict(chat, user) for user in admins]

    # --- messages ------------------------------------------------------------------------------------------

    def api_send_message(self, p: JSON) -> JSON:
        return self._bot_post(p, self._text_content(p))

    def api_send_photo(self, p: JSON) -> JSON:
        if p.get("photo") in (None, ""):
            raise bad_request("there is no photo in the request")
        big = self._file(p["photo"], "photo")
        small = {**big, "file_id": big["file_id"] + "-s", "file_unique_id": big["file_unique_id"] + "-s"}
        sizes = [{**small, "width": 90, "height": 90}, {**big, "width": 800, "height": 800}]
        return self._bot_post(p, {"photo": sizes, **self._caption_content(p)})

    def api_send_document(self, p: JSON) -> JSON:
        value = p.get("document")
        if value in (None, ""):
            raise bad_request("there is no document in the request")
        document = self._file(value, "document")
        if isinstance(value, dict):
            document.update(file_name=value.get("file_name"), mime_type=value.get("mime_type"))
        document = {k: v for k, v in document.items() if v is not None}
        return self._bot_post(p, {"document": document, **self._caption_content(p)})

    def api_send_chat_action(self, p: JSON) -> bool:
        self._writable(p)
        return True

    def _editable(self, p: JSON) -> tuple[Chat, JSON]:
        if p.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._writable(p)
        message = self._message(chat, p.get("message_id"), "message to edit not found")
        if message["from"].get("id") != self.bot.id:
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
        _, message = self._editable(p)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        content = self._text_content(p)
        changes = {"text": content["text"], "entities": content.get("entities")}
        return self._apply_edit(message, changes, self._inline_markup(p))

    def api_edit_message_reply_markup(self, p: JSON) -> JSON:
        _, message = self._editable(p)
        return self._apply_edit(message, {}, self._inline_markup(p))

    def api_delete_message(self, p: JSON) -> bool:
        chat = self._chat(p)
        message = self._message(chat, p.get("message_id"), "message to delete not found")
        own = message["from"].get("id") == self.bot.id
        if (
            (chat.id, message["message_id"]) in self._undeletable
            or message["date"] < self.now() - DELETE_WINDOW
            or "forum_topic_created" in message
            or (not own and not chat.bot_can("can_delete_messages"))
        ):
            raise bad_request("message can't be deleted")
        del chat.messages[message["message_id"]]
        self.deleted.append((chat.id, message["message_id"]))
        return True

    def api_delete_messages(self, p: JSON) -> bool:
        """Deletes what it can; messages missing or not deletable are skipped, as on Telegram."""
        chat = self._chat(p)
        ids = p.get("message_ids") or []
        if not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must contain 1-100 identifiers")
        for message_id in ids:
            try:
                self.api_delete_message({"chat_id": chat.id, "message_id": message_id})
            except ApiError:
                continue
        return True

    def _copies(self, p: JSON, ids: list[Any], forward: bool) -> list[JSON]:
        source = self._chat(p, "from_chat_id")
        target = self._writable(p)
        copies = []
        for message_id in ids:
            original = source.messages.get(message_id)
            if original is None:
                if len(ids) == 1:
                    raise bad_request(f"message to {'forward' if forward else 'copy'} not found")
                continue
            if any(key in original for key in SERVICE_KEYS):
                raise bad_request("message can't be copied")
            content = {k: original[k] for k in CONTENT_KEYS if k in original}
            if forward:
                content["forward_origin"] = {"type": "user", "sender_user": original["from"], "date": original["date"]}
            elif "caption" in p and "text" not in content:  # a new caption replaces the media's caption
                content.pop("caption", None)
                content.pop("caption_entities", None)
                content.update(self._caption_content(p))
            copies.append(self._bot_post(p, content, target))
        return copies

    def api_copy_message(self, p: JSON) -> JSON:
        return {"message_id": self._copies(p, [p.get("message_id")], forward=False)[0]["message_id"]}

    def api_copy_messages(self, p: JSON) -> list[JSON]:
        return [{"message_id": m["message_id"]} for m in self._copies(p, list(p.get("message_ids") or []), False)]

    def api_forward_message(self, p: JSON) -> JSON:
        return self._copies(p, [p.get("message_id")], forward=True)[0]

    def api_answer_callback_query(self, p: JSON) -> bool:
        query_id = str(p.get("callback_query_id") or "")
        if query_id not in self._open_queries:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        self._open_queries.discard(query_id)
        return True

    def api_set_message_reaction(self, p: JSON) -> bool:
        chat = self._chat(p)
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
        topic = Topic(thread_id, name, icon_color, message, sender.id == self.bot.id, emoji)
        topic.message_ids.append(thread_id)
        chat.topics[thread_id] = topic
        return topic

    def api_create_forum_topic(self, p: JSON) -> JSON:
        chat = self._writable(p)
        if chat.type != "supergroup" or not chat.is_forum:
            raise bad_request("the chat is not a forum")
        if not chat.bot_can("can_manage_topics"):
            raise bad_request("not enough rights to create a topic")
        name = str(p.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_NAME_INVALID")
        color = p.get("icon_color") or TOPIC_COLORS[0]
        if color not in TOPIC_COLORS:
            raise bad_request("TOPIC_ICON_COLOR_INVALID")
        return self.new_topic(chat, name, color, self.bot, p.get("icon_custom_emoji_id")).to_dict()

    def _managed_topic(self, p: JSON, right: str = "can_manage_topics") -> tuple[Chat, Topic]:
        chat = self._writable(p)
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        topic = chat.topics.get(p.get("message_thread_id"))  # type: ignore[arg-type]
        if topic is None or topic.deleted:
            raise bad_request("TOPIC_ID_INVALID")
        if not chat.bot_can(right) and not (topic.created_by_bot and right == "can_manage_topics"):
            raise bad_request("not enough rights to manage topics")
        return chat, topic

    def api_edit_forum_topic(self, p: JSON) -> bool:
        _, topic = self._managed_topic(p)
        name = p.get("name") or topic.name
        emoji = p.get("icon_custom_emoji_id", topic.icon_custom_emoji_id)
        if (name, emoji) == (topic.name, topic.icon_custom_emoji_id):
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.name, topic.icon_custom_emoji_id = name, emoji
        return True

    def _set_closed(self, p: JSON, closed: bool) -> bool:
        _, topic = self._managed_topic(p)
        if topic.closed == closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = closed
        return True

    def api_close_forum_topic(self, p: JSON) -> bool:
        return self._set_closed(p, True)

    def api_reopen_forum_topic(self, p: JSON) -> bool:
        return self._set_closed(p, False)

    def api_delete_forum_topic(self, p: JSON) -> bool:
        chat, topic = self._managed_topic(p, "can_delete_messages")
        self.remove_topic(chat, topic)
        return True

    @staticmethod
    def remove_topic(chat: Chat, topic: Topic) -> None:
        """Mark a topic deleted and drop all its messages from the transcript."""
        topic.deleted = True
        for message_id in topic.message_ids:
            chat.messages.pop(message_id, None)
        topic.message_ids.clear()
