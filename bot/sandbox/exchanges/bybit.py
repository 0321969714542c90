"""Fake Bybit v5: HMAC-SHA256 over timestamp + key + recvWindow + query, X-BAPI-* headers, recvWindow 5000.

Bybit answers with HTTP 200 and a `retCode`: 10003 unknown key, 10004 bad signature (echoing the signed
`origin_string`), 10002 timestamp outside the window, 33004 expired key, 10008 banned user, 10010 IP outside the
allow-list, 10005 missing permission. ccxt's `fetch_balance` first calls `/v5/user/query-api` and
`/v5/account/info` in parallel (a failure there is not swallowed), then the wallet balance.

Bybit has no per-endpoint read permission for a read-only key; the fake names each probe's permission after the
group it reads from (see `PERMISSION_NAMES`), and `/v5/user/query-api` lists them.

More lenient than the real exchange: its own checks never produce account-level codes (10008 bans, 10009 region,
10024 compliance, 10027, 131004/131065 KYC, 131217/131226 risk checks, 141004 sub-account state), the expiry codes
-2015/33004 and the demo-only codes 110100/110302. Tests answer with those through `force_error(code)`
(`envelopes.py`), in the real envelope and status.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from aiohttp import web

from bot.diagnosis.model import Permission
from bot.sandbox import markets
from bot.sandbox.exchanges.base import FakeAccount, FakeExchange, Rejection, Route, _random, json_response

_ALNUM = string.ascii_letters + string.digits
#: the fake's convention: each probe's permission as a (group, name) entry of query-api's `permissions`
PERMISSION_NAMES: dict[Permission, tuple[str, str]] = {
    Permission.VIEW_ACCOUNT_BALANCE: ("Wallet", "AccountTransfer"),
    Permission.VIEW_DEPOSIT_ADDRESS: ("Wallet", "SubMemberTransfer"),
    Permission.VIEW_SPOT_TRADING_HISTORY: ("Spot", "SpotTrade"),
}
PERMISSION_GROUPS = (
    "ContractTrade",
    "Spot",
    "Wallet",
    "Options",
    "Derivatives",
    "CopyTrading",
    "BlockTrade",
    "Exchange",
    "NFT",
    "Affiliate",
    "Earn",
)
DEFAULT_DEADLINE_DAYS = 89  # a key without an IP allow-list expires after 90 days


def _error(code: int, message: str) -> str:
    return f'{{"retCode":{code},"retMsg":"{message}","result":{{}},"retExtInfo":{{}},"time":1700000000000}}'


class FakeBybit(FakeExchange):
    exchange_id = "bybit"
    FALLBACK_REPLIES: ClassVar[dict[str, tuple[int, str]]] = {
        "key_invalid": (401, _error(10003, "API key is invalid.")),
        "key_expired": (200, _error(33004, "Your api key has expired.")),
        "ip_not_whitelisted": (200, _error(10010, "Unmatched IP, please check your API key's bound IP addresses.")),
        "account_restricted": (200, _error(10008, "User had been banned.")),
        "rate_limited": (200, _error(10006, "Too many visits. Exceeded the API Rate Limit.")),
    }

    def new_api_key(self) -> str:
        return _random(_ALNUM, 18)

    def new_secret(self) -> str:
        return _random(_ALNUM, 36)

    def routes(self) -> Iterable[Route]:
        return [
            Route("GET", "/v5/market/instruments-info", self.instruments, private=False),
            Route("GET", "/v5/market/time", self.server_time, private=False),
            Route("GET", "/v5/system/status", self.system_status, private=False),
            Route("GET", "/v5/asset/coin/query-info", self.coin_info, permission=None),
            Route("GET", "/v5/user/query-api", self.query_api, permission=None),
            Route("GET", "/v5/account/info", self.account_info, permission=None),
            Route("GET", "/v5/account/wallet-balance", self.wallet_balance, permission=Permission.VIEW_ACCOUNT_BALANCE),
            Route(
                "GET",
                "/v5/asset/deposit/query-address",
                self.deposit_address,
                permission=Permission.VIEW_DEPOSIT_ADDRESS,
            ),
            Route("GET", "/v5/execution/list", self.executions, permission=Permission.VIEW_SPOT_TRADING_HISTORY),
        ]

    def authenticate(self, request: web.Request, body: bytes) -> FakeAccount:
        account = self.lookup(request.headers.get("X-BAPI-API-KEY"))
        timestamp = request.headers.get("X-BAPI-TIMESTAMP", "")
        recv_window = request.headers.get("X-BAPI-RECV-WINDOW", "5000")
        signed = body.decode() if request.method == "POST" else request.rel_url.raw_query_string
        origin = f"{timestamp}{account.api_key}{recv_window}{signed}"
        expected = hmac.new(account.secret.encode(), origin.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-BAPI-SIGN", "")):
            raise Rejection("secret_mismatch", origin=origin)
        try:
            timestamp_ms, window = int(timestamp), int(recv_window)
        except ValueError:
            raise Rejection("clock_skew") from None
        now = self.now_ms()
        if not (now - window <= timestamp_ms < now + 1000):
            raise Rejection("clock_skew", req_ts=timestamp_ms, server_ts=now, recv=window)
        return account

    def render_body(self, body: str, **context: Any) -> str:
        """Echo what Bybit echoes: the signed string, the timestamps of a rejected request, the server time."""
        if "origin" in context:
            body = re.sub(r"origin_string\[[^\]]*\]", lambda _: f"origin_string[{context['origin']}]", body)
        if "req_ts" in context:
            body = re.sub(r"req_timestamp\[\d+\]", f"req_timestamp[{context['req_ts']}]", body)
            body = re.sub(r"server_timestamp\[\d+\]", f"server_timestamp[{context['server_ts']}]", body)
            body = re.sub(r"recv_window\[\d+\]", f"recv_window[{context['recv']}]", body)
        return re.sub(r'"time":\d+', f'"time":{self.now_ms()}', body)

    def ok(self, result: Any, message: str = "OK") -> web.Response:
        return json_response(
            {"retCode": 0, "retMsg": message, "result": result, "retExtInfo": {}, "time": self.now_ms()}
        )

    # -- public ----------------------------------------------------------------------------------------------------
    async def instruments(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        category = request.query.get("category", "spot")
        if category != "spot":
            return self.ok({"category": category, "list": [], "nextPageCursor": ""})
        rows = markets.cached_json(self, "spot", self._spot)
        text = f'{{"retCode":0,"retMsg":"OK","result":{{"category":"spot","list":{rows}}},"retExtInfo":{{}},'
        return web.Response(text=text + f'"time":{self.now_ms()}}}', content_type="application/json")

    def _spot(self) -> list[dict[str, Any]]:
        return [
            {
                "symbol": f"{base}{quote}",
                "baseCoin": base,
                "quoteCoin": quote,
                "innovation": "0",
                "status": "Trading",
                "marginTrading": "utaOnly",
                "stTag": "0",
                "lotSizeFilter": {
                    "basePrecision": "0.00001",
                    "quotePrecision": "0.0000001",
                    "minOrderQty": "0.00001",
                    "maxOrderQty": "1000",
                    "minOrderAmt": "1",
                    "maxOrderAmt": "4000000",
                },
                "priceFilter": {"tickSize": "0.01"},
                "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
            }
            for base, quote in markets.spot_pairs(self.exchange_id, self.markets)
        ]

    async def system_status(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """Planned and running maintenance windows; none listed (https://bybit-exchange.github.io/docs/v5/system-status)."""
        return self.ok({"list": []})

    async def server_time(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        now = self.now_ms()
        return self.ok({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)})

    # -- private ---------------------------------------------------------------------------------------------------
    async def coin_info(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        def chain(chain_type: str, chain_id: str) -> dict[str, Any]:
            return {
                "chainType": chain_type,
                "confirmation": "12",
                "withdrawFee": "0.0003",
                "depositMin": "0",
                "withdrawMin": "0.001",
                "chain": chain_id,
                "chainDeposit": "1",
                "chainWithdraw": "1",
                "minAccuracy": "8",
                "withdrawPercentageFee": "0",
            }

        rows = [
            {
                "name": "ETH",
                "coin": "ETH",
                "remainAmount": "1000",
                "chains": [chain("ETH", "ETH"), chain("Arbitrum One", "ARBI")],
            },
            {"name": "BTC", "coin": "BTC", "remainAmount": "100", "chains": [chain("BTC", "BTC")]},
            {"name": "USDT", "coin": "USDT", "remainAmount": "1000000", "chains": [chain("ERC20", "ETH")]},
        ]
        return self.ok({"rows": rows}, "success")

    async def query_api(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """The key-info endpoint (any valid key may call it): read-only flag, permissions, IPs, expiry."""
        assert account is not None
        return self.ok(key_info(account, self.now_ms()))

    async def account_info(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        return self.ok(
            {
                "marginMode": "REGULAR_MARGIN",
                "updatedTime": str(self.now_ms()),
                "unifiedMarginStatus": 5 if account.settings.get("uta", True) else 1,
                "dcpStatus": "OFF",
                "timeWindow": 10,
                "smpGroup": 0,
                "isMasterTrader": False,
                "spotHedgingStatus": "OFF",
            }
        )

    async def wallet_balance(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        account_type = request.query.get("accountType", "")
        allowed = ("UNIFIED",) if account.settings.get("uta", True) else ("SPOT", "CONTRACT")
        if account_type not in allowed:
            return web.Response(
                text=_error(10001, f"accountType only support {'/'.join(allowed)}."), content_type="application/json"
            )
        coins = [
            {
                "coin": code,
                "equity": amount,
                "walletBalance": amount,
                "availableToWithdraw": amount,
                "locked": "0",
                "borrowAmount": "0",
                "accruedInterest": "0",
                "totalOrderIM": "0",
                "totalPositionIM": "0",
                "totalPositionMM": "0",
                "unrealisedPnl": "0",
                "cumRealisedPnl": "0",
                "usdValue": "0",
                "bonus": "0",
                "collateralSwitch": True,
                "marginCollateral": True,
            }
            for code, amount in account.balances.items()
        ]
        return self.ok({"list": [{"accountType": account_type, "totalEquity": "0", "coin": coins}]})

    async def deposit_address(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """Chains with an address; no address yet means an empty `chains` list (ccxt raises NotSupported)."""
        assert account is not None
        coin = request.query.get("coin", "")
        chains = []
        if coin == "ETH" and account.deposit_address:
            chains = [
                {
                    "chainType": "ERC20",
                    "addressDeposit": account.deposit_address,
                    "tagDeposit": "",
                    "chain": "ETH",
                    "batchReleaseLimit": "-1",
                    "contractAddress": "",
                }
            ]
        wanted = request.query.get("chainType")
        if wanted:
            chains = [c for c in chains if c["chain"] == wanted]
        return self.ok({"coin": coin, "chains": chains}, "success")

    async def executions(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        category = request.query.get("category", "spot")
        return self.ok({"nextPageCursor": "", "category": category, "list": account.trades})


def key_info(account: FakeAccount, now_ms: int | None = None) -> dict[str, Any]:
    """What `/v5/user/query-api` says about `account` (settings: read_only, uta, user_id, note, extra_permissions)."""
    now = datetime.fromtimestamp((now_ms if now_ms is not None else time.time() * 1000) / 1000, UTC)
    permissions: dict[str, list[str]] = {group: [] for group in PERMISSION_GROUPS}
    for perm in Permission:
        if perm in account.permissions:
            group, name = PERMISSION_NAMES[perm]
            permissions[group].append(name)
    for group, names in account.settings.get("extra_permissions", {}).items():
        permissions.setdefault(group, []).extend(names)
    created = now - timedelta(days=1)
    if account.ip_whitelist:
        deadline_day, expired_at = 0, ""
    else:
        deadline_day = int(account.settings.get("deadline_day", DEFAULT_DEADLINE_DAYS))
        expired_at = (now + timedelta(days=deadline_day)).strftime("%Y-%m-%dT%H:%M:%SZ")
    user = int(account.settings.get("user_id", 24_600_000 + sum(map(ord, account.api_key)) % 100_000))
    return {
        "id": str(user % 10_000_000 + 13_000_000),
        "note": account.settings.get("note", "hufi"),
        "apiKey": account.api_key,
        "readOnly": 1 if account.settings.get("read_only", True) else 0,
        "secret": "",
        "permissions": permissions,
        "ips": list(account.ip_whitelist) or ["*"],
        "type": 1,
        "deadlineDay": deadline_day,
        "expiredAt": expired_at,
        "createdAt": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "unified": 0,
        "uta": 1 if account.settings.get("uta", True) else 0,
        "userID": user,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
        "parentUid": "0",
        "kycLevel": "LEVEL_DEFAULT",
        "kycRegion": "",
    }
