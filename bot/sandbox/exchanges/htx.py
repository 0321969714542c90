"""Fake HTX (Huobi) spot API: signature version 2, HMAC-SHA256 over "GET\\nhost\\npath\\nsorted query", base64.

The signed host is the one ccxt signs: `api.huobi.pro` (ccxt's `hostname`), also under a URL override, so the
fake verifies against that host, not the one the request was sent to. Every authentication failure is
`err-code: api-signature-not-valid`; the `err-msg` suffix tells the cause: `Incorrect Access key`,
`Verification failure` (signature), `Request expired` (timestamp outside ±5 min), `Incorrect IP address ...:<ip>`,
`API key has no permission` (ccxt's only PermissionDenied).

HTX keys carry the permissions `readOnly`, `trade` and `withdraw`; the fake reports `readOnly` when the account
holds all three read permissions, plus `settings['extra_permissions']`.

More lenient than the real exchange: its own checks never produce account-level codes (1010, 1220), login-required
and the v2 API's numeric codes. Tests answer with those through `force_error(code)` (`envelopes.py`), in the real
envelope and status.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from aiohttp import web

from bot.diagnosis.model import Permission
from bot.sandbox import markets
from bot.sandbox.exchanges.base import (
    DEFAULT_CLIENT_IP,
    FakeAccount,
    FakeExchange,
    Rejection,
    Route,
    _random,
    json_response,
)

SIGNED_HOST = "api.huobi.pro"
TIMESTAMP_WINDOW_MS = 5 * 60_000
DEFAULT_ACCOUNT_ID = 10000001
_HEX = string.hexdigits.lower()[:16]
_BALANCE_PATH = "/v1/account/accounts/{account-id}/balance"


def _error(code: str, message: str) -> str:
    return f'{{"status":"error","err-code":"{code}","err-msg":"{message}","data":null}}'


def _signature_error(reason: str) -> str:
    return _error("api-signature-not-valid", f"Signature not valid: {reason}")


class FakeHtx(FakeExchange):
    exchange_id = "htx"
    FALLBACK_REPLIES: ClassVar[dict[str, tuple[int, str]]] = {
        "key_invalid": (200, _signature_error("Incorrect Access key [Access key错误]")),
        "key_expired": (200, _signature_error("Incorrect Access key [Access key错误]")),
        "secret_mismatch": (200, _signature_error("Verification failure [校验失败]")),
        # reconstructed (not observed): HTX's reply for a locked user
        "account_restricted": (200, _error("account-frozen-account-inexistent-error", "Account is frozen")),
        "rate_limited": (
            200,
            _error(
                "base-request-exceed-frequency-limit",
                "Frequency of requests has exceeded the limit, please try again later",
            ),
        ),
    }

    def new_api_key(self) -> str:
        parts = (_random(string.ascii_lowercase + string.digits, 10), _random(_HEX, 8), _random(_HEX, 8))
        return "-".join((*parts, _random(_HEX, 5)))

    def new_secret(self) -> str:
        return "-".join((_random(_HEX, 8), _random(_HEX, 8), _random(_HEX, 8), _random(_HEX, 5)))

    def routes(self) -> Iterable[Route]:
        return [
            Route("GET", "/v1/common/symbols", self.symbols, private=False),
            Route("GET", "/v2/reference/currencies", self.currencies, private=False),
            Route("GET", "/v1/common/timestamp", self.timestamp, private=False),
            Route("GET", "/v2/market-status", self.market_status, private=False),
            Route("GET", "/v2/user/uid", self.uid, permission=None),
            Route("GET", "/v2/user/api-key", self.api_key_info, permission=None),
            Route("GET", "/v1/account/accounts", self.account_list, permission=Permission.VIEW_ACCOUNT_BALANCE),
            Route("GET", _BALANCE_PATH, self.balance, permission=Permission.VIEW_ACCOUNT_BALANCE),
            Route(
                "GET",
                "/v2/account/deposit/address",
                self.deposit_address,
                permission=Permission.VIEW_DEPOSIT_ADDRESS,
            ),
            Route("GET", "/v1/order/matchresults", self.match_results, permission=Permission.VIEW_SPOT_TRADING_HISTORY),
        ]

    def match_route(self, method: str, path: str) -> Route | None:
        """Exact paths, plus the balance path with its account id (the Route carries the concrete path)."""
        route = super().match_route(method, path)
        if route is not None:
            return route
        parts = path.split("/")
        if len(parts) == 6 and parts[1:4] == ["v1", "account", "accounts"] and parts[5] == "balance":
            template = self._routes.get((method, _BALANCE_PATH))
            return replace(template, path=path) if template is not None else None
        return None

    def authenticate(self, request: web.Request, body: bytes) -> FakeAccount:
        query = dict(request.query)
        account = self.lookup(query.get("AccessKeyId"))
        signature = query.pop("Signature", "")
        if query.get("SignatureMethod") != "HmacSHA256" or query.get("SignatureVersion") != "2":
            raise Rejection("secret_mismatch")
        auth = urlencode(sorted(query.items()))
        expected = self._sign(account, request.method, SIGNED_HOST, request.path, auth)
        if not hmac.compare_digest(expected, signature):
            raise Rejection("secret_mismatch")
        try:
            stamp = datetime.strptime(query.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            raise Rejection("clock_skew") from None
        self.check_window(int(stamp.timestamp() * 1000), TIMESTAMP_WINDOW_MS)
        return account

    @staticmethod
    def _sign(account: FakeAccount, method: str, host: str, path: str, auth: str) -> str:
        payload = "\n".join((method.upper(), host, path, auth))
        digest = hmac.new(account.secret.encode(), payload.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def render_body(self, body: str, **context: Any) -> str:
        return body.replace(DEFAULT_CLIENT_IP, context.get("ip", self.client_ip))

    # -- public ----------------------------------------------------------------------------------------------------
    async def market_status(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """`GET /v2/market-status`: 1 normal, 2 halted, 3 cancel-only
        (https://huobiapi.github.io/docs/spot/v1/en/#get-market-status)."""
        return json_response({"code": 200, "message": "success", "data": {"marketStatus": 1}})

    async def symbols(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        text = markets.cached_json(self, "symbols", self._symbols)
        return web.Response(text=f'{{"status":"ok","data":{text}}}', content_type="application/json")

    def _symbols(self) -> list[dict[str, Any]]:
        pairs = [(b.lower(), q.lower()) for b, q in markets.spot_pairs(self.exchange_id, self.markets)]
        return [
            {
                "base-currency": base,
                "quote-currency": quote,
                "price-precision": 2,
                "amount-precision": 4,
                "symbol-partition": "main",
                "symbol": f"{base}{quote}",
                "state": "online",
                "value-precision": 8,
                "min-order-amt": 0.001,
                "max-order-amt": 1000,
                "min-order-value": 5,
                "limit-order-min-order-amt": 0.001,
                "limit-order-max-order-amt": 1000,
                "sell-market-min-order-amt": 0.001,
                "sell-market-max-order-amt": 100,
                "buy-market-max-order-value": 1000000,
                "leverage-ratio": 5,
                "super-margin-leverage-ratio": 3,
                "api-trading": "enabled",
                "tags": "",
            }
            for base, quote in pairs
        ]

    async def currencies(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        def chain(chain_id: str, display: str, base_chain: str, protocol: str) -> dict[str, Any]:
            return {
                "chain": chain_id,
                "displayName": display,
                "baseChain": base_chain,
                "baseChainProtocol": protocol,
                "isDynamic": True,
                "numOfConfirmations": 64,
                "numOfFastConfirmations": 12,
                "depositStatus": "allowed",
                "minDepositAmt": "0.001",
                "withdrawStatus": "allowed",
                "minWithdrawAmt": "0.01",
                "withdrawPrecision": 8,
                "maxWithdrawAmt": "1000",
                "withdrawQuotaPerDay": "1000",
                "withdrawFeeType": "fixed",
                "transactFeeWithdraw": "0.002",
                "addrWithTag": False,
                "addrDepositTag": False,
            }

        known = [
            {
                "currency": "eth",
                "assetType": 1,
                "chains": [chain("eth", "ERC20", "ETH", ""), chain("arbieth", "ARBITRUM", "ARB", "")],
                "instStatus": "normal",
            },
            {"currency": "btc", "assetType": 1, "chains": [chain("btc", "BTC", "BTC", "")], "instStatus": "normal"},
            {
                "currency": "usdt",
                "assetType": 1,
                "chains": [chain("usdterc20", "ERC20", "ETH", "ERC20"), chain("trc20usdt", "TRC20", "TRX", "TRC20")],
                "instStatus": "normal",
            },
        ]

        def build() -> list[dict[str, Any]]:
            codes = markets.currency_codes(self.exchange_id, self.markets)[3:]  # after ETH, BTC, USDT
            return known + [
                {
                    "currency": code.lower(),
                    "assetType": 1,
                    "chains": [chain(code.lower(), code, code, "")],
                    "instStatus": "normal",
                }
                for code in codes
            ]

        text = markets.cached_json(self, "currencies", build)
        return web.Response(text=f'{{"code":200,"data":{text}}}', content_type="application/json")

    async def timestamp(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return json_response({"status": "ok", "data": self.now_ms()})

    # -- private ---------------------------------------------------------------------------------------------------
    async def uid(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        return json_response({"code": 200, "data": user_id(account)})

    async def api_key_info(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """The key-info endpoint: the keys of `uid` (optionally one `accessKey`) with permission, IPs, validity."""
        assert account is not None
        uid = request.query.get("uid", "")
        if uid != str(user_id(account)):
            return json_response({"code": 2002, "message": "invalid.field.value", "data": None})
        wanted = request.query.get("accessKey")
        data = [
            key_info(other, self.now_ms())
            for other in self.accounts.values()
            if user_id(other) == user_id(account) and (wanted is None or other.api_key == wanted)
        ]
        return json_response({"code": 200, "message": "success", "data": data})

    async def account_list(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        entry = {"id": account_id(account), "type": "spot", "subtype": "", "state": "working"}
        return json_response({"status": "ok", "data": [entry]})

    async def balance(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        if request.path.split("/")[4] != str(account_id(account)):
            return web.Response(
                text=_error("account-get-balance-account-inexistent-error", "invalid account_id"),
                content_type="application/json",
            )
        rows: list[dict[str, str]] = []
        for code, amount in account.balances.items():
            rows.append({"currency": code.lower(), "type": "trade", "balance": amount, "seq-num": "1"})
            rows.append({"currency": code.lower(), "type": "frozen", "balance": "0", "seq-num": "1"})
        data = {"id": account_id(account), "type": "spot", "state": "working", "list": rows}
        return json_response({"status": "ok", "data": data})

    async def deposit_address(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """One entry per chain; no address yet means an empty list (ccxt then raises NotSupported)."""
        assert account is not None
        data: list[dict[str, Any]] = []
        if request.query.get("currency") == "eth" and account.deposit_address:
            data.append(
                {
                    "userId": user_id(account),
                    "currency": "eth",
                    "address": account.deposit_address,
                    "addressTag": "",
                    "chain": "eth",
                }
            )
        return json_response({"code": 200, "data": data})

    async def match_results(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        return json_response({"status": "ok", "data": account.trades})


def user_id(account: FakeAccount) -> int:
    """A stable numeric UID for the account (settings['uid'] wins)."""
    if "uid" in account.settings:
        return int(account.settings["uid"])
    return 60_000_000 + int(hashlib.sha256(account.api_key.encode()).hexdigest()[:6], 16) % 9_000_000


def account_id(account: FakeAccount) -> int:
    return int(account.settings.get("account_id", DEFAULT_ACCOUNT_ID))


def key_info(account: FakeAccount, now_ms: int) -> dict[str, Any]:
    """One entry of `/v2/user/api-key` for `account`."""
    permissions = ["readOnly"] if set(Permission) <= account.permissions else []
    permissions += list(account.settings.get("extra_permissions", ()))
    valid_days = -1 if account.ip_whitelist else int(account.settings.get("valid_days", 89))
    return {
        "accessKey": account.api_key,
        "note": account.settings.get("note", "hufi"),
        "permission": ",".join(permissions),
        "ipAddresses": ",".join(account.ip_whitelist),
        "validDays": valid_days,
        "status": "expired" if account.expired else "normal",
        "createTime": now_ms - 86_400_000,
        "updateTime": now_ms - 86_400_000,
    }
