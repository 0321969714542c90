"""HuFi's public endpoints: service health and the live list of exchanges.

`HufiClient` talks to the recording oracle (`GET /health/check`, a NestJS terminus report) and the campaign
launcher (`GET /health/ping`, `GET /exchanges`), over aiohttp with short timeouts and `trust_env=False`
(reference/hufi.md §6). `ExchangeDirectory` merges the launcher's exchange list with our catalog: the launcher
decides which exchanges are switched on and what they are called, the catalog is the fallback while the
launcher cannot be reached, and exchanges HuFi lists that we don't know are kept as unknown.

Transport-free: nothing here imports `telegram`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

import aiohttp

from bot import __version__
from bot.exchanges.catalog import CATALOG, ExchangeSpec
from bot.security import redact

DEFAULT_TIMEOUT_S = 3.0
#: replies larger than this are not HuFi's health or exchange list; we stop reading there
MAX_BODY_BYTES = 512 * 1024
#: the launcher sends `Cache-Control: max-age=3600` on GET /exchanges
DIRECTORY_TTL_S = 3600.0
#: after a failed refresh, try again this soon (the catalog serves meanwhile)
DIRECTORY_RETRY_S = 300.0
USER_AGENT = f"hufi-key-support-bot/{__version__}"

SessionFactory = Callable[[], aiohttp.ClientSession]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def short_text(text: object, limit: int = 160) -> str:
    """`text` redacted, on one line, and cut to `limit` characters (with an ellipsis when cut)."""
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class HufiError(Exception):
    """A HuFi endpoint could not be used: `reason` is "unreachable", "timeout", "http" or "bad_reply"."""

    def __init__(self, reason: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    """A terminus health report (`GET /health/check`).

    `up` names the dependencies reported up, `failed` maps each failed dependency to its message (503 replies
    name them). A reply that is not a terminus report keeps `failed` empty and `ok` False.
    """

    ok: bool
    http_status: int
    up: tuple[str, ...] = ()
    failed: Mapping[str, str] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """One short line: "ok", "database down: timeout", or "HTTP 502"."""
        if self.ok:
            return "ok"
        if self.failed:
            return "; ".join(f"{name} down" + (f": {msg}" if msg else "") for name, msg in self.failed.items())
        return f"HTTP {self.http_status}"


@dataclass(frozen=True, slots=True)
class HufiExchange:
    """One entry of the launcher's `GET /exchanges`."""

    name: str
    enabled: bool
    display_name: str
    url: str = ""
    logo: str = ""
    type: str = "cex"


def parse_health(status: int, body: str) -> ServiceHealth:
    """A terminus reply (200 or 503) as `ServiceHealth`; anything else as a failed report with no dependencies."""
    try:
        data = json.loads(body) if body.strip() else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or "status" not in data:
        return ServiceHealth(ok=False, http_status=status)
    up: list[str] = []
    failed: dict[str, str] = {}
    for section in ("info", "details", "error"):
        deps = data.get(section)
        if not isinstance(deps, dict):
            continue
        for name, dep in deps.items():
            dep_status = dep.get("status") if isinstance(dep, dict) else None
            if dep_status == "up":
                if name not in failed and name not in up:
                    up.append(str(name))
            elif dep_status is not None:
                message = dep.get("message") if isinstance(dep, dict) else None
                if name in up:
                    up.remove(name)
                failed.setdefault(str(name), short_text(message or dep_status, 120))
    ok = status == 200 and data.get("status") == "ok" and not failed
    return ServiceHealth(ok=ok, http_status=status, up=tuple(up), failed=MappingProxyType(failed))


def parse_exchanges(data: Any) -> list[HufiExchange]:
    """The launcher's exchange list, validated; raises HufiError("bad_reply") when it isn't one."""
    if not isinstance(data, list) or not data:
        raise HufiError("bad_reply", "GET /exchanges did not return a list of exchanges")
    result: list[HufiExchange] = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            continue
        name = item["name"].strip().lower()
        enabled = item.get("enabled", True)
        result.append(
            HufiExchange(
                name=name,
                enabled=enabled if isinstance(enabled, bool) else str(enabled).lower() == "true",
                display_name=str(item.get("display_name") or "").strip()[:60] or name,
                url=str(item.get("url") or "")[:300],
                logo=str(item.get("logo") or "")[:300],
                type=str(item.get("type") or "cex").strip().lower()[:10],
            )
        )
    if not result:
        raise HufiError("bad_reply", "GET /exchanges listed no exchange with a name")
    return result


