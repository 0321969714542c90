"""Fake Bitget API (v2 classic, v3 unified): base64 HMAC-SHA256 of timestamp + method + path?query + body.

What it models (reference/exchanges.md §3.5):

* ccxt's hidden pre-call `GET /api/v3/account/settings` (ccxt swallows any error there and falls back to the
  classic v2 endpoints): a classic account answers 40084, a unified (UTA) account answers its settings;
* the three HuFi probes, classic: `GET /api/v2/spot/account/assets`, `GET /api/v2/spot/wallet/deposit-address`,
  `GET /api/v2/spot/trade/fills`; unified: `GET /api/v3/account/assets`, `GET /api/v3/account/deposit-address`,
  `GET /api/v3/trade/fills`. A unified account calling a classic endpoint gets 40085 and vice versa 40084;
* the key-info endpoint `GET /api/v2/spot/account/info` (any valid key of a classic account may call it):
  `data` has `userId`, `ips`, `authorities` (e.g. `["readonly"]`), `parentId`, `traderType`;
* headers `ACCESS-KEY`, `ACCESS-SIGN`, `ACCESS-TIMESTAMP` (ms, 30 s window), `ACCESS-PASSPHRASE` (plain text),
  judged in this order: empty headers (40001/40003/40005/40011), key format (40006), unknown key (40037), timestamp
  (40008), passphrase (40012), signature (40009), then expired (40037), frozen (40013), IP (40018), permission (40014).

Account knobs: `permissions`, `ip_whitelist`, `expired`, `frozen`, `deposit_address=None` (the address comes back
null; ccxt returns it without raising), `trades` (Bitget-shaped, see `make_trade`), and in `settings`: `uta`
(a unified trading account), `authorities` (overrides the derived list), `parent_id`, `trader_type`, `user_id`.

More lenient than the real exchange: its own checks never produce account-level codes (40013, 40016, 40031, 50010),
40010 (a request timeout, which ccxt files as a signature error) and the maintenance codes 40200/40308/41114/43115.
Tests answer with those through `force_error(code)` (`envelopes.py`), in the real envelope and status.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
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

TIMESTAMP_WINDOW_MS = 30_000
KEY_PREFIX = "bg_"
KEY_HEX_LENGTH = 32
_HEX = string.digits + "abcdef"
_BASES = ("ETH", "BTC")
_GATEWAY_503 = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center>"
    "<h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
MSG_CLASSIC_MODE = "You are in Classic Account mode, and the Unified Account API is not supported at this time"
MSG_UNIFIED_MODE = "You are in Unified Account mode, and the Classic Account API is not supported at this time"

#: (cause, detail) -> (http status, code, message)
_REPLIES: dict[tuple[str, str | None], tuple[int, str, str]] = {
    ("key_invalid", "empty"): (400, "40001", "ACCESS_KEY cannot be empty"),
    ("key_invalid", "format"): (400, "40006", "Invalid ACCESS_KEY"),
    ("key_invalid", None): (400, "40037", "Apikey does not exist"),
    ("secret_mismatch", "empty"): (400, "40003", "Signature cannot be empty"),
    ("secret_mismatch", None): (400, "40009", "sign signature error"),
    ("passphrase_wrong", "empty"): (400, "40011", "ACCESS_PASSPHRASE cannot be empty"),
    ("passphrase_wrong", None): (400, "40012", "apikey/password is incorrect"),
    ("clock_skew", "format"): (400, "40005", "Invalid ACCESS_TIMESTAMP"),
    ("clock_skew", None): (400, "40008", "Request timestamp expired"),
    ("key_expired", None): (400, "40037", "Apikey does not exist"),
    ("account_restricted", None): (400, "40013", "User status is abnormal"),
    ("ip_not_whitelisted", None): (400, "40018", "Invalid IP"),
    ("permission_missing", None): (400, "40014", "Incorrect permissions"),
    ("rate_limited", None): (429, "429", "Too Many Requests"),
    ("mode", "classic"): (400, "40084", MSG_CLASSIC_MODE),
    ("mode", "unified"): (400, "40085", MSG_UNIFIED_MODE),
}


class FakeBitget(FakeExchange):
    exchange_id = "bitget"
    FALLBACK_REPLIES: ClassVar[dict[str, tuple[int, str]]] = {
        "exchange_unreachable": (503, _GATEWAY_503),
    }

    # -- keys ------------------------------------------------------------------------------------------------
    def new_api_key(self) -> str:
        return KEY_PREFIX + _random(_HEX, KEY_HEX_LENGTH)

    def new_secret(self) -> str:
        return _random(_HEX, 64)

    def new_passphrase(self) -> str:
        return _random(string.ascii_letters + string.digits, 16)

    def add_account(self, **fields: Any) -> FakeAccount:
        fields.setdefault("passphrase", self.new_passphrase())
        return super().add_account(**fields)

    def routes(self) -> Iterable[Route]:
        balance, deposit, trades = Permission
        return [
            Route("GET", "/api/v2/public/time", self.server_time, private=False),
            Route("GET", "/api/v2/spot/public/symbols", self.symbols, private=False),
            Route("GET", "/api/v2/spot/public/coins", self.coins, private=False),
            Route("GET", "/api/v2/margin/currencies", self.margin_currencies, private=False),
            # classic account (v2)
            Route("GET", "/api/v2/spot/account/assets", self.assets, permission=balance),
            Route("GET", "/api/v2/spot/wallet/deposit-address", self.deposit_address, permission=deposit),
            Route("GET", "/api/v2/spot/trade/fills", self.fills, permission=trades),
            Route("GET", "/api/v2/spot/account/info", self.account_info),
            # unified trading account (v3)
            Route("GET", "/api/v3/account/settings", self.uta_settings),
            Route("GET", "/api/v3/account/assets", self.uta_assets, permission=balance),
            Route("GET", "/api/v3/account/deposit-address", self.deposit_address, permission=deposit),
            Route("GET", "/api/v3/trade/fills", self.uta_fills, permission=trades),
        ]

    # -- authentication --------------------------------------------------------------------------------------
    def authenticate(self, request: web.Request, body: bytes) -> FakeAccount:
        headers = request.headers
        api_key = headers.get("ACCESS-KEY", "")
        signature = headers.get("ACCESS-SIGN", "")
        stamp = headers.get("ACCESS-TIMESTAMP", "")
        passphrase = headers.get("ACCESS-PASSPHRASE", "")
        if not api_key:
            raise Rejection("key_invalid", detail="empty")
        if not signature:
            raise Rejection("secret_mismatch", detail="empty")
        if not stamp.isdigit():
            raise Rejection("clock_skew", detail="format")
        if not passphrase:
            raise Rejection("passphrase_wrong", detail="empty")
        hex_part = api_key.removeprefix(KEY_PREFIX)
        if not api_key.startswith(KEY_PREFIX) or len(hex_part) != KEY_HEX_LENGTH or set(hex_part) - set(_HEX):
            raise Rejection("key_invalid", detail="format")
        account = self.lookup(api_key)  # a well-formed but unknown key: 40037
        self.check_window(int(stamp), TIMESTAMP_WINDOW_MS)
        if not hmac.compare_digest(passphrase, account.passphrase or ""):
            raise Rejection("passphrase_wrong")
        query = "&".join(f"{k}={v}" for k, v in request.query.items())  # Bitget signs the decoded query
        prehash = stamp + request.method + request.path + ("?" + query if query else "") + body.decode()
        expected = base64.b64encode(hmac.new(account.secret.encode(), prehash.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected.decode(), signature):
            raise Rejection("secret_mismatch")
        return account

    def check_account(self, account: FakeAccount, route: Route) -> None:
        if account.expired:
            raise Rejection("key_expired")
        if account.frozen:
            raise Rejection("account_restricted")
        if account.ip_whitelist and self.client_ip not in account.ip_whitelist:
            raise Rejection("ip_not_whitelisted", ip=self.client_ip)
        unified = bool(account.settings.get("uta"))
        if route.path.startswith("/api/v3/") and not unified:
            raise Rejection("mode", detail="classic")
        if route.path.startswith("/api/v2/") and unified:  # assumed for account/info too (not verified)
            raise Rejection("mode", detail="unified")
        if route.permission is not None and route.permission not in account.permissions:
            raise Rejection("permission_missing")

    # -- replies ---------------------------------------------------------------------------------------------
    def reply_parts(self, cause: str, route: Route | None = None, **context: Any) -> tuple[int, str, dict[str, str]]:
        known = _REPLIES.get((cause, context.get("detail")))
        if known is not None:
            status, code, msg = known
            body = {"code": code, "msg": msg, "requestTime": self.now_ms(), "data": None}
            return status, json.dumps(body, separators=(",", ":")), {}
        if cause in self.FALLBACK_REPLIES:  # ours beat the fixture's (its "unreachable" case is a 200 timeout)
            status, text = self.FALLBACK_REPLIES[cause]
            return status, text, {}
        return super().reply_parts(cause, route, **context)

    # -- data helpers ----------------------------------------------------------------------------------------
    def make_trade(
        self, *, time_ms: int, symbol: str = "ETHUSDT", price: str = "2500", size: str = "0.1", side: str = "buy"
    ) -> dict[str, Any]:
        """A fill as /api/v2/spot/trade/fills returns it."""
        n = str(time_ms * 10 + len(self.requests) % 10)
        base = symbol.removesuffix("USDT")
        return {
            "userId": "7264631750",
            "symbol": symbol,
            "orderId": n + "1",
            "tradeId": n,
            "orderType": "limit",
            "side": side,
            "priceAvg": price,
            "size": size,
            "amount": str(float(price) * float(size)),
            "feeDetail": {
                "deduction": "no",
                "feeCoin": base if side == "buy" else "USDT",
                "totalDeductionFee": "",
                "totalFee": "-0.0001",
            },
            "tradeScope": "taker",
            "cTime": str(time_ms),
            "uTime": str(time_ms),
        }

    def authorities(self, account: FakeAccount) -> list[str]:
        """Bitget's permission list: reading is one switch that covers all three HuFi probes."""
        if "authorities" in account.settings:
            return list(account.settings["authorities"])
        return ["readonly"] if ALL_PERMISSIONS <= account.permissions else []

    @staticmethod
    def user_id(account: FakeAccount) -> str:
        return str(account.settings.get("user_id") or int(hashlib.sha256(account.api_key.encode()).hexdigest()[:9], 16))

    # -- handlers --------------------------------------------------------------------------------------------
    def ok(self, data: Any) -> web.Response:
        return json_response({"code": "00000", "msg": "success", "requestTime": self.now_ms(), "data": data})

    async def server_time(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return self.ok({"serverTime": str(self.now_ms())})

    def _envelope(self, data_json: str) -> web.Response:
        text = f'{{"code":"00000","msg":"success","requestTime":{self.now_ms()},"data":{data_json}}}'
        return web.Response(text=text, content_type="application/json")

    async def symbols(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return self._envelope(markets.cached_json(self, "symbols", self._symbols))

    def _symbols(self) -> list[dict[str, Any]]:
        return [
            {
                "symbol": f"{base}{quote}",
                "baseCoin": base,
                "quoteCoin": quote,
                "minTradeAmount": "0",
                "maxTradeAmount": "900000000000000000000",
                "takerFeeRate": "0.001",
                "makerFeeRate": "0.001",
                "pricePrecision": "2",
                "quantityPrecision": "4",
                "quotePrecision": "6",
                "status": "online",
                "minTradeUSDT": "1",
                "buyLimitPriceRatio": "0.05",
                "sellLimitPriceRatio": "0.05",
                "areaSymbol": "no",
                "orderQuantity": "200",
                "openTime": "1532454360000",
                "offTime": "",
            }
            for base, quote in markets.spot_pairs(self.exchange_id, self.markets)
        ]

    async def coins(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        def chain(name: str) -> dict[str, Any]:
            return {
                "chain": name,
                "needTag": "false",
                "withdrawable": "true",
                "rechargeable": "true",
                "withdrawFee": "0.001",
                "extraWithdrawFee": "0",
                "depositConfirm": "12",
                "withdrawConfirm": "64",
                "minDepositAmount": "0.001",
                "minWithdrawAmount": "0.01",
                "browserUrl": "https://etherscan.io/tx/",
                "contractAddress": None,
                "withdrawStep": "0",
                "withdrawMinScale": "8",
                "congestion": "normal",
            }

        known = {"ETH": ["ERC20", "ArbitrumOne"], "USDT": ["ERC20", "TRC20"], "BTC": ["BTC"]}

        def build() -> list[dict[str, Any]]:
            return [
                {
                    "coinId": str(i + 1),
                    "coin": coin,
                    "transfer": "true",
                    "chains": [chain(c) for c in known.get(coin, [coin])],
                }
                for i, coin in enumerate(markets.currency_codes(self.exchange_id, self.markets))
            ]

        return self._envelope(markets.cached_json(self, "coins", build))

    async def margin_currencies(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return self.ok([])

    async def assets(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        now = str(self.now_ms())
        return self.ok(
            [
                {"coin": coin, "available": amount, "limitAvailable": "0", "frozen": "0", "locked": "0", "uTime": now}
                for coin, amount in account.balances.items()
            ]
        )

    async def uta_assets(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        assets = [
            {
                "coin": coin,
                "equity": amount,
                "usdValue": "0",
                "balance": amount,
                "available": amount,
                "debt": "0",
                "locked": "0",
            }
            for coin, amount in account.balances.items()
        ]
        return self.ok(
            {
                "accountEquity": "0",
                "usdtEquity": "0",
                "btcEquity": "0",
                "unrealisedPnl": "0",
                "usdtUnrealisedPnl": "0",
                "btcUnrealizedPnl": "0",
                "effEquity": "0",
                "mmr": "0",
                "imr": "0",
                "mgnRatio": "0",
                "positionMgnRatio": "0",
                "assets": assets,
            }
        )

    async def deposit_address(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        coin = request.query.get("coin", "")
        if not coin:
            return web.json_response(
                {"code": "40019", "msg": "Parameter coin cannot be empty", "requestTime": self.now_ms(), "data": None},
                status=400,
            )
        chain = request.query.get("chain", "ERC20")
        address = account.deposit_address if coin == "ETH" and chain in ("ERC20", "ETH") else None
        return self.ok(
            {
                "coin": coin,
                "address": address,
                "chain": chain,
                "tag": "",
                "url": f"https://etherscan.io/address/{address}" if address else "",
            }
        )

    def _fills_in_window(self, request: web.Request, account: FakeAccount, symbol: str | None) -> list[dict[str, Any]]:
        start = _int_or_none(request.query.get("startTime"))
        end = _int_or_none(request.query.get("endTime"))
        limit = min(_int_or_none(request.query.get("limit")) or 100, 100)
        fills = [
            f
            for f in account.trades
            if (symbol is None or f.get("symbol") == symbol)
            and (start is None or int(f.get("cTime", start)) >= start)
            and (end is None or int(f.get("cTime", end)) <= end)
        ]
        fills.sort(key=lambda f: int(f.get("cTime", 0)), reverse=True)
        return fills[:limit]

    async def fills(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        symbol = request.query.get("symbol", "")
        if not symbol:
            return web.json_response(
                {
                    "code": "40019",
                    "msg": "Parameter symbol cannot be empty",
                    "requestTime": self.now_ms(),
                    "data": None,
                },
                status=400,
            )
        return self.ok(self._fills_in_window(request, account, symbol))

    async def uta_fills(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        return self.ok({"list": self._fills_in_window(request, account, request.query.get("symbol")), "cursor": ""})

    async def account_info(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        return self.ok(
            {
                "userId": self.user_id(account),
                "inviterId": "",
                "ips": ",".join(account.ip_whitelist),
                "authorities": self.authorities(account),
                "parentId": int(account.settings.get("parent_id", 0)) or int(self.user_id(account)),
                "traderType": str(account.settings.get("trader_type", "")),
                "channelCode": "",
                "channel": "",
                "regisTime": "1700000000000",
            }
        )

    async def uta_settings(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return self.ok(
            {
                "assetMode": "union",
                "holdMode": "one_way_mode",
                "symbolConfigList": [],
                "coinConfigList": [],
            }
        )


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
