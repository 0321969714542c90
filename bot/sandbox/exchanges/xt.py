"""Fake XT.COM spot API v4: HMAC-SHA256 over the xt-validate-* headers + "#METHOD#path#sorted query", hex.

XT answers with HTTP 200 and `{"rc":1,"mc":<code>}`: AUTH_101 unknown key, AUTH_102 key not activated, AUTH_103
bad signature, AUTH_105 timestamp outside recvWindow, AUTH_104 IP outside the allow-list, AUTH_106 missing
permission (ccxt's only PermissionDenied; the rest are AuthenticationError). No address yet is DEPOSIT_006
(DEPOSIT_007 while XT is generating one; `settings['address_generating']`), both BadRequest in ccxt.

More lenient than the real exchange: its own checks never produce account-level codes (SYMBOL_004 region, ORDER_007
sub-account rights, DEPOSIT_002 security level, COMMON_001) and the missing-header codes AUTH_001-AUTH_007 (ccxt
always sends the headers). Tests answer with those through `force_error(code)` (`envelopes.py`), in the real
envelope and status.
"""

from __future__ import annotations

import hashlib
import hmac
import string
import uuid
from collections.abc import Iterable
from typing import Any, ClassVar

from aiohttp import web

from bot.diagnosis.model import Permission
from bot.sandbox import markets
from bot.sandbox.exchanges.base import FakeAccount, FakeExchange, Rejection, Route, _random, json_response

_HEX = string.hexdigits.lower()[:16]
ETH_CHAIN = "Ethereum"


def _error(code: str) -> str:
    return f'{{"rc":1,"mc":"{code}","ma":[],"result":null}}'