class HufiClient:
    """HuFi's public health and exchange-list endpoints.

    One aiohttp session, opened on first use and closed by `close()` (or `async with`). `session_factory`
    replaces how that session is built (it must return a new session, which this client then owns).
    """

    def __init__(
        self,
        recording_oracle_url: str,
        campaign_launcher_url: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        session_factory: SessionFactory | None = None,
    ) -> None:
        self.recording_oracle_url = recording_oracle_url.rstrip("/")
        self.campaign_launcher_url = campaign_launcher_url.rstrip("/")
        self.timeout_s = timeout_s
        self._session_factory = session_factory
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"<HufiClient ro={self.recording_oracle_url} cl={self.campaign_launcher_url}>"

    async def __aenter__(self) -> HufiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session (a later call opens a new one)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if self._session_factory is not None:
                self._session = self._session_factory()
            else:
                timeout = aiohttp.ClientTimeout(
                    total=self.timeout_s, sock_connect=self.timeout_s, sock_read=self.timeout_s
                )
                self._session = aiohttp.ClientSession(
                    timeout=timeout, trust_env=False, headers={"User-Agent": USER_AGENT}
                )
        return self._session

    async def _get(self, url: str) -> tuple[int, str]:
        """GET `url`: the status and the body (cut at MAX_BODY_BYTES); network problems raise HufiError."""
        session = self._open()
        try:
            async with asyncio.timeout(self.timeout_s):
                async with session.get(url, allow_redirects=False) as response:
                    raw = await response.content.read(MAX_BODY_BYTES)
                    return response.status, raw.decode("utf-8", "replace")
        except TimeoutError as exc:
            raise HufiError("timeout", f"no answer within {self.timeout_s:g} s") from exc
        except aiohttp.ClientConnectorError as exc:
            raise HufiError("unreachable", f"connection failed: {short_text(exc.os_error or exc, 100)}") from exc
        except aiohttp.ClientError as exc:
            raise HufiError("unreachable", f"{type(exc).__name__}: {short_text(exc, 100)}") from exc

    async def health_check(self) -> ServiceHealth:
        """`GET {recording oracle}/health/check`: 200 when every dependency is up, 503 naming the failed ones."""
        status, body = await self._get(self.recording_oracle_url + "/health/check")
        return parse_health(status, body)

    async def launcher_ping(self) -> dict[str, str]:
        """`GET {campaign launcher}/health/ping`: `{"node_env", "git_hash"}`; HufiError unless 200."""
        status, body = await self._get(self.campaign_launcher_url + "/health/ping")
        if status != 200:
            raise HufiError("http", f"HTTP {status}", status=status)
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        return {str(k): short_text(v, 60) for k, v in data.items() if isinstance(v, str | int | float | bool)}

    async def exchanges(self) -> list[HufiExchange]:
        """`GET {campaign launcher}/exchanges`: every exchange HuFi lists, with its enabled flag."""
        status, body = await self._get(self.campaign_launcher_url + "/exchanges")
        if status != 200:
            raise HufiError("http", f"HTTP {status}", status=status)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise HufiError("bad_reply", "GET /exchanges did not return JSON") from exc
        return parse_exchanges(data)


# -- the exchange directory ------------------------------------------------------------------------------------

ExchangeStatus = Literal["enabled", "disabled", "unlisted", "unknown"]


class DirectorySource(StrEnum):
    LAUNCHER = "launcher"
    CATALOG = "catalog"


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """An exchange as the directory sees it.

    `listed`: HuFi lists it (in the launcher's list, or `hufi_listed` in the catalog while the launcher is out of
    reach). `known`: it is in our catalog, so the bot can check keys and probe it.
    """

    id: str
    display_name: str
    enabled: bool
    kind: str
    known: bool
    listed: bool
    url: str = ""
    logo: str = ""


