"""Fake KuCoin spot API: KC-API-KEY-VERSION 2 signing (HMAC-SHA256, base64), the passphrase HMAC'd with the secret.

HuFi judges a KuCoin key by `GET /api/v1/user/api-key` alone ('General' in `permission` grants all three
permissions); we also read the ETH deposit address through `GET /api/v3/deposit-addresses` (an entry with
`to == "MAIN"` is needed). The classic endpoints ccxt's unified methods call (`/api/ua/v1/account/mode` first,
then `/api/v1/accounts`, `/api/v1/deposit-addresses`, `/api/v1/fills`) are served too.

Account knobs (`FakeAccount.settings`): `permission` (KuCoin's own permission string or list, instead of the one
derived from `FakeAccount.permissions`), `remark`, `api_version`, `is_master`, `deposit_to` (the address entry's
`to`, default "MAIN"), `deposit_disabled` (answer code 114001).

More lenient than the real exchange: its own checks never produce account-level codes (400500/126037/130315 region,
400700/126002 risk, 400303/126047/200009 KYC, 126048 sub-account verification, 130201/130302 restrictions) and
400401/400444. Tests answer with those through `force_error(code)` (`envelopes.py`), in the real envelope and
status.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, ClassVar

from aiohttp import web

from bot.diagnosis.model import Permission
from bot.sandbox.exchanges.base import ALL_PERMISSIONS, FakeAccount, FakeExchange, Rejection, Route, _random

TIMESTAMP_WINDOW_MS = 5000
GENERAL = "General"
#: KuCoin permission each private path needs (None: any valid key may call it)
REQUIRED_PERMISSION: dict[str, str | None] = {
    "/api/v1/user/api-key": None,
    "/api/ua/v1/account/mode": None,
    "/api/v1/accounts": GENERAL,
    "/api/v1/deposit-addresses": GENERAL,
    "/api/v3/deposit-addresses": GENERAL,
    "/api/v1/fills": GENERAL,
}


def _ok(data: Any) -> web.Response:
    return web.json_response({"code": "200000", "data": data})


def _sign(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def kucoin_permissions(account: FakeAccount) -> list[str]:
    """The key's KuCoin permission names: settings["permission"] when given, else derived from the account."""
    given = account.settings.get("permission")
    if given is not None:
        items = given.split(",") if isinstance(given, str) else list(given)
        return [p.strip() for p in items if p.strip()]
    if account.permissions >= ALL_PERMISSIONS:
        return [GENERAL]
    return ["Spot"] if Permission.VIEW_SPOT_TRADING_HISTORY in account.permissions else []


