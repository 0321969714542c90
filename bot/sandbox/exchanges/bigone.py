"""Fake BigONE API v3 (viewer endpoints): `Authorization: Bearer <JWT HS256>` signed with the secret as-is.

Claims: type "OpenAPIV2", sub = the API key, nonce = a timestamp in nanoseconds, optional recv_window in seconds
(default 30). Every authentication failure (unknown key, bad signature, stale nonce, expired key) is the same
`40004 invalid jwt`, as ccxt's table and BigONE's docs have it. HuFi's three probes are served: accounts,
`assets/{asset_symbol}/address` (a list of per-chain entries; HuFi needs the "Ethereum" one) and trades.

Account knobs (`FakeAccount.settings`): `deposit_chain` (the chain name of the ETH address entry, default
"Ethereum").

More lenient than the real exchange: its own checks never produce 40601 (resource locked), and 401/403 replies
without a JSON body (a firewall page), which HuFi still counts as a missing permission. Tests answer with those
through `force_error(code)` (`envelopes.py`), in the real envelope and status.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import string
import uuid
from collections.abc import Iterable
from typing import Any, ClassVar

from aiohttp import web

from bot.diagnosis.model import Permission
from bot.sandbox.exchanges.base import FakeAccount, FakeExchange, Rejection, Route, _random

PREFIX = "/api/v3/viewer"
ADDRESS_PATH = PREFIX + "/assets/{asset_symbol}/address"
_ADDRESS_RE = re.compile(r"^/api/v3/viewer/assets/([^/]+)/address$")
DEFAULT_RECV_WINDOW_S = 30
INVALID_JWT = (401, '{"code":40004,"message":"invalid jwt"}')
DENIED = (403, '{"code":10403,"message":"permission denied"}')


def _ok(data: Any, **extra: Any) -> web.Response:
    return web.json_response({"code": 0, "data": data, **extra})


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeBigone(FakeExchange):
    exchange_id = "bigone"
    FALLBACK_REPLIES: ClassVar[dict[str, tuple[int, str]]] = {
        "key_invalid": INVALID_JWT,
        "key_expired": INVALID_JWT,
        "secret_mismatch": INVALID_JWT,
        "clock_skew": INVALID_JWT,
        "permission_missing": DENIED,
        "ip_not_whitelisted": DENIED,  # uncertain: BigONE documents no IP error of its own
        "account_restricted": DENIED,
        "rate_limited": (429, '{"code":10429,"message":"too many requests"}'),
    }

    def new_api_key(self) -> str:
        return str(uuid.uuid4())

    def new_secret(self) -> str:
        return _random(string.ascii_letters + string.digits, 64)

    def routes(self) -> Iterable[Route]:
        return [
            Route("GET", "/api/v3/ping", self.ping, private=False),
            Route("GET", PREFIX + "/accounts", self.viewer_accounts, permission=Permission.VIEW_ACCOUNT_BALANCE),
            Route("GET", PREFIX + "/fund/accounts", self.viewer_accounts, permission=Permission.VIEW_ACCOUNT_BALANCE),
            Route("GET", ADDRESS_PATH, self.deposit_address, permission=Permission.VIEW_DEPOSIT_ADDRESS),
            Route("GET", PREFIX + "/trades", self.trades, permission=Permission.VIEW_SPOT_TRADING_HISTORY),
        ]

    async def ping(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """Server time in nanoseconds (https://open.big.one/docs/spot_ping.html). The page spells the field
        `timestamp`; ccxt reads `Timestamp` since ccxt PR #9059 ("bigone timestamp"), which follows the live API."""
        return web.json_response({"data": {"Timestamp": self.now_ms() * 1_000_000}})

    def match_route(self, method: str, path: str) -> Route | None:
        if method == "GET" and _ADDRESS_RE.match(path):
            return super().match_route(method, ADDRESS_PATH)
        return super().match_route(method, path)

    def authenticate(self, request: web.Request, body: bytes) -> FakeAccount:
        """Token shape and key, then the HS256 signature, then the nonce within recv_window."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        parts = token.split(".")
        if scheme != "Bearer" or len(parts) != 3:
            raise Rejection("key_invalid")
        try:
            header = json.loads(_b64url_decode(parts[0]))
            claims = json.loads(_b64url_decode(parts[1]))
        except ValueError:
            raise Rejection("key_invalid") from None
        if not isinstance(claims, dict) or claims.get("type") != "OpenAPIV2" or header.get("alg") != "HS256":
            raise Rejection("key_invalid")
        account = self.lookup(str(claims.get("sub", "")))
        signing_input = f"{parts[0]}.{parts[1]}".encode()
        expected = _b64url(hmac.new(account.secret.encode(), signing_input, hashlib.sha256).digest())
        if not hmac.compare_digest(expected, parts[2]):
            raise Rejection("secret_mismatch")
        nonce, window = str(claims.get("nonce", "")), str(claims.get("recv_window", DEFAULT_RECV_WINDOW_S))
        if not nonce.isdigit() or not window.isdigit():
            raise Rejection("clock_skew")
        self.check_window(int(nonce) // 1_000_000, int(window) * 1000)
        return account

    # -- handlers ------------------------------------------------------------------------------------------------
    async def viewer_accounts(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        return _ok([{"asset_symbol": a, "balance": v, "locked_balance": "0"} for a, v in account.balances.items()])

    async def deposit_address(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        match = _ADDRESS_RE.match(request.path)
        if not match or match.group(1) != "ETH" or not account.deposit_address:
            return _ok([])  # no address generated yet
        chain = account.settings.get("deposit_chain", "Ethereum")
        return _ok([{"id": 5521878, "chain": chain, "value": account.deposit_address, "memo": ""}])

    async def trades(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        pair = request.query.get("asset_pair_name")
        trades = [t for t in account.trades if pair is None or t.get("asset_pair_name") == pair]
        return _ok(trades, page_token="")
