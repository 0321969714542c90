"""A Telegram Bot API emulator on 127.0.0.1, for the tests and the offline demo.

The bot talks to it through its real HTTP stack; the emulator keeps users, chats, forum topics and per-chat
transcripts and answers as the real Bot API server (``tdlib/telegram-bot-api`` on tdlib) does, errors included:
the server's texts, HTTP status = ``error_code``, ``parameters.retry_after`` / ``parameters.migrate_to_chat_id``.
The rules and their source lines are in ``telegram_methods`` (sources and commits: ``telegram_model``). Tests and
the demo drive the other side::

    async with TelegramEmulator() as api:
        app = ApplicationBuilder().token(api.token).base_url(api.base_url).base_file_url(api.file_url)...
        ...                                    # start the app and its polling
        api.send_text("/start")                # a real Update, picked up by the bot's long poll at once
        reply = await api.next_action("sendMessage")
        api.press_button(reply.message, "check")

Time. The emulator has its own clock, ``api.time()`` = ``clock()`` (wall clock by default) + the offset that
``api.advance(seconds)`` adds. Message dates, the 48 h deletion window, the callback answer window
(``callback_answer_window``, 15 s) and the flood budgets run on it; the bot's own clock is not touched. Nothing
in the emulator sleeps on it: a test that needs time to pass calls ``advance``.

Flood budgets are real by default: 20 bot messages a minute per group (all topics share it) and 30 per 30 s per
private chat; one more gets 429 "Too Many Requests: retry after N" with ``parameters.retry_after`` = the seconds
until the oldest message leaves the window. Decision for tests: the budget stays on, so every test that sends
into a chat is checked against it. A test that must send more than the budget into one chat says so: it moves
the emulator's time on between the bursts (``api.advance(60)``: deterministic, nothing waits), or switches the
budget off for its emulator (``api.group_rate = None`` / ``api.private_rate = None``, or the constructor
arguments), or makes it small to test the bot's handling of 429 (``TelegramEmulator(group_rate=(3, 1.0))``).

Helpers for the other side (each injects the updates the real server would send):

- users and chats: ``add_user``, ``add_group`` (a forum supergroup by default; ``supergroup=False`` for a basic
  group), ``add_channel``, ``set_member(chat, user, status, anonymous=...)``, ``set_bot_status``,
  ``block_bot`` / ``unblock_bot``;
- messages: ``send_text``, ``send_photo``, ``send_document``, ``reply``, ``edit_text``, ``inject`` (any raw update);
- buttons: ``press_button(message, data)``; ``press_button(..., late=True)`` presses a button whose query can no
  longer be answered (the update waited in a queue longer than the answer window); ``expire_callback_queries()``
  makes every open query too old; ``advance(seconds)``;
- topics and service messages: ``create_topic``, ``rename_topic``, ``close_topic``, ``reopen_topic``,
  ``delete_topic``, ``pin_message`` (a staff member pins a message: ``pinned_message`` in the same topic),
  ``add_members`` (``new_chat_members``), ``inject_service(chat, content, thread=...)`` for any other service
  message;
- migration: ``upgrade_group(chat, forum=True)``, a basic group turned into a (forum) supergroup as turning on
  Topics does: ``migrate_to_chat_id`` in the old chat, ``migrate_from_chat_id`` as message 1 of the new one (from
  GroupAnonymousBot with ``sender_chat`` = the new chat); writes to the old id then fail with
  ``migrate_to_chat_id`` (PTB raises ``ChatMigrated``);
- other senders: ``send_as_chat`` (an anonymous administrator: ``from`` = GroupAnonymousBot 1087968824,
  ``sender_chat`` = the group), ``send_as_channel`` (a member writing as a channel: ``from`` = Channel_Bot),
  ``forward_channel_post`` (a post of a linked channel forwarded into its discussion group: ``from`` = 777000,
  ``is_automatic_forward``);
- failures: ``fail(method, (status, text), ...)``, ``slow(method, seconds)``, ``hold(method, ...)`` (a call held
  until the test releases or drops it: a request in flight, to synchronise on, e.g. while the bot is killed),
  ``forbid_delete(message)``
  ("message can't be deleted"), ``fail_delete(message, "message can't be deleted for everyone")`` (any text),
  ``delete_by_user(message)`` (the user deleted it: the bot's deleteMessage then gets "message to delete not found").

Other rules of the emulator: the bot sees every group message (as an administrator or with privacy mode off); users
made with ``add_user`` have started the bot; updates are validated with ``telegram.Update.de_json`` when injected,
so a malformed one fails in the test, not in the poller; the injection helpers refuse what a Telegram client would
not let a person do (write into a closed topic without rights, write into an upgraded group) with ``ValueError``.

Where the emulator is still more lenient than, or different from, the real server (source lines as in
``telegram_model``):

1. Parse modes Markdown and MarkdownV2 are not parsed: the text is kept as sent (Client.cpp:11316); HTML is.
2. ``<tg-time>`` is accepted but gives no entity, and its ``unix``/``format`` are not checked
   (td/telegram/MessageEntity.cpp:3563); ``<a href>`` links are checked roughly, not with LinkManager's
   ``get_checked_link``, and ``tg://user?id=`` links stay text links instead of text mentions (MessageEntity.cpp:3572).
3. Entities passed as JSON are taken as they are (tdlib validates them, MessageEntity.cpp:4614), and URLs,
   mentions, hashtags and commands in the bot's texts are not detected as entities (MessageEntity.cpp:4720).
4. The text clean-up leaves out the 35,000-byte cut and ``replace_offending_characters`` (MessageEntity.cpp:4705,
   td/telegram/misc.cpp:56).
5. Flood limits: Telegram publishes guidance, not its algorithm; the private-chat burst of 30 is our assumption;
   edits, callback answers and topic operations are not counted; there is no limit across chats (about 30
   messages a second) and none of the server's own overload answers (Client.cpp:7967, :16262).
6. The callback answer window (15 s) is a measurement, not a published number; answering a query twice fails
   like an expired query (assumed); an answer text over 200 characters gets "MESSAGE_TOO_LONG" (the server's
   answer, reported in https://github.com/eternnoir/pyTelegramBotAPI/issues/500, not in the sources).
7. createForumTopic refuses a bot that is not an administrator with ``can_manage_topics``; tdlib also lets a
   member create topics when the group allows members to (td/telegram/DialogParticipant.h:465). Its refusal of
   icon colours other than the six documented ones ("TOPIC_ICON_COLOR_INVALID") is not verified against the server.
8. Private chats have no topics (the Bot API 9 topic mode for bots is not modelled): every ``message_thread_id``
   in a private chat fails with "message thread not found", as for a bot without topic mode (Client.cpp:8281).
9. Editing in a private chat whose user blocked the bot fails with 403 (assumed); editing old messages of an
   upgraded basic group succeeds (Client.cpp:8150 checks only writes; what Telegram answers is not in the sources).
10. copyMessages checks the source chat before the target (Client.cpp:13265 does the target first): only the
    order of errors differs.
11. Not modelled: slow mode, member permissions and restrictions, privacy mode, webhook delivery (updates come
    by getUpdates), file downloads, reaction emoji, dice and own service messages in deletions
    (MessagesManager.cpp:8187, :8243) and deactivated users. The two migration updates come in the order users
    report (https://github.com/tucnak/telebot/issues/187), which the sources don't fix.
12. Web App buttons: ``https://`` URLs only and private chats only, as the server answers ("inline keyboard button
    Web App URL '...' is invalid: Only HTTPS links are allowed"; BUTTON_TYPE_INVALID elsewhere), unless
    ``allow_http_web_app`` is set: the offline demo serves its Mini App page on http://127.0.0.1, which the real
    server would refuse. The URL is not otherwise checked (LinkManager's rules are not modelled).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web
from telegram import Update

from bot.sandbox.telegram_methods import (
    CALLBACK_ANSWER_WINDOW,
    GROUP_RATE,
    PRIVATE_RATE,
    TOPIC_COLORS,
    BotApiState,
    clean_topic_name,
    is_service,
)
from bot.sandbox.telegram_model import (
    ADMIN_RIGHTS,
    CHANNEL_BOT,
    GROUP_ANONYMOUS_BOT,
    JSON,
    SERVICE_NOTIFICATIONS,
    Action,
    ApiError,
    Call,
    Chat,
    Topic,
    User,
    bad_request,
    decode_params,
    utf16_len,
)

__all__ = ["DEFAULT_TOKEN", "Action", "ApiError", "Call", "Chat", "Failure", "Hold", "TelegramEmulator", "User"]

DEFAULT_TOKEN = "123456789:AAEmulatorTokenForTheHufiSupportBot0"

#: The Bot API methods served; ``sendMessage`` is implemented by ``BotApiState.api_send_message``.
METHODS = """
    getMe getUpdates setWebhook deleteWebhook getWebhookInfo close logOut sendMessage editMessageText
    editMessageReplyMarkup deleteMessage deleteMessages answerCallbackQuery sendChatAction setMyCommands
    getMyCommands deleteMyCommands copyMessage copyMessages forwardMessage sendPhoto sendDocument getChat
    getChatMember getChatAdministrators createForumTopic editForumTopic closeForumTopic reopenForumTopic
    deleteForumTopic setMessageReaction
