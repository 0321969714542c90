"""Data model of the Bot API emulator: users, chats, topics, recorded calls and actions, Bot API errors.

Also holds the two pieces of Bot API behaviour that are pure functions: Telegram's HTML parse mode (tags
stripped, entities computed in UTF-16 code units, the real parser's error texts) and the decoding of request
parameters (PTB JSON-encodes every non-string value into its form fields).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

#: Rights an administrator bot gets unless a test says otherwise (ChatMemberAdministrator fields).
ADMIN_RIGHTS: dict[str, bool] = {
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": True,
    "can_edit_stories": True,
    "can_delete_stories": True,
    "can_pin_messages": True,
    "can_manage_topics": True,
}

#: Parameters that are always strings, even when their value looks like JSON ("42", "true").
STRING_PARAMS = frozenset(
    """
    text caption parse_mode name callback_query_id action url language_code icon_custom_emoji_id secret_token
    custom_title emoji title description short_description inline_message_id business_connection_id
    message_effect_id photo document ip_address query file_id
    """.split()
)
ID_PARAMS = frozenset({"chat_id", "from_chat_id", "user_id", "message_id", "message_thread_id"})


class ApiError(Exception):
    """A Bot API error reply: HTTP status = ``error_code``, ``description`` as Telegram words it."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.parameters = parameters or {}

    def body(self) -> JSON:
        """The JSON body Telegram sends with this error."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(text: str) -> ApiError:
    """A 400 error with Telegram's "Bad Request: " prefix (PTB strips it and capitalises the rest)."""
    return ApiError(400, f"Bad Request: {text}")


def decode_params(raw: dict[str, Any], *, from_form: bool) -> JSON:
    """Decode request parameters: JSON-encoded form values and numeric ids become Python values."""
    params: JSON = {}
    for key, value in raw.items():
        if from_form and isinstance(value, str) and key not in STRING_PARAMS:
            try:
                value = json.loads(value)
            except ValueError:
                pass
        if key in ID_PARAMS and isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        params[key] = value
    return params


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets and text limits."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


@dataclass(eq=False)
class User:
    """A Telegram user as the emulator knows it."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    def to_dict(self) -> JSON:
        """The ``User`` object of the Bot API."""
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass(eq=False)
class Topic:
    """A forum topic; its thread id is the id of the service message that created it."""

    thread_id: int
    name: str
    icon_color: int
    created_message: JSON
    created_by_bot: bool
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False
    message_ids: list[int] = field(default_factory=list, repr=False)

    def to_dict(self) -> JSON:
        """The ``ForumTopic`` object of the Bot API."""
        data: JSON = {"message_thread_id": self.thread_id, "name": self.name, "icon_color": self.icon_color}
        if self.icon_custom_emoji_id:
            data["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return data


@dataclass(eq=False)
class Chat:
    """A chat: ``private`` (id = user id), ``group`` or ``supergroup`` (optionally a forum).

    ``bot_status`` is the bot's membership (``member``, ``administrator``, ``left``, ``kicked``) and
    ``bot_rights`` its administrator rights; ``members`` maps user ids to their status in this chat.
    ``messages`` is the visible transcript: oldest first, edits applied, deleted messages removed.
    """

    id: int
    type: str = "private"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False
    bot_status: str = "member"
    bot_rights: dict[str, bool] = field(default_factory=dict)
    members: dict[int, str] = field(default_factory=dict)
    messages: dict[int, JSON] = field(default_factory=dict, repr=False)
    topics: dict[int, Topic] = field(default_factory=dict, repr=False)
    last_message_id: int = field(default=0, repr=False)
    sent_times: deque[float] = field(default_factory=deque, repr=False)

    @property
    def blocked(self) -> bool:
        """True for a private chat whose user blocked the bot (the bot's status there is ``kicked``)."""
        return self.type == "private" and self.bot_status == "kicked"

    @property
    def is_group(self) -> bool:
        """True for groups and supergroups."""
        return self.type in ("group", "supergroup")

    def next_message_id(self) -> int:
        """Message ids increase per chat, for the bot's and the users' messages alike."""
        self.last_message_id += 1
        return self.last_message_id

    def bot_can(self, right: str) -> bool:
        """Whether the bot holds an administrator right here (always true in a private chat)."""
        if self.type == "private":
            return True
        return self.bot_status == "administrator" and self.bot_rights.get(right, False)

    def to_dict(self) -> JSON:
        """The ``Chat`` object of the Bot API."""
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass(eq=False)
class Call:
    """One request the bot made: method, decoded parameters, arrival time, error reply if any."""

    method: str
    params: JSON
    time: float
    error: ApiError | None = None

    @property
    def ok(self) -> bool:
        """False when the emulator answered with an error."""
        return self.error is None


@dataclass(eq=False)
class Action:
    """A side effect of the bot (send, edit, delete, answer, copy, topic operation) that succeeded.

    ``messages`` are snapshots of the messages the action produced or changed (empty for deletions,
    answers and topic operations); ``message`` is the first of them.
    """

    method: str
    params: JSON
    result: Any
    time: float
    messages: tuple[JSON, ...] = ()

    @property
    def message(self) -> JSON | None:
        """The message sent, edited, copied or forwarded by this action, as the bot saw it."""
        return self.messages[0] if self.messages else None

    @property
    def chat_id(self) -> Any:
        """The target chat id as the bot passed it."""
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        """Text or caption of the message (entities stripped), or the callback answer's text."""
        if self.message is not None:
            return self.message.get("text", self.message.get("caption"))
        return self.params.get("text")

    def __str__(self) -> str:
        where = [
            f"{key}={self.params[key]}" for key in ("chat_id", "message_thread_id", "message_id") if key in self.params
        ]
        text = self.text
        return f"{self.method}({', '.join(where)})" + (f" {text[:60]!r}" if text else "")


# --- Telegram's HTML parse mode ---------------------------------------------------------------------------

_TAG_KINDS = {
    "bold": "b strong",
    "italic": "i em",
    "underline": "u ins",
    "strikethrough": "s strike del",
    "spoiler": "tg-spoiler span",
    "text_link": "a",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "custom_emoji": "tg-emoji",
}
_TAG_TYPES = {tag: kind for kind, tags in _TAG_KINDS.items() for tag in tags.split()}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class HtmlError(ValueError):
    """The text is not valid in Telegram's HTML parse mode (400 "can't parse entities: ...")."""


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode())


