"""The Bot API transport through a proxy (``AiohttpRequest(proxy=...)``, ``proxy_from_env``, ``proxy_from``).

The bot talks to ``https://api.telegram.org`` as in production: the proxy on 127.0.0.1 gets ``CONNECT
api.telegram.org:443`` and routes it to a TLS front (a certificate from a CA made for the test) in front of the
Bot API emulator. The no-internet guard in conftest.py would fail any attempt to resolve or reach
api.telegram.org directly, so a passing round trip proves the request went through the proxy.

Timeouts are httpx's through a proxy: connect for reaching the proxy and for the TLS handshake through the
tunnel, read for the proxy's answer to CONNECT and for the reply (github.com/encode/httpcore/pull/506).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.sandbox.telegram_api import TelegramEmulator
from bot.telegram_request import PROXY_TIMEOUT_TEXT, PROXY_VARIABLES, AiohttpRequest, proxy_from
from tests.bot_harness import free_port
from tests.proxy_harness import ForwardProxy, TestCA, TlsFront

TELEGRAM = "https://api.telegram.org/bot"
SECRET_PART = "AAH-secret-part"
TOKEN = f"123456789:{SECRET_PART}-of-the-token-000000000"


@pytest.fixture(autouse=True)
def clean_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set the variables they need; whatever the machine has must not leak in."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path)


@pytest.fixture
async def api() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as api:
        yield api


@pytest.fixture
async def telegram(api: TelegramEmulator, ca: TestCA) -> AsyncIterator[TlsFront]:
    """api.telegram.org:443 as the proxy reaches it: TLS, then the emulator."""
    async with TlsFront(api.port, ca.server_context()) as front:
        yield front


@contextlib.asynccontextmanager
async def opened(request: AiohttpRequest) -> AsyncIterator[AiohttpRequest]:
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


@contextlib.contextmanager
def timing() -> Iterator[list[float]]:
    """Yields a list that holds the seconds the block took once it ends."""
    loop = asyncio.get_running_loop()
    took: list[float] = []
    started = loop.time()
    try:
        yield took
    finally:
        took.append(loop.time() - started)


async def test_the_bot_reaches_telegram_through_the_proxy(
    api: TelegramEmulator, telegram: TlsFront, ca: TestCA
) -> None:
    async with ForwardProxy(routes={"api.telegram.org:443": telegram.port}) as proxy:
        request = AiohttpRequest(proxy=proxy.url, ssl_context=ca.client_context())
        async with Bot(api.token, base_url=TELEGRAM, request=request) as bot:
            assert bot.bot.is_bot  # Bot.initialize called getMe
            sent = await bot.send_message(api.default_user.id, "through the proxy")
    assert sent.text == "through the proxy"
    assert [seen.method for seen in api.calls] == ["getMe", "sendMessage"]
    # one tunnel, kept alive for both calls; the proxy saw the host, never the path with the token
    assert [(seen.method, seen.target) for seen in proxy.seen] == [("CONNECT", "api.telegram.org:443")]
    assert api.token not in repr(proxy.seen)
    assert b"POST /bot" in telegram.received  # the calls arrived inside the tunnel


async def test_proxy_credentials_go_to_the_proxy_only(api: TelegramEmulator, telegram: TlsFront, ca: TestCA) -> None:
    routes = {"api.telegram.org:443": telegram.port}
    async with ForwardProxy(routes=routes, credentials=("hufi", "pr0xy-p@ss")) as proxy:
        url = proxy.url.replace("://", "://hufi:pr0xy-p%40ss@")
        async with Bot(
            api.token, base_url=TELEGRAM, request=AiohttpRequest(proxy=url, ssl_context=ca.client_context())
        ) as bot:
            assert bot.bot.is_bot  # Bot.initialize called getMe
        assert proxy.seen[0].headers["proxy-authorization"].startswith("Basic ")
        assert b"roxy-authorization" not in telegram.received.lower()

        refused = AiohttpRequest(proxy=proxy.url.replace("://", "://hufi:wrong-p4ss@"), ssl_context=ca.client_context())
        async with opened(refused) as request:
            with pytest.raises(NetworkError) as caught:
                await request.do_request(f"{TELEGRAM}{TOKEN}/getMe", "POST")
    text = str(caught.value)
    assert "407" in text and not isinstance(caught.value, TimedOut)
    assert "wrong-p4ss" not in text and "hufi:" not in text and SECRET_PART not in text


async def test_a_dead_proxy_is_a_network_error_at_once() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with opened(AiohttpRequest(proxy=dead, connect_timeout=3.0)) as request:
        with timing() as took, pytest.raises(NetworkError) as caught:
            await request.do_request(f"{TELEGRAM}{TOKEN}/getMe", "POST")
    assert not isinstance(caught.value, TimedOut)
    assert "ClientProxyConnectionError" in caught.value.message
    assert SECRET_PART not in caught.value.message
    assert took[0] < 3.0


async def test_a_proxy_host_that_never_accepts_times_out_within_the_connect_timeout() -> None:
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        filler.connect(listener.getsockname())  # the accept queue is full: the kernel drops further SYNs
        proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
        timeouts = {"connect_timeout": 0.5, "read_timeout": 10.0, "write_timeout": 10.0, "pool_timeout": 10.0}
        async with opened(AiohttpRequest(proxy=proxy, **timeouts)) as request:
            with timing() as took, pytest.raises(TimedOut):
                await request.do_request(f"{TELEGRAM}{TOKEN}/getMe", "POST")
    assert 0.4 < took[0] < 5


async def test_a_proxy_that_never_answers_connect_times_out_within_the_read_timeout() -> None:
    async with ForwardProxy(mode="stall") as proxy:
        timeouts = {"read_timeout": 0.5, "connect_timeout": 10.0, "write_timeout": 10.0, "pool_timeout": 10.0}
        async with opened(AiohttpRequest(proxy=proxy.url, **timeouts)) as request:
            with timing() as took, pytest.raises(TimedOut, match="proxy") as caught:
                await request.do_request(f"{TELEGRAM}{TOKEN}/getMe", "POST")
    assert caught.value.message == PROXY_TIMEOUT_TEXT
    assert [seen.method for seen in proxy.seen] == ["CONNECT"]
    # httpx ends here after the read timeout; aiohttp alone would wait for pool + connect (20 s here)
    assert 0.4 < took[0] < 5


async def test_a_tunnel_without_tls_behind_it_times_out_within_the_connect_timeout(telegram: TlsFront) -> None:
    async with ForwardProxy(routes={"api.telegram.org:443": telegram.port}, mode="stall-after-connect") as proxy:
        timeouts = {"connect_timeout": 0.5, "read_timeout": 10.0, "write_timeout": 10.0, "pool_timeout": 10.0}
        async with opened(AiohttpRequest(proxy=proxy.url, **timeouts)) as request:
            with timing() as took, pytest.raises(TimedOut) as caught:
                await request.do_request(f"{TELEGRAM}{TOKEN}/getMe", "POST")
    assert caught.value.message != PROXY_TIMEOUT_TEXT  # the proxy answered; the handshake is what hung
    assert 0.4 < took[0] < 5


async def test_reads_through_the_tunnel_have_the_read_timeout_only(
    api: TelegramEmulator, telegram: TlsFront, ca: TestCA
) -> None:
    """Once the tunnel is open the proxy's deadline is gone: a long poll outlasts it, a stalled reply does not."""
    timeouts = {"read_timeout": 0.5, "connect_timeout": 0.5, "write_timeout": 0.5, "pool_timeout": 0.5}
    async with ForwardProxy(routes={"api.telegram.org:443": telegram.port}) as proxy:
        request = AiohttpRequest(proxy=proxy.url, ssl_context=ca.client_context(), **timeouts)
        async with opened(request):
            api.slow("getUpdates", 1.2)
            status, _ = await request.do_request(f"{TELEGRAM}{api.token}/getUpdates", "POST", read_timeout=5.0)
            assert status == 200
            api.slow("getMe", 5.0)
            with timing() as took, pytest.raises(TimedOut) as caught:
                await request.do_request(f"{TELEGRAM}{api.token}/getMe", "POST")
    assert caught.value.message != PROXY_TIMEOUT_TEXT
    assert 0.4 < took[0] < 3


