"""Fake OKX API v5: base64 HMAC-SHA256 of timestamp + method + path?query + body, passphrase sent in clear.

What it models (reference/exchanges.md §3.2):

* the three HuFi probes: `GET /api/v5/account/balance`, `GET /api/v5/asset/deposit-address`,
  `GET /api/v5/trade/fills-history`;
* the key-info endpoint `GET /api/v5/account/config` (any valid key may call it): `data[0]` carries `perm`
  (`"read_only"`, `"read_only,trade"`, ...), `ip` (comma list, `""` when unrestricted), `label`, `uid`, `acctLv`;
* headers `OK-ACCESS-KEY`, `OK-ACCESS-PASSPHRASE` (plain text), `OK-ACCESS-TIMESTAMP` (ISO-8601 with ms, 30 s
  window), `OK-ACCESS-SIGN`, and `x-simulated-trading: 1` for demo-trading keys;
* OKX's distinct codes, in the order it judges a request: empty headers (50103/50104/50106/50107), timestamp
  format (50112), unknown key (50111), deleted key (50119), demo/live mismatch (50101), timestamp window (50102),
  passphrase (50105), signature (50113), expired/frozen key (50100), IP allow-list (50110), permission (50120).
  ccxt raises plain `ExchangeError` for 50100/50119/50120.

Account knobs: `permissions`, `ip_whitelist`, `expired` and `frozen` (both 50100, the fixture's reply),
`deposit_address=None` (OKX answers an empty list, ccxt returns None), `trades` (OKX-shaped, see `make_trade`),
and in `settings`: `demo` (a demo-trading key), `deleted` (50119), `perm` (overrides the derived permission
string), `label`, `uid`, `acctLv`.

More lenient than the real exchange: its own checks never produce account-level codes (50007/50009/50012 account
states, 51732 KYC, 51733 risk control, 51734/51773/51155 region or compliance, 51735/59500 sub-account rights) and
50030/50040/50061. Tests answer with those through `force_error(code)` (`envelopes.py`), in the real envelope and
status.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
from collections.abc import Iterable
from datetime import UTC, datetime
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
_BASES = ("ETH", "BTC")
_GATEWAY_503 = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center>"
    "<h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)


def _error(code: str, msg: str) -> str:
    return json.dumps({"msg": msg, "code": code}, separators=(",", ":"))


#: (cause, detail) -> (http status, code, message); `{ip}` is the client's address
_REPLIES: dict[tuple[str, str | None], tuple[int, str, str]] = {
    ("key_invalid", None): (401, "50111", "Invalid OK-ACCESS-KEY."),
    ("key_invalid", "deleted"): (401, "50119", "API key doesn't exist."),
    ("key_invalid", "empty"): (401, "50103", 'Request header "OK-ACCESS-KEY" cannot be empty.'),
    ("secret_mismatch", None): (401, "50113", "Invalid signature."),
    ("secret_mismatch", "empty"): (401, "50106", 'Request header "OK-ACCESS-SIGN" cannot be empty.'),
    ("passphrase_wrong", None): (401, "50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.'),
    ("passphrase_wrong", "empty"): (401, "50104", 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.'),
    ("clock_skew", "empty"): (401, "50107", 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.'),
    ("clock_skew", "format"): (401, "50112", "Invalid OK-ACCESS-TIMESTAMP."),
    ("demo_key", None): (401, "50101", "APIKey does not match current environment."),
    ("ip_not_whitelisted", None): (401, "50110", "Your IP {ip} is not included in your API key's IP whitelist."),
    ("account_restricted", None): (400, "50100", "API frozen, please contact customer service."),
}


class FakeOkx(FakeExchange):
    exchange_id = "okx"
    FALLBACK_REPLIES: ClassVar[dict[str, tuple[int, str]]] = {
        "exchange_unreachable": (503, _GATEWAY_503),
    }

    # -- keys ------------------------------------------------------------------------------------------------
    def new_api_key(self) -> str:
        """OKX keys look like UUIDs."""
        hexdigits = string.digits + "abcdef"
        return "-".join(_random(hexdigits, n) for n in (8, 4, 4, 4, 12))

    def new_secret(self) -> str:
        return _random(string.digits + "ABCDEF", 32)

    def new_passphrase(self) -> str:
        return _random(string.ascii_letters + string.digits, 12) + "#1"

    def add_account(self, **fields: Any) -> FakeAccount:
        fields.setdefault("passphrase", self.new_passphrase())
        return super().add_account(**fields)

    def routes(self) -> Iterable[Route]:
        return [
            Route("GET", "/api/v5/public/instruments", self.instruments, private=False),
            Route("GET", "/api/v5/public/time", self.server_time, private=False),
            Route("GET", "/api/v5/system/status", self.system_status, private=False),
            Route("GET", "/api/v5/account/balance", self.balance, permission=Permission.VIEW_ACCOUNT_BALANCE),
            Route(
                "GET", "/api/v5/asset/deposit-address", self.deposit_address, permission=Permission.VIEW_DEPOSIT_ADDRESS
            ),
            Route(
                "GET",
                "/api/v5/trade/fills-history",
                self.fills_history,
                permission=Permission.VIEW_SPOT_TRADING_HISTORY,
            ),
            Route("GET", "/api/v5/account/config", self.account_config),
            Route("GET", "/api/v5/asset/currencies", self.currencies),
        ]

    # -- authentication --------------------------------------------------------------------------------------
    def authenticate(self, request: web.Request, body: bytes) -> FakeAccount:
        headers = request.headers
        api_key = headers.get("OK-ACCESS-KEY", "")
        signature = headers.get("OK-ACCESS-SIGN", "")
        stamp = headers.get("OK-ACCESS-TIMESTAMP", "")
        passphrase = headers.get("OK-ACCESS-PASSPHRASE", "")
        if not api_key:
            raise Rejection("key_invalid", detail="empty")
        if not signature:
            raise Rejection("secret_mismatch", detail="empty")
        if not stamp:
            raise Rejection("clock_skew", detail="empty")
        if not passphrase:
            raise Rejection("passphrase_wrong", detail="empty")
        timestamp_ms = parse_timestamp(stamp)
        if timestamp_ms is None:
            raise Rejection("clock_skew", detail="format")
        account = self.lookup(api_key)
        if account.settings.get("deleted"):
            raise Rejection("key_invalid", detail="deleted")
        if bool(account.settings.get("demo")) != (headers.get("x-simulated-trading") == "1"):
            raise Rejection("demo_key")
        self.check_window(timestamp_ms, TIMESTAMP_WINDOW_MS)
        if not hmac.compare_digest(passphrase, account.passphrase or ""):
            raise Rejection("passphrase_wrong")
        prehash = stamp + request.method + request.raw_path + body.decode("utf-8", "replace")
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
        if route.permission is not None and route.permission not in account.permissions:
            raise Rejection("permission_missing")

    # -- replies ---------------------------------------------------------------------------------------------
    def reply_parts(self, cause: str, route: Route | None = None, **context: Any) -> tuple[int, str, dict[str, str]]:
        known = _REPLIES.get((cause, context.get("detail")))
        if known is not None:
            status, code, msg = known
            return status, _error(code, msg.replace("{ip}", context.get("ip", self.client_ip))), {}
        if cause in self.FALLBACK_REPLIES:  # ours beat the fixture's (its "unreachable" case is a 200 timeout)
            status, body = self.FALLBACK_REPLIES[cause]
            return status, body, {}
        return super().reply_parts(cause, route, **context)

    # -- data helpers ----------------------------------------------------------------------------------------
    def make_trade(
        self, *, time_ms: int, inst_id: str = "ETH-USDT", price: str = "2500", size: str = "0.1", side: str = "buy"
    ) -> dict[str, Any]:
        """A fill as /api/v5/trade/fills-history returns it."""
        n = str(time_ms * 10 + len(self.requests) % 10)
        base, quote = inst_id.split("-")
        return {
            "instType": "SPOT",
            "instId": inst_id,
            "tradeId": n,
            "ordId": n + "1",
            "clOrdId": "",
            "billId": n + "2",
            "subType": "1",
            "tag": "",
            "fillPx": price,
            "fillSz": size,
            "fillIdxPx": "",
            "fillPnl": "0",
            "fillPxVol": "",
            "fillPxUsd": "",
            "fillMarkVol": "",
            "fillFwdPx": "",
            "fillMarkPx": "",
            "side": side,
            "posSide": "net",
            "execType": "T",
            "feeCcy": base if side == "buy" else quote,
            "fee": "-0.0001",
            "ts": str(time_ms),
            "fillTime": str(time_ms),
            "feeRate": "-0.001",
        }

    def perm(self, account: FakeAccount) -> str:
        """OKX's permission string: reading is one switch that covers all three HuFi probes."""
        if "perm" in account.settings:
            return str(account.settings["perm"])
        return "read_only" if ALL_PERMISSIONS <= account.permissions else ""

    @staticmethod
    def uid(account: FakeAccount) -> str:
        return str(int(hashlib.sha256(account.api_key.encode()).hexdigest()[:12], 16))

    # -- handlers --------------------------------------------------------------------------------------------
    def ok(self, data: Any) -> web.Response:
        return json_response({"code": "0", "data": data, "msg": ""})

    async def instruments(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        inst_type = request.query.get("instType", "")
        if not inst_type:
            return web.Response(status=400, text=_error("50014", "Parameter instType can not be empty."))
        if inst_type != "SPOT":
            return self.ok([])
        rows = markets.cached_json(self, "SPOT", self._spot)
        return web.Response(text=f'{{"code":"0","msg":"","data":{rows}}}', content_type="application/json")

    def _spot(self) -> list[dict[str, Any]]:
        return [
            {
                "alias": "",
                "auctionEndTime": "",
                "baseCcy": base,
                "category": "1",
                "ctMult": "",
                "ctType": "",
                "ctVal": "",
                "ctValCcy": "",
                "expTime": "",
                "instFamily": "",
                "instId": f"{base}-{quote}",
                "instType": "SPOT",
                "lever": "10",
                "listTime": "1606468572000",
                "lotSz": "0.000001",
                "maxIcebergSz": "999999999999",
                "maxLmtAmt": "20000000",
                "maxLmtSz": "999999999999",
                "maxMktAmt": "1000000",
                "maxMktSz": "1000000",
                "maxStopSz": "1000000",
                "maxTriggerSz": "999999999999",
                "maxTwapSz": "999999999999",
                "minSz": "0.001",
                "optType": "",
                "quoteCcy": quote,
                "ruleType": "normal",
                "settleCcy": "",
                "state": "live",
                "stk": "",
                "tickSz": "0.01",
                "uly": "",
            }
            for base, quote in markets.spot_pairs(self.exchange_id, self.markets)
        ]

    async def server_time(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return self.ok([{"ts": str(self.now_ms())}])

    async def system_status(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        return self.ok([])

    async def currencies(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        """The signed currency list: the only place ccxt learns OKX's chain ids (`ETH-ERC20` -> `ERC20`)."""
        return self.ok([_chain(ccy, chain) for ccy, chains in _CHAINS.items() for chain in chains])

    async def balance(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        now = str(self.now_ms())
        details = [
            {
                "ccy": ccy,
                "eq": amount,
                "cashBal": amount,
                "availBal": amount,
                "availEq": amount,
                "frozenBal": "0",
                "ordFrozen": "0",
                "disEq": "0",
                "eqUsd": "0",
                "uTime": now,
            }
            for ccy, amount in account.balances.items()
        ]
        return self.ok(
            [
                {
                    "adjEq": "",
                    "details": details,
                    "imr": "",
                    "isoEq": "0",
                    "mgnRatio": "",
                    "mmr": "",
                    "notionalUsd": "",
                    "ordFroz": "",
                    "totalEq": "0",
                    "uTime": now,
                }
            ]
        )

    async def deposit_address(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        ccy = request.query.get("ccy", "")
        if not ccy:
            return web.Response(status=400, text=_error("50014", "Parameter ccy can not be empty."))
        if ccy != "ETH" or not account.deposit_address:
            return self.ok([])  # the fixture's shape for "no address yet"
        return self.ok(
            [
                {
                    "chain": "ETH-ERC20",
                    "ctAddr": "",
                    "ccy": "ETH",
                    "to": "6",
                    "addr": account.deposit_address,
                    "verifiedName": "",
                    "selected": True,
                }
            ]
        )

    async def fills_history(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        query = request.query
        inst_type = query.get("instType", "")
        if not inst_type:
            return web.Response(status=400, text=_error("50014", "Parameter instType can not be empty."))
        inst_id = query.get("instId")
        begin = _int_or_none(query.get("begin"))
        end = _int_or_none(query.get("end"))
        limit = min(_int_or_none(query.get("limit")) or 100, 100)
        fills = [
            f
            for f in account.trades
            if f.get("instType", "SPOT") == inst_type
            and (inst_id is None or f.get("instId") == inst_id)
            and (begin is None or int(f.get("ts", begin)) >= begin)
            and (end is None or int(f.get("ts", end)) <= end)
        ]
        fills.sort(key=lambda f: int(f.get("ts", 0)), reverse=True)  # newest first, as OKX answers
        return self.ok(fills[:limit])

    async def account_config(self, request: web.Request, account: FakeAccount | None, body: bytes) -> web.Response:
        assert account is not None
        uid = str(account.settings.get("uid", self.uid(account)))
        return self.ok(
            [
                {
                    "acctLv": str(account.settings.get("acctLv", "1")),
                    "acctStpMode": "cancel_maker",
                    "autoLoan": False,
                    "ctIsoMode": "automatic",
                    "enableSpotBorrow": False,
                    "greeksType": "PA",
                    "ip": ",".join(account.ip_whitelist),
                    "kycLv": "2",
                    "label": str(account.settings.get("label", "hufi")),
                    "level": "Lv1",
                    "levelTmp": "",
                    "liquidationGear": "-1",
                    "mainUid": uid,
                    "mgnIsoMode": "automatic",
                    "opAuth": "0",
                    "perm": self.perm(account),
                    "posMode": "net_mode",
                    "roleType": "0",
                    "spotBorrowAutoRepay": False,
                    "spotOffsetType": "",
                    "spotRoleType": "0",
                    "spotTraderInsts": [],
                    "traderInsts": [],
                    "type": "0",
                    "uid": uid,
                }
            ]
        )


_CHAINS = {
    "ETH": ("ETH-ERC20", "ETH-Arbitrum One", "ETH-Optimism"),
    "USDT": ("USDT-ERC20", "USDT-TRC20"),
    "BTC": ("BTC-Bitcoin",),
}


def _chain(ccy: str, chain: str) -> dict[str, Any]:
    return {
        "canDep": True,
        "canInternal": True,
        "canWd": True,
        "ccy": ccy,
        "chain": chain,
        "depQuotaFixed": "",
        "depQuoteDailyLayer2": "",
        "logoLink": "",
        "mainNet": chain in ("ETH-ERC20", "BTC-Bitcoin"),
        "maxFee": "0.002",
        "maxFeeForCtAddr": "",
        "maxWd": "1000000",
        "minDep": "0.001",
        "minDepArrivalConfirm": "64",
        "minFee": "0.001",
        "minFeeForCtAddr": "",
        "minWd": "0.01",
        "minWdUnlockConfirm": "96",
        "name": ccy,
        "needTag": False,
        "usedDepQuotaFixed": "",
        "usedWdQuota": "0",
        "wdQuota": "10000000",
        "wdTickSz": "8",
    }


def parse_timestamp(stamp: str) -> int | None:
    """OKX's `OK-ACCESS-TIMESTAMP` (`2026-11-24T05:00:00.123Z`) in ms, or None when it is not in that format."""
    try:
        moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
