"""The checks behind /status and `python -m bot status`.

A check is an async callable returning an `Outcome` (or None for "ok"); raising means "down". `HealthService`
runs every check in parallel, each under its own timeout, and caches the resulting `HealthSnapshot` for `ttl_s`
seconds: however many callers ask at once, one round of checks runs and they all share its result.

Standard checks: HuFi's recording oracle (`GET /health/check`) and campaign launcher (`GET /health/ping`), each
exchange's public API through ccxt (`fetch_status`, else `fetch_time`, else `load_markets`), and the bot itself
(a database write and a Telegram `getMe`, both supplied by the caller as callbacks, so this module never imports
`telegram`). `format_summary` renders a snapshot as traffic lights; `down_verdict` turns "the exchange or HuFi is
down right now" into one sentence for a user whose key check just failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import ccxt

from bot.exchanges.catalog import CATALOG, ExchangeSpec, cex_ids
from bot.hufi_api import DirectorySource, ExchangeDirectory, HufiClient, HufiError, short_text
from bot.i18n import DEFAULT_LANGUAGE, Texts

if TYPE_CHECKING:
    from bot.exchanges.factory import ClientFactory

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_TTL_S = 60.0
#: a check that succeeds but takes longer than this is shown as degraded (standard network checks)
DEFAULT_SLOW_MS = 2500.0
DETAIL_LIMIT = 160

RECORDING_ORACLE = "hufi:recording_oracle"
CAMPAIGN_LAUNCHER = "hufi:campaign_launcher"
TELEGRAM = "bot:telegram"
DATABASE = "bot:database"
#: dependencies of the recording oracle without which it cannot check keys (others only degrade it)
CRITICAL_DEPENDENCIES = frozenset({"database"})


class State(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"
    DISABLED = "disabled"  # switched off by HuFi: not probed, not a fault


class Group(StrEnum):
    HUFI = "hufi"
    EXCHANGE = "exchange"
    BOT = "bot"


LIGHTS: Mapping[State, str] = {State.OK: "🟢", State.DEGRADED: "🟡", State.DOWN: "🔴", State.DISABLED: "⚪"}
_SEVERITY = {State.DISABLED: 0, State.OK: 1, State.DEGRADED: 2, State.DOWN: 3}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def exchange_check_name(exchange_id: str) -> str:
    """The check name for an exchange's public API: "exchange:<id>"."""
    return f"exchange:{exchange_id}"


def worst(states: Iterable[State]) -> State | None:
    """The most severe state (down > degraded > ok > disabled), or None for no states."""
    return max(states, key=_SEVERITY.__getitem__, default=None)