async def test_an_https_proxy(api: TelegramEmulator, telegram: TlsFront, ca: TestCA) -> None:
    """TLS to the proxy, then TLS to the Bot API inside it (asyncio supports TLS in TLS from Python 3.11)."""
    routes = {"api.telegram.org:443": telegram.port}
    async with ForwardProxy(routes=routes, ssl_context=ca.server_context()) as proxy:
        assert proxy.url.startswith("https://")
        async with Bot(
            api.token, base_url=TELEGRAM, request=AiohttpRequest(proxy=proxy.url, ssl_context=ca.client_context())
        ) as bot:
            assert bot.bot.is_bot  # Bot.initialize called getMe
    assert [seen.target for seen in proxy.seen] == ["api.telegram.org:443"]


async def test_environment_proxies_when_asked(
    api: TelegramEmulator, telegram: TlsFront, ca: TestCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with ForwardProxy(routes={"api.telegram.org:443": telegram.port}) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        async with Bot(
            api.token, base_url=TELEGRAM, request=AiohttpRequest(proxy_from_env=True, ssl_context=ca.client_context())
        ) as bot:
            assert bot.bot.is_bot  # Bot.initialize called getMe
        assert [seen.target for seen in proxy.seen] == ["api.telegram.org:443"]

        # the same variables without the opt-in: the bot goes direct, which the no-internet guard refuses
        async with opened(AiohttpRequest(ssl_context=ca.client_context())) as request:
            with pytest.raises(
                NetworkError, match=r"ClientConnectorDNSError: Cannot connect to host api\.telegram\.org"
            ):
                await request.do_request(f"{TELEGRAM}{api.token}/getMe", "POST")
    assert len(proxy.seen) == 1


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
async def test_a_plain_http_api_through_an_environment_proxy(
    api: TelegramEmulator, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """An http:// Bot API (a local server) goes through HTTP_PROXY, or ALL_PROXY, as a forwarded request."""
    async with ForwardProxy() as proxy:
        monkeypatch.setenv(variable, proxy.url)
        async with Bot(api.token, base_url=api.base_url, request=AiohttpRequest(proxy_from_env=True)) as bot:
            assert bot.bot.is_bot  # Bot.initialize called getMe
    assert [(seen.method, seen.target) for seen in proxy.seen] == [("POST", f"{api.base_url}{api.token}/getMe")]
    assert [call.method for call in api.calls] == ["getMe"]


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost,127.0.0.1", "*"])
async def test_no_proxy_goes_around_the_proxy(
    api: TelegramEmulator, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    async with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", no_proxy)
        async with Bot(api.token, base_url=api.base_url, request=AiohttpRequest(proxy_from_env=True)) as bot:
            assert bot.bot.is_bot  # Bot.initialize called getMe
    assert proxy.seen == []
    assert [call.method for call in api.calls] == ["getMe"]


async def test_an_explicit_proxy_ignores_no_proxy(api: TelegramEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """As with httpx: the configured proxy takes every request."""
    monkeypatch.setenv("NO_PROXY", "*")
    async with ForwardProxy() as proxy:
        async with Bot(api.token, base_url=api.base_url, request=AiohttpRequest(proxy=proxy.url)) as bot:
            assert bot.bot.is_bot  # Bot.initialize called getMe
    assert [seen.method for seen in proxy.seen] == ["POST"]


def test_proxy_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert proxy_from(None, False) == {"proxy": None, "proxy_from_env": False}
    assert proxy_from("  ", True) == {"proxy": None, "proxy_from_env": True}
    assert proxy_from("http://u:p@proxy.example:3128", False) == {
        "proxy": "http://u:p@proxy.example:3128",
        "proxy_from_env": False,
    }
    # the explicit setting wins over the environment's
    assert proxy_from("https://proxy.example:443", True) == {
        "proxy": "https://proxy.example:443",
        "proxy_from_env": False,
    }
    # a bad variable is reported now (when the environment is used at all), named, with its value kept out
    monkeypatch.setenv("HTTPS_PROXY", "socks5://user:s3cret@127.0.0.1:1080")
    assert proxy_from(None, False)["proxy_from_env"] is False
    with pytest.raises(ValueError, match="HTTPS_PROXY: socks5 proxies are not supported") as caught:
        proxy_from(None, True)
    assert "s3cret" not in str(caught.value)
    with pytest.raises(ValueError):
        AiohttpRequest(proxy_from_env=True)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("socks5://127.0.0.1:1080", "socks5 proxies are not supported"),
        ("socks5h://user:s3cret@127.0.0.1:1080", "socks5h proxies are not supported"),
        ("http://:3128", "host is missing"),
        ("http://user:s3cret@proxy.example:99999", "not a valid URL"),
        ("http://proxy.example:3128/some/path", "has no path"),
    ],
)
def test_bad_proxy_settings_are_named_without_their_value(value: str, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        proxy_from(value, False)
    assert str(caught.value).startswith("TELEGRAM_PROXY_URL: ") and problem in str(caught.value)
    assert "s3cret" not in str(caught.value)
