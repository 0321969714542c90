"""Fake Kraken spot REST API: API-Sign = base64(HMAC-SHA512(b64decode(secret), path + SHA256(nonce + postdata))).

There is no time window: the nonce must exceed the highest one the key has used, less the key's nonce window
(a reused or too old nonce gets `EAPI:Invalid nonce`). HuFi judges a Kraken key by `POST /0/private/GetApiKeyInfo`
alone; we also read the ETH deposit address (`DepositAddresses` asset=ETH method="Ether (Hex)", `[]` when none).
`BalanceEx`, `TradesHistory` and `DepositMethods` (what ccxt's unified methods call) are served too.

Account knobs (`FakeAccount.settings`): `kraken_permissions` (Kraken's permission names, instead of the ones derived
from `FakeAccount.permissions`), `nonce_window` (default 10000), `name`, `key_info_style` ("hufi": the snake_case
fields HuFi's client reads, the default; "docs": the camelCase fields of Kraken's API reference page),
`deposit_addresses_needs` (the Kraken permissions `DepositAddresses` asks for: Kraken's pages disagree, its API
reference says Query Funds, the default here, its support article "how to create an API key" says Deposit Funds;
`["query-funds", "deposit-funds"]` answers like the latter, `EGeneral:Permission denied` to a Query Funds-only key).

More lenient than the real exchange: its own checks never produce EAccount:Invalid permissions (also sent for
regional asset restrictions), EAuth:* account states, ETrade:User Locked and EGeneral:Temporary lockout. Tests
answer with those through `force_error(code)` (`envelopes.py`), in the real envelope and status.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from aiohttp import web

from bot.diagnosis.model import Permission
from bot.sandbox.exchanges.base import FakeAccount, FakeExchange, Rejection, Route

DEFAULT_NONCE_WINDOW = 10_000
ETH_METHOD = "Ether (Hex)"
QUERY_FUNDS = "query-funds"
DEPOSIT_FUNDS = "deposit-funds"
TRADE_PERMISSIONS = ("query-open-trades", "query-closed-trades", "export-data")
#: Kraken permission each private path needs (None: any valid key may call it)
REQUIRED_PERMISSION: dict[str, str | None] = {
    "/0/private/GetApiKeyInfo": None,
    "/0/private/BalanceEx": QUERY_FUNDS,
    "/0/private/DepositMethods": QUERY_FUNDS,
    "/0/private/DepositAddresses": QUERY_FUNDS,
    "/0/private/TradesHistory": "query-closed-trades",
}
KRAKEN_ASSETS = {"ETH": "XETH", "BTC": "XXBT", "USD": "ZUSD", "EUR": "ZEUR"}


def _ok(result: Any) -> web.Response:
    return web.json_response({"error": [], "result": result})


def kraken_permissions(account: FakeAccount) -> list[str]:
    """The key's Kraken permission names: settings["kraken_permissions"] when given, else derived."""
    given = account.settings.get("kraken_permissions")
    if given is not None:
        return list(given)
    names: list[str] = []
    if account.permissions & {Permission.VIEW_ACCOUNT_BALANCE, Permission.VIEW_DEPOSIT_ADDRESS}:
        names.append(QUERY_FUNDS)
    if Permission.VIEW_SPOT_TRADING_HISTORY in account.permissions:
        names.extend(TRADE_PERMISSIONS)
    return names


