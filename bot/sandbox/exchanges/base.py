"""Simulated exchanges: aiohttp servers on 127.0.0.1 that authenticate like the real exchange.

Each fake recomputes the exchange's documented signature and checks, in the exchange's own order, the key, the
signature, the passphrase or memo, the timestamp window, the account state, the IP allow-list and the key's
permissions, then answers with the exchange's real replies (the fixture file `data/exchange_replies.json`).
Real ccxt clients talk to them through `ClientFactory(url_overrides=...)`. The tests, the offline demo and
the benchmarks all use these same classes.

`force_error(code, message)` answers with any code an exchange documents, in its real envelope and HTTP status
(`envelopes.py`), for the rejections a fake's own checks don't produce (each fake's docstring lists them).

A concrete fake subclasses `FakeExchange` and provides: `exchange_id`, `routes()` (path → Route), `authenticate()`,
key/secret generators in the exchange's format, and `FALLBACK_REPLIES` for causes the fixture file lacks.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import string
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, ClassVar

from aiohttp import web

from bot.diagnosis.model import Permission
from bot.sandbox.exchanges.envelopes import error_reply

ALL_PERMISSIONS = frozenset(Permission)
DEFAULT_ETH_ADDRESS = "0x8f3b2a1c9d4e5f60718293a4b5c6d7e8f9012345"
#: the address the fakes see every client coming from (a documentation range, never a real host)
DEFAULT_CLIENT_IP = "203.0.113.7"

METHOD_FOR_PERMISSION = {
    Permission.VIEW_ACCOUNT_BALANCE: "fetch_balance",
    Permission.VIEW_DEPOSIT_ADDRESS: "fetch_deposit_address",
    Permission.VIEW_SPOT_TRADING_HISTORY: "fetch_my_trades",
}


@cache
def fixture_replies() -> tuple[dict[str, Any], ...]:
    """The real replies shipped with the package (a copy of the project's fixture file)."""
    text = resources.files("bot.sandbox").joinpath("data/exchange_replies.json").read_text("utf-8")
    return tuple(json.loads(text))


@dataclass
class FakeAccount:
    """One API key on a fake exchange, with everything that decides how the exchange answers it."""

    api_key: str
    secret: str
    passphrase: str | None = None
    memo: str | None = None
    permissions: set[Permission] = field(default_factory=lambda: set(ALL_PERMISSIONS))
    ip_whitelist: tuple[str, ...] = ()  # empty: no restriction
    expired: bool = False
    frozen: bool = False
    deposit_address: str | None = DEFAULT_ETH_ADDRESS
    balances: dict[str, str] = field(default_factory=lambda: {"ETH": "1.5", "USDT": "250.0"})
    trades: list[dict[str, Any]] = field(default_factory=list)
    #: exchange-specific settings (Kraken nonce window, KuCoin permission names, ...)
    settings: dict[str, Any] = field(default_factory=dict)

    def grant(self, *perms: Permission) -> None:
        self.permissions |= set(perms)

    def revoke(self, *perms: Permission) -> None:
        self.permissions -= set(perms)


class Rejection(Exception):
    """Raised inside the pipeline to answer with the exchange's reply for `cause`."""

    def __init__(self, cause: str, **context: Any) -> None:
        super().__init__(cause)
        self.cause = cause
        self.context = context


Handler = Callable[[web.Request, FakeAccount | None, bytes], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    private: bool = True
    permission: Permission | None = None  # None: any valid key may call it (key-info endpoints)


@dataclass
class Forced:
    """A reply forced on the next matching requests (maintenance, rate limit, network faults, raw bodies)."""

    cause: str | None = None
    status: int | None = None
    body: str | None = None
    path: str | None = None  # None: every private request
    times: int | None = None  # None: until cleared
    mode: str = "reply"  # "reply", "disconnect", "hang" or "slow" (answer as usual after `delay` seconds)
    include_public: bool = False
    delay: float = 0.0


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]
    body: bytes
    at: float


class FakeExchange:
    """Base class: the server, the pipeline, accounts, forced replies and recording."""

    exchange_id: ClassVar[str] = ""
    #: cause -> (http status, body) for causes the fixture file has no reply for
    FALLBACK_REPLIES: ClassVar[dict[str, tuple[int, str]]] = {}

    def __init__(
        self,
        *,
        latency: float = 0.0,
        clock_offset_ms: int = 0,
        client_ip: str = DEFAULT_CLIENT_IP,
        max_requests_per_second: float | None = None,
        markets: int | None = None,
    ) -> None:
        self.latency = latency
        #: spot markets the public market endpoints list (None: as many as the real exchange, bot.sandbox.markets)
        self.markets = markets
        self.clock_offset_ms = clock_offset_ms
        self.client_ip = client_ip
        self.max_requests_per_second = max_requests_per_second
        self.accounts: dict[str, FakeAccount] = {}
        self.requests: list[RecordedRequest] = []
        self.forced: list[Forced] = []
        self.over_limit = 0  # requests answered "rate limited" because they exceeded max_requests_per_second
        self._window: list[float] = []
        self._runner: web.AppRunner | None = None
        self._routes = {(r.method, r.path): r for r in self.routes()}
        self.base_url = ""

    # -- to implement -----------------------------------------------------------------------------------------
    def routes(self) -> Iterable[Route]:
        raise NotImplementedError

    def authenticate(self, request: web.Request, body: bytes) -> FakeAccount:
        """Identify the key and verify the request's signature, or raise Rejection."""
        raise NotImplementedError

    def new_api_key(self) -> str:
        return _random(string.ascii_letters + string.digits, 32)

    def new_secret(self) -> str:
        return _random(string.ascii_letters + string.digits, 32)

    def match_route(self, method: str, path: str) -> Route | None:
        """Exact match by default; exchanges with path parameters override this."""
        return self._routes.get((method, path))

    # -- accounts and knobs -------------------------------------------------------------------------------------
    def add_account(self, **fields: Any) -> FakeAccount:
        fields.setdefault("api_key", self.new_api_key())
        fields.setdefault("secret", self.new_secret())
        if "permissions" in fields:
            fields["permissions"] = set(fields["permissions"])
        account = FakeAccount(**fields)
        self.accounts[account.api_key] = account
        return account

    def force(
        self,
        cause: str | None = None,
        *,
        path: str | None = None,
        status: int | None = None,
        body: str | None = None,
        times: int | None = None,
        mode: str = "reply",
        include_public: bool = False,
        delay: float = 0.0,
    ) -> Forced:
        if mode not in ("reply", "disconnect", "hang", "slow"):
            raise ValueError(f"unknown mode {mode!r}")
        forced = Forced(cause, status, body, path, times, mode, include_public, delay)
        self.forced.append(forced)
        return forced

    def force_error(
        self,
        code: str,
        message: str = "",
        *,
        status: int | None = None,
        path: str | None = None,
        times: int | None = None,
    ) -> Forced:
        """Answer the next matching private requests with error `code` in this exchange's real envelope and status
        (`bot.sandbox.exchanges.envelopes`): any code the exchange documents, not only the ones the pipeline
        produces by itself."""
        reply_status, body = error_reply(self.exchange_id, code, message, status)
        return self.force(body=body, status=reply_status, path=path, times=times)

    def clear_forced(self) -> None:
        self.forced.clear()

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    # -- replies -------------------------------------------------------------------------------------------------
    def reply_for(self, cause: str, route: Route | None = None, **context: Any) -> web.Response:
        """The exchange's real reply for `cause`, preferring the fixture recorded for the same probe."""
        status, body, headers = self.reply_parts(cause, route, **context)
        return web.Response(status=status, text=body, headers=headers, content_type=_content_type(body))

    def reply_parts(self, cause: str, route: Route | None = None, **context: Any) -> tuple[int, str, dict[str, str]]:
        wanted_method = METHOD_FOR_PERMISSION.get(route.permission) if route and route.permission else None
        candidates = [
            f
            for f in fixture_replies()
            if f["exchange"] == self.exchange_id
            and f["cause"] == cause
            and f["body"]
            and f["cause"] != "ok"
            # network faults have no reply to replay (a timeout fixture's "{}" would read as success)
            and f.get("trigger") not in ("server_slow", "network_refused")
        ]
        quality = {"observed": 0, "documented": 1, "uncertain": 2, "generic": 3}
        candidates.sort(key=lambda f: (f["method"] != wanted_method, quality.get(f.get("body_quality"), 4)))
        if candidates:
            f = candidates[0]
            headers = {k: v for k, v in (f.get("headers") or {}).items() if k.lower() != "content-type"}
            return int(f["http_status"] or 400), self.render_body(f["body"], **context), headers
        if cause in self.FALLBACK_REPLIES:
            status, body = self.FALLBACK_REPLIES[cause]
            return status, self.render_body(body, **context), {}
        return 500, json.dumps({"error": f"fake {self.exchange_id} has no reply for {cause}"}), {}

    def render_body(self, body: str, **context: Any) -> str:
        """Hook for bodies that echo request data (the client's IP, for instance)."""
        return body

    # -- server --------------------------------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(client_max_size=2**20)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeExchange:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- the pipeline --------------------------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            RecordedRequest(
                request.method,
                request.path,
                dict(request.query),
                request.rel_url.raw_query_string,
                dict(request.headers),
                body,
                time.monotonic(),
            )
        )
        if self.latency:
            await asyncio.sleep(self.latency)
        route = self.match_route(request.method, request.path)
        if route is None:
            return self.unknown_route(request)
        forced = self._take_forced(route)
        if forced is not None and forced.mode == "slow":
            await asyncio.sleep(forced.delay)
        elif forced is not None:
            return await self._forced_reply(request, forced, route)
        if self._over_limit():
            self.over_limit += 1
            return self.reply_for("rate_limited", route)
        account: FakeAccount | None = None
        try:
            if route.private:
                account = self.authenticate(request, body)
                self.check_account(account, route)
            return await route.handler(request, account, body)
        except Rejection as rejection:
            return self.reply_for(rejection.cause, route, **rejection.context)

    def unknown_route(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"error": f"fake {self.exchange_id}: no route {request.method} {request.path}"}, status=404
        )

    def check_account(self, account: FakeAccount, route: Route) -> None:
        """The checks every exchange makes after the signature, in the usual order."""
        if account.expired:
            raise Rejection("key_expired")
        if account.frozen:
            raise Rejection("account_restricted")
        if account.ip_whitelist and self.client_ip not in account.ip_whitelist:
            raise Rejection("ip_not_whitelisted", ip=self.client_ip)
        if route.permission is not None and route.permission not in account.permissions:
            raise Rejection("permission_missing")

    def _take_forced(self, route: Route) -> Forced | None:
        for forced in self.forced:
            if forced.path is not None and forced.path != route.path:
                continue
            if forced.path is None and not route.private and not forced.include_public:
                continue
            if forced.times is not None:
                forced.times -= 1
                if forced.times <= 0:
                    self.forced.remove(forced)
            return forced
        return None

    async def _forced_reply(self, request: web.Request, forced: Forced, route: Route) -> web.StreamResponse:
        if forced.mode == "disconnect":
            if request.transport is not None:
                request.transport.close()
            raise ConnectionResetError("fake exchange dropped the connection")
        if forced.mode == "hang":
            await asyncio.sleep(3600)
        if forced.body is not None:
            return web.Response(status=forced.status or 400, text=forced.body, content_type=_content_type(forced.body))
        status, body, headers = self.reply_parts(forced.cause or "exchange_unreachable", route)
        return web.Response(
            status=forced.status or status, text=body, headers=headers, content_type=_content_type(body)
        )

    def _over_limit(self) -> bool:
        if not self.max_requests_per_second:
            return False
        now = time.monotonic()
        self._window = [t for t in self._window if now - t < 1.0]
        self._window.append(now)
        return len(self._window) > self.max_requests_per_second

    # -- helpers for subclasses ------------------------------------------------------------------------------
    def lookup(self, api_key: str | None) -> FakeAccount:
        account = self.accounts.get(api_key or "")
        if account is None:
            raise Rejection("key_invalid")
        return account

    def check_window(self, timestamp_ms: int | None, window_ms: int, *, future_ms: int | None = None) -> None:
        """Reject a timestamp outside [now - window, now + future] (future defaults to the window)."""
        if timestamp_ms is None:
            raise Rejection("clock_skew")
        now = self.now_ms()
        ahead = window_ms if future_ms is None else future_ms
        if timestamp_ms > now + ahead or now - timestamp_ms > window_ms:
            raise Rejection("clock_skew")


def _content_type(body: str) -> str:
    stripped = body.lstrip()
    if stripped.startswith(("{", "[")):
        return "application/json"
    if stripped.startswith("<"):
        return "text/html"
    return "text/plain"


def _random(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(data), content_type="application/json")
