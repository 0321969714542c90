"""Fake Binance spot API: HMAC-SHA256 over the raw query string, key in X-MBX-APIKEY, recvWindow from the request.

What it models (reference/exchanges.md §3.1):

* the three HuFi probes: `GET /api/v3/account`, `GET /sapi/v1/capital/deposit/address`, `GET /api/v3/myTrades`;
* the key-info endpoint `GET /sapi/v1/account/apiRestrictions` (any valid key may call it; 13 fields), plus
  `GET /sapi/v1/account/status` and `GET /sapi/v1/account/apiTradingStatus`;
* the order Binance judges a request in: key format (-2014), key known (-2015), signature (-1022), timestamp
  (-1021, with the "ahead" or "outside of the recvWindow" text), deleted key (-2008), IP allow-list and the
  "Enable Reading" switch (both -2015);
* -2015 is one body for an unknown key, a request from an IP outside the allow-list and a missing permission.
  The newer shape names the IP Binance saw (`..., request ip: 203.0.113.7`); `FakeBinance(legacy_2015=True)`
  answers the older text without it.

Account knobs: `permissions` (a route whose permission is missing answers -2015; the deposit-address route answers
-1002, the fixture's reply), `ip_whitelist`, `expired` (-2008), `frozen` (-2015), `deposit_address=None` (an empty
address, which ccxt rejects with InvalidAddress), `trades` (Binance-shaped dicts, see `make_trade`), and in
`settings`: `api_restrictions` (fields that override the apiRestrictions reply), `create_time` (ms).

Under a URL override ccxt no longer applies Binance's spot error table, so -2008 and -1008 reach the caller as
`ExchangeError` instead of `AuthenticationError`/`OperationFailed` (reference/exchanges.md finding 10).

More lenient than the real exchange: its own checks never produce account-level codes (-2017 locked keys, -3022,
-4044/-4402/-10047 regional blocks), -1099 and the busy/timeout codes (-1004, -1007, -1008). Tests answer with those
through `force_error(code)` (`envelopes.py`), in the real envelope and status.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import string
import time
from collections.abc import Iterable
from typing import Any, ClassVar

from aiohttp import web

from bot.diagnosis.model import Permission
from bot.sandbox import markets
from bot.sandbox.exchanges.base import (
    ALL_PERMISSIONS,
    FakeAccount,
    FakeExchange,
    Rejection,
    Route,
    _random,
    json_response,
)

KEY_LENGTH = 64
MSG_2015 = "Invalid API-key, IP, or permissions for action"
MSG_BEHIND = "Timestamp for this request is outside of the recvWindow."
MSG_AHEAD = "Timestamp for this request was 1000ms ahead of the server's time."
#: Binance's 24-hour limit between startTime and endTime of /api/v3/myTrades
MY_TRADES_MAX_SPAN_MS = 24 * 3600 * 1000
DEFAULT_CREATE_TIME = 1_760_000_000_000
_BASES = ("ETH", "BTC")
_GATEWAY_503 = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center>"
    "<h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)


def _error(code: int, msg: str) -> str:
    return f'{{"code":{code},"msg":"{msg}"}}'


class FakeBinance(FakeExchange):
    exchange_id = "binance"
    FALLBACK_REPLIES: ClassVar[dict[str, tuple[int, str]]] = {
        "secret_mismatch": (400, _error(-1022, "Signature for this request is not valid.")),
        "rate_limited": (
            429,
            _error(
                -1003,
                "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute. "
                "Please use the websocket for live updates to avoid polling the API.",
            ),
        ),
        "exchange_unreachable": (503, _GATEWAY_503),
    }

    #: the Retry-After (seconds) sent with a 429; None: until the fake's own rate window has room again
    retry_after: int | None = None

    def __init__(self, *, legacy_2015: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.legacy_2015 = legacy_2015

    def retry_after_seconds(self) -> int:
        """What a 429 tells the client to wait: "A Retry-After header is sent with a 418 or 429 responses and will
        give the number of seconds required to wait, in the case of a 429, to prevent a ban"
        (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits). Whole seconds, at least 1."""
        if self.retry_after is not None:
            return self.retry_after
        window = sorted(self._window)
        if self.max_requests_per_second and len(window) > self.max_requests_per_second:
            # the next request is let through once all but `max - 1` of the counted ones have left the window
            oldest = window[len(window) - int(self.max_requests_per_second)]
            return max(1, math.ceil(oldest + 1.0 - time.monotonic()))
        return 1

    # -- keys ------------------------------------------------------------------------------------------------
    def new_api_key(self) -> str:
        return _random(string.ascii_letters + string.digits, KEY_LENGTH)

    def new_secret(self) -> str:
        return _random(string.ascii_letters + string.digits, KEY_LENGTH)

    def routes(self) -> Iterable[Route]:
        return [
            Route("GET", "/api/v3/exchangeInfo", self.exchange_info, private=False),
            Route("GET", "/api/v3/time", self.server_time, private=False),
            Route("GET", "/api/v3/ping", self.ping, private=False),
            Route("GET", "/sapi/v1/system/status", self.system_status, private=False),
            Route("GET", "/api/v3/account", self.account, permission=Permission.VIEW_ACCOUNT_BALANCE),
            Route(
                "GET",
                "/sapi/v1/capital/deposit/address",
                self.deposit_address,
                permission=Permission.VIEW_DEPOSIT_ADDRESS,
            ),
            Route("GET", "/api/v3/myTrades", self.my_trades, permission=Permission.VIEW_SPOT_TRADING_HISTORY),
            Route("GET", "/sapi/v1/account/apiRestrictions", self.api_restrictions),
            Route("GET", "/sapi/v1/account/status", self.account_status),
            Route("GET", "/sapi/v1/account/apiTradingStatus", self.api_trading_status),
            Route("GET", "/sapi/v1/capital/config/getall", self.currencies),
        ]

    # -- authentication --------------------------------------------------------------------------------------
    def authenticate(self, request: web.Request, body: bytes) -> FakeAccount:
        api_key = request.headers.get("X-MBX-APIKEY", "")
        if len(api_key) != KEY_LENGTH or not api_key.isalnum():
            raise Rejection("key_invalid", format=True)
        account = self.lookup(api_key)  # unknown key: -2015
        raw = request.rel_url.raw_query_string
        payload, sep, signature = raw.rpartition("&signature=")
        expected = hmac.new(account.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not sep or not hmac.compare_digest(expected, signature):
            raise Rejection("secret_mismatch")
        try:
            timestamp = int(request.query.get("timestamp", ""))
            window = int(request.query.get("recvWindow", "5000"))
        except ValueError:
            raise Rejection("clock_skew") from None
        now = self.now_ms()
        if timestamp >= now + 1000:
            raise Rejection("clock_skew", ahead=True)
        if now - timestamp > window:
            raise Rejection("clock_skew")
        return account

    def check_account(self, account: FakeAccount, route: Route) -> None:
        if account.expired:
            raise Rejection("key_expired")
        if account.frozen:
            raise Rejection("account_restricted")
        if account.ip_whitelist and self.client_ip not in account.ip_whitelist:
            raise Rejection("ip_not_whitelisted", ip=self.client_ip)
        if route.permission is not None and route.permission not in account.permissions:
            raise Rejection("permission_missing")

    # -- replies ---------------------------------------------------------------------------------------------
    def body_2015(self) -> str:
        if self.legacy_2015:
            return _error(-2015, MSG_2015 + ".")
        return _error(-2015, f"{MSG_2015}, request ip: {self.client_ip}")

    def reply_parts(self, cause: str, route: Route | None = None, **context: Any) -> tuple[int, str, dict[str, str]]:
        if cause == "key_invalid" and context.get("format"):
            return 401, _error(-2014, "API-key format invalid."), {}
        if cause in ("key_invalid", "ip_not_whitelisted", "account_restricted"):
            return 401, self.body_2015(), {}
        if cause == "permission_missing" and not (route is not None and route.path.startswith("/sapi/")):
            return 401, self.body_2015(), {}
        if cause == "clock_skew":
            return 400, _error(-1021, MSG_AHEAD if context.get("ahead") else MSG_BEHIND), {}
        if cause == "rate_limited":
            status, body = self.FALLBACK_REPLIES[cause]
            return status, self.render_body(body, **context), {"Retry-After": str(self.retry_after_seconds())}
        if cause in self.FALLBACK_REPLIES:  # ours beat the fixture's (its "unreachable" case is a 200 timeout)
            status, body = self.FALLBACK_REPLIES[cause]
            return status, self.render_body(body, **context), {}
        return super().reply_parts(cause, route, **context)

    def render_body(self, body: str, **context: Any) -> str:
        return body.replace("127.0.0.1", context.get("ip", self.client_ip))

    # -- data helpers ----------------------------------------------------------------------------------------
    def make_trade(
        self, *, time_ms: int, symbol: str = "ETHUSDT", price: str = "2500", qty: str = "0.1", buyer: bool = True
    ) -> dict[str, Any]:
        """A trade as /api/v3/myTrades returns it."""
        n = len(self.requests) + int(time_ms % 100_000)
        return {
            "symbol": symbol,
            "id": n,
            "orderId": n * 10,
            "orderListId": -1,
            "price": price,
            "qty": qty,
            "quoteQty": str(float(price) * float(qty)),
            "commission": "0.0001",
            "commissionAsset": symbol[: -len("USDT")] if buyer else "USDT",
            "time": time_ms,
            "isBuyer": buyer,
            "isMaker": False,
            "isBestMatch": True,
        }

    # -- handlers --------------------------------------------------------------------------------------------
    async def exchange_info(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """All symbols, or only `symbol` / `symbols` (a JSON list) when asked; -1121 for an unknown one."""
        wanted = request.query.get("symbol")
        if wanted is not None:
            if getattr(self, "_symbol_rows", None) is None:
                self._symbol_rows = {row["symbol"]: row for row in self._symbols()}
            rows = [self._symbol_rows[wanted]] if wanted in self._symbol_rows else []
            if not rows:
                return web.Response(status=400, text=_error(-1121, "Invalid symbol."), content_type="application/json")
            symbols = json.dumps(rows)
        else:
            symbols = markets.cached_json(self, "exchangeInfo", self._symbols)
        text = (
            f'{{"timezone":"UTC","serverTime":{self.now_ms()},"rateLimits":[],"exchangeFilters":[],'
            f'"symbols":{symbols}}}'
        )
        return web.Response(text=text, content_type="application/json")

    def _symbols(self) -> list[dict[str, Any]]:
        """exchangeInfo's symbols: like the real list, about half of them halted ("BREAK") delisted pairs."""
        return [
            {
                "symbol": f"{base}{quote}",
                "status": "TRADING" if i < 2 or i % 2 else "BREAK",
                "baseAsset": base,
                "baseAssetPrecision": 8,
                "quoteAsset": quote,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
                "icebergAllowed": True,
                "ocoAllowed": True,
                "otoAllowed": True,
                "quoteOrderQtyMarketAllowed": True,
                "allowTrailingStop": True,
                "cancelReplaceAllowed": True,
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": True,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
                    {"filterType": "LOT_SIZE", "minQty": "0.0001", "maxQty": "9000", "stepSize": "0.0001"},
                    {"filterType": "NOTIONAL", "minNotional": "5", "maxNotional": "9000000"},
                ],
                "permissions": [],
                "permissionSets": [["SPOT", "MARGIN"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
            }
            for i, (base, quote) in enumerate(markets.spot_pairs(self.exchange_id, self.markets))
        ]

    async def server_time(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return json_response({"serverTime": self.now_ms()})

    async def ping(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return json_response({})

    async def system_status(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return json_response({"status": 0, "msg": "normal"})

    async def currencies(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return json_response([])

    async def account(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        restrictions = self.restrictions(account)
        balances = [{"asset": a, "free": v, "locked": "0.00000000"} for a, v in account.balances.items()]
        return json_response(
            {
                "makerCommission": 10,
                "takerCommission": 10,
                "buyerCommission": 0,
                "sellerCommission": 0,
                "commissionRates": {"maker": "0.00100000", "taker": "0.00100000", "buyer": "0", "seller": "0"},
                "canTrade": restrictions["enableSpotAndMarginTrading"],
                "canWithdraw": restrictions["enableWithdrawals"],
                "canDeposit": True,
                "brokered": False,
                "requireSelfTradePrevention": False,
                "preventSor": False,
                "updateTime": self.now_ms(),
                "accountType": "SPOT",
                "balances": balances,
                "permissions": ["SPOT"],
                "uid": self.uid(account),
            }
        )

    async def deposit_address(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        coin = request.query.get("coin", "")
        if not coin:
            return json_response({"code": -1102, "msg": "Mandatory parameter 'coin' was not sent."}, status=400)
        address = account.deposit_address if coin == "ETH" else None
        return json_response(
            {
                "coin": coin,
                "address": address or "",
                "tag": "",
                "url": f"https://etherscan.io/address/{address}" if address else "",
            }
        )

    async def my_trades(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        symbol = request.query.get("symbol", "")
        if not symbol:
            return json_response({"code": -1102, "msg": "Mandatory parameter 'symbol' was not sent."}, status=400)
        if symbol not in {f"{b}USDT" for b in _BASES}:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        start = _int_or_none(request.query.get("startTime"))
        end = _int_or_none(request.query.get("endTime"))
        if start is not None and end is not None and end - start > MY_TRADES_MAX_SPAN_MS:
            return json_response({"code": -1127, "msg": "More than 24 hours between startTime and endTime."}, 400)
        limit = _int_or_none(request.query.get("limit")) or 500
        trades = [
            t
            for t in account.trades
            if t.get("symbol", symbol) == symbol
            and (start is None or int(t.get("time", start)) >= start)
            and (end is None or int(t.get("time", end)) <= end)
        ]
        return json_response(trades[:limit])

    def restrictions(self, account: FakeAccount) -> dict[str, Any]:
        """The apiRestrictions reply: Binance's one "Enable Reading" switch covers all three HuFi probes."""
        reply: dict[str, Any] = {
            "ipRestrict": bool(account.ip_whitelist),
            "createTime": int(account.settings.get("create_time", DEFAULT_CREATE_TIME)),
            "enableReading": ALL_PERMISSIONS <= account.permissions,
            "enableWithdrawals": False,
            "enableInternalTransfer": False,
            "enableMargin": False,
            "enableFutures": False,
            "permitsUniversalTransfer": False,
            "enableVanillaOptions": False,
            "enableSpotAndMarginTrading": False,
            "enablePortfolioMarginTrading": False,
            "enableFixApiTrade": False,
            "enableFixReadOnly": False,
        }
        reply.update(account.settings.get("api_restrictions") or {})
        return reply

    async def api_restrictions(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        return json_response(self.restrictions(account))

    async def account_status(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return json_response({"data": "Normal"})

    async def api_trading_status(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return json_response(
            {
                "data": {
                    "isLocked": False,
                    "plannedRecoverTime": 0,
                    "triggerCondition": {"GCR": 150, "IFER": 150, "UFR": 300},
                    "updateTime": self.now_ms(),
                }
            }
        )

    @staticmethod
    def uid(account: FakeAccount) -> int:
        return 10_000_000 + int(hashlib.sha256(account.api_key.encode()).hexdigest()[:7], 16)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
