"""Data model of the Bot API emulator: users, chats, topics, recorded calls and actions, Bot API errors.

Also holds the pieces of Bot API behaviour that are pure functions: Telegram's HTML parse mode (tags stripped,
entities computed in UTF-16 code units, the real parser's error texts), the clean-up the server applies to every
text before it counts its length, and the decoding of request parameters (PTB JSON-encodes every non-string value
into its form fields).

Sources. The real Bot API server is ``tdlib/telegram-bot-api`` (``telegram-bot-api/Client.cpp``) built on tdlib;
line numbers in this package refer to telegram-bot-api commit 01a3679 and the tdlib commit it pins, 49b3bcb:
https://github.com/tdlib/telegram-bot-api/blob/01a3679c0bbf9bbba03d1d3e20f621fa4becddcc/telegram-bot-api/Client.cpp
https://github.com/tdlib/td/tree/49b3bcbb6bfebf2ed44dd9f25102d2e1a94a58c4/td/telegram (``td/...`` below).
The HTML parser here is our own code written to the behaviour of ``parse_html`` in
``td/telegram/MessageEntity.cpp:3347`` (tag set, attribute rules, error texts and byte offsets); no library
reproduces Telegram's dialect and error texts, which is why it is hand-written.
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
    """Length in UTF-16 code units, the unit of Telegram's entity offsets (not of its length limits)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


#: Longest text of a message and longest caption, in characters (Unicode code points) after entity parsing and
#: clean-up: tdlib counts ``utf8_length`` (td/telegram/MessageContent.cpp:4665 for texts, :5101 for captions;
#: ``utf8_length`` counts code points, tdutils/td/utils/utf8.h:23), against the server options
#: ``message_text_length_max`` / ``message_caption_length_max`` (4096 / 1024, https://core.telegram.org/bots/api#sendmessage).
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
#: Longest raw ``text``/``caption`` parameter in bytes, before parsing: "Text is too long" (Client.cpp:11310).
RAW_TEXT_LIMIT = 1 << 15
#: Forum topic names are cut to 128 characters, not refused (td/telegram/ForumTopicManager.cpp:526 with
#: ``MAX_FORUM_TOPIC_TITLE_LENGTH = 128`` in ForumTopicManager.h:146; ``clean_name`` in td/telegram/misc.cpp:24).
TOPIC_NAME_LIMIT = 128


def text_length(text: str) -> int:
    """Length as the Bot API limits count it: characters (code points), so "🔑" is 1, not 2 UTF-16 units."""
    return len(text)


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