class ExchangeDirectory:
    """Which exchanges HuFi offers right now, merged with the catalog.

    The launcher's list is fetched at most every `ttl_s` seconds (after a failure, again after `retry_s`); until
    the first success the catalog serves (`source == "catalog"`), and after a later failure the last good list is
    kept. `status(id)`: "enabled" (HuFi offers it), "disabled" (switched off by HuFi, or dropped from its list),
    "unlisted" (we support it, HuFi doesn't list it) or "unknown" (neither).
    """

    def __init__(
        self,
        hufi: HufiClient | None = None,
        *,
        catalog: Mapping[str, ExchangeSpec] = CATALOG,
        ttl_s: float = DIRECTORY_TTL_S,
        retry_s: float = DIRECTORY_RETRY_S,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.hufi = hufi
        self.catalog = catalog
        self.ttl_s = ttl_s
        self.retry_s = retry_s
        self._clock = clock
        self._now = now
        self._launcher: list[HufiExchange] | None = None
        self._by_id: dict[str, HufiExchange] = {}
        self._last_success: float | None = None
        self._last_attempt: float | None = None
        self._lock = asyncio.Lock()
        self.refreshed_at: datetime | None = None  # wall time of the last successful fetch
        self.last_error: str = ""  # why the last fetch failed ("" after a success)
        self.fetches = 0  # how many times the launcher was asked, for tests and /status

    @property
    def source(self) -> DirectorySource:
        return DirectorySource.LAUNCHER if self._launcher is not None else DirectorySource.CATALOG

    # -- refreshing --------------------------------------------------------------------------------------------
    def is_due(self) -> bool:
        """True when the list should be fetched again."""
        if self.hufi is None:
            return False
        now = self._clock()
        if self._last_attempt is None:
            return True
        if self._last_success is not None and self._last_success == self._last_attempt:
            return now - self._last_success >= self.ttl_s or now < self._last_success
        return now - self._last_attempt >= self.retry_s or now < self._last_attempt

    async def ensure_fresh(self) -> DirectorySource:
        """Fetch the launcher's list if it is due; concurrent callers share one fetch. Never raises."""
        if not self.is_due():
            return self.source
        async with self._lock:
            if self.is_due():
                await self.refresh()
        return self.source

    async def refresh(self) -> bool:
        """Fetch the launcher's list now; True on success. On failure the previous list (or the catalog) stays."""
        if self.hufi is None:
            return False
        self._last_attempt = self._clock()
        self.fetches += 1
        try:
            listed = await self.hufi.exchanges()
        except HufiError as exc:
            self.last_error = short_text(f"{exc.reason}: {exc}", 160)
            return False
        except Exception as exc:  # noqa: BLE001 - a directory refresh must never break /status
            self.last_error = short_text(f"{type(exc).__name__}: {exc}", 160)
            return False
        self.set_launcher_list(listed)
        self._last_success = self._last_attempt
        return True

    def set_launcher_list(self, listed: Sequence[HufiExchange]) -> None:
        """Use `listed` as HuFi's current list (what `refresh` does after a successful fetch)."""
        self._launcher = list(listed)
        self._by_id = {e.name: e for e in self._launcher}
        self.refreshed_at = self._now()
        self.last_error = ""

    # -- lookups -----------------------------------------------------------------------------------------------
    def _from_catalog(self, spec: ExchangeSpec, *, listed: bool, enabled: bool) -> DirectoryEntry:
        return DirectoryEntry(
            id=spec.id,
            display_name=spec.display_name,
            enabled=enabled,
            kind=str(spec.kind),
            known=True,
            listed=listed,
            url=spec.website,
        )

    def _from_launcher(self, item: HufiExchange) -> DirectoryEntry:
        spec = self.catalog.get(item.name)
        return DirectoryEntry(
            id=item.name,
            display_name=item.display_name or (spec.display_name if spec else item.name),
            enabled=item.enabled,
            kind=item.type or (str(spec.kind) if spec else "cex"),
            known=spec is not None,
            listed=True,
            url=item.url or (spec.website if spec else ""),
            logo=item.logo,
        )

    def listed(self) -> list[DirectoryEntry]:
        """Every exchange HuFi lists (enabled or not), in HuFi's order, or the catalog's when it is the source."""
        if self._launcher is not None:
            return [self._from_launcher(item) for item in self._launcher]
        return [self._from_catalog(s, listed=True, enabled=True) for s in self.catalog.values() if s.hufi_listed]

    def entry(self, exchange_id: str) -> DirectoryEntry | None:
        """What the directory knows about `exchange_id`, or None when neither HuFi nor the catalog has it."""
        key = (exchange_id or "").strip().lower()
        spec = self.catalog.get(key)
        if self._launcher is not None:
            item = self._by_id.get(key)
            if item is not None:
                return self._from_launcher(item)
            if spec is None:
                return None
            return self._from_catalog(spec, listed=False, enabled=False)
        if spec is None:
            return None
        return self._from_catalog(spec, listed=spec.hufi_listed, enabled=spec.hufi_listed)

    def status(self, exchange_id: str) -> ExchangeStatus:
        """The exchange's status: "enabled", "disabled" (switched off or dropped by HuFi), "unlisted", "unknown"."""
        entry = self.entry(exchange_id)
        if entry is None:
            return "unknown"
        if entry.listed:
            return "enabled" if entry.enabled else "disabled"
        spec = self.catalog.get(entry.id)
        # the catalog says HuFi lists it, but the launcher no longer does: HuFi dropped it
        if spec is not None and spec.hufi_listed and self._launcher is not None:
            return "disabled"
        return "unlisted"

    def is_enabled(self, exchange_id: str) -> bool:
        """True when HuFi offers `exchange_id` right now."""
        return self.status(exchange_id) == "enabled"

    def is_switched_off(self, exchange_id: str) -> bool:
        """True when HuFi lists (or listed) `exchange_id` but has switched it off."""
        return self.status(exchange_id) == "disabled"

    def display_name(self, exchange_id: str) -> str:
        """HuFi's name for the exchange, else the catalog's, else the id itself."""
        entry = self.entry(exchange_id)
        return entry.display_name if entry is not None else (exchange_id or "").strip()