def api_sign(secret: str, path: str, nonce: str, postdata: bytes) -> str:
    """Kraken's API-Sign for one request (raises binascii.Error for a secret that is not base64)."""
    inner = hashlib.sha256(nonce.encode() + postdata).digest()
    mac = hmac.new(base64.b64decode(secret), path.encode() + inner, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


class FakeKraken(FakeExchange):
    exchange_id = "kraken"
    FALLBACK_REPLIES: ClassVar[dict[str, tuple[int, str]]] = {
        "key_invalid": (200, '{"error":["EAPI:Invalid key"]}'),
        "key_expired": (200, '{"error":["EAPI:Invalid key"]}'),
        "nonce_reused": (200, '{"error":["EAPI:Invalid nonce"]}'),
        "clock_skew": (200, '{"error":["EAPI:Invalid nonce"]}'),
        "permission_missing": (200, '{"error":["EGeneral:Permission denied"]}'),
        "ip_not_whitelisted": (200, '{"error":["EGeneral:Permission denied"]}'),  # assumed, like the docs say
        "account_restricted": (200, '{"error":["EAuth:Account temporary disabled"]}'),
        "bad_arguments": (200, '{"error":["EGeneral:Invalid arguments"]}'),
        "no_funding_method": (200, '{"error":["EFunding:No funding method"]}'),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.highest_nonce: dict[str, int] = {}  # api key -> highest nonce accepted
        self._recent_nonces: dict[str, set[int]] = {}

    def new_api_key(self) -> str:
        return base64.b64encode(os.urandom(42)).decode()  # 56 characters

    def new_secret(self) -> str:
        return base64.b64encode(os.urandom(64)).decode()  # 88 characters

    def routes(self) -> Iterable[Route]:
        return [
            Route("GET", "/0/public/SystemStatus", self.system_status, private=False),
            Route("GET", "/0/public/Time", self.server_time, private=False),
            Route("POST", "/0/private/GetApiKeyInfo", self.api_key_info),
            Route("POST", "/0/private/BalanceEx", self.balance, permission=Permission.VIEW_ACCOUNT_BALANCE),
            Route(
                "POST", "/0/private/DepositMethods", self.deposit_methods, permission=Permission.VIEW_DEPOSIT_ADDRESS
            ),
            Route(
                "POST",
                "/0/private/DepositAddresses",
                self.deposit_addresses,
                permission=Permission.VIEW_DEPOSIT_ADDRESS,
            ),
            Route(
                "POST", "/0/private/TradesHistory", self.trades_history, permission=Permission.VIEW_SPOT_TRADING_HISTORY
            ),
        ]

    @staticmethod
    def form(request: web.Request, body: bytes) -> dict[str, str]:
        """The request's parameters (form-encoded, or JSON as Kraken also accepts)."""
        if request.content_type == "application/json":
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                return {}
            return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    def nonce_window(self, account: FakeAccount) -> int:
        return int(account.settings.get("nonce_window", DEFAULT_NONCE_WINDOW))

    async def system_status(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """ "online", "maintenance", "cancel_only" or "post_only"
        (https://docs.kraken.com/api-reference/market-data/get-system-status)."""
        stamp = datetime.fromtimestamp(self.now_ms() / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return _ok({"status": "online", "timestamp": stamp})

    async def server_time(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """https://docs.kraken.com/api-reference/market-data/get-server-time"""
        now = datetime.fromtimestamp(self.now_ms() / 1000, UTC)
        return _ok({"unixtime": int(now.timestamp()), "rfc1123": now.strftime("%a, %d %b %y %H:%M:%S +0000")})

    def authenticate(self, request: web.Request, body: bytes) -> FakeAccount:
        """Key, then signature, then the nonce (per key, increasing within the key's nonce window)."""
        account = self.lookup(request.headers.get("API-Key"))
        nonce = self.form(request, body).get("nonce", "")
        try:
            expected = api_sign(account.secret, request.path, nonce, body)
        except (binascii.Error, ValueError):
            raise Rejection("secret_mismatch") from None
        if not nonce.isdigit() or not hmac.compare_digest(expected, request.headers.get("API-Sign", "")):
            raise Rejection("secret_mismatch")
        self._take_nonce(account, int(nonce))
        return account

    def _take_nonce(self, account: FakeAccount, nonce: int) -> None:
        key = account.api_key
        highest = self.highest_nonce.get(key, 0)
        window = self.nonce_window(account)
        recent = self._recent_nonces.setdefault(key, set())
        if nonce <= highest - window or nonce in recent or (window == 0 and nonce <= highest):
            raise Rejection("nonce_reused")
        if nonce > highest:
            self.highest_nonce[key] = highest = nonce
        recent.add(nonce)
        recent.difference_update({n for n in recent if n <= highest - window})

    def check_account(self, account: FakeAccount, route: Route) -> None:
        """Expiry, freeze and IP as usual; permissions by Kraken's own names."""
        super().check_account(account, replace(route, permission=None))
        needed = REQUIRED_PERMISSION.get(route.path)
        needs = [needed] if needed is not None else []
        if route.path == "/0/private/DepositAddresses":
            needs = list(account.settings.get("deposit_addresses_needs", needs))
        have = kraken_permissions(account)
        if any(n not in have for n in needs):
            raise Rejection("permission_missing")

    # -- handlers ------------------------------------------------------------------------------------------------
    async def api_key_info(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        s = account.settings
        fields: dict[str, Any] = {
            "api_key_name": s.get("name", "hufi-readonly"),
            "api_key": account.api_key,
            "nonce": str(self.highest_nonce.get(account.api_key, 0)),
            "nonce_window": self.nonce_window(account),
            "permissions": kraken_permissions(account),
            "iban": s.get("iban", "AA88 N84G WOAK NMOI"),
            "valid_until": "0",
            "query_from": "0",
            "query_to": "0",
            "created_time": "1772542900",
            "modified_time": "1772543095",
            "ip_allowlist": list(account.ip_whitelist),
            "last_used": "1772627061",
        }
        if s.get("key_info_style") == "docs":
            fields = {_camel(k): v for k, v in fields.items()}
        return _ok(fields)

    async def balance(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        return _ok(
            {KRAKEN_ASSETS.get(a, a): {"balance": v, "hold_trade": "0.0000000000"} for a, v in account.balances.items()}
        )

    def _asset_ok(self, params: dict[str, str]) -> bool:
        return params.get("asset") in ("ETH", "XETH")

    async def deposit_methods(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        if not self._asset_ok(self.form(request, body)):
            return self.reply_for("no_funding_method")
        method = {"method": ETH_METHOD, "limit": False, "fee": "0.0000000000", "gen-address": True}
        return _ok([method | {"minimum": "0.00010000"}])

    async def deposit_addresses(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        params = self.form(request, body)
        if not params.get("method"):
            return self.reply_for("bad_arguments")
        if not self._asset_ok(params) or params["method"] != ETH_METHOD:
            return self.reply_for("no_funding_method")
        if not account.deposit_address:
            return _ok([])  # Kraken lists no address until one is generated
        return _ok([{"address": account.deposit_address, "expiretm": "0", "new": False}])

    async def trades_history(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        trades = {str(t.get("id", i)): t for i, t in enumerate(account.trades)}
        return _ok({"trades": trades, "count": len(trades)})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
