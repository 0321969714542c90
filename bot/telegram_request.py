"""PTB's HTTP transport on aiohttp instead of httpx.

Why: under load httpx/httpcore cost the bot 1.5-2 ms of CPU per Bot API call, and PTB's own stack was the
ceiling for button presses (benchmarks/README.md, benchmark 3). aiohttp is already loaded for ccxt and costs
about a third of that. The class keeps HTTPXRequest's contract: the same constructor timeouts, DefaultValue
arguments replaced by the instance defaults, a longer write timeout for uploads, ``TimedOut`` for every
timeout and ``NetworkError`` for every other transport failure.

Differences worth knowing:
* proxy environment variables are ignored (``trust_env=False``), as the bot did with httpx: a proxy would
  divert a local Bot API server;
* redirects are not followed (httpx's default);
* aiohttp has no write timeout of its own. A small body always fits the socket buffer, but an upload can
  stall, so for uploads the four timeouts together bound the whole request (when all are finite). Connect
  and read are enforced on their own for every request;
* error texts never carry the bot token (aiohttp puts the URL into some of its messages).
"""

from __future__ import annotations

import io
import re
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_TOKEN_IN_URL = re.compile(r"/bot[^/\s'\"]+")
POOL_TIMEOUT_TEXT = (
    "Timed out waiting for a free connection or for the connection itself; "
    "consider a larger connection pool or longer timeouts."
)


def _hide_token(text: str) -> str:
    return _TOKEN_IN_URL.sub("/bot<token>", text)


def _pick(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` with one aiohttp ``ClientSession`` (created in ``initialize``)."""

    __slots__ = ("_connect", "_limit", "_media_write", "_pool", "_read", "_session", "_write")

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._limit = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
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
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._limit),
            trust_env=False,
            headers={"User-Agent": self.USER_AGENT},
        )

    async def shutdown(self) -> None:
        """Close the session and its connections; safe to call twice."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def _timeout(
        self,
        has_files: bool,
        read_timeout: ODVInput[float],
        write_timeout: ODVInput[float],
        connect_timeout: ODVInput[float],
        pool_timeout: ODVInput[float],
    ) -> aiohttp.ClientTimeout:
        read = _pick(read_timeout, self._read)
        write = _pick(write_timeout, self._media_write if has_files else self._write)
        connect = _pick(connect_timeout, self._connect)
        pool = _pick(pool_timeout, self._pool)
        # aiohttp's `connect` covers waiting for a pooled connection plus opening it; `sock_connect` the latter.
        acquire = None if pool is None or connect is None else pool + connect
        phases = (pool, connect, write, read)
        bounded = has_files and all(p is not None for p in phases)
        total = sum(p for p in phases if p is not None) if bounded else None
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
        timeout = self._timeout(has_files, read_timeout, write_timeout, connect_timeout, pool_timeout)
        try:
            async with session.request(
                method, url, data=self._body(request_data), timeout=timeout, allow_redirects=False
            ) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as err:
            raise TimedOut(POOL_TIMEOUT_TEXT) from err
        except TimeoutError as err:  # sock_read and total; aiohttp's timeout classes subclass it
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(_hide_token(f"aiohttp.{type(err).__name__}: {err}")) from err