class FakeXt(FakeExchange):
    exchange_id = "xt"
    FALLBACK_REPLIES: ClassVar[dict[str, tuple[int, str]]] = {
        "secret_mismatch": (200, _error("AUTH_103")),
        "ip_not_whitelisted": (200, _error("AUTH_104")),
        "key_expired": (200, _error("AUTH_101")),
        "key_not_activated": (200, _error("AUTH_102")),
        "account_restricted": (200, _error("COMMON_001")),
        "rate_limited": (429, _error("429")),
        "exchange_maintenance": (503, _error("503")),
    }

    def new_api_key(self) -> str:
        return str(uuid.uuid4())

    def new_secret(self) -> str:
        return _random(_HEX, 40)

    def routes(self) -> Iterable[Route]:
        return [
            Route("GET", "/v4/public/symbol", self.symbols, private=False),
            Route("GET", "/v4/public/currencies", self.currencies, private=False),
            Route("GET", "/v4/public/wallet/support/currency", self.chains, private=False),
            Route("GET", "/v4/public/time", self.server_time, private=False),
            Route("GET", "/future/market/v1/public/symbol/list", self.contracts, private=False),
            Route("GET", "/v4/balances", self.balances, permission=Permission.VIEW_ACCOUNT_BALANCE),
            Route("GET", "/v4/deposit/address", self.deposit_address, permission=Permission.VIEW_DEPOSIT_ADDRESS),
            Route("GET", "/v4/trade", self.trades, permission=Permission.VIEW_SPOT_TRADING_HISTORY),
        ]

    def authenticate(self, request: web.Request, body: bytes) -> FakeAccount:
        headers = request.headers
        account = self.lookup(headers.get("xt-validate-appkey"))
        if account.settings.get("activated") is False:
            raise Rejection("key_not_activated")
        timestamp = headers.get("xt-validate-timestamp", "")
        recv_window = headers.get("xt-validate-recvwindow", "5000")
        payload = (
            f"xt-validate-algorithms={headers.get('xt-validate-algorithms', '')}&xt-validate-appkey={account.api_key}"
            f"&xt-validate-recvwindow={recv_window}&xt-validate-timestamp={timestamp}#{request.method}#{request.path}"
        )
        if request.method in ("GET", "DELETE") and request.query:
            payload += "#" + "&".join(f"{k}={v}" for k, v in sorted(request.query.items()))
        elif body:
            payload += "#" + body.decode()
        expected = hmac.new(account.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if headers.get("xt-validate-algorithms") != "HmacSHA256" or not hmac.compare_digest(
            expected, headers.get("xt-validate-signature", "")
        ):
            raise Rejection("secret_mismatch")
        try:
            timestamp_ms, window = int(timestamp), int(recv_window)
        except ValueError:
            raise Rejection("clock_skew") from None
        self.check_window(timestamp_ms, window)
        return account

    def ok(self, result: Any) -> web.Response:
        return json_response({"rc": 0, "mc": "SUCCESS", "ma": [], "result": result})

    # -- public ----------------------------------------------------------------------------------------------------
    def _envelope(self, result_json: str) -> web.Response:
        text = f'{{"rc":0,"mc":"SUCCESS","ma":[],"result":{result_json}}}'
        return web.Response(text=text, content_type="application/json")

    def _currency_ids(self) -> dict[str, int]:
        """XT's numeric currency ids: btc 2, eth 3, usdt 11 (as on the real exchange), then 1000 on."""
        codes = [c.lower() for c in markets.currency_codes(self.exchange_id, self.markets)[3:]]
        return {"btc": 2, "eth": 3, "usdt": 11, **{code: 1000 + i for i, code in enumerate(codes)}}

    async def symbols(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        symbols = markets.cached_json(self, "symbols", self._symbols)
        return self._envelope(
            f'{{"time":{self.now_ms()},"version":"abb101d1543e54bee40687b135411ba0","symbols":{symbols}}}'
        )

    def _symbols(self) -> list[dict[str, Any]]:
        ids = self._currency_ids()
        pairs = [(b.lower(), q.lower()) for b, q in markets.spot_pairs(self.exchange_id, self.markets)]
        numbered = [(614, "eth", "usdt"), (612, "btc", "usdt")] + [
            (2000 + i, b, q) for i, (b, q) in enumerate(pairs[2:])
        ]
        return [
            {
                "id": market_id,
                "symbol": f"{base}_{quote}",
                "state": "ONLINE",
                "stateTime": 1554048000000,
                "tradingEnabled": True,
                "openapiEnabled": True,
                "nextStateTime": None,
                "nextState": None,
                "depthMergePrecision": 5,
                "baseCurrency": base,
                "baseCurrencyPrecision": 8,
                "baseCurrencyId": ids[base],
                "quoteCurrency": quote,
                "quoteCurrencyPrecision": 8,
                "quoteCurrencyId": ids[quote],
                "pricePrecision": 2,
                "quantityPrecision": 4,
                "orderTypes": ["LIMIT", "MARKET"],
                "timeInForces": ["GTC", "IOC", "FOK", "GTX"],
                "displayWeight": 10000,
                "displayLevel": "FULL",
                "plates": [],
                "filters": [{"filter": "QUOTE_QTY", "min": "1"}],
            }
            for market_id, base, quote in numbered
        ]

    async def currencies(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        names = {"btc": "Bitcoin", "eth": "Ethereum", "usdt": "Tether USD"}

        def build() -> list[dict[str, Any]]:
            return [
                {
                    "id": str(currency_id),
                    "currency": code,
                    "fullName": name,
                    "logo": f"https://a.static-global.com/1/currency/{code}.png",
                    "cmcLink": "",
                    "weight": "100",
                    "maxPrecision": "8",
                    "depositStatus": "1",
                    "withdrawStatus": "1",
                    "convertEnabled": "1",
                    "transferEnabled": "1",
                    "isChainExist": "1",
                    "plates": [],
                    "type": "FT",
                }
                for code, currency_id in self._currency_ids().items()
                for name in [names.get(code) or markets.coin_name(code)]
            ]

        currencies = markets.cached_json(self, "currencies", build)
        return self._envelope(
            f'{{"time":"{self.now_ms()}","version":"5dbbb2f2527c22b2b2e3b47187ef13d1","currencies":{currencies}}}'
        )

    async def chains(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        def chain(name: str) -> dict[str, Any]:
            return {
                "chain": name,
                "depositEnabled": True,
                "withdrawEnabled": True,
                "withdrawFeeAmount": 0.001,
                "withdrawMinAmount": 0.01,
                "depositFeeRate": 0,
            }

        known = {"btc": [chain("Bitcoin")], "eth": [chain(ETH_CHAIN), chain("Arbitrum")]}
        known["usdt"] = [chain(ETH_CHAIN), chain("Tron")]

        def build() -> list[dict[str, Any]]:
            return [
                {"currency": code, "supportChains": known.get(code) or [chain(code.upper())]}
                for code in self._currency_ids()
            ]

        return self._envelope(markets.cached_json(self, "chains", build))

    async def server_time(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return self.ok({"serverTime": self.now_ms()})

    async def contracts(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """Futures markets (linear and inverse share this path); the fake lists none."""
        return json_response({"returnCode": 0, "msgInfo": "success", "error": None, "result": []})

    # -- private ---------------------------------------------------------------------------------------------------
    async def balances(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        assets = [
            {
                "currency": code.lower(),
                "currencyId": {"BTC": 2, "ETH": 3, "USDT": 11}.get(code.upper(), 0),
                "frozenAmount": "0",
                "availableAmount": amount,
                "totalAmount": amount,
                "convertBtcAmount": "0",
                "convertUsdtAmount": "0",
            }
            for code, amount in account.balances.items()
        ]
        return self.ok({"totalUsdtAmount": "0", "totalBtcAmount": "0", "assets": assets})

    async def deposit_address(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """The address for `currency` on `chain`; DEPOSIT_006 (or DEPOSIT_007 while generating) when none."""
        assert account is not None
        if request.query.get("currency") != "eth" or request.query.get("chain") != ETH_CHAIN:
            return web.Response(text=_error("CURRENCY_001"), content_type="application/json")
        if not account.deposit_address:
            code = "DEPOSIT_007" if account.settings.get("address_generating") else "DEPOSIT_006"
            return web.Response(text=_error(code), content_type="application/json")
        return self.ok({"address": account.deposit_address, "memo": ""})

    async def trades(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        return self.ok({"hasPrev": False, "hasNext": False, "items": account.trades})
