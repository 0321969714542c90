"""Fake Gate API v4: HMAC-SHA512 over method, path, query, body hash and timestamp; KEY/Timestamp/SIGN headers.

Gate checks the key (INVALID_KEY), the signature (INVALID_SIGNATURE) and a ±60 s timestamp window
(REQUEST_EXPIRED), then the key's IP allow-list and permissions. In practice an IP outside the allow-list is
answered with the label FORBIDDEN ("Request IP not in whitelist: <ip>"), the same label as a missing permission;
the documented IP_FORBIDDEN label is in the fixture file and can be forced.

More lenient than the real exchange: its own checks never produce account-level labels (ACCOUNT_LOCKED,
SUB_ACCOUNT_LOCKED, USER_NOT_FOUND), READ_ONLY, INVALID_CREDENTIALS and MISSING_REQUIRED_HEADER. Tests answer with
those through `force_error(code)` (`envelopes.py`), in the real envelope and status.
"""

from __future__ import annotations

import hashlib
import hmac
import string
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import unquote

from aiohttp import web

from bot.diagnosis.model import Permission
from bot.sandbox import markets
from bot.sandbox.exchanges.base import FakeAccount, FakeExchange, Rejection, Route, _random, json_response

TIMESTAMP_WINDOW_MS = 60_000
_HEX = string.hexdigits.lower()[:16]


