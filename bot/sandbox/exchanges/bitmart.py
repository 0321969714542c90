"""Fake BitMart spot API: `X-BM-KEY`, `X-BM-TIMESTAMP` (ms, ±60 s) and `X-BM-SIGN` over `ts#memo#payload`.

The payload is the raw query string for GET and the raw JSON body for POST; the memo is the one chosen when the
key was created, so a wrong memo breaks the signature exactly like a wrong secret (BitMart answers 30005 for
both; the fixture file lists the two causes as `also_returned_for` each other). Checks run in BitMart's order:
headers present and well-formed, key known (30002), signature (30005), timestamp window (30007), then the base
class's expired (30011), frozen (30003), IP allow-list (30010) and permission (30019) checks.

More lenient than the real exchange: its own checks never produce account-level codes (53000 frozen by security
policy, 53001 KYC country, 53002 KYC level, 53003/60026/ 60029 sub-account rights), 30011 expiry and 30012. Tests
answer with those through `force_error(code)` (`envelopes.py`), in the real envelope and status.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import string
from collections.abc import Iterable
from typing import Any, ClassVar

from aiohttp import web

from bot.diagnosis.model import Permission
from bot.sandbox import markets
from bot.sandbox.exchanges.base import FakeAccount, FakeExchange, Rejection, Route, _random, json_response

TRACE = "f5ba9a5a-3c79-4a1b-8c21-1b3c0e1d2f00"
TIMESTAMP_WINDOW_MS = 60_000
#: the deposit currency ids BitMart knows for ETH on Ethereum (ccxt 4.5.70 sent the bare "ETH")
ETH_CURRENCY_IDS = ("ETH", "ETH-ERC20")
MARKETS = (("ETH", "USDT", 10), ("BTC", "USDT", 20))


def error_body(code: int, message: str) -> str:
    """A BitMart error reply, in the key order BitMart uses."""
    return json.dumps({"message": message, "code": code, "trace": TRACE, "data": {}}, separators=(",", ":"))


def ok(data: Any, message: str = "OK") -> web.Response:
    return json_response({"message": message, "code": 1000, "trace": TRACE, "data": data})


class FakeBitmart(FakeExchange):
    exchange_id = "bitmart"
    #: replies for causes the fixture file lacks (codes and texts from BitMart's error table, statuses from its docs)
    FALLBACK_REPLIES: ClassVar[dict[str, tuple[int, str]]] = {
        "key_invalid": (401, error_body(30002, "Header X-BM-KEY not found")),
        "key_expired": (403, error_body(30011, "Header X-BM-KEY over expire time")),
        "account_restricted": (401, error_body(30003, "Header X-BM-KEY has frozen")),
        "ip_not_whitelisted": (
            403,
            error_body(
                30010,
                "IP is forbidden. We recommend enabling IP whitelist for API trading. After that reauth your account",
            ),
        ),
        "key_forbidden": (403, error_body(30012, "Header X-BM-KEY is forbidden to request it")),
        "maintenance_30016": (503, error_body(30016, "Service maintenance, please try again later")),
        # malformed requests (no fixture: a client that signs at all never sends these)
        "key_missing": (401, error_body(30001, "Header X-BM-KEY is empty")),
        "sign_missing": (401, error_body(30004, "Header X-BM-SIGN is empty")),
        "timestamp_missing": (401, error_body(30006, "Header X-BM-TIMESTAMP is empty")),
        "timestamp_invalid": (401, error_body(30008, "Header X-BM-TIMESTAMP invalid format")),
        "currency_not_found": (400, error_body(60002, "currency does not exist")),
        "symbol_not_found": (400, error_body(50001, "Symbol not found")),
    }

    def new_api_key(self) -> str:
        return _random("0123456789abcdef", 40)

    def new_secret(self) -> str:
        return _random("0123456789abcdef", 64)

    def new_memo(self) -> str:
        return "memo" + _random(string.ascii_lowercase + string.digits, 12)

    def add_account(self, **fields: Any) -> FakeAccount:
        """A key with a memo (every BitMart key has one)."""
        fields.setdefault("memo", self.new_memo())
        return super().add_account(**fields)

    def routes(self) -> Iterable[Route]:
        return [
            Route("GET", "/spot/v1/symbols/details", self.symbols_details, private=False),
            Route("GET", "/system/time", self.system_time, private=False),
            Route("GET", "/spot/v1/wallet", self.wallet, permission=Permission.VIEW_ACCOUNT_BALANCE),
            Route(
                "GET",
                "/account/v1/deposit/address",
                self.deposit_address,
                permission=Permission.VIEW_DEPOSIT_ADDRESS,
            ),
            Route("POST", "/spot/v4/query/trades", self.trades, permission=Permission.VIEW_SPOT_TRADING_HISTORY),
        ]

    # -- authentication -------------------------------------------------------------------------------------------
    def authenticate(self, request: web.Request, body: bytes) -> FakeAccount:
        key = request.headers.get("X-BM-KEY", "")
        timestamp = request.headers.get("X-BM-TIMESTAMP", "")
        signature = request.headers.get("X-BM-SIGN", "")
        if not key:
            raise Rejection("key_missing")
        if not timestamp:
            raise Rejection("timestamp_missing")
        if not timestamp.isdigit():
            raise Rejection("timestamp_invalid")
        if not signature:
            raise Rejection("sign_missing")
        account = self.lookup(key)
        payload = request.rel_url.raw_query_string if request.method in ("GET", "DELETE") else body.decode()
        message = f"{timestamp}#{account.memo or ''}#{payload}"
        expected = hmac.new(account.secret.encode(), message.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            # a wrong secret and a wrong memo are the same failure to BitMart
            raise Rejection("secret_mismatch")
        self.check_window(int(timestamp), TIMESTAMP_WINDOW_MS)
        return account

    # -- public ---------------------------------------------------------------------------------------------------
    async def symbols_details(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        symbols = markets.cached_json(self, "symbols", self._symbols)
        text = f'{{"message":"OK","code":1000,"trace":"{TRACE}","data":{{"symbols":{symbols}}}}}'
        return web.Response(text=text, content_type="application/json")

    def _symbols(self) -> list[dict[str, Any]]:
        numbered = list(MARKETS) + [
            (base, quote, 1000 + i)
            for i, (base, quote) in enumerate(markets.spot_pairs(self.exchange_id, self.markets)[2:])
        ]
        return [
            {
                "symbol": f"{base}_{quote}",
                "symbol_id": number,
                "base_currency": base,
                "quote_currency": quote,
                "quote_increment": "0.00010000",
                "base_min_size": "0.00010000",
                "price_min_precision": 2,
                "price_max_precision": 4,
                "expiration": "NA",
                "min_buy_amount": "5.00000000",
                "min_sell_amount": "5.00000000",
                "trade_status": "trading",
            }
            for base, quote, number in numbered
        ]

    async def system_time(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return ok({"server_time": self.now_ms()})

    # -- private --------------------------------------------------------------------------------------------------
    async def wallet(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        wallet = [
            {"id": code, "name": code, "available": amount, "frozen": "0.00000000"}
            for code, amount in account.balances.items()
        ]
        return ok({"wallet": wallet})

    async def deposit_address(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        route = self.match_route(request.method, request.path)
        if request.query.get("currency") not in ETH_CURRENCY_IDS:
            return self.reply_for("currency_not_found", route)
        if not account.deposit_address:
            return self.reply_for("no_deposit_address", route)  # the fixture: code 1000 and "data": {}
        return ok(
            {
                "currency": request.query["currency"],
                "chain": "ETH",
                "address": account.deposit_address,
                "address_memo": "",
            }
        )

    async def trades(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        route = self.match_route(request.method, request.path)
        try:
            query = json.loads(body or b"{}")
        except ValueError:
            return web.Response(status=400, text=error_body(60000, "Invalid request"), content_type="application/json")
        symbol = query.get("symbol")
        if symbol is not None and symbol not in {f"{b}_{q}" for b, q, _ in MARKETS}:
            return self.reply_for("symbol_not_found", route)
        start, end = query.get("startTime"), query.get("endTime")
        limit = int(query.get("limit") or 200)
        selected = [
            t
            for t in account.trades
            if (symbol is None or t.get("symbol") == symbol)
            and (start is None or int(t.get("createTime", 0)) >= int(start))
            and (end is None or int(t.get("createTime", 0)) <= int(end))
        ]
        return ok(selected[:limit], message="success")