class FakeKucoin(FakeExchange):
    exchange_id = "kucoin"
    FALLBACK_REPLIES: ClassVar[dict[str, tuple[int, str]]] = {
        "key_invalid": (401, '{"code":"400003","msg":"KC-API-KEY not exists"}'),
        "key_expired": (401, '{"code":"400003","msg":"KC-API-KEY not exists"}'),
        "secret_mismatch": (401, '{"code":"400005","msg":"Invalid KC-API-SIGN"}'),
        "passphrase_wrong": (401, '{"code":"400004","msg":"Invalid KC-API-PASSPHRASE"}'),
        "account_restricted": (403, '{"code":"411100","msg":"User is frozen"}'),
        "deposit_disabled": (200, '{"code":"114001","msg":"Deposit is disabled for this currency"}'),
    }

    def new_api_key(self) -> str:
        return secrets.token_hex(12)  # 24 hex characters, like a Mongo ObjectId

    def new_secret(self) -> str:
        return str(uuid.uuid4())

    def add_account(self, **fields: Any) -> FakeAccount:
        fields.setdefault("passphrase", "Hf" + _random(string.ascii_letters + string.digits, 12))
        return super().add_account(**fields)

    def routes(self) -> Iterable[Route]:
        return [
            Route("GET", "/api/v1/status", self.service_status, private=False),
            Route("GET", "/api/v1/timestamp", self.server_time, private=False),
            Route("GET", "/api/v1/user/api-key", self.api_key_info),
            Route("GET", "/api/ua/v1/account/mode", self.account_mode),
            Route("GET", "/api/v1/accounts", self.spot_accounts, permission=Permission.VIEW_ACCOUNT_BALANCE),
            Route("GET", "/api/v1/deposit-addresses", self.deposit_v1, permission=Permission.VIEW_DEPOSIT_ADDRESS),
            Route("GET", "/api/v3/deposit-addresses", self.deposit_v3, permission=Permission.VIEW_DEPOSIT_ADDRESS),
            Route("GET", "/api/v1/fills", self.fills, permission=Permission.VIEW_SPOT_TRADING_HISTORY),
        ]

    async def service_status(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """ "open", "close" or "cancelonly"
        (https://www.kucoin.com/docs-new/rest/spot-trading/market-data/get-service-status)."""
        return _ok({"status": "open", "msg": ""})

    async def server_time(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """https://www.kucoin.com/docs-new/rest/spot-trading/market-data/get-server-time"""
        return web.json_response({"code": "200000", "msg": "success", "data": self.now_ms()})

    def authenticate(self, request: web.Request, body: bytes) -> FakeAccount:
        """Key, then signature, then passphrase, then the ±5 s timestamp window."""
        headers = request.headers
        account = self.lookup(headers.get("KC-API-KEY"))
        timestamp = headers.get("KC-API-TIMESTAMP", "")
        payload = timestamp + request.method + request.raw_path + body.decode("utf-8", "replace")
        if not hmac.compare_digest(_sign(account.secret, payload), headers.get("KC-API-SIGN", "")):
            raise Rejection("secret_mismatch")
        sent = headers.get("KC-API-PASSPHRASE", "")
        version = headers.get("KC-API-KEY-VERSION", "1")
        expected = _sign(account.secret, account.passphrase or "") if version in ("2", "3") else account.passphrase
        if not hmac.compare_digest(expected or "", sent):
            raise Rejection("passphrase_wrong")
        self.check_window(int(timestamp) if timestamp.isdigit() else None, TIMESTAMP_WINDOW_MS)
        return account

    def check_account(self, account: FakeAccount, route: Route) -> None:
        """Expiry, freeze and IP as usual; permissions by KuCoin's own names."""
        super().check_account(account, replace(route, permission=None))
        needed = REQUIRED_PERMISSION.get(route.path)
        if needed is not None and needed not in kucoin_permissions(account):
            raise Rejection("permission_missing")

    def render_body(self, body: str, **context: Any) -> str:
        return body.replace("203.0.113.7", context.get("ip", self.client_ip))

    # -- handlers ------------------------------------------------------------------------------------------------
    async def api_key_info(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        s = account.settings
        return _ok(
            {
                "uid": s.get("uid", 165111215),
                "subName": s.get("sub_name"),
                "remark": s.get("remark", "hufi-readonly"),
                "apiKey": account.api_key,
                "apiVersion": s.get("api_version", 3),
                "permission": ",".join(kucoin_permissions(account)),
                "ipWhitelist": ",".join(account.ip_whitelist),
                "isMaster": s.get("is_master", True),
                "createdAt": s.get("created_at", 1_729_500_000_000),
            }
        )

    async def account_mode(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return _ok({"selfAccountMode": "CLASSIC"})

    async def spot_accounts(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        kind = request.query.get("type", "trade")
        return _ok(
            [
                {"id": f"{i:024x}", "currency": c, "type": kind, "balance": v, "available": v, "holds": "0"}
                for i, (c, v) in enumerate(account.balances.items(), start=1)
            ]
        )

    def _address_entry(self, account: FakeAccount) -> dict[str, Any]:
        return {
            "address": account.deposit_address,
            "memo": "",
            "chainId": "eth",
            "chainName": "ERC20",
            "to": account.settings.get("deposit_to", "MAIN"),
            "expirationDate": 0,
            "currency": "ETH",
            "contractAddress": "",
        }

    def _no_address(self, request: web.Request, account: FakeAccount) -> bool:
        chain = request.query.get("chain", "eth").lower()
        return request.query.get("currency") != "ETH" or chain != "eth" or not account.deposit_address

    async def deposit_v1(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        if account.settings.get("deposit_disabled"):
            return self.reply_for("deposit_disabled")
        if self._no_address(request, account):
            return self.reply_for("no_deposit_address")  # the observed 260220 reply
        entry = self._address_entry(account)
        return _ok({k: entry[k] for k in ("address", "memo", "chainId", "chainName", "to", "currency")})

    async def deposit_v3(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        if account.settings.get("deposit_disabled"):
            return self.reply_for("deposit_disabled")
        if self._no_address(request, account):
            return _ok([])  # v3 lists the addresses: none yet
        return _ok([self._address_entry(account)])

    async def fills(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        items = account.trades
        return _ok({"currentPage": 1, "pageSize": 50, "totalNum": len(items), "totalPage": 1, "items": items})