def _decode_entity(name: str) -> str | None:
    if name in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[name]
    try:
        if name.startswith(("#x", "#X")):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
    except (ValueError, OverflowError):
        return None
    return None


def _unescape(value: str) -> str:
    if "&" not in value:
        return value
    plain, _ = parse_html(value.replace("<", "&lt;"))
    return plain


def _parse_attributes(source: str, pos: int, tag_start: int) -> tuple[dict[str, str], int]:
    """Attributes of a start tag from ``pos``; returns them and the index of the closing ``>``."""
    attrs: dict[str, str] = {}
    n = len(source)
    while True:
        while pos < n and (source[pos].isspace() or source[pos] == "/"):
            pos += 1
        if pos >= n:
            raise HtmlError(f"Unclosed start tag at byte offset {_byte_offset(source, tag_start)}")
        if source[pos] == ">":
            return attrs, pos
        end = pos
        while end < n and not source[end].isspace() and source[end] not in "=>":
            end += 1
        name, value, pos = source[pos:end].lower(), "", end
        if pos < n and source[pos] == "=":
            pos += 1
            if pos < n and source[pos] in "\"'":
                close = source.find(source[pos], pos + 1)
                if close == -1:
                    raise HtmlError(f"Unclosed start tag at byte offset {_byte_offset(source, tag_start)}")
                value, pos = source[pos + 1 : close], close + 1
            else:
                end = pos
                while end < n and not source[end].isspace() and source[end] != ">":
                    end += 1
                value, pos = source[pos:end], end
        attrs[name] = _unescape(value)


def _entity(tag: str, attrs: dict[str, str], offset: int, length: int) -> JSON | None:
    kind = _TAG_TYPES[tag]
    entity: JSON = {"type": kind, "offset": offset, "length": length}
    if kind == "text_link":
        if not attrs.get("href"):
            return None
        entity["url"] = attrs["href"]
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    elif kind == "pre" and attrs.get("language"):
        entity["language"] = attrs["language"]
    elif kind == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    return entity


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Parse ``parse_mode=HTML`` text as Telegram does: plain text and entities, or ``HtmlError``."""
    out: list[str] = []
    entities: list[JSON] = []
    stack: list[tuple[str, int, dict[str, str]]] = []
    offset = i = 0
    n = len(source)
    while i < n:
        char = source[i]
        if char == "&":
            end = source.find(";", i + 1, i + 12)
            decoded = _decode_entity(source[i + 1 : end]) if end != -1 else None
            text, i = (decoded, end + 1) if decoded is not None else ("&", i + 1)
        elif char != "<":
            end = i
            while end < n and source[end] not in "<&":
                end += 1
            text, i = source[i:end], end
        elif source.startswith("</", i):
            end = source.find(">", i)
            if end == -1:
                raise HtmlError(f"Unclosed end tag at byte offset {_byte_offset(source, i)}")
            name = source[i + 2 : end].strip().lower()
            if not stack:
                raise HtmlError(f"Unexpected end tag at byte offset {_byte_offset(source, i)}")
            tag, start, attrs = stack.pop()
            if name != tag:
                raise HtmlError(
                    f'Unmatched end tag at byte offset {_byte_offset(source, i)}, expected "</{tag}>", '
                    f'found "</{name}>"'
                )
            if tag == "code" and stack and stack[-1][0] == "pre" and attrs.get("class", "").startswith("language-"):
                stack[-1][2]["language"] = attrs["class"].removeprefix("language-")
            elif offset > start and (entity := _entity(tag, attrs, start, offset - start)):
                entities.append(entity)
            i = end + 1
            continue
        else:
            end = i + 1
            while end < n and not source[end].isspace() and source[end] not in "/>":
                end += 1
            name = source[i + 1 : end].lower()
            if end >= n:
                raise HtmlError(f"Unclosed start tag at byte offset {_byte_offset(source, i)}")
            if name not in _TAG_TYPES:
                raise HtmlError(f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, i)}')
            attrs, end = _parse_attributes(source, end, i)
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(source, i)}')
            stack.append((name, offset, attrs))
            i = end + 1
            continue
        out.append(text)
        offset += utf16_len(text)
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities
