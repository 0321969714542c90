"""PTB's HTTP transport on aiohttp instead of httpx.

Why: under load httpx/httpcore cost the bot 1.5-2 ms of CPU per Bot API call, and PTB's own stack was the
ceiling for button presses (benchmarks/README.md, benchmark 3). aiohttp is already loaded for ccxt and costs
about a third of that. The class keeps HTTPXRequest's contract: the same constructor timeouts, DefaultValue
arguments replaced by the instance defaults, a longer write timeout for uploads, ``TimedOut`` for every
timeout and ``NetworkError`` for every other transport failure.

Proxies (``proxy``, ``proxy_from_env``; the settings go through ``proxy_from``): an ``http://`` or ``https://``
proxy, with ``user:password@`` if it needs them (sent as ``Proxy-Authorization``, never to the Bot API). SOCKS is
not supported: aiohttp needs a third-party connector for it (aiohttp-socks) that would replace this one and bound
the whole handshake by one timeout; an HTTP proxy in front of a SOCKS one does the job. The environment's proxy
variables are ignored unless ``proxy_from_env`` is set (a proxy would divert a local Bot API server); when set,
they are read as httpx (PTB's default transport) reads them: ``HTTPS_PROXY``/``HTTP_PROXY`` by the URL's scheme,
else ``ALL_PROXY``, and ``NO_PROXY`` (host names, domain suffixes, ``*``) sends a host around the proxy. They are
read once per Bot API host rather than on every request (aiohttp's own ``trust_env`` looks them up in a thread
per request, and reads ``~/.netrc`` too). An explicit ``proxy`` wins and applies to every request, as in httpx.

Timeouts through a proxy are httpx's: ``connect`` bounds the connection to the proxy (and the TLS handshake with
the Bot API through the tunnel), ``read`` bounds the wait for the proxy's answer to ``CONNECT`` (httpcore sends
it with the request's timeouts: github.com/encode/httpcore/pull/506), then ``write`` and ``read`` bound the
request as usual, and ``pool`` the wait for a free connection. aiohttp bounds the proxy's answer only by its
overall connection timeout, so ``_Connector`` starts a read deadline when the proxy accepts the connection and
lifts it when the tunnel is open (two small overrides of aiohttp's connector; if aiohttp renamed them, the
overall bound below still ends a stalled proxy, later, and tests/test_proxy.py would fail).

Differences worth knowing:
* redirects are not followed (httpx's default);
* aiohttp has no write timeout of its own. A small body always fits the socket buffer, but an upload can
  stall, so for uploads the four timeouts together bound the whole request (when all are finite). Connect
  and read are enforced on their own for every request;
* error texts never carry the bot token nor a proxy's credentials (aiohttp puts URLs into some messages).
"""

from __future__ import annotations

import asyncio
import base64
import io
import re
import ssl
import urllib.parse
import urllib.request
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypedDict

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_TOKEN_IN_URL = re.compile(r"/bot[^/\s'\"]+")
_USERINFO_IN_URL = re.compile(r"(//)[^/@\s'\"]*@")
POOL_TIMEOUT_TEXT = (
    "Timed out waiting for a free connection or for the connection itself; "
    "consider a larger connection pool or longer timeouts."
)
PROXY_TIMEOUT_TEXT = "Timed out waiting for the proxy to open a tunnel to the Bot API."
PROXY_SCHEMES = ("http", "https")
#: The environment variables ``proxy_from_env`` reads (lower-case spellings too, which win, as in urllib).
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


def _hide_token(text: str) -> str:
    return _USERINFO_IN_URL.sub(r"\1", _TOKEN_IN_URL.sub("/bot<token>", text))


def _pick(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class ProxyOptions(TypedDict):
    """``AiohttpRequest``'s proxy arguments, as ``proxy_from`` returns them."""

    proxy: str | None
    proxy_from_env: bool


@dataclass(frozen=True, slots=True)
class _Route:
    """Where a request goes first: the proxy's URL without credentials, and the header carrying them."""

    url: str
    authorization: str | None


def _route(value: str, source: str) -> _Route:
    """Check one proxy URL (from ``source``: a setting or a variable); messages never echo the URL."""
    if "://" not in value:  # `HTTPS_PROXY=host:3128`, as httpx and curl accept it
        value = "http://" + value
    try:
        url = urllib.parse.urlsplit(value)
        url.port  # noqa: B018 (checks the port)
    except ValueError:
        raise ValueError(f"{source}: not a valid URL") from None
    if url.scheme not in PROXY_SCHEMES:
        raise ValueError(f"{source}: {url.scheme} proxies are not supported; use an http:// or https:// proxy")
    if not url.hostname:
        raise ValueError(f"{source}: the proxy's host is missing")
    if url.path not in ("", "/") or url.query or url.fragment:
        raise ValueError(f"{source}: a proxy URL has no path; use scheme://[user:password@]host:port")
    authorization = None
    if url.username is not None or url.password is not None:
        user = urllib.parse.unquote(url.username or "")
        pair = f"{user}:{urllib.parse.unquote(url.password or '')}".encode()
        authorization = "Basic " + base64.b64encode(pair).decode("ascii")
    return _Route(f"{url.scheme}://{url.netloc.rpartition('@')[2]}", authorization)


def _environment_routes() -> dict[str, _Route]:
    """The environment's proxies by scheme (``http``, ``https``, ``all``), each checked."""
    found = urllib.request.getproxies()
    return {
        scheme: _route(found[scheme], f"{scheme.upper()}_PROXY")
        for scheme in (*PROXY_SCHEMES, "all")
        if found.get(scheme)
    }


def proxy_from(setting: str | None, use_env: bool) -> ProxyOptions:
    """Turn ``TELEGRAM_PROXY_URL`` and ``TELEGRAM_PROXY_FROM_ENV`` into ``AiohttpRequest`` arguments.

    ``setting``: the proxy for every Bot API request (``http://`` or ``https://``, credentials allowed), or
    empty/None. ``use_env``: read the standard proxy variables instead (``setting`` wins when both are given).
    Raises ``ValueError`` naming the setting or variable at fault (never its value, which may hold a password),
    so a bad proxy is reported at start rather than on the first request.
    """
    setting = (setting or "").strip() or None
    if setting is not None:
        _route(setting, "TELEGRAM_PROXY_URL")
    elif use_env:
        _environment_routes()
    return ProxyOptions(proxy=setting, proxy_from_env=use_env and setting is None)


class _Tunnel:
    """The ``CONNECT`` exchange of one request through a proxy, bounded by the read timeout as in httpx."""

    __slots__ = ("answer_within", "scope", "waiting")

    def __init__(self, scope: asyncio.Timeout, answer_within: float | None) -> None:
        self.scope = scope
        self.answer_within = answer_within
        self.waiting = False

    def proxy_connected(self) -> None:
        if self.answer_within is not None:
            self.waiting = True
            self.scope.reschedule(asyncio.get_running_loop().time() + self.answer_within)

    def tunnel_open(self) -> None:
        self.waiting = False
        self.scope.reschedule(None)


_TUNNEL: ContextVar[_Tunnel | None] = ContextVar("hufi_bot_api_tunnel", default=None)


class _Connector(aiohttp.TCPConnector):
    """aiohttp's connector, telling the request's ``_Tunnel`` when the proxy is connected and when it answered."""

    async def _create_direct_connection(self, *args: Any, **kwargs: Any) -> Any:
        connection = await super()._create_direct_connection(*args, **kwargs)
        tunnel = _TUNNEL.get()
        if tunnel is not None and kwargs.get("client_error") is aiohttp.ClientProxyConnectionError:
            tunnel.proxy_connected()
        return connection

    async def _start_tls_connection(self, *args: Any, **kwargs: Any) -> Any:
        tunnel = _TUNNEL.get()
        if tunnel is not None:
            tunnel.tunnel_open()  # the TLS handshake through the tunnel is bounded by sock_connect
        return await super()._start_tls_connection(*args, **kwargs)


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` with one aiohttp ``ClientSession`` (created in ``initialize``).

    ``proxy``: an ``http://`` or ``https://`` proxy for every request; ``proxy_from_env``: use the environment's
    proxy variables instead (see the module docstring); ``ssl_context``: how the Bot API's certificate (and an
    ``https://`` proxy's) is checked, the system's CAs by default. ``ValueError`` for a proxy it can't use.
    """

    __slots__ = (
        "_connect",
        "_env_routes",
        "_limit",
        "_media_write",
        "_pool",
        "_proxy",
        "_read",
        "_routes",
        "_session",
        "_ssl",
        "_write",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        proxy: str | None = None,
        proxy_from_env: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._limit = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._proxy = _route(proxy, "proxy") if proxy else None
        # read once: the variables of a running process don't change, and a bad one should fail at start
        self._env_routes = _environment_routes() if proxy_from_env and self._proxy is None else None
        self._routes: dict[str, _Route | None] = {}
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds it to getUpdates' long-polling timeout)."""
        return self._read

    @property
    def connection_pool_size(self) -> int:
        """The most connections open at once."""
        return self._limit

    @property
    def is_initialized(self) -> bool:
        """True between ``initialize`` and ``shutdown``."""
        return self._session is not None and not self._session.closed

    async def initialize(self) -> None:
        """Open the session; calling it again while open does nothing."""
        if self.is_initialized:
            return
        proxied = self._proxy is not None or self._env_routes is not None
        connector_class = _Connector if proxied else aiohttp.TCPConnector
        self._session = aiohttp.ClientSession(
            connector=connector_class(limit=self._limit, ssl=True if self._ssl is None else self._ssl),
            trust_env=False,
            headers={"User-Agent": self.USER_AGENT},
        )

    async def shutdown(self) -> None:
        """Close the session and its connections; safe to call twice."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def _route_for(self, url: str) -> _Route | None:
        """The proxy for ``url``: the explicit one, the environment's (unless ``NO_PROXY`` names the host), none."""
        if self._proxy is not None or self._env_routes is None:
            return self._proxy
        end = url.find("/", url.find("//") + 2)
        origin = url if end < 0 else url[:end]
        try:
            return self._routes[origin]
        except KeyError:
            pass
        parsed = urllib.parse.urlsplit(origin)
        route = None
        if not (parsed.hostname and urllib.request.proxy_bypass(parsed.netloc.rpartition("@")[2])):
            route = self._env_routes.get(parsed.scheme) or self._env_routes.get("all")
        self._routes[origin] = route
        return route

    def _timeout(
        self,
        has_files: bool,
        tunnel: bool,
        read_timeout: ODVInput[float],
        write_timeout: ODVInput[float],
        connect_timeout: ODVInput[float],
        pool_timeout: ODVInput[float],
    ) -> aiohttp.ClientTimeout:
        read = _pick(read_timeout, self._read)
        write = _pick(write_timeout, self._media_write if has_files else self._write)
        connect = _pick(connect_timeout, self._connect)
        pool = _pick(pool_timeout, self._pool)
        # aiohttp's `connect` covers waiting for a pooled connection plus opening it; `sock_connect` each TCP
        # connection and TLS handshake. Through a tunnel, opening also means CONNECT (write, then the proxy's
        # answer: read, which `_Tunnel` bounds on its own) and the TLS handshake through it (connect).
        opening = (pool, connect, write, read, connect) if tunnel else (pool, connect)
        acquire = None if None in opening else sum(p for p in opening if p is not None)
        upload = (*opening, write, read)
        total = sum(p for p in upload if p is not None) if has_files and None not in upload else None
        return aiohttp.ClientTimeout(total=total, connect=acquire, sock_connect=connect, sock_read=read)

    @staticmethod
    def _body(request_data: RequestData | None) -> Any:
        if request_data is None:
            return None
        fields = request_data.json_parameters
        if not request_data.contains_files:
            return fields or None
        form = aiohttp.FormData()
        for name, value in fields.items():
            form.add_field(name, value)
        for name, (file_name, content, mime_type) in request_data.multipart_data.items():
            # aiohttp warns about (and would send in one blocking write) raw bytes over 1 MiB; a stream is chunked
            stream = io.BytesIO(content) if isinstance(content, bytes) else content
            form.add_field(name, stream, filename=file_name, content_type=mime_type)
        return form

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; return the HTTP status and the body."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        has_files = request_data is not None and request_data.contains_files
        route = self._route_for(url)
        tunnel = route is not None and url.startswith("https:")
        timeout = self._timeout(has_files, tunnel, read_timeout, write_timeout, connect_timeout, pool_timeout)
        options: dict[str, Any] = {"timeout": timeout, "allow_redirects": False}
        if route is not None:
            options["proxy"] = route.url
            if route.authorization is not None:
                # CONNECT carries it for https (the Bot API never sees it); a plain http request carries it itself
                header = {"Proxy-Authorization": route.authorization}
                options["proxy_headers" if tunnel else "headers"] = header
        guard: _Tunnel | None = None
        try:
            if not tunnel:
                return await self._send(session, method, url, request_data, options)
            async with asyncio.timeout(None) as scope:
                guard = _Tunnel(scope, timeout.sock_read)
                token = _TUNNEL.set(guard)
                try:
                    return await self._send(session, method, url, request_data, options)
                finally:
                    _TUNNEL.reset(token)
        except aiohttp.ConnectionTimeoutError as err:
            raise TimedOut(POOL_TIMEOUT_TEXT) from err
        except TimeoutError as err:  # sock_read and total; aiohttp's timeout classes subclass it
            raise TimedOut(PROXY_TIMEOUT_TEXT if guard is not None and guard.waiting else None) from err
        except aiohttp.ClientError as err:
            raise NetworkError(_hide_token(f"aiohttp.{type(err).__name__}: {err}")) from err

    async def _send(
        self, session: aiohttp.ClientSession, method: str, url: str, data: RequestData | None, options: Any
    ) -> tuple[int, bytes]:
        async with session.request(method, url, data=self._body(data), **options) as response:
            return response.status, await response.read()