""".split()

#: Methods whose successful calls are side effects, queued for ``next_action``.
ACTION_METHODS = frozenset(
    """
    sendMessage editMessageText editMessageReplyMarkup deleteMessage deleteMessages answerCallbackQuery copyMessage
    copyMessages forwardMessage sendPhoto sendDocument createForumTopic editForumTopic closeForumTopic
    reopenForumTopic deleteForumTopic setMessageReaction
    """.split()
)


@dataclass(eq=False)
class Failure:
    """An injected error: the next ``times`` calls of ``method`` (matching ``when``) fail with it."""

    method: str
    status: int
    description: str
    parameters: JSON
    times: int | None = 1
    when: Callable[[JSON], bool] | None = None


@dataclass(eq=False)
class Slowdown:
    """An injected delay: the next ``times`` calls of ``method`` (matching ``when``) are answered late."""

    method: str
    seconds: float
    times: int | None = 1
    when: Callable[[JSON], bool] | None = None


@dataclass(eq=False)
class Hold:
    """Calls held at the server until the test lets them go (``TelegramEmulator.hold``).

    ``await hold.arrived()`` returns the decoded parameters of a held call once one is held (the event to
    synchronise on); ``release()`` lets every held call (and any later one it catches) go on; ``drop()`` makes them
    never happen: the server never handles them and the bot never gets an answer, as for a request lost on the way
    (or whose sender died before it arrived). With ``answer_only`` the server has handled the call already and only
    its answer is held: the effect happened, the bot does not know yet (``drop`` then loses the answer).
    """

    method: str
    times: int | None = 1
    when: Callable[[JSON], bool] | None = None
    answer_only: bool = False
    #: parameters of the calls held so far, oldest first
    held: list[JSON] = field(default_factory=list)
    dropped: bool = False
    _gate: asyncio.Event = field(default_factory=asyncio.Event)
    _arrival: asyncio.Event = field(default_factory=asyncio.Event)

    async def arrived(self, timeout: float = 5.0) -> JSON:  # noqa: ASYNC109
        """Wait until a call is held; its parameters."""
        try:
            await asyncio.wait_for(self._arrival.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {self.method} call was held within {timeout} s") from None
        return self.held[0]

    def release(self) -> None:
        """The held calls go on."""
        self._gate.set()

    def drop(self) -> None:
        """The held calls never happen (or, ``answer_only``, their answers never arrive)."""
        self.dropped = True
        self._gate.set()

    async def _wait(self, params: JSON) -> bool:
        self.held.append(params)
        self._arrival.set()
        await self._gate.wait()
        return not self.dropped


_Rule = TypeVar("_Rule", Failure, Slowdown, Hold)


def _take_rule(rules: list[_Rule] | None, params: JSON) -> _Rule | None:
    """The first injected rule that matches `params`, used up once (dropped when its `times` run out)."""
    for rule in rules or ():
        if rule.when is not None and not rule.when(params):
            continue
        if rule.times is not None:
            rule.times -= 1
            if rule.times <= 0:
                rules.remove(rule)  # type: ignore[union-attr]
        return rule
    return None


class TelegramEmulator(BotApiState):
    """The Bot API over HTTP on 127.0.0.1, plus the controls tests and the demo use (see the module docstring).

    Inspect: ``calls`` (every request, decoded), ``await wait_call(method)``, ``await next_action(method)``,
    ``deleted``, ``transcript(chat)``, ``on_action`` (a listener called with each ``Action``).
    Steer: ``fail(...)``, ``slow(...)``, ``hold(...)``, ``push_error(exc)``, ``group_rate``, ``private_rate``,
    ``callback_answer_window``, ``clock`` and ``advance``. Inject: the helpers listed in the module docstring.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_name: str = "HuFi Support",
        bot_username: str = "hufi_support_bot",
        group_rate: tuple[int, float] | None = GROUP_RATE,
        private_rate: tuple[int, float] | None = PRIVATE_RATE,
        callback_answer_window: float = CALLBACK_ANSWER_WINDOW,
        clock: Callable[[], float] = time.time,
        validate: bool = True,
    ) -> None:
        super().__init__(
            token,
            bot_name=bot_name,
            bot_username=bot_username,
            group_rate=group_rate,
            private_rate=private_rate,
            callback_answer_window=callback_answer_window,
            clock=clock,
        )
        #: Run ``Update.de_json`` on every injected update (switch off only to measure the emulator itself).
        self.validate = validate
        #: Every request the bot made, oldest first.
        self.calls: list[Call] = []
        #: Called with every ``Action`` as it happens (the demo prints them); may return an awaitable.
        self.on_action: Callable[[Action], object] | None = None
        self.port = 0
        self._actions: asyncio.Queue[Action | BaseException] = asyncio.Queue()
        self._failures: dict[str, list[Failure]] = defaultdict(list)
        self._slowdowns: dict[str, list[Slowdown]] = defaultdict(list)
        self._holds: dict[str, list[Hold]] = defaultdict(list)
        self._held: list[Hold] = []
        self._calls_by_method: dict[str, list[Call]] = defaultdict(list)
        self._call_waiters: dict[str, list[tuple[int, asyncio.Future[Call]]]] = defaultdict(list)
        self._handlers = {
            name.lower(): (name, getattr(self, "api_" + re.sub("([A-Z])", r"_\1", name).lower())) for name in METHODS
        }
        self._runner: web.AppRunner | None = None
        self._user_ids = itertools.count(100_000_001)
        self._group_ids = itertools.count(1_000_000_001)
        self._query_ids = itertools.count(1)
        #: The user that injection helpers act as when no ``user`` is given.
        self.default_user = self.add_user("Alice", username="alice")

    # --- server --------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What ``ApplicationBuilder.base_url`` needs (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        """What ``ApplicationBuilder.base_file_url`` needs (file downloads are not served)."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> str:
        """Serve on 127.0.0.1 on a free port; returns ``base_url``."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._closing = False
        return self.base_url

    async def stop(self) -> None:
        """Answer any waiting long poll with no updates and shut the server down."""
        self._closing = True
        self._updates_ready.set()
        for hold in self._held:
            hold.drop()  # nothing waits for a test that has ended
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> TelegramEmulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _read_params(self, request: web.Request) -> JSON:
        params = decode_params(dict(request.query), from_form=True)
        if not request.body_exists:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            params.update(decode_params(body if isinstance(body, dict) else {}, from_form=False))
            return params
        raw: dict[str, Any] = {}
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                size = len(value.file.read())
                raw[key] = {"file_name": value.filename, "mime_type": value.content_type, "size": size}
            else:
                raw[key] = value
        params.update(decode_params(raw, from_form=True))
        return params

    @staticmethod
    def _error_response(error: ApiError) -> web.Response:
        return web.json_response(error.body(), status=error.status)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error_response(ApiError(401, "Unauthorized"))
        entry = self._handlers.get(request.match_info["method"].lower())
        if entry is None:
            return self._error_response(ApiError(404, "Not Found"))
        method, handler = entry
        try:
            params = await self._read_params(request)
        except ValueError:
            return self._error_response(bad_request("can't parse request body"))
        delay = self._take_slowdown(method, params)
        if delay:
            await asyncio.sleep(delay)  # handled (and recorded) only after the delay, like a slow round trip
        hold = _take_rule(self._holds.get(method), params)
        if hold is not None and not hold.answer_only and not await hold._wait(params):
            return web.Response(status=502, text="dropped")  # never handled; nobody reads this answer
        call = Call(method, params, time.monotonic())
        self._record(call)
        try:
            self._raise_injected_failure(call)
            result = handler(call.params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as exc:
            call.error = exc
            return self._error_response(exc)
        except Exception as exc:  # noqa: BLE001 - an emulator bug: fail the waiting test, not a silent 500
            self.push_error(exc)
            call.error = ApiError(500, f"Internal Server Error: {exc!r}")
            return self._error_response(call.error)
        if method in ACTION_METHODS:
            await self._emit(Action(method, call.params, result, time.monotonic(), self._messages_of(call, result)))
        if hold is not None and hold.answer_only and not await hold._wait(params):
            return web.Response(status=502, text="dropped")  # handled; the answer is lost
        return web.json_response({"ok": True, "result": result})

    def _messages_of(self, call: Call, result: Any) -> tuple[JSON, ...]:
        if isinstance(result, dict) and "chat" in result:
            return (dict(result),)
        items = result if isinstance(result, list) else [result]
        ids = [r["message_id"] for r in items if isinstance(r, dict) and "message_id" in r]
        chat = self.chats.get(call.params.get("chat_id"))  # type: ignore[arg-type]
        if not ids or chat is None:
            return ()
        return tuple(dict(chat.messages[i]) for i in ids if i in chat.messages)

    # --- recording, waiting, failures ----------------------------------------------------------------------

    def _canonical(self, method: str) -> str:
        entry = self._handlers.get(method.lower())
        if entry is None:
            raise ValueError(f"the emulator has no Bot API method {method!r}")
        return entry[0]

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        seen = self._calls_by_method[call.method]
        seen.append(call)
        waiters = self._call_waiters.get(call.method)
        if waiters:
            for waiter in [w for w in waiters if w[0] <= len(seen)]:
                waiters.remove(waiter)
                if not waiter[1].done():
                    waiter[1].set_result(seen[waiter[0] - 1])

    def calls_to(self, method: str) -> list[Call]:
        """The calls of one method so far, oldest first."""
        return list(self._calls_by_method.get(self._canonical(method), ()))

    async def wait_call(self, method: str, timeout: float = 3.0, *, count: int = 1) -> Call:  # noqa: ASYNC109
        """Wait until the bot has called ``method`` ``count`` times; returns that call."""
        method = self._canonical(method)
        seen = self._calls_by_method[method]
        if len(seen) >= count:
            return seen[count - 1]
        future: asyncio.Future[Call] = asyncio.get_running_loop().create_future()
        self._call_waiters[method].append((count, future))
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self._call_waiters[method].remove((count, future))
            raise AssertionError(f"no {method} call #{count} within {timeout} s ({len(seen)} so far)") from None

    async def _emit(self, action: Action) -> None:
        self._actions.put_nowait(action)
        if self.on_action is not None:
            try:
                outcome = self.on_action(action)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception as exc:  # noqa: BLE001 - a broken listener fails the waiting test
                self.push_error(exc)

    async def next_action(self, method: str | None = None, timeout: float = 3.0) -> Action:  # noqa: ASYNC109
        """Pop the bot's next side effect; raise if it is not ``method`` or if an error was pushed."""
        expected = self._canonical(method) if method else None
        try:
            item = await asyncio.wait_for(self._actions.get(), timeout)
        except TimeoutError:
            raise AssertionError(f"the bot did nothing ({expected or 'any action'}) within {timeout} s") from None
        if isinstance(item, BaseException):
            raise item
        if expected is not None and item.method != expected:
            raise AssertionError(f"expected {expected}, but the bot did {item} first")
        return item

    def drain_actions(self) -> list[Action]:
        """Pop every queued action without waiting (raises a pushed error instead)."""
        actions = []
        while not self._actions.empty():
            item = self._actions.get_nowait()
            if isinstance(item, BaseException):
                raise item
            actions.append(item)
        return actions

    def push_error(self, error: BaseException) -> None:
        """Make the next ``next_action`` raise ``error`` (a test's PTB error handler calls this)."""
        self._actions.put_nowait(error)

    def fail(
        self,
        method: str,
        error: tuple[int, str],
        times: int | None = 1,
        retry_after: int | None = None,
        when: Callable[[JSON], bool] | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> Failure:
        """Make ``method`` fail with ``(status, description)``: ``times`` times (None: until cleared), only
        for calls whose decoded params satisfy ``when``; ``retry_after`` adds ``parameters.retry_after``."""
        params = dict(parameters or {})
        if retry_after is not None:
            params["retry_after"] = retry_after
        failure = Failure(self._canonical(method), error[0], error[1], params, times, when)
        self._failures[failure.method].append(failure)
        return failure

    def slow(
        self, method: str, seconds: float, times: int | None = 1, when: Callable[[JSON], bool] | None = None
    ) -> Slowdown:
        """Handle ``method`` only ``seconds`` after it arrives: ``times`` times (None: until cleared), only for
        calls whose decoded params satisfy ``when``. Other calls overtake it, as on a slow network."""
        slowdown = Slowdown(self._canonical(method), seconds, times, when)
        self._slowdowns[slowdown.method].append(slowdown)
        return slowdown

    def hold(
        self,
        method: str,
        *,
        when: Callable[[JSON], bool] | None = None,
        times: int | None = 1,
        answer_only: bool = False,
    ) -> Hold:
        """Hold the next ``times`` calls of ``method`` (None: until released) whose decoded params satisfy ``when``
        at the server until the test releases or drops them (see ``Hold``); other calls are not held up."""
        hold = Hold(self._canonical(method), times, when, answer_only)
        self._holds[hold.method].append(hold)
        self._held.append(hold)
        return hold

    def _take_slowdown(self, method: str, params: JSON) -> float:
        rule = _take_rule(self._slowdowns.get(method), params)
        return rule.seconds if rule is not None else 0.0

    def clear_failures(self) -> None:
        """Drop every injected failure."""
        self._failures.clear()

    def _raise_injected_failure(self, call: Call) -> None:
        rule = _take_rule(self._failures.get(call.method), call.params)
        if rule is not None:
            raise ApiError(rule.status, rule.description, rule.parameters)

    # --- users, chats, membership --------------------------------------------------------------------------

    def add_user(
        self,
        first_name: str = "Bob",
        *,
        username: str | None = None,
        language_code: str | None = "en",
        last_name: str | None = None,
        user_id: int | None = None,
    ) -> User:
        """Register a user who has started the bot (so its private chat exists)."""
        user = User(user_id or next(self._user_ids), first_name, username, last_name, language_code)
        self.users[user.id] = user
        self.chats[user.id] = Chat(user.id, "private", username=username, first_name=first_name, last_name=last_name)
        return user

    def add_group(
        self,
        title: str = "HuFi support",
        *,
        forum: bool = True,
        supergroup: bool = True,
        bot_status: str = "administrator",
        rights: Mapping[str, bool] | None = None,
        chat_id: int | None = None,
        username: str | None = None,
    ) -> Chat:
        """Register a group (a forum supergroup by default) with the bot as administrator (all rights
        except ``can_promote_members``, unless ``rights`` overrides some). A basic group can't be a forum:
        turning Topics on upgrades it (``upgrade_group``)."""
        if forum and not supergroup:
            raise ValueError("a basic group can't be a forum: add it with forum=False, then upgrade_group()")
        number = next(self._group_ids)
        chat_id = chat_id or -(number + 1_000_000_000_000 if supergroup else number)
        chat = Chat(chat_id, "supergroup" if supergroup else "group", title=title, username=username, is_forum=forum)
        # message 1 is the creation of the group ("supergroup_chat_created"; in forums its id is also the General
        # topic's, which can't be named in message_thread_id): the bot never sees it and can't delete it
        chat.last_message_id = 1
        self.chats[chat_id] = chat
        self.set_bot_status(chat, bot_status, rights=rights)
        return chat

    def add_channel(self, title: str = "HuFi news", *, username: str | None = None, chat_id: int | None = None) -> Chat:
        """Register a channel (the bot is not in it); its posts reach groups through ``forward_channel_post`` and
        ``send_as_channel``."""
        chat_id = chat_id or -(next(self._group_ids) + 1_000_000_000_000)
        chat = Chat(chat_id, "channel", title=title, username=username, bot_status="left")
        self.chats[chat_id] = chat
        return chat

    def upgrade_group(
        self, chat: Chat | int, *, forum: bool = True, by: User | None = None, chat_id: int | None = None
    ) -> Chat:
        """A basic group becomes a supergroup (turning Topics on does this, ``forum=True``); returns the new chat.

        The bot keeps its status (an administrator gets the default administrator rights); the old chat keeps its
        history and refuses writes with "group chat was upgraded to a supergroup chat" and ``migrate_to_chat_id``
        (Client.cpp:8150). Two updates arrive: ``migrate_to_chat_id`` in the old chat, from the user who upgraded
        it, and ``migrate_from_chat_id`` as message 1 of the new chat, sent on behalf of the new chat.
        """
        old = self.chat(chat)
        if old.type != "group" or old.migrated_to is not None:
            raise ValueError(f"chat {old.id} is not a basic group that can be upgraded")
        by = by or self.default_user
        new_id = chat_id or -(next(self._group_ids) + 1_000_000_000_000)
        new = Chat(new_id, "supergroup", title=old.title, is_forum=forum, members=dict(old.members))
        new.anonymous_admins = set(old.anonymous_admins)
        self.chats[new_id] = new
        self.set_bot_status(new, old.bot_status)
        old.migrated_to, new.migrated_from = new_id, old.id
        new.members.setdefault(by.id, "member")
        moved = self.store_message(old, {"migrate_to_chat_id": new_id}, sender=by.to_dict())
        first = self.store_message(
            new,
            {"migrate_from_chat_id": old.id},
            sender=GROUP_ANONYMOUS_BOT.to_dict(),
            extra={"sender_chat": new.to_dict()},
        )
        self.inject({"message": dict(moved)})
        self.inject({"message": dict(first)})
        return new

    def chat(self, chat: Chat | int | User) -> Chat:
        """The registered chat for a ``Chat``, a chat id or a user (their private chat)."""
        chat_id = chat if isinstance(chat, int) else chat.id
        if chat_id not in self.chats:
            raise ValueError(f"no chat {chat_id} in the emulator")
        return self.chats[chat_id]

    def set_member(self, chat: Chat | int, user: User, status: str, *, anonymous: bool = False) -> None:
        """Set a user's status in a group: creator, administrator, member, left or kicked. ``anonymous``
        administrators post as the group (see ``send_as_chat``)."""
        if status not in ("creator", "administrator", "member", "left", "kicked"):
            raise ValueError(f"unsupported member status {status!r}")
        if anonymous and status not in ("creator", "administrator"):
            raise ValueError("only administrators can be anonymous")
        self.users.setdefault(user.id, user)
        target = self.chat(chat)
        target.members[user.id] = status
        if anonymous:
            target.anonymous_admins.add(user.id)
        else:
            target.anonymous_admins.discard(user.id)

    def set_bot_status(
        self,
        chat: Chat | int,
        status: str,
        *,
        rights: Mapping[str, bool] | None = None,
        by: User | None = None,
        notify: bool = False,
    ) -> JSON | None:
        """Change the bot's status (and rights) in a chat; ``notify`` injects the ``my_chat_member`` update."""
        if status not in ("member", "administrator", "left", "kicked"):
            raise ValueError(f"unsupported bot status {status!r}")
        chat = self.chat(chat)
        old = self.member_dict(chat, self.bot)
        chat.bot_status = status
        chat.bot_rights = {**ADMIN_RIGHTS, **(rights or {})} if status == "administrator" else {}
        if not notify:
            return None
        return self.inject(
            {
                "my_chat_member": {
                    "chat": chat.to_dict(),
                    "from": (by or self.default_user).to_dict(),
                    "date": self.now(),
                    "old_chat_member": old,
                    "new_chat_member": self.member_dict(chat, self.bot),
                }
            }
        )

    def block_bot(self, user: User | None = None) -> JSON | None:
        """The user blocks the bot: sends to them fail with 403 and a ``my_chat_member`` update arrives."""
        user = user or self.default_user
        return self.set_bot_status(user.id, "kicked", by=user, notify=True)

    def unblock_bot(self, user: User | None = None) -> JSON | None:
        """The user restarts the bot after blocking it."""
        user = user or self.default_user
        return self.set_bot_status(user.id, "member", by=user, notify=True)

    def transcript(self, chat: Chat | int | User, thread: int | None = None) -> list[JSON]:
        """Messages now visible in a chat (or one topic), oldest first, edits applied, deletions removed."""
        messages = self.chat(chat).messages.values()
        if thread is None:
            return list(messages)
        return [m for m in messages if m.get("message_thread_id") == thread]

    # --- deletions the test controls -----------------------------------------------------------------------

    def _stored(self, message: Mapping[str, Any]) -> tuple[Chat, JSON]:
        chat = self.chat(message["chat"]["id"])
        stored = chat.messages.get(message["message_id"])
        if stored is None:
            raise ValueError(f"message {message['message_id']} is no longer in chat {chat.id}")
        return chat, stored

    def forbid_delete(self, message: Mapping[str, Any]) -> None:
        """Make deleting this message fail with "message can't be deleted" (as if it were > 48 h old)."""
        self._undeletable.add((message["chat"]["id"], message["message_id"]))

    def fail_delete(
        self, message: Mapping[str, Any], text: str = "message can't be deleted for everyone", times: int | None = 1
    ) -> Failure:
        """Make deleting this message fail with 400 "Bad Request: ``text``" (``times`` times, None: always)."""
        chat_id, message_id = message["chat"]["id"], message["message_id"]
        return self.fail(
            "deleteMessage",
            (400, f"Bad Request: {text}"),
            times=times,
            when=lambda p: p.get("chat_id") == chat_id and p.get("message_id") == message_id,
        )

    def delete_by_user(self, message: Mapping[str, Any]) -> None:
        """The user deletes the message (for everyone) before the bot does; bots get no update for that, and the
        bot's own deleteMessage then fails with "message to delete not found"."""
        chat, stored = self._stored(message)
        del chat.messages[stored["message_id"]]

    # --- injecting updates ---------------------------------------------------------------------------------

    def inject(self, update: Mapping[str, Any]) -> JSON:
        """Queue a raw update for the bot (``update_id`` added); raises ``ValueError`` if PTB can't parse it."""
        raw = {"update_id": next(self._update_ids), **update}
        if self.validate:
            try:
                Update.de_json(raw, None)  # type: ignore[arg-type]
            except Exception as exc:
                raise ValueError(f"malformed update {raw!r}: {exc!r}") from exc
        self.enqueue(raw)
        return raw

    def _user_post(
        self,
        content: JSON,
        user: User | None,
        chat: Chat | int | None,
        thread: int | None = None,
        reply_to: Mapping[str, Any] | None = None,
        date: int | None = None,
        *,
        sender: User | None = None,
        extra: JSON | None = None,
    ) -> JSON:
        """Store and inject a message written by ``user`` (shown as ``sender`` when it is sent on behalf of a
        chat, with ``extra`` fields such as ``sender_chat``)."""
        user = user or self.default_user
        if chat is None:
            chat = reply_to["chat"]["id"] if reply_to is not None else user.id
        target = self.chat(chat)
        if target.migrated_to is not None:
            raise ValueError(f"chat {target.id} was upgraded to {target.migrated_to}: write there")
        if target.is_group:
            if sender is None:
                target.members.setdefault(user.id, "member")
        elif target.id != user.id:
            raise ValueError(f"user {user.id} can't write in the private chat of {target.id}")
        elif target.blocked:
            self.unblock_bot(user)  # the client's "Restart" button unblocks before sending
        topic = target.topics.get(thread) if thread is not None else None
        if thread is not None and (topic is None or topic.deleted):
            raise ValueError(f"no topic {thread} in chat {target.id}")
        reply = None
        if reply_to is not None and (reply := target.messages.get(reply_to["message_id"])) is None:
            raise ValueError(f"message {reply_to['message_id']} is no longer in chat {target.id}")
        topic = topic or (
            target.topics.get(reply["message_thread_id"]) if reply and reply.get("is_topic_message") else None
        )
        if topic is not None and topic.closed and not is_service(content) and sender is None:
            if target.members.get(user.id) not in ("creator", "administrator") and topic.creator_id != user.id:
                raise ValueError(f"topic {topic.thread_id} is closed: only its creator and administrators can write")
        message = self.store_message(
            target,
            content,
            sender=(sender or user).to_dict(),
            topic=topic,
            reply_to=reply,
            date=date,
            extra=extra,
        )
        try:
            self.inject({"message": dict(message)})
        except ValueError:
            del target.messages[message["message_id"]]
            raise
        return dict(message)

    @staticmethod
    def _text(text: str) -> JSON:
        """A user's text message; ``/commands`` (also ``/cmd@botname``) get their ``bot_command`` entity."""
        content: JSON = {"text": text}
        if text.startswith("/") and len(text) > 1:
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        return content

    def send_text(
        self,
        text: str,
        user: User | None = None,
        chat: Chat | int | None = None,
        *,
        thread: int | None = None,
        reply_to: Mapping[str, Any] | None = None,
        date: int | None = None,
    ) -> JSON:
        """The user writes ``text`` (default: ``default_user`` in their private chat); ``/commands`` (also
        ``/cmd@botname``) get their ``bot_command`` entity. Returns the message as the bot will see it."""
        return self._user_post(self._text(text), user, chat, thread, reply_to, date)

    def reply(self, to_message: Mapping[str, Any], text: str, user: User | None = None) -> JSON:
        """The user replies to a message (in its chat and topic) with ``text``."""
        return self.send_text(text, user, to_message["chat"]["id"], reply_to=to_message)

    def send_as_chat(
        self,
        text: str,
        chat: Chat | int,
        *,
        thread: int | None = None,
        reply_to: Mapping[str, Any] | None = None,
        signature: str | None = None,
    ) -> JSON:
        """An anonymous administrator writes in a group: ``from`` is GroupAnonymousBot (1087968824) and
        ``sender_chat`` the group itself (Client.cpp:18152); ``signature`` is the administrator's custom title."""
        target = self.chat(chat)
        if not target.is_group:
            raise ValueError("only groups have anonymous administrators")
        extra: JSON = {"sender_chat": target.to_dict()}
        if signature:
            extra["author_signature"] = signature
        return self._user_post(
            self._text(text), None, target, thread, reply_to, sender=GROUP_ANONYMOUS_BOT, extra=extra
        )

    def send_as_channel(self, text: str, chat: Chat | int, channel: Chat | int, *, thread: int | None = None) -> JSON:
        """A member writes in a group as a channel they own: ``from`` is Channel_Bot, ``sender_chat`` the channel
        (Client.cpp:18157)."""
        source, target = self.chat(channel), self.chat(chat)
        if source.type != "channel" or not target.is_group:
            raise ValueError("a member writes as a channel in a group")
        extra: JSON = {"sender_chat": source.to_dict()}
        return self._user_post(self._text(text), None, target, thread, sender=CHANNEL_BOT, extra=extra)

    def forward_channel_post(self, channel: Chat | int, text: str, group: Chat | int) -> JSON:
        """A channel publishes ``text`` and Telegram forwards it into the channel's discussion group: ``from`` is
        777000, ``sender_chat`` the channel, ``is_automatic_forward`` (Client.cpp:18130, :18155)."""
        source, target = self.chat(channel), self.chat(group)
        if source.type != "channel" or not target.is_group:
            raise ValueError("a channel's posts are forwarded into a discussion group")
        post = self.store_message(source, {"text": text}, sender=CHANNEL_BOT.to_dict())
        del post["from"]  # a channel post has no sender user
        extra: JSON = {
            "sender_chat": source.to_dict(),
            "is_automatic_forward": True,
            "forward_origin": {
                "type": "channel",
                "chat": source.to_dict(),
                "message_id": post["message_id"],
                "date": post["date"],
            },
        }
        return self._user_post({"text": text}, None, target, sender=SERVICE_NOTIFICATIONS, extra=extra)

    def send_photo(
        self,
        caption: str | None = None,
        user: User | None = None,
        chat: Chat | int | None = None,
        *,
        thread: int | None = None,
        date: int | None = None,
    ) -> JSON:
        """The user sends a photo, optionally with a caption."""
        file_id = f"photo-{next(self._file_ids)}"
        sizes = [
            {
                "file_id": f"{file_id}-{w}",
                "file_unique_id": f"u{file_id}-{w}",
                "width": w,
                "height": w,
                "file_size": w * 40,
            }
            for w in (90, 800)
        ]
        content: JSON = {"photo": sizes} | ({"caption": caption} if caption else {})
        return self._user_post(content, user, chat, thread, None, date)

    def send_document(
        self,
        file_name: str = "document.txt",
        mime_type: str = "text/plain",
        caption: str | None = None,
        user: User | None = None,
        chat: Chat | int | None = None,
        *,
        thread: int | None = None,
        date: int | None = None,
    ) -> JSON:
        """The user sends a document, optionally with a caption."""
        file_id = f"document-{next(self._file_ids)}"
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": 1024,
        }
        content: JSON = {"document": document} | ({"caption": caption} if caption else {})
        return self._user_post(content, user, chat, thread, None, date)

    def edit_text(self, message: Mapping[str, Any], text: str) -> JSON:
        """The user edits one of their text messages (an ``edited_message`` update)."""
        stored = self.chat(message["chat"]["id"]).messages.get(message["message_id"])
        if stored is None or stored["from"]["id"] == self.bot.id or "text" not in stored:
            raise ValueError("only a user's visible text message can be edited")
        stored.update(text=text, edit_date=self.now())
        stored.pop("entities", None)
        if text.startswith("/") and len(text) > 1:
            stored["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}]
        self.inject({"edited_message": dict(stored)})
        return dict(stored)

    # --- buttons -------------------------------------------------------------------------------------------

    def press_button(
        self,
        message: Mapping[str, Any],
        callback_data: str | None = None,
        *,
        text: str | None = None,
        user: User | None = None,
        check: bool = True,
        late: bool = False,
    ) -> JSON:
        """The user presses an inline button of a bot message, found by ``callback_data`` or by its ``text``.

        With ``check`` the button must be on the message as it is now (edits applied). Returns the
        ``callback_query``; its id can be answered within ``callback_answer_window`` seconds of the press (on
        the emulator's clock). ``late``: the press happened longer ago than that (the update waited in a queue,
        e.g. while the bot was down), so answering it fails with "query is too old ...".
        """
        chat = self.chat(message["chat"]["id"])
        stored = chat.messages.get(message["message_id"])
        if stored is None:
            raise ValueError(f"message {message['message_id']} is no longer in chat {chat.id}")
        buttons = [b for row in (stored.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
        button = next(
            (b for b in buttons if callback_data in (None, b.get("callback_data")) and text in (None, b.get("text"))),
            None,
        )
        if button is None and check:
            labels = [(b.get("text"), b.get("callback_data")) for b in buttons]
            raise ValueError(f"no button {callback_data or text!r} on the message; buttons: {labels}")
        data = button.get("callback_data") if button else callback_data
        user = user or (self.users[chat.id] if chat.type == "private" else self.default_user)
        query_id = f"{self.bot.id}{next(self._query_ids):08d}"
        query = {
            "id": query_id,
            "from": user.to_dict(),
            "message": dict(stored),
            "chat_instance": str(abs(chat.id) * 31 + 7),
            "data": data,
        }
        self._open_queries[query_id] = self.time() - (self.callback_answer_window + 1 if late else 0)
        self.inject({"callback_query": query})
        return query

    def expire_callback_queries(self) -> int:
        """Every callback query not answered yet is now too old to answer (as after the answer window, or for
        updates that waited in a queue); returns how many."""
        for query_id in self._open_queries:
            self._open_queries[query_id] = -math.inf
        return len(self._open_queries)

    # --- topics and service messages -----------------------------------------------------------------------

    def create_topic(
        self, chat: Chat | int, name: str, user: User | None = None, icon_color: int = TOPIC_COLORS[0]
    ) -> int:
        """A user (a staff member) creates a forum topic; returns its ``message_thread_id``."""
        target = self.chat(chat)
        if not target.is_forum:
            raise ValueError(f"chat {target.id} is not a forum")
        topic = self.new_topic(target, clean_topic_name(name), icon_color, user or self.default_user)
        self.inject({"message": dict(topic.created_message)})
        return topic.thread_id

    def _topic(self, chat: Chat | int, thread: int) -> tuple[Chat, Topic]:
        target = self.chat(chat)
        topic = target.topics.get(thread)
        if topic is None or topic.deleted:
            raise ValueError(f"no topic {thread} in chat {target.id}")
        return target, topic

    def _topic_event(self, chat: Chat | int, thread: int, user: User | None, key: str, closed: bool) -> JSON:
        target, topic = self._topic(chat, thread)
        topic.closed = closed
        return self._user_post({key: {}}, user, target, thread)

    def close_topic(self, chat: Chat | int, thread: int, user: User | None = None) -> JSON:
        """A staff member closes a topic (a ``forum_topic_closed`` service message arrives)."""
        return self._topic_event(chat, thread, user, "forum_topic_closed", closed=True)

    def reopen_topic(self, chat: Chat | int, thread: int, user: User | None = None) -> JSON:
        """A staff member reopens a topic (a ``forum_topic_reopened`` service message arrives)."""
        return self._topic_event(chat, thread, user, "forum_topic_reopened", closed=False)

    def rename_topic(
        self,
        chat: Chat | int,
        thread: int,
        name: str,
        user: User | None = None,
        *,
        icon_custom_emoji_id: str | None = None,
    ) -> JSON:
        """A staff member renames a topic (a ``forum_topic_edited`` service message in the topic arrives)."""
        target, topic = self._topic(chat, thread)
        topic.name = clean_topic_name(name) or topic.name
        edited: JSON = {"name": topic.name}
        if icon_custom_emoji_id is not None:
            topic.icon_custom_emoji_id = icon_custom_emoji_id or None
            edited["icon_custom_emoji_id"] = icon_custom_emoji_id
        return self._user_post({"forum_topic_edited": edited}, user, target, thread)

    def delete_topic(self, chat: Chat | int, thread: int) -> None:
        """A staff member deletes a topic with its messages; Telegram sends the bot no update for that."""
        target, topic = self._topic(chat, thread)
        self.remove_topic(target, topic)

    def pin_message(self, message: Mapping[str, Any], user: User | None = None) -> JSON:
        """A staff member pins a message: a ``pinned_message`` service message arrives in the same chat and topic."""
        chat, stored = self._stored(message)
        pinned = {k: v for k, v in stored.items() if k != "reply_to_message"}
        thread = stored.get("message_thread_id") if stored.get("is_topic_message") else None
        return self._user_post({"pinned_message": pinned}, user, chat, thread)

    def add_members(self, chat: Chat | int, *users: User, by: User | None = None) -> JSON:
        """Users join (or are added to) a group: a ``new_chat_members`` service message arrives."""
        target = self.chat(chat)
        if not users or not target.is_group:
            raise ValueError("users join a group")
        for user in users:
            self.users.setdefault(user.id, user)
            target.members[user.id] = "member"
        return self._user_post({"new_chat_members": [u.to_dict() for u in users]}, by or users[0], target)

    def inject_service(
        self, chat: Chat | int, content: Mapping[str, Any], user: User | None = None, *, thread: int | None = None
    ) -> JSON:
        """Any other service message (``content`` such as ``{"new_chat_title": "..."}``) from ``user``, in a
        topic if ``thread`` is given."""
        if not is_service(dict(content)):
            raise ValueError("a service message has no text or media")
        return self._user_post(dict(content), user, chat, thread)
