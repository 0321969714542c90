"""Key-info endpoints: what an exchange says about a key's own settings, read alongside HuFi's probes.

They do not decide permissions (HuFi's probes do); they narrow down an ambiguous rejection. A readable key-info
reply proves the key and secret are right; its permission list and IP allow-list say which of the remaining
causes applies. Each entry: one call on a ccxt client and a parser into the common shape
`{"permissions": [...], "read_only": bool, "ip_restricted": bool, "ips": [...], "expired": bool}` (any subset).
Field names come from the exchanges' API docs (reference/exchanges.md §3).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EvidenceProbe:
    fetch: Callable[[Any], Awaitable[Any]]
    parse: Callable[[Any], dict[str, Any]]


def _first(data: Any) -> dict[str, Any]:
    if isinstance(data, list):
        data = data[0] if data else {}
    return data if isinstance(data, dict) else {}


def _split(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str):
        return [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]
    return []


def _binance(reply: Any) -> dict[str, Any]:
    r = _first(reply)
    enabled = sorted(k for k, v in r.items() if k.startswith(("enable", "permits")) and v is True)
    writes = (
        "enableWithdrawals",
        "enableSpotAndMarginTrading",
        "enableMargin",
        "enableFutures",
        "enableInternalTransfer",
    )
    return {
        "permissions": enabled,
        "read_only": not any(r.get(k) for k in writes),
        "ip_restricted": bool(r.get("ipRestrict")),
        "can_read": bool(r.get("enableReading")),
    }


def _okx(reply: Any) -> dict[str, Any]:
    r = _first(reply.get("data") if isinstance(reply, dict) else None)
    perms = _split(r.get("perm"))
    ips = _split(r.get("ip"))
    return {"permissions": perms, "read_only": perms == ["read_only"], "ip_restricted": bool(ips), "ips": ips}


def _bybit(reply: Any) -> dict[str, Any]:
    r = reply.get("result", {}) if isinstance(reply, dict) else {}
    perms = [f"{group}:{p}" for group, items in (r.get("permissions") or {}).items() for p in (items or [])]
    ips = [ip for ip in _split(r.get("ips")) if ip != "*"]
    return {
        "permissions": perms,
        "read_only": str(r.get("readOnly")) == "1",
        "ip_restricted": bool(ips),
        "ips": ips,
        "expired": str(r.get("deadlineDay", "")).lstrip("-").isdigit() and int(r.get("deadlineDay")) < 0,
    }


def _bitget(reply: Any) -> dict[str, Any]:
    r = _first(reply.get("data") if isinstance(reply, dict) else None)
    perms = _split(r.get("authorities"))
    ips = _split(r.get("ips"))
    return {"permissions": perms, "read_only": perms in (["readonly"], ["read_only"]), "ip_restricted": bool(ips)}


def _gate(reply: Any) -> dict[str, Any]:
    r = _first(reply)
    ips = _split(r.get("ip_whitelist"))
    return {"ip_restricted": bool(ips), "ips": ips}


async def _htx_fetch(client: Any) -> Any:
    reply = await client.v2private_get_user_uid()
    uid = reply.get("data") if isinstance(reply, dict) else None
    return await client.v2private_get_user_api_key({"uid": uid, "accessKey": client.apiKey})


def _htx(reply: Any) -> dict[str, Any]:
    r = _first(reply.get("data") if isinstance(reply, dict) else None)
    perms = _split(r.get("permission"))
    ips = _split(r.get("ipAddresses"))
    return {
        "permissions": perms,
        "read_only": perms == ["readOnly"],
        "ip_restricted": bool(ips),
        "ips": ips,
        "expired": str(r.get("status", "")).lower() in ("expired", "invalid"),
    }


async def _call(client: Any, method: str) -> Any:
    return await getattr(client, method)()


EVIDENCE: Mapping[str, EvidenceProbe] = {
    "binance": EvidenceProbe(lambda c: _call(c, "sapi_get_account_apirestrictions"), _binance),
    "okx": EvidenceProbe(lambda c: _call(c, "private_get_account_config"), _okx),
    "bybit": EvidenceProbe(lambda c: _call(c, "private_get_v5_user_query_api"), _bybit),
    "bitget": EvidenceProbe(lambda c: _call(c, "private_spot_get_v2_spot_account_info"), _bitget),
    "gate": EvidenceProbe(lambda c: _call(c, "private_account_get_detail"), _gate),
    "htx": EvidenceProbe(_htx_fetch, _htx),
}
