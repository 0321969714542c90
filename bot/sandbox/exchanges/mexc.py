"""Fake MEXC spot API v3: HMAC-SHA256 over the raw query string, key in X-MEXC-APIKEY, recvWindow 5000.

More lenient than the real exchange: its own checks never produce account-level codes (10098 risk control,
10099/140002 sub-accounts, 730100, 30018), 400 'api key required' and 403 'Access Denied'. Tests answer with those
through `force_error(code)` (`envelopes.py`), in the real envelope and status.
"""

from __future__ import annotations

import hashlib
import hmac
import string
from collections.abc import Iterable
from typing import Any, ClassVar

from aiohttp import web

from bot.diagnosis.model import Permission
from bot.sandbox import markets
from bot.sandbox.exchanges.base import FakeAccount, FakeExchange, Rejection, Route, _random, json_response


class FakeMexc(FakeExchange):
    exchange_id = "mexc"
    FALLBACK_REPLIES: ClassVar[dict[str, tuple[int, str]]] = {
        "permission_missing": (400, '{"code":700007,"msg":"No permission to access the endpoint."}'),
        "exchange_maintenance": (503, '{"code":503,"msg":"System maintenance, please try again later"}'),
        "key_expired": (400, '{"code":10072,"msg":"Api key info invalid"}'),
    }

    def new_api_key(self) -> str:
        return "mx0v" + _random(string.ascii_letters + string.digits, 14)

    def new_secret(self) -> str:
        return _random(string.hexdigits.lower()[:16], 32)

    def routes(self) -> Iterable[Route]:
        return [
            Route("GET", "/api/v3/exchangeInfo", self.exchange_info, private=False),
            Route("GET", "/api/v3/time", self.server_time, private=False),
            Route("GET", "/api/v1/contract/detail", self.contract_detail, private=False),
            Route("GET", "/api/v3/ping", self.ping, private=False),
            Route("GET", "/api/v3/account", self.account, permission=Permission.VIEW_ACCOUNT_BALANCE),
            Route(
                "GET",
                "/api/v3/capital/deposit/address",
                self.deposit_address,
                permission=Permission.VIEW_DEPOSIT_ADDRESS,
            ),
            Route("GET", "/api/v3/myTrades", self.my_trades, permission=Permission.VIEW_SPOT_TRADING_HISTORY),
            Route("GET", "/api/v3/capital/config/getall", self.currencies, permission=None),
        ]

    def authenticate(self, request: web.Request, body: bytes) -> FakeAccount:
        account = self.lookup(request.headers.get("X-MEXC-APIKEY"))
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
        self.check_window(timestamp, window, future_ms=1000)
        return account

    def render_body(self, body: str, **context: Any) -> str:
        return body.replace("127.0.0.1", context.get("ip", self.client_ip))

    async def exchange_info(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        symbols = markets.cached_json(self, "exchangeInfo", self._symbols)
        text = f'{{"timezone":"CST","serverTime":{self.now_ms()},"symbols":{symbols}}}'
        return web.Response(text=text, content_type="application/json")

    def _symbols(self) -> list[dict[str, Any]]:
        return [
            {
                "symbol": f"{base}{quote}",
                "status": "1",
                "baseAsset": base,
                "baseAssetPrecision": 6,
                "quoteAsset": quote,
                "quotePrecision": 2,
                "quoteAssetPrecision": 2,
                "baseCommissionPrecision": 6,
                "quoteCommissionPrecision": 2,
                "orderTypes": ["LIMIT", "MARKET"],
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "quoteAmountPrecision": "1",
                "baseSizePrecision": "0.0001",
                "permissions": ["SPOT"],
                "filters": [],
                "maxQuoteAmount": "2000000",
                "makerCommission": "0",
                "takerCommission": "0.0005",
                "st": False,
                "tradeSideType": "1",
            }
            for base, quote in markets.spot_pairs(self.exchange_id, self.markets)
        ]

    async def contract_detail(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return json_response({"success": True, "code": 0, "data": []})

    async def server_time(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return json_response({"serverTime": self.now_ms()})

    async def ping(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return json_response({})

    async def currencies(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return json_response([])

    async def account(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        balances = [{"asset": a, "free": v, "locked": "0"} for a, v in account.balances.items()]
        return json_response(
            {
                "canTrade": False,
                "canWithdraw": False,
                "canDeposit": False,
                "updateTime": None,
                "accountType": "SPOT",
                "balances": balances,
                "permissions": ["SPOT"],
            }
        )

    async def deposit_address(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        if request.query.get("coin") != "ETH" or not account.deposit_address:
            return json_response([])  # MEXC answers an empty list when no address exists
        return json_response(
            [
                {
                    "coin": "ETH",
                    "network": "Ethereum(ERC20)",
                    "netWork": "ETH",
                    "address": account.deposit_address,
                    "memo": None,
                }
            ]
        )

    async def my_trades(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        return json_response(account.trades)