#: The ``from`` of messages sent on behalf of a chat in groups (Client.cpp:18150-18158 picks one of the server's
#: ``group_anonymous_bot_user_id`` / ``service_notifications_user_id`` / ``channel_bot_user_id`` options): an
#: anonymous administrator posting as the group itself, a channel post forwarded automatically into its linked
#: discussion group, and a member writing as a channel. Ids and names as the Bot API 5.0 changelog states them
#: (https://core.telegram.org/bots/api-changelog#november-4-2020: 1087968824 @GroupAnonymousBot, 777000) and as
#: the server reports ``channel_bot_user_id`` (136817688, @Channel_Bot).
GROUP_ANONYMOUS_BOT = User(1087968824, "Group", "GroupAnonymousBot", language_code=None, is_bot=True)
SERVICE_NOTIFICATIONS = User(777000, "Telegram", language_code=None)
CHANNEL_BOT = User(136817688, "Channel", "Channel_Bot", language_code=None, is_bot=True)


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
    creator_id: int = 0
    message_ids: list[int] = field(default_factory=list, repr=False)

    def to_dict(self) -> JSON:
        """The ``ForumTopic`` object of the Bot API."""
        data: JSON = {"message_thread_id": self.thread_id, "name": self.name, "icon_color": self.icon_color}
        if self.icon_custom_emoji_id:
            data["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return data


@dataclass(eq=False)
class Chat:
    """A chat: ``private`` (id = user id), ``group``, ``supergroup`` (optionally a forum) or ``channel``.

    ``bot_status`` is the bot's membership (``member``, ``administrator``, ``left``, ``kicked``) and
    ``bot_rights`` its administrator rights; ``members`` maps user ids to their status in this chat and
    ``anonymous_admins`` holds the administrators who post as the chat. ``messages`` is the visible transcript:
    oldest first, edits applied, deleted messages removed. A basic group upgraded to a supergroup keeps its
    history but takes no more writes: ``migrated_to`` is the new chat's id (``migrated_from`` on the new chat).
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
    anonymous_admins: set[int] = field(default_factory=set)
    messages: dict[int, JSON] = field(default_factory=dict, repr=False)
    topics: dict[int, Topic] = field(default_factory=dict, repr=False)
    last_message_id: int = field(default=0, repr=False)
    sent_times: deque[float] = field(default_factory=deque, repr=False)
    migrated_to: int | None = None
    migrated_from: int | None = None

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
#
# Behaviour of td/telegram/MessageEntity.cpp:3347 (parse_html), restated:
# - the tags: b strong i em u ins s strike del tg-spoiler span(class="tg-spoiler") a tg-emoji tg-time pre code
#   blockquote; a tag name runs to the next space or ">" (so "<br/>" is the tag "br/"), compared in lower case;
# - attribute values are quoted ('...' or "...", entities decoded inside) or a name token of letters, digits,
#   "." and "-" (lower-cased), which must end at a space or ">": "Unexpected end of name token";
# - "&lt; &gt; &amp; &quot;" and numeric references are decoded, the ";" is optional; anything else is kept;
# - an end tag may be "</>" (closes the innermost tag); empty elements produce no entity;
# - errors name the byte offset (UTF-8) of the "<" that starts the offending tag.

_TAGS = frozenset("a b strong i em u ins s strike del tg-spoiler tg-emoji tg-time span pre code blockquote".split())
_SIMPLE_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n\v"  # tdlib's is_space (tdutils/td/utils/misc.h:107); the end of the text counts as one too
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_LINK_SCHEMES = ("http://", "https://", "tg://", "ton://", "tonsite://")


class HtmlError(ValueError):
    """The text is not valid in Telegram's HTML parse mode (400 "can't parse entities: ...")."""


@dataclass
class _OpenTag:
    name: str
    offset: int  # UTF-16 offset in the output where the element's text starts
    out_index: int  # index into the output chunks, to recover the element's text (<a> without href)
    argument: str = ""


def _ascii_lower(value: str) -> str:
    return value.translate(_ASCII_LOWER)


def _is_space(source: str, index: int) -> bool:
    return index >= len(source) or source[index] in _SPACES


def _reference(source: str, pos: int) -> tuple[str | None, int]:
    """Decode the character reference at ``source[pos] == "&"``: (character or None, index after it)."""
    end, n = pos + 1, len(source)
    if source.startswith("#", end):
        end += 1
        hexadecimal = source.startswith("x", end)
        end += hexadecimal
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        start = end
        while end < n and source[end] in digits:
            end += 1
        code = int(source[start:end], 16 if hexadecimal else 10) if end > start else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None, pos + 1
        char = chr(code)
    else:
        while end < n and source[end].isascii() and source[end].isalpha():
            end += 1
        char = _NAMED_REFERENCES.get(source[pos + 1 : end])  # type: ignore[assignment]
        if char is None:
            return None, pos + 1
    if source.startswith(";", end):
        end += 1
    if 0xD800 <= ord(char) <= 0xDFFF:
        raise HtmlError(
            "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched "
            "surrogate code units"
        )
    return char, end


def _decode_references(value: str) -> str:
    if "&" not in value:
        return value
    out, i = [], 0
    while i < len(value):
        char, end = _reference(value, i) if value[i] == "&" else (None, i + 1)
        out.append(char if char is not None else value[i:end])
        i = end
    return "".join(out)


class _HtmlParser:
    """One pass over the source; see the notes above for the rules."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.out: list[str] = []
        self.offset = 0
        self.entities: list[JSON] = []
        self.stack: list[_OpenTag] = []

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8", "surrogatepass"))

    def fail(self, message: str, index: int | None = None) -> HtmlError:
        return HtmlError(message if index is None else f"{message} at byte offset {self.byte_offset(index)}")

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.offset += utf16_len(text)

    def run(self) -> tuple[str, list[JSON]]:
        source, i, n = self.source, 0, len(self.source)
        while i < n:
            char = source[i]
            if char == "&":
                decoded, end = _reference(source, i)
                if decoded is not None:
                    self.emit(decoded)
                    i = end
                    continue
            if char != "<":
                end = i + 1
                while end < n and source[end] not in "<&":
                    end += 1
                self.emit(source[i:end])
                i = end
            elif source.startswith("/", i + 1):
                i = self.end_tag(i)
            else:
                i = self.start_tag(i)
        if self.stack:
            raise HtmlError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def start_tag(self, begin: int) -> int:
        source, n = self.source, len(self.source)
        end = begin + 1
        while not _is_space(source, end) and source[end] != ">":
            end += 1
        if end >= n:
            raise self.fail("Unclosed start tag", begin)
        name = _ascii_lower(source[begin + 1 : end])
        if name not in _TAGS:
            raise self.fail(f'Unsupported start tag "{name}"', begin)
        tag = _OpenTag(name, self.offset, len(self.out))
        i = end
        while i >= n or source[i] != ">":
            while i < n and source[i] in _SPACES:
                i += 1
            if i < n and source[i] == ">":
                break
            start = i
            while not _is_space(source, i) and source[i] not in "=>/\"'":
                i += 1
            attribute = source[start:i]
            if not attribute:
                raise self.fail(f'Empty attribute name in the tag "{name}"', begin)
            while i < n and source[i] in _SPACES:
                i += 1
            if i >= n or source[i] != "=":
                if i >= n:
                    raise self.fail(f'Unclosed start tag "{name}"', begin)
                if name == "blockquote" and attribute == "expandable":
                    tag.argument = "1"
                continue
            i += 1
            while i < n and source[i] in _SPACES:
                i += 1
            if i >= n:
                raise self.fail(f'Unclosed start tag "{name}"', begin)
            if source[i] in "\"'":
                close = source.find(source[i], i + 1)
                close = n if close == -1 else close
                value, i = _decode_references(source[i + 1 : close]), min(close + 1, n)
            else:
                token = i
                while i < n and source[i].isascii() and (source[i].isalnum() or source[i] in ".-"):
                    i += 1
                value = _ascii_lower(source[token:i])
                if not _is_space(source, i) and source[i] != ">":
                    raise self.fail("Unexpected end of name token", token)
            if i >= n:
                raise self.fail("Unclosed start tag", begin)
            self.attribute(tag, attribute, value)
        if name == "span" and tag.argument != "spoiler":
            raise self.fail('Tag "span" must have class "tg-spoiler"', begin)
        self.stack.append(tag)
        return i + 1

    @staticmethod
    def attribute(tag: _OpenTag, attribute: str, value: str) -> None:
        """Keep the one attribute each tag uses; tdlib ignores all others (names are case-sensitive)."""
        if (tag.name, attribute) in (("a", "href"), ("tg-emoji", "emoji-id"), ("tg-time", "format")):
            tag.argument = value
        elif tag.name == "code" and attribute == "class" and value.startswith("language-"):
            tag.argument = value.removeprefix("language-")
        elif tag.name == "span" and attribute == "class" and value.startswith("tg-"):
            tag.argument = value.removeprefix("tg-")
        elif tag.name == "blockquote" and attribute == "expandable":
            tag.argument = "1"

    def end_tag(self, begin: int) -> int:
        source, n = self.source, len(self.source)
        if not self.stack:
            raise self.fail("Unexpected end tag", begin)
        end = begin + 2
        while not _is_space(source, end) and source[end] != ">":
            end += 1
        name = _ascii_lower(source[begin + 2 : end])
        while end < n and source[end] in _SPACES:
            end += 1
        if end >= n or source[end] != ">":
            raise self.fail("Unclosed end tag", begin)
        tag = self.stack[-1]
        if name and name != tag.name:
            raise self.fail(
                f'Unmatched end tag at byte offset {self.byte_offset(begin)}, expected "</{tag.name}>", '
                f'found "</{name}>"'
            )
        if self.offset > tag.offset:
            self.close(tag)
        self.stack.pop()
        return end + 1

    def close(self, tag: _OpenTag) -> None:
        span: JSON = {"offset": tag.offset, "length": self.offset - tag.offset}
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last["offset"], last["length"]) == (span["offset"], span["length"])
        if tag.name in _SIMPLE_TYPES:
            self.entities.append({"type": _SIMPLE_TYPES[tag.name], **span})
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise HtmlError("Invalid custom emoji identifier specified")
            self.entities.append({"type": "custom_emoji", **span, "custom_emoji_id": tag.argument})
        elif tag.name == "a":
            url = _checked_link(tag.argument or "".join(self.out[tag.out_index :]))
            if url is not None:
                self.entities.append({"type": "text_link", **span, "url": url})
        elif tag.name == "pre":
            if same_span and last["type"] == "code" and last.get("language"):  # type: ignore[index]
                last["type"] = "pre"  # type: ignore[index]
            else:
                self.entities.append({"type": "pre", **span})
        elif tag.name == "code":
            if same_span and last["type"] == "pre" and tag.argument:  # type: ignore[index]
                last["language"] = tag.argument  # type: ignore[index]
            else:
                self.entities.append({"type": "code", **span, **({"language": tag.argument} if tag.argument else {})})
        elif tag.name == "blockquote":
            self.entities.append({"type": "expandable_blockquote" if tag.argument else "blockquote", **span})
        # tg-time: accepted, but no entity (see the emulator's list of differences)


def _checked_link(url: str) -> str | None:
    """A rough stand-in for tdlib's LinkManager::get_checked_link: None drops the entity, as tdlib does."""
    url = url.strip()
    if not url or any(c in url for c in " \n\t"):
        return None
    lowered = url.lower()
    if lowered.startswith(_LINK_SCHEMES):
        return url
    if "://" in url or lowered.startswith(("javascript:", "data:", "mailto:")):
        return None
    return "http://" + url


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Parse ``parse_mode=HTML`` text as Telegram does: plain text and entities, or ``HtmlError``."""
    return _HtmlParser(source).run()


# --- the clean-up every formatted text gets before it is counted and stored ---------------------------------
#
# td/telegram/MessageEntity.cpp:4599 (fix_formatted_text) with td/telegram/misc.cpp:76 (clean_input_string):
# control characters become spaces, "\r" and U+2028..U+202E are dropped (with U+0333, U+033F, U+030A), then
# trailing spaces and newlines are cut, and leading ones up to the first entity.

_DROPPED = frozenset("\r\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u0333\u033f\u030a")
_BLANK = " \n"


def clean_formatted(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """The text and entities as the server stores them (possibly empty: callers decide whether that is OK)."""
    if not text.isascii() or any(c < " " and c != "\n" for c in text):
        text, entities = _clean_characters(text, entities)
    end = len(text.rstrip(_BLANK))
    if end < len(text):
        cut = utf16_len(text[:end])
        text = text[:end]
        entities = [_clip(e, cut) for e in entities if e["offset"] < cut]
    first = min((e["offset"] for e in entities), default=None)
    start = 0
    while start < len(text) and text[start] in _BLANK and (first is None or start < first):
        start += 1
    if start:
        text = text[start:]
        entities = [{**e, "offset": e["offset"] - start} for e in entities]
    return text, [e for e in entities if e["length"] > 0]


def _clip(entity: JSON, end: int) -> JSON:
    return {**entity, "length": min(entity["length"], end - entity["offset"])}


def _clean_characters(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    out: list[str] = []
    new_at: list[int] = [0]  # new UTF-16 offset for every old UTF-16 offset
    position = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if char in _DROPPED:
            kept = ""
        elif char < " " and char != "\n":
            kept = " "
        else:
            kept = char
        out.append(kept)
        position += len(kept) and width
        new_at.extend([position] * width)
    moved = []
    for entity in entities:
        begin = new_at[min(entity["offset"], len(new_at) - 1)]
        end = new_at[min(entity["offset"] + entity["length"], len(new_at) - 1)]
        moved.append({**entity, "offset": begin, "length": end - begin})
    return "".join(out), moved
