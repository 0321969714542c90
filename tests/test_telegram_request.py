"""The bot's aiohttp transport for PTB (``bot.telegram_request.AiohttpRequest``).

Round trips go through a real ``telegram.Bot`` to the Bot API emulator; timeouts, failures, headers and
redirects are driven by small aiohttp servers on 127.0.0.1 that misbehave on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import InvalidToken, NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.app import local_request
from bot.sandbox.telegram_api import TelegramEmulator
from bot.telegram_request import AiohttpRequest
from tests.bot_harness import bot_env, free_port

TOKEN = "123456789:AAH-secret-part-of-the-token-000000000"


@pytest.fixture
async def api() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as api:
        yield api


@contextlib.asynccontextmanager
async def serving(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> AsyncIterator[str]:
    """An aiohttp server on 127.0.0.1 answering every path with ``handler``; yields its base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def opened(request: AiohttpRequest) -> AsyncIterator[AiohttpRequest]:
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


async def test_bot_round_trip_sends_form_fields(api: TelegramEmulator) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Check again", callback_data="again:7")]])
    async with Bot(
        api.token, base_url=api.base_url, request=local_request(), get_updates_request=local_request()
    ) as bot:
        me = await bot.get_me()
        sent = await bot.send_message(api.default_user.id, "<b>hi</b>", parse_mode="HTML", reply_markup=keyboard)
    assert me.is_bot
    assert sent.text == "hi" and sent.entities[0].type == "bold"
    call = api.calls_to("sendMessage")[-1]
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "again:7"


async def test_uploads_go_as_multipart(api: TelegramEmulator) -> None:
    payload = b"x" * 300_000
    async with Bot(api.token, base_url=api.base_url, request=local_request()) as bot:
        document = await bot.send_document(
            api.default_user.id, InputFile(io.BytesIO(payload), filename="report.txt"), caption="diagnosis"
        )
        photo = await bot.send_photo(api.default_user.id, b"\x89PNG not really", caption="p")
    assert document.document is not None
    assert (document.document.file_name, document.document.file_size) == ("report.txt", 300_000)
    assert document.caption == "diagnosis"
    assert photo.photo[-1].file_size == len(b"\x89PNG not really")


async def test_wrong_token_is_reported_by_ptb(api: TelegramEmulator) -> None:
    with pytest.raises(InvalidToken):
        async with Bot(TOKEN, base_url=api.base_url, request=local_request()):
            pass
    assert api.calls == []


async def test_headers_body_and_no_redirects() -> None:
    seen: list[tuple[str, str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        if request.path.endswith("/moved"):
            return web.Response(status=302, headers={"Location": "/elsewhere"})
        seen.append((request.headers["User-Agent"], request.content_type, await request.text()))
        return web.json_response({"ok": True, "result": True})

    async with serving(handler) as base, opened(AiohttpRequest()) as request:
        data = RequestData([])
        status, body = await request.do_request(f"{base}/bot{TOKEN}/close", "POST", data)
        assert (status, body) == (200, b'{"ok": true, "result": true}')
        status, _ = await request.do_request(f"{base}/bot{TOKEN}/moved", "POST")
    assert status == 302  # returned as is, like httpx: PTB then reports it
    assert seen == [(AiohttpRequest.USER_AGENT, "application/octet-stream", "")]
    assert "python-telegram-bot" in AiohttpRequest.USER_AGENT


async def test_proxy_variables_are_ignored(api: TelegramEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with Bot(api.token, base_url=api.base_url, request=local_request()) as bot:
        assert (await bot.get_me()).is_bot


async def test_read_timeout_is_timed_out() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"ok": True, "result": True})

    async with serving(slow) as base, opened(AiohttpRequest(read_timeout=0.2)) as request:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(TimedOut):
            await request.do_request(f"{base}/bot{TOKEN}/getMe", "POST")
        assert loop.time() - started < 2
        with pytest.raises(TimedOut):  # a per-call read timeout overrides the default
            await AiohttpRequest.do_request(request, f"{base}/bot{TOKEN}/getMe", "POST", read_timeout=0.1)


async def test_long_polling_waits_past_the_default_read_timeout() -> None:
    async def long_poll(request: web.Request) -> web.Response:
        await asyncio.sleep(0.5)
        return web.json_response({"ok": True, "result": []})

    async with serving(long_poll) as base, opened(AiohttpRequest(read_timeout=0.2)) as request:
        status, _ = await request.do_request(f"{base}/bot{TOKEN}/getUpdates", "POST", read_timeout=2.0)
    assert status == 200


async def test_a_slow_steady_reply_is_bounded_per_read_not_in_total() -> None:
    """Only uploads get an overall bound; a reply that keeps arriving is fine however long it takes."""

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(5):
            await response.write(b" ")
            await asyncio.sleep(0.2)
        await response.write(b'{"ok": true, "result": true}')
        await response.write_eof()
        return response

    timeouts = {"read_timeout": 0.5, "connect_timeout": 0.1, "pool_timeout": 0.1, "write_timeout": 0.1}
    async with serving(trickle) as base, opened(AiohttpRequest(**timeouts)) as request:
        status, body = await request.do_request(f"{base}/bot{TOKEN}/getMe", "POST")
    assert status == 200 and body.strip() == b'{"ok": true, "result": true}'


async def test_waiting_for_a_pooled_connection_times_out() -> None:
    release = asyncio.Event()

    async def held(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"ok": True, "result": True})

    async with serving(held) as base, opened(AiohttpRequest(connection_pool_size=1)) as request:
        first = asyncio.create_task(request.do_request(f"{base}/bot{TOKEN}/a", "POST"))
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut, match="free connection"):
            await request.do_request(f"{base}/bot{TOKEN}/b", "POST", pool_timeout=0.1, connect_timeout=0.1)
        release.set()
        assert (await first)[0] == 200