class FakeGate(FakeExchange):
    exchange_id = "gate"
    FALLBACK_REPLIES: ClassVar[dict[str, tuple[int, str]]] = {
        "permission_missing": (403, '{"label":"FORBIDDEN","message":"Account has no permission to request this API"}'),
        "ip_not_whitelisted": (403, '{"label":"FORBIDDEN","message":"Request IP not in whitelist: 127.0.0.1"}'),
        "account_restricted": (403, '{"label":"ACCOUNT_LOCKED","message":"Account is locked"}'),
        "rate_limited": (429, '{"label":"TOO_MANY_REQUESTS","message":"Request Rate limit Exceeded"}'),
        "exchange_maintenance": (503, '{"label":"SERVER_ERROR","message":"Internal server error"}'),
    }
    #: causes answered with the reply Gate really sends, even where the fixture file holds a documented variant
    OBSERVED_FIRST: ClassVar[frozenset[str]] = frozenset({"ip_not_whitelisted"})

    def new_api_key(self) -> str:
        return _random(_HEX, 32)

    def new_secret(self) -> str:
        return _random(_HEX, 64)

    def routes(self) -> Iterable[Route]:
        return [
            Route("GET", "/api/v4/spot/currencies", self.currencies, private=False),
            Route("GET", "/api/v4/spot/time", self.server_time, private=False),
            Route("GET", "/api/v4/spot/currency_pairs", self.currency_pairs, private=False),
            Route("GET", "/api/v4/margin/currency_pairs", self.margin_pairs, private=False),
            Route("GET", "/api/v4/account/detail", self.account_detail, permission=None),
            Route("GET", "/api/v4/spot/accounts", self.spot_accounts, permission=Permission.VIEW_ACCOUNT_BALANCE),
            Route(
                "GET",
                "/api/v4/wallet/deposit_address",
                self.deposit_address,
                permission=Permission.VIEW_DEPOSIT_ADDRESS,
            ),
            Route("GET", "/api/v4/spot/my_trades", self.my_trades, permission=Permission.VIEW_SPOT_TRADING_HISTORY),
        ]

    def authenticate(self, request: web.Request, body: bytes) -> FakeAccount:
        account = self.lookup(request.headers.get("KEY"))
        timestamp = request.headers.get("Timestamp", "")
        payload = "\n".join(
            [
                request.method.upper(),
                request.path,
                unquote(request.rel_url.raw_query_string),
                hashlib.sha512(body).hexdigest(),
                timestamp,
            ]
        )
        expected = hmac.new(account.secret.encode(), payload.encode(), hashlib.sha512).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("SIGN", "")):
            raise Rejection("secret_mismatch")
        try:
            timestamp_ms = int(float(timestamp) * 1000)
        except ValueError:
            raise Rejection("clock_skew") from None
        self.check_window(timestamp_ms, TIMESTAMP_WINDOW_MS)
        return account

    def reply_parts(self, cause: str, route: Route | None = None, **context: Any) -> tuple[int, str, dict[str, str]]:
        if cause in self.OBSERVED_FIRST and cause in self.FALLBACK_REPLIES:
            status, body = self.FALLBACK_REPLIES[cause]
            return status, self.render_body(body, **context), {}
        return super().reply_parts(cause, route, **context)

    def render_body(self, body: str, **context: Any) -> str:
        return body.replace("127.0.0.1", context.get("ip", self.client_ip))

    # -- public ----------------------------------------------------------------------------------------------------
    async def currencies(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        def chain(name: str, addr: str = "") -> dict[str, Any]:
            return {
                "name": name,
                "addr": addr,
                "withdraw_disabled": False,
                "withdraw_delayed": False,
                "deposit_disabled": False,
            }

        def currency(code: str, name: str, chains: list[dict[str, Any]]) -> dict[str, Any]:
            return {
                "currency": code,
                "name": name,
                "delisted": False,
                "withdraw_disabled": False,
                "withdraw_delayed": False,
                "deposit_disabled": False,
                "trade_disabled": False,
                "fixed_rate": "",
                "chain": chains[0]["name"],
                "chains": chains,
            }

        known = [
            currency("ETH", "Ethereum", [chain("ETH"), chain("ARBEVM"), chain("OPETH")]),
            currency("BTC", "Bitcoin", [chain("BTC")]),
            currency(
                "USDT",
                "Tether",
                [chain("ETH", "0xdAC17F958D2ee523a2206206994597C13D831ec7"), chain("TRX"), chain("BSC")],
            ),
        ]

        def build() -> list[dict[str, Any]]:
            codes = markets.currency_codes(self.exchange_id, self.markets)[3:]  # after ETH, BTC, USDT
            return known + [currency(code, markets.coin_name(code), [chain(code)]) for code in codes]

        text = markets.cached_json(self, "currencies", build)
        return web.Response(text=text, content_type="application/json")

    async def server_time(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """`GET /spot/time` (https://www.gate.com/docs/developers/apiv4/#get-server-current-time)."""
        return json_response({"server_time": self.now_ms()})

    async def currency_pairs(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        text = markets.cached_json(self, "currency_pairs", self._pairs)
        return web.Response(text=text, content_type="application/json")

    def _pairs(self) -> list[dict[str, Any]]:
        return [
            {
                "id": f"{base}_{quote}",
                "base": base,
                "base_name": markets.coin_name(base),
                "quote": quote,
                "quote_name": markets.coin_name(quote),
                "fee": "0.2",
                "min_base_amount": "0.0001",
                "min_quote_amount": "3",
                "max_quote_amount": "5000000",
                "amount_precision": 4,
                "precision": 2,
                "trade_status": "tradable",
                "sell_start": 1516378650,
                "buy_start": 1516378650,
                "type": "normal",
                "trade_url": f"https://www.gate.com/trade/{base}_{quote}",
            }
            for base, quote in markets.spot_pairs(self.exchange_id, self.markets)
        ]

    async def margin_pairs(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return json_response([])

    # -- private ---------------------------------------------------------------------------------------------------
    async def account_detail(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """The key-info endpoint: user id, IP allow-list, pair restriction and account mode (1 classic)."""
        assert account is not None
        return json_response(
            {
                "user_id": user_id(account),
                "ip_whitelist": list(account.ip_whitelist),
                "currency_pairs": list(account.settings.get("currency_pairs", [])),
                "key": {"mode": 1},
                "tier": 0,
                "tier_expire_time": "0001-01-01T00:00:00Z",
                "copy_trading_role": 0,
            }
        )

    async def spot_accounts(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        return json_response(
            [
                {"currency": code, "available": amount, "locked": "0", "update_id": 1}
                for code, amount in account.balances.items()
            ]
        )

    async def deposit_address(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """One entry per chain; no address yet means no chain entries (ccxt then raises NotSupported)."""
        assert account is not None
        currency = request.query.get("currency", "")
        if currency != "ETH" or not account.deposit_address:
            return json_response({"currency": currency, "address": "", "multichain_addresses": []})
        entry = {
            "chain": "ETH",
            "address": account.deposit_address,
            "payment_id": "",
            "payment_name": "",
            "obtain_failed": 0,
        }
        return json_response({"currency": "ETH", "address": account.deposit_address, "multichain_addresses": [entry]})

    async def my_trades(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        return json_response(account.trades)


def user_id(account: FakeAccount) -> int:
    """A stable numeric user id for the account (settings['user_id'] wins)."""
    if "user_id" in account.settings:
        return int(account.settings["user_id"])
    return 10_000_000 + int(hashlib.sha256(account.api_key.encode()).hexdigest()[:6], 16) % 9_000_000