# -- results ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a check found. `reason` is a short code the verdicts use: "timeout", "unreachable", "maintenance",
    "dependency", "http", "rate_limited", "slow", "switched_off", "error" (empty when ok)."""

    state: State = State.OK
    detail: str = ""
    reason: str = ""


CheckFn = Callable[[], Awaitable[Outcome | None]]


@dataclass(frozen=True, slots=True)
class Probe:
    """A check with what /status needs to place it: its group, a label, the exchange it probes."""

    group: Group
    label: str
    run: CheckFn
    exchange_id: str | None = None
    #: a success slower than this (ms) counts as degraded; None: never
    slow_ms: float | None = None

    async def __call__(self) -> Outcome | None:
        return await self.run()


@dataclass(frozen=True, slots=True)
class Check:
    """One check's result in a snapshot. `detail` is redacted and short; `last_error` is the most recent failure
    of this check (this round's or an earlier one), for staff."""

    name: str
    group: Group
    state: State
    latency_ms: float | None
    detail: str
    checked_at: datetime
    label: str = ""
    reason: str = ""
    exchange_id: str | None = None
    last_error: str = ""
    last_error_at: datetime | None = None

    @property
    def light(self) -> str:
        return LIGHTS[self.state]


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """The result of one round of checks, in the order the checks were given."""

    checks: tuple[Check, ...]
    taken_at: datetime
    overall: State
    duration_ms: float = 0.0

    def get(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def group(self, group: Group | str) -> list[Check]:
        return [c for c in self.checks if c.group == group]

    def exchange(self, exchange_id: str) -> Check | None:
        return next((c for c in self.checks if c.exchange_id == exchange_id), None)

    @property
    def hufi_state(self) -> State | None:
        return worst(c.state for c in self.group(Group.HUFI))

    @property
    def healthy(self) -> bool:
        return self.overall is State.OK


def overall_state(checks: Iterable[Check]) -> State:
    """Down when HuFi or the bot is down; degraded when anything else is not ok; otherwise ok."""
    checks = list(checks)
    if any(c.state is State.DOWN and c.group is not Group.EXCHANGE for c in checks):
        return State.DOWN
    if any(c.state in (State.DOWN, State.DEGRADED) for c in checks):
        return State.DEGRADED
    return State.OK


def _as_probe(name: str, fn: CheckFn | Probe) -> Probe:
    """A plain callable becomes a Probe; its group and exchange come from the name ("exchange:mexc")."""
    if isinstance(fn, Probe):
        return fn
    prefix, _, rest = name.partition(":")
    group = Group(prefix) if rest and prefix in Group._value2member_map_ else Group.BOT
    exchange_id = rest if group is Group.EXCHANGE else None
    label = CATALOG[rest].display_name if exchange_id in CATALOG else (rest or name)
    return Probe(group, label, fn, exchange_id=exchange_id)


# -- the service -----------------------------------------------------------------------------------------------


class HealthService:
    """Runs the checks in parallel and caches the snapshot for `ttl_s` seconds.

    Concurrent `snapshot()` calls share one in-flight round (each check runs once). With a `directory`, each
    round also refreshes HuFi's exchange list when due, and exchanges HuFi has switched off are reported
    "disabled" without being probed.
    """

    def __init__(
        self,
        checks: Mapping[str, CheckFn | Probe],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utc_now,
        directory: ExchangeDirectory | None = None,
        on_close: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.probes: dict[str, Probe] = {name: _as_probe(name, fn) for name, fn in checks.items()}
        self.timeout_s = timeout_s
        self.ttl_s = ttl_s
        self.directory = directory
        self._clock = clock
        self._now = now
        self._on_close = on_close
        self._last: HealthSnapshot | None = None
        self._last_clock = 0.0
        self._inflight: asyncio.Task[HealthSnapshot] | None = None
        self._errors: dict[str, tuple[str, datetime]] = {}
        self.rounds = 0  # how many rounds ran, for tests and /status

    @property
    def last(self) -> HealthSnapshot | None:
        """The latest snapshot, however old (None before the first round)."""
        return self._last

    def is_fresh(self) -> bool:
        """True while the latest snapshot is younger than the TTL."""
        if self._last is None:
            return False
        age = self._clock() - self._last_clock
        return 0 <= age < self.ttl_s

    async def snapshot(self, *, force: bool = False) -> HealthSnapshot:
        """The cached snapshot while fresh, else the result of a round (joining one already running).

        `force` skips the cache but still joins a round in flight. Cancelling a caller never cancels the round
        other callers wait for.
        """
        if not force and self.is_fresh():
            assert self._last is not None
            return self._last
        task = self._inflight
        if task is None:
            task = self._inflight = asyncio.create_task(self._round(), name="health-round")
        return await asyncio.shield(task)

    async def exchange_state(self, exchange_id: str) -> State | None:
        """The exchange's state now: "disabled" when HuFi switched it off, else its check's state (None: no check)."""
        if self.directory is not None and self.directory.is_switched_off(exchange_id):
            return State.DISABLED
        check = (await self.snapshot()).exchange(exchange_id)
        return check.state if check is not None else None

    async def hufi_state(self) -> State | None:
        """The worst state of HuFi's services now (None when no HuFi check is configured)."""
        return (await self.snapshot()).hufi_state

    async def close(self) -> None:
        """Cancel a round in flight and release what the service owns."""
        task, self._inflight = self._inflight, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._on_close is not None:
            await self._on_close()

    async def _round(self) -> HealthSnapshot:
        try:
            started = time.perf_counter()
            directory = self.directory
            skipped = {
                name
                for name, probe in self.probes.items()
                if directory is not None and probe.exchange_id and directory.is_switched_off(probe.exchange_id)
            }
            jobs = [self._run_one(name, probe, skip=name in skipped) for name, probe in self.probes.items()]
            if directory is not None:
                jobs.append(self._refresh_directory(directory))
            results = await asyncio.gather(*jobs)
            checks = [r for r in results if isinstance(r, Check)]
            if directory is not None:  # HuFi may have switched an exchange off in this very refresh
                checks = [
                    self._disabled(c.name, self.probes[c.name], c.checked_at)
                    if c.exchange_id and c.state is not State.DISABLED and directory.is_switched_off(c.exchange_id)
                    else c
                    for c in checks
                ]
            snap = HealthSnapshot(
                checks=tuple(checks),
                taken_at=self._now(),
                overall=overall_state(checks),
                duration_ms=(time.perf_counter() - started) * 1000,
            )
            self._last, self._last_clock = snap, self._clock()
            self.rounds += 1
            return snap
        finally:
            self._inflight = None

    async def _refresh_directory(self, directory: ExchangeDirectory) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.timeout_s):
                await directory.ensure_fresh()

    def _disabled(self, name: str, probe: Probe, at: datetime) -> Check:
        return Check(
            name,
            probe.group,
            State.DISABLED,
            None,
            "switched off by HuFi",
            at,
            label=probe.label,
            reason="switched_off",
            exchange_id=probe.exchange_id,
        )

    async def _run_one(self, name: str, probe: Probe, *, skip: bool = False) -> Check:
        if skip:
            return self._disabled(name, probe, self._now())
        started = time.perf_counter()
        outcome: Outcome
        try:
            async with asyncio.timeout(self.timeout_s) as deadline:
                result = await probe()
            outcome = result if isinstance(result, Outcome) else Outcome()
        except TimeoutError as exc:
            if deadline.expired():
                outcome = Outcome(State.DOWN, f"no answer within {self.timeout_s:g} s", "timeout")
            else:
                outcome = Outcome(State.DOWN, f"timed out: {exc}" if str(exc) else "timed out", "timeout")
        except Exception as exc:  # noqa: BLE001 - any failure of a check is its result
            outcome = Outcome(State.DOWN, f"{type(exc).__name__}: {exc}", "error")
        latency = (time.perf_counter() - started) * 1000
        if outcome.state is State.OK and probe.slow_ms is not None and latency > probe.slow_ms:
            outcome = Outcome(State.DEGRADED, f"slow: answered in {_ms(latency)}", "slow")
        at = self._now()
        detail = short_text(outcome.detail, DETAIL_LIMIT) if outcome.detail else ""
        if outcome.state in (State.DOWN, State.DEGRADED):
            self._errors[name] = (detail or str(outcome.state), at)
        last_error, last_error_at = self._errors.get(name, ("", None))
        return Check(
            name,
            probe.group,
            outcome.state,
            round(latency, 1),
            detail,
            at,
            label=probe.label,
            reason=outcome.reason,
            exchange_id=probe.exchange_id,
            last_error=last_error,
            last_error_at=last_error_at,
        )


# -- standard checks -------------------------------------------------------------------------------------------


def recording_oracle_check(hufi: HufiClient, *, slow_ms: float | None = DEFAULT_SLOW_MS) -> Probe:
    """HuFi's recording oracle (it checks the keys): `GET /health/check`; a failed database makes it down."""

    async def run() -> Outcome:
        try:
            report = await hufi.health_check()
        except HufiError as exc:
            return Outcome(State.DOWN, str(exc), exc.reason)
        if report.ok:
            return Outcome(State.OK, ", ".join(f"{d} up" for d in report.up))
        if report.failed:
            critical = any(d in CRITICAL_DEPENDENCIES for d in report.failed)
            return Outcome(State.DOWN if critical else State.DEGRADED, report.summary, "dependency")
        return Outcome(State.DOWN, report.summary, "http")

    return Probe(Group.HUFI, "HuFi recording oracle (key checks)", run, slow_ms=slow_ms)


def launcher_check(hufi: HufiClient, *, slow_ms: float | None = DEFAULT_SLOW_MS) -> Probe:
    """HuFi's campaign launcher (the app's backend): `GET /health/ping`."""

    async def run() -> Outcome:
        try:
            info = await hufi.launcher_ping()
        except HufiError as exc:
            return Outcome(State.DOWN, str(exc), exc.reason)
        parts = [info.get("node_env", ""), f"git {info['git_hash'][:7]}" if info.get("git_hash") else ""]
        return Outcome(State.OK, ", ".join(p for p in parts if p))

    return Probe(Group.HUFI, "HuFi campaign launcher", run, slow_ms=slow_ms)


def classify_exchange_error(exc: BaseException) -> Outcome:
    """A public-API failure as an Outcome: network trouble and maintenance (ccxt's OnMaintenance, or any ccxt
    error whose text says maintenance) are "down"; rate limits and other error replies "degraded" (it answered)."""
    text = f"{type(exc).__name__}: {exc}"
    maintenance = "maint" in str(exc).lower()
    if isinstance(exc, ccxt.OnMaintenance) or (isinstance(exc, ccxt.BaseError) and maintenance):
        return Outcome(State.DOWN, text, "maintenance")
    if isinstance(exc, ccxt.RequestTimeout):
        return Outcome(State.DOWN, text, "timeout")
    if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return Outcome(State.DEGRADED, text, "rate_limited")
    if isinstance(exc, ccxt.NetworkError):
        return Outcome(State.DOWN, text, "unreachable")
    if isinstance(exc, ccxt.BaseError):
        return Outcome(State.DEGRADED, text, "error")
    return Outcome(State.DOWN, text, "error")


def _status_outcome(result: Any) -> Outcome:
    """ccxt's status structure (`{"status": "ok" | "maintenance" | "shutdown" | "error", "eta", ...}`)."""
    status = str((result or {}).get("status") or "ok").lower() if isinstance(result, dict) else "ok"
    eta = result.get("eta") if isinstance(result, dict) else None
    if status == "ok":
        return Outcome(State.OK, "status ok")
    if status == "maintenance":
        return Outcome(State.DOWN, "exchange reports maintenance" + (f" until {eta}" if eta else ""), "maintenance")
    if status in ("shutdown", "error"):
        return Outcome(State.DOWN, f"exchange reports {status}", "unreachable")
    return Outcome(State.DEGRADED, f"exchange reports {status}", "error")


async def probe_public_api(client: Any) -> Outcome:
    """Ask an exchange client's public API whether it works: `fetch_status` where the client has it, else (or
    when that endpoint answers with an error) `fetch_time`, else `load_markets` (our BitMart client).

    Network errors propagate at once (the API is not answering; no point trying another endpoint)."""
    has = getattr(client, "has", None) or {}
    methods = [
        name
        for feature, name in (("fetchStatus", "fetch_status"), ("fetchTime", "fetch_time"))
        if has.get(feature) and callable(getattr(client, name, None))
    ]
    if not methods:
        await client.load_markets()
        return Outcome(State.OK, "markets loaded")
    error: Exception | None = None
    for name in methods:
        try:
            result = await getattr(client, name)()
        except ccxt.NetworkError:
            raise
        except ccxt.BaseError as exc:  # the API answered, with an error: try the next endpoint
            error = exc
            continue
        if name == "fetch_status":
            return _status_outcome(result)
        offset = f", clock offset {int(result) - int(time.time() * 1000):+d} ms" if isinstance(result, int) else ""
        return Outcome(State.OK, "server time" + offset)
    assert error is not None
    raise error


def exchange_check(factory: ClientFactory, spec: ExchangeSpec, *, slow_ms: float | None = DEFAULT_SLOW_MS) -> Probe:
    """An exchange's public API through a fresh client from `factory` (no key, no markets)."""

    async def run() -> Outcome:
        try:
            async with factory.client(spec, None, markets=False) as client:
                return await probe_public_api(client)
        except Exception as exc:  # noqa: BLE001 - every failure is classified
            return classify_exchange_error(exc)

    return Probe(Group.EXCHANGE, spec.display_name, run, exchange_id=spec.id, slow_ms=slow_ms)


def callable_check(
    group: Group, label: str, fn: Callable[[], Awaitable[object]], *, slow_ms: float | None = None
) -> Probe:
    """A check from a callback: returning means ok (a returned string becomes the detail), raising means down."""

    async def run() -> Outcome:
        result = await fn()
        return Outcome(State.OK, result if isinstance(result, str) else "")

    return Probe(group, label, run, slow_ms=slow_ms)


def database_check(write_and_read: Callable[[], Awaitable[object]], *, slow_ms: float | None = 1000.0) -> Probe:
    """The bot's database: `write_and_read` writes a row and reads it back (supplied by the caller)."""
    return callable_check(Group.BOT, "Database", write_and_read, slow_ms=slow_ms)


def telegram_check(get_me: Callable[[], Awaitable[object]], *, slow_ms: float | None = DEFAULT_SLOW_MS) -> Probe:
    """Telegram's Bot API: `get_me` calls getMe (supplied by the caller, so this module never imports telegram)."""
    return callable_check(Group.BOT, "Telegram Bot API", get_me, slow_ms=slow_ms)


def standard_checks(
    *,
    hufi: HufiClient | None = None,
    factory: ClientFactory | None = None,
    exchange_ids: Iterable[str] | None = None,
    database: Callable[[], Awaitable[object]] | None = None,
    telegram: Callable[[], Awaitable[object]] | None = None,
) -> dict[str, Probe]:
    """The checks /status runs, keyed by name: HuFi's two services, every catalog CEX (or `exchange_ids`),
    then Telegram and the database; each only when its dependency is given."""
    checks: dict[str, Probe] = {}
    if hufi is not None:
        checks[RECORDING_ORACLE] = recording_oracle_check(hufi)
        checks[CAMPAIGN_LAUNCHER] = launcher_check(hufi)
    if factory is not None:
        for exchange_id in exchange_ids if exchange_ids is not None else cex_ids():
            spec = CATALOG[exchange_id]
            checks[exchange_check_name(spec.id)] = exchange_check(factory, spec)
    if telegram is not None:
        checks[TELEGRAM] = telegram_check(telegram)
    if database is not None:
        checks[DATABASE] = database_check(database)
    return checks


def build_health_service(
    recording_oracle_url: str,
    campaign_launcher_url: str,
    factory: ClientFactory | None,
    *,
    database: Callable[[], Awaitable[object]] | None = None,
    telegram: Callable[[], Awaitable[object]] | None = None,
    exchange_ids: Iterable[str] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    ttl_s: float = DEFAULT_TTL_S,
    hufi_timeout_s: float = 3.0,
) -> HealthService:
    """The standard service: a HufiClient, an ExchangeDirectory over it and `standard_checks`.

    `service.directory` is the directory to pass to `format_summary`/`down_verdict`; `service.close()` closes
    the HuFi client.
    """
    hufi = HufiClient(recording_oracle_url, campaign_launcher_url, timeout_s=min(hufi_timeout_s, timeout_s))
    directory = ExchangeDirectory(hufi)
    checks = standard_checks(
        hufi=hufi, factory=factory, exchange_ids=exchange_ids, database=database, telegram=telegram
    )
    return HealthService(checks, timeout_s=timeout_s, ttl_s=ttl_s, directory=directory, on_close=hufi.close)


# -- rendering -------------------------------------------------------------------------------------------------

#: What /status says, as data: the English source of the catalog entries `status.<key>` (bot.i18n). Plain text
#: (the edge escapes it). The labels of HuFi's and the bot's own checks are here too (`label_<check name>`);
#: an exchange's check is labelled with its name.
STATUS_EN: dict[str, str] = {
    "overall_ok": "Everything is working.",
    "overall_degraded": "Mostly working; some services have problems.",
    "overall_down": "Something important is down right now.",
    "overall_disabled": "Nothing is checked.",
    "switched_off": "switched off by HuFi",
    "down_maintenance": "under maintenance",
    "down_timeout": "not answering (timed out)",
    "down_unreachable": "not answering",
    "down_dependency": "having problems",
    "down_other": "not working",
    "degraded_rate_limited": "busy",
    "degraded_slow": "slow",
    "degraded_other": "answering with errors",
    "line": "{light} {name}: {state}",
    "last_error": "last error {time}: {error}",
    "not_checked": "not checked by this bot",
    "not_listed": "Not on HuFi's list (keys can still be checked here):",
    "group_hufi": "HuFi",
    "group_exchanges": "Exchange APIs",
    "group_bot": "This bot",
    "bot": "Bot",
    "last_check": "Last check: {time} UTC",
    "round_took": "Round took {duration}",
    "exchange_list": "Exchange list: {source}",
    "list_launcher": "HuFi's campaign launcher (fetched {time})",
    "list_builtin": "built-in catalog",
    "list_failed": "{source}; last fetch failed: {error}",
    "verdict_switched_off": (
        "HuFi has switched {name} off for now, so keys for it can't be added at the moment; "
        "this is not your key. Watch HuFi's announcements for its return."
    ),
    "verdict_maintenance": "{name} is under maintenance right now; this is not your key. Try again once it is back.",
    "verdict_api_down": "{name}'s API is not answering right now; this is not your key. Try again later.",
    "verdict_hufi_down": "HuFi's servers are having trouble right now; this is not your key. Try again later.",
    f"label_{RECORDING_ORACLE}": "HuFi recording oracle (key checks)",
    f"label_{CAMPAIGN_LAUNCHER}": "HuFi campaign launcher",
    f"label_{DATABASE}": "Database",
    f"label_{TELEGRAM}": "Telegram Bot API",
    # the bot's own numbers for staff (handlers.status, bot.status_page)
    "fact_vault": "active vault entries",
    "fact_tickets": "open tickets",
    "fact_outbox": "outbox backlog",
    "fact_running": "checks running",
    "fact_running_value": "{running} (queue {queue})",
    "fact_moved": "support chat moved",
    "fact_moved_value": "now {chat}: set SUPPORT_CHAT_ID={chat}",
    "fact_support_chat": "support chat",
    "fact_ok": "ok",
    "fact_version": "version",
    "fact_uptime": "uptime",
    "fact_database_size": "database size",
}
STATUS = Texts("status", STATUS_EN, description="/status (plain text)")


def status_text(language: str, key: str, /, **values: object) -> str:
    """A /status text in `language`."""
    return STATUS(language, key, **values)


def _ms(latency_ms: float | None) -> str:
    if latency_ms is None:
        return "—"
    return f"{latency_ms / 1000:.1f} s" if latency_ms >= 1000 else f"{latency_ms:.0f} ms"


def _plain(check: Check, language: str = DEFAULT_LANGUAGE) -> str:
    """What a non-ok state means, in a few words a user understands."""
    if check.state is State.DISABLED:
        return status_text(language, "switched_off")
    if check.state is State.DOWN:
        reason = check.reason if check.reason in ("maintenance", "timeout", "unreachable", "dependency") else "other"
        return status_text(language, f"down_{reason}")
    if check.state is State.DEGRADED:
        reason = check.reason if check.reason in ("rate_limited", "slow") else "other"
        return status_text(language, f"degraded_{reason}")
    return ""


def _label(check: Check, language: str) -> str:
    """A check's name: HuFi's and the bot's own checks in `language`, an exchange by its name."""
    key = f"label_{check.name}"
    return status_text(language, key) if key in STATUS else check.label or check.name


def _time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%H:%M UTC")


def _line(check: Check, *, detailed: bool, label: str | None = None, language: str = DEFAULT_LANGUAGE) -> list[str]:
    name = label or _label(check, language)
    plain = _plain(check, language)
    if not detailed:
        return [
            status_text(language, "line", light=check.light, name=name, state=plain)
            if plain
            else f"{check.light} {name}"
        ]
    parts = [f"{check.light} {name}"]
    if check.state is not State.DISABLED:
        parts.append(_ms(check.latency_ms))
    if check.state is State.OK:
        if check.detail:
            parts.append(check.detail)
    else:
        parts.append(check.detail or plain)
    lines = [" · ".join(parts)]
    if check.state is State.OK and check.last_error and check.last_error_at is not None:
        lines.append(
            "    " + status_text(language, "last_error", time=_time(check.last_error_at), error=check.last_error)
        )
    return lines


def _exchange_lines(
    snapshot: HealthSnapshot, directory: ExchangeDirectory | None, *, detailed: bool, language: str
) -> list[str]:
    lines: list[str] = []
    seen: set[str] = set()
    off = status_text(language, "switched_off")
    disabled = LIGHTS[State.DISABLED]
    if directory is not None:
        for entry in directory.listed():
            if entry.kind == "dex":
                continue  # HuFi reads DEX activity from wallets: there is no API key to check
            seen.add(entry.id)
            check = snapshot.exchange(entry.id)
            if not entry.enabled:
                lines.append(status_text(language, "line", light=disabled, name=entry.display_name, state=off))
            elif check is None:
                if detailed or not entry.known:
                    state = status_text(language, "not_checked")
                    lines.append(status_text(language, "line", light=disabled, name=entry.display_name, state=state))
            else:
                lines.extend(_line(check, detailed=detailed, label=entry.display_name, language=language))
    others: list[str] = []
    for check in snapshot.group(Group.EXCHANGE):
        if check.exchange_id in seen:
            continue
        status = directory.status(check.exchange_id or "") if directory is not None else "enabled"
        label = directory.display_name(check.exchange_id or "") if directory is not None else check.label
        if status == "disabled":
            lines.append(status_text(language, "line", light=disabled, name=label, state=off))
        elif status == "enabled":
            lines.extend(_line(check, detailed=detailed, label=label, language=language))
        elif detailed:
            others.extend(_line(check, detailed=True, label=label, language=language))
    if others:
        lines.append(status_text(language, "not_listed"))
        lines.extend("  " + line for line in others)
    return lines


def format_summary(
    snapshot: HealthSnapshot,
    directory: ExchangeDirectory | None = None,
    *,
    detailed: bool,
    extra: Mapping[str, str] | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    """Plain-text traffic lights: HuFi's services, each exchange's public API, the bot, and the time of the check,
    in `language`.

    `detailed` (support chat, staff, the CLI) adds latency, the last error of each check, where the exchange list
    came from, and the `extra` facts (outbox backlog, open tickets, version, uptime, ...), redacted.
    """
    say = functools.partial(status_text, language)
    lines = [f"{LIGHTS[snapshot.overall]} {say('overall_' + snapshot.overall.value)}", ""]
    hufi = snapshot.group(Group.HUFI)
    if hufi:
        lines.append(say("group_hufi"))
        for check in hufi:
            lines.extend(_line(check, detailed=detailed, language=language))
        lines.append("")
    exchange_lines = _exchange_lines(snapshot, directory, detailed=detailed, language=language)
    if exchange_lines:
        lines.append(say("group_exchanges"))
        lines.extend(exchange_lines)
        lines.append("")
    bot_checks = snapshot.group(Group.BOT)
    if bot_checks:
        lines.append(say("group_bot"))
        if detailed:
            for check in bot_checks:
                lines.extend(_line(check, detailed=True, language=language))
        else:
            state = worst(c.state for c in bot_checks) or State.OK
            problems = [
                f"{_label(c, language)} {_plain(c, language)}"
                for c in bot_checks
                if c.state in (State.DOWN, State.DEGRADED)
            ]
            bot = say("bot")
            lines.append(
                say("line", light=LIGHTS[state], name=bot, state="; ".join(problems))
                if problems
                else f"{LIGHTS[state]} {bot}"
            )
        lines.append("")
    lines.append(say("last_check", time=f"{snapshot.taken_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}"))
    if detailed:
        lines.append(say("round_took", duration=_ms(snapshot.duration_ms)))
        if directory is not None:
            if directory.source is DirectorySource.LAUNCHER and directory.refreshed_at is not None:
                source = say("list_launcher", time=_time(directory.refreshed_at))
            else:
                source = say("list_builtin")
            if directory.last_error:
                source = say("list_failed", source=source, error=directory.last_error)
            lines.append(say("exchange_list", source=source))
        if extra:
            lines.append("")
            lines.extend(f"{short_text(k, 60)}: {short_text(v, 200)}" for k, v in extra.items())
    return "\n".join(lines)


def down_verdict(
    exchange_id: str,
    snapshot: HealthSnapshot | None,
    directory: ExchangeDirectory | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> str | None:
    """One sentence for a user whose check failed, when the exchange or HuFi is down right now; else None.

    Checked in order: HuFi switched the exchange off, the exchange's public API is down (maintenance or not
    answering), HuFi's services are down.
    """
    check = snapshot.exchange(exchange_id) if snapshot is not None else None
    if directory is not None:
        name = directory.display_name(exchange_id)
    elif check is not None and check.label:
        name = check.label
    else:
        spec = CATALOG.get(exchange_id)
        name = spec.display_name if spec else exchange_id
    switched_off = directory.is_switched_off(exchange_id) if directory is not None else False
    if switched_off or (check is not None and check.state is State.DISABLED):
        return status_text(language, "verdict_switched_off", name=name)
    if check is not None and check.state is State.DOWN:
        if check.reason == "maintenance":
            return status_text(language, "verdict_maintenance", name=name)
        return status_text(language, "verdict_api_down", name=name)
    if snapshot is not None and snapshot.hufi_state is State.DOWN:
        return status_text(language, "verdict_hufi_down")
    return None


__all__ = [
    "CAMPAIGN_LAUNCHER",
    "DATABASE",
    "LIGHTS",
    "RECORDING_ORACLE",
    "STATUS",
    "TELEGRAM",
    "Check",
    "CheckFn",
    "Group",
    "HealthService",
    "HealthSnapshot",
    "Outcome",
    "Probe",
    "State",
    "build_health_service",
    "callable_check",
    "classify_exchange_error",
    "database_check",
    "down_verdict",
    "exchange_check",
    "exchange_check_name",
    "format_summary",
    "launcher_check",
    "overall_state",
    "probe_public_api",
    "recording_oracle_check",
    "standard_checks",
    "status_text",
    "telegram_check",
    "worst",
]