async def test_stalled_upload_is_bounded_by_the_timeouts() -> None:
    """aiohttp has no write timeout: a server that never reads must still not hang the bot."""

    done = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await done.wait()
        writer.transport.abort()

    server = await asyncio.start_server(never_read, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    upload = InputFile(io.BytesIO(b"z" * 32_000_000), filename="big.bin")
    data = RequestData([RequestParameter("document", upload.attach_name, [upload])])
    assert data.contains_files
    try:
        async with opened(
            AiohttpRequest(read_timeout=0.2, connect_timeout=0.2, pool_timeout=0.2, media_write_timeout=0.2)
        ) as request:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(TimedOut):
                await request.do_request(f"http://127.0.0.1:{port}/bot{TOKEN}/sendDocument", "POST", data)
            assert loop.time() - started < 3
    finally:
        done.set()
        server.close()
        await server.wait_closed()
        assert len(writers) == 1


async def test_connection_refused_is_network_error_without_the_token() -> None:
    async with opened(AiohttpRequest()) as request:
        with pytest.raises(NetworkError) as caught:
            await request.do_request(f"http://127.0.0.1:{free_port()}/bot{TOKEN}/getMe", "POST")
    assert not isinstance(caught.value, TimedOut)
    assert "aiohttp.Client" in caught.value.message
    assert "secret-part" not in caught.value.message


async def test_dropped_connection_is_network_error() -> None:
    async def drop(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(1)
        return web.Response()

    async with serving(drop) as base, opened(AiohttpRequest()) as request:
        with pytest.raises(NetworkError, match="ServerDisconnected") as caught:
            await request.do_request(f"{base}/bot{TOKEN}/getMe", "POST")
    assert "secret-part" not in str(caught.value)


async def test_lifecycle() -> None:
    request = AiohttpRequest(connection_pool_size=3)
    assert request.connection_pool_size == 3 and request.read_timeout == 5.0
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:1/botx/getMe", "POST")
    await request.initialize()
    await request.initialize()  # idempotent
    assert request.is_initialized
    await request.shutdown()
    await request.shutdown()  # idempotent
    assert not request.is_initialized
    await request.initialize()  # PTB may initialize a Bot again after shutdown
    assert request.is_initialized
    await request.shutdown()
    with pytest.raises(ValueError):
        AiohttpRequest(connection_pool_size=0)


async def test_the_running_bot_uses_it(tmp_path: Path) -> None:
    async with bot_env(tmp_path, ["mexc"]) as env:
        request = env.app.bot.request
        assert isinstance(request, AiohttpRequest) and request.is_initialized
        assert request.connection_pool_size == 64
        env.api.send_text("/start")
        assert "HuFi" in (await env.wait_text("HuFi")).text
    assert not request.is_initialized  # closed with the application
