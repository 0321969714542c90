"""The key check: HuFi's probes, run the way HuFi's recording oracle runs them, with every outcome kept.

HuFi starts the probes at once and aborts the whole check on the first non-access error; we run them at once
too, but every probe ends in an outcome of its own, so one broken probe never hides what the others found.
How each exchange is judged (live probes, Kraken's or KuCoin's key-info rules, BigONE's own endpoints) is a
`CheckStyle` in the catalog; each style is a plan in `PLANS` below, not a branch on the exchange id.

An exchange's "too many requests" is about us, not the key, so it never becomes the verdict while there is time:
each call that is answered with a rate-limit reply (whatever the diagnosis tables call `rate_limited`: ccxt's
RateLimitExceeded or DDoSProtection, or the exchange's own code) is repeated with the same arguments after a
backoff, or after the reply's Retry-After, within a bounded time per check (`RetryPolicy`). Meanwhile the
exchange's shared limiter holds every other request back for as long (`RequestLimiter.hold_off`). Only when the
budget would be exceeded does the probe end as `rate_limited`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.diagnosis import classify_error, classify_result, diagnose_report, precheck
from bot.diagnosis.classify import nonce_window_too_small
from bot.diagnosis.model import Cause, Diagnosis, Permission
from bot.exchanges.catalog import CheckStyle, ExchangeSpec, TradesProbe, get_spec
from bot.exchanges.credentials import Credentials
from bot.exchanges.evidence import EVIDENCE, EvidenceProbe
from bot.exchanges.factory import ClientFactory
from bot.exchanges.report import KeyCheckReport, ProbeOutcome, ProbeStatus
from bot.security import ACTIVE_SECRETS, Redactor, scrub_request_details

log = logging.getLogger(__name__)

ProgressCallback = Callable[[KeyCheckReport, ProbeOutcome], Awaitable[None]]
ETH = "ETH"
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How a rate-limit reply is retried inside one check.

    Delays double from `first_delay` up to `max_delay`; a reply's Retry-After replaces the computed delay. A
    retry whose wait would end after `budget` seconds from the check's start is not made: the probe then ends
    with the exchange's rate-limit reply. There is no random jitter: every retry passes through the exchange's
    shared limiter, which releases waiting requests one by one in order, so retries cannot arrive in a herd.
    """

    attempts: int = 4  # the first try and up to three retries
    first_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 4.0
    budget: float = 8.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep

    def delay(self, retry: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number `retry` (1-based)."""
        if retry_after is not None:
            return max(0.0, retry_after)
        return min(self.max_delay, self.first_delay * self.factor ** (retry - 1))


#: The policy a `KeyChecker` gets when it is given none (the tests swap in one with short delays).
DEFAULT_RETRY = RetryPolicy()


def resolve_time(value: Any, now_ms: int) -> Any:
    """Turn a catalog time placeholder into a number (other values pass through)."""
    tokens = {"now_ms": now_ms, "now_ms-1": now_ms - 1, "now_ms-2": now_ms - 2, "now_s+1": now_ms // 1000 + 1}
    return tokens.get(value, value) if isinstance(value, str) else value


def trades_call(trades: TradesProbe, now_ms: int) -> tuple[str, int, int | None, dict[str, Any]]:
    """The arguments of HuFi's `fetch_my_trades` call for this exchange at `now_ms`."""
    since = resolve_time(trades.since, now_ms)
    params = {k: resolve_time(v, now_ms) for k, v in trades.params.items()}
    return trades.symbol, since, trades.limit, params


def redacted_copy(error: BaseException, redactor: Redactor) -> BaseException:
    """The same exception class with a redacted message and no traceback or chained causes; the HTTP status
    of the reply, when the client factory noted it (`http_status`: the diagnosis reads it where the text lost
    it, as for BigONE's 403 with a code ccxt doesn't know), is kept.

    Signed-request details ccxt puts in the text (the URL's signature, timestamp and key parameters) go too.
    """
    message = scrub_request_details(redactor.redact(error))[:4000]
    try:
        copy = type(error)(message)
        if redactor.redact(copy) != redactor.redact(message):  # a class that renders its args oddly
            raise TypeError
    except Exception:  # noqa: BLE001 - classes with other constructors
        copy = RuntimeError(f"{type(error).__name__}: {message}")
    status = getattr(error, "http_status", None)
    if isinstance(status, int) and not isinstance(status, bool):
        copy.http_status = status  # type: ignore[attr-defined]
    return copy


# ---------------------------------------------------------------------------------------------------------
# Probe plans. A plan turns (spec, client, now_ms) into one coroutine per permission; each coroutine returns the
# raw result that `classify_result` judges, or raises what the exchange raised.

ProbeCall = Callable[[ExchangeSpec, Any, int], Awaitable[Any]]


async def _balance(spec: ExchangeSpec, client: Any, now_ms: int) -> Any:
    return await client.fetch_balance()


async def _deposit(spec: ExchangeSpec, client: Any, now_ms: int) -> Any:
    return await client.fetch_deposit_address(ETH, dict(spec.deposit_params))


async def _trades(spec: ExchangeSpec, client: Any, now_ms: int) -> Any:
    symbol, since, limit, params = trades_call(spec.trades, now_ms)
    return await client.fetch_my_trades(symbol, since, limit, params)


async def _bigone_accounts(spec: ExchangeSpec, client: Any, now_ms: int) -> Any:
    return await client.private_get_accounts()


async def _bigone_address(spec: ExchangeSpec, client: Any, now_ms: int) -> Any:
    reply = await client.private_get_assets_asset_symbol_address({"asset_symbol": ETH})
    entries = reply.get("data") if isinstance(reply, dict) else None
    eth = [e for e in entries or [] if isinstance(e, dict) and e.get("chain") == "Ethereum"]
    return {"address": eth[0].get("value") if eth else None, "raw_count": len(entries or [])}


async def _bigone_trades(spec: ExchangeSpec, client: Any, now_ms: int) -> Any:
    return await client.private_get_trades({"asset_pair_name": "ETH-USDT", "limit": spec.trades.limit or 200})


@dataclass(frozen=True)
class KeyInfoRule:
    """How a key-info reply decides each permission (Kraken and KuCoin, as HuFi judges them)."""

    fetch: ProbeCall
    parse: Callable[[Any], dict[str, Any]]  # reply -> evidence["key_info"]
    grants: Callable[[dict[str, Any]], dict[Permission, Diagnosis | None]]


def _kraken_parse(reply: Any) -> dict[str, Any]:
    result = reply.get("result", {}) if isinstance(reply, dict) else {}
    perms = result.get("permissions") or []
    if isinstance(perms, str):
        perms = [p.strip() for p in perms.split(",") if p.strip()]
    # HuFi reads snake_case; Kraken's API reference shows camelCase. Accept both.
    window = result.get("nonce_window", result.get("nonceWindow"))
    ips = result.get("ip_allowlist") or result.get("ipAllowlist") or result.get("ip_whitelist")
    return {
        "permissions": [str(p) for p in perms],
        "nonce_window": int(window) if isinstance(window, int | float | str) and str(window).isdigit() else None,
        "ip_restricted": bool(ips),
    }


KRAKEN_NEEDS: Mapping[Permission, tuple[str, ...]] = {
    Permission.VIEW_ACCOUNT_BALANCE: ("query-funds",),
    Permission.VIEW_DEPOSIT_ADDRESS: ("query-funds",),
    Permission.VIEW_SPOT_TRADING_HISTORY: ("query-open-trades", "query-closed-trades", "export-data"),
}


def _kraken_grants(info: dict[str, Any]) -> dict[Permission, Diagnosis | None]:
    too_small = nonce_window_too_small(info)
    if too_small is not None:
        return dict.fromkeys(Permission, too_small)
    have = set(info.get("permissions") or [])
    out: dict[Permission, Diagnosis | None] = {}
    for perm, needed in KRAKEN_NEEDS.items():
        lacking = [n for n in needed if n not in have]
        out[perm] = (
            Diagnosis(
                Cause.PERMISSION_MISSING,
                code="missing:" + ",".join(lacking),
                detail="key lacks " + ", ".join(lacking),
            )
            if lacking
            else None
        )
    return out


async def _kraken_key_info(spec: ExchangeSpec, client: Any, now_ms: int) -> Any:
    return await client.private_post_getapikeyinfo()


async def _kraken_address(spec: ExchangeSpec, client: Any, now_ms: int) -> Any:
    reply = await client.private_post_depositaddresses({"asset": ETH, "method": "Ether (Hex)"})
    entries = reply.get("result") if isinstance(reply, dict) else None
    first = entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], dict) else {}
    return {"address": first.get("address")}


def _kucoin_parse(reply: Any) -> dict[str, Any]:
    data = reply.get("data", {}) if isinstance(reply, dict) else {}
    perms = data.get("permission") or ""
    ips = data.get("ipWhitelist") or ""
    return {
        "permissions": [p.strip() for p in str(perms).split(",") if p.strip()],
        "ip_restricted": bool(ips),
        "ips": [p.strip() for p in str(ips).split(",") if p.strip()],
    }


def _kucoin_grants(info: dict[str, Any]) -> dict[Permission, Diagnosis | None]:
    if "General" in (info.get("permissions") or []):
        return dict.fromkeys(Permission)
    diag = Diagnosis(Cause.PERMISSION_MISSING, code="missing:General", detail="key lacks the General permission")
    return dict.fromkeys(Permission, diag)


async def _kucoin_key_info(spec: ExchangeSpec, client: Any, now_ms: int) -> Any:
    return await client.private_get_user_api_key()


async def _kucoin_address(spec: ExchangeSpec, client: Any, now_ms: int) -> Any:
    reply = await client.private_get_deposit_addresses({"currency": ETH, "chain": "eth", "version": "v3"})
    entries = reply.get("data") if isinstance(reply, dict) else None
    main = [e for e in entries or [] if isinstance(e, dict) and e.get("to") == "MAIN"]
    return {"address": main[0].get("address") if main else None}


@dataclass(frozen=True)
class Plan:
    probes: Mapping[Permission, ProbeCall]
    key_info: KeyInfoRule | None = None
    needs_markets: bool = True


PLANS: Mapping[CheckStyle, Plan] = {
    CheckStyle.PROBES: Plan(
        {
            Permission.VIEW_ACCOUNT_BALANCE: _balance,
            Permission.VIEW_DEPOSIT_ADDRESS: _deposit,
            Permission.VIEW_SPOT_TRADING_HISTORY: _trades,
        }
    ),
    CheckStyle.BIGONE: Plan(
        {
            Permission.VIEW_ACCOUNT_BALANCE: _bigone_accounts,
            Permission.VIEW_DEPOSIT_ADDRESS: _bigone_address,
            Permission.VIEW_SPOT_TRADING_HISTORY: _bigone_trades,
        },
        needs_markets=False,
    ),
    CheckStyle.KRAKEN_KEY_INFO: Plan(
        {Permission.VIEW_DEPOSIT_ADDRESS: _kraken_address},
        KeyInfoRule(_kraken_key_info, _kraken_parse, _kraken_grants),
        needs_markets=False,
    ),
    CheckStyle.KUCOIN_KEY_INFO: Plan(
        {Permission.VIEW_DEPOSIT_ADDRESS: _kucoin_address},
        KeyInfoRule(_kucoin_key_info, _kucoin_parse, _kucoin_grants),
        needs_markets=False,
    ),
}


class KeyChecker:
    """Runs a key check. Dependencies come in, so tests and the demo swap them."""

    def __init__(
        self,
        factory: ClientFactory,
        *,
        clock: Callable[[], float] = time.time,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.retry = retry if retry is not None else DEFAULT_RETRY
        self.rate_limit_retries = 0  # calls repeated after a rate-limit reply, for tests and benchmarks

    async def _retrying(
        self,
        spec: ExchangeSpec,
        permission: Permission | None,
        call: Callable[[], Awaitable[T]],
        deadline: float,
        redactor: Redactor,
    ) -> T:
        """`call()`, repeated after each rate-limit reply while the policy and the check's deadline allow.

        Raises what the last attempt raised (the probe's outcome then says `rate_limited`)."""
        policy = self.retry
        retry = 0
        while True:
            try:
                return await call()
            except Exception as exc:
                retry += 1
                if retry >= policy.attempts or not _is_rate_limited(spec, permission, exc, redactor):
                    raise
                wait = policy.delay(retry, getattr(exc, "retry_after", None))
                if policy.clock() + wait > deadline:
                    raise
                self.factory.limiter(spec).hold_off(wait)
                self.rate_limit_retries += 1
                log.info("%s answered rate-limited; retry %d in %.2f s", spec.id, retry, wait)
                await policy.sleep(wait)

    def prepare(self, exchange_id: str) -> None:
        """A check of a key on `exchange_id` is coming: have its client built before the key is there
        (`ClientFactory.prepare`; nothing of the key is used)."""
        spec = get_spec(exchange_id)
        if spec.needs_key:
            self.factory.prepare(spec)

    async def check(
        self,
        exchange_id: str,
        creds: Credentials,
        *,
        permissions: Sequence[Permission] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> KeyCheckReport:
        """Check `creds` on `exchange_id`. Raises only UnknownExchangeError; every other problem is an outcome."""
        spec = get_spec(exchange_id)
        wanted = [p for p in Permission if permissions is None or p in permissions]
        report = KeyCheckReport(spec.id, key_fingerprint=creds.fingerprint)
        if not spec.needs_key:
            report.precheck = Diagnosis(Cause.NO_KEY_NEEDED, detail=spec.connect_hint)
        else:
            report.precheck = precheck(spec, creds)
        if report.precheck is not None:
            report.finished_at = datetime.now(UTC)
            return report

        report.mark_waiting(wanted)
        with ACTIVE_SECRETS.active(creds.secrets()) as redactor:
            await self._run(spec, creds, wanted, report, redactor, on_progress)
        report.diagnosis = _safe_diagnose(report)
        report.finished_at = datetime.now(UTC)
        return report

    async def _run(
        self,
        spec: ExchangeSpec,
        creds: Credentials,
        wanted: list[Permission],
        report: KeyCheckReport,
        redactor: Redactor,
        on_progress: ProgressCallback | None,
    ) -> None:
        plan = PLANS[spec.check_style]
        now_ms = int(self.clock() * 1000)
        deadline = self.retry.clock() + self.retry.budget

        async def publish(outcome: ProbeOutcome) -> None:
            report.set_outcome(outcome)
            if on_progress is not None:
                try:
                    await on_progress(report, outcome)
                except Exception as exc:  # noqa: BLE001 - a display problem must not break the check
                    log.warning("progress callback failed: %s", type(exc).__name__)

        def failed(perm: Permission, exc: BaseException, started: float) -> ProbeOutcome:
            safe = redacted_copy(exc, redactor)
            diag = classify_error(spec.id, perm, safe)
            return ProbeOutcome(
                perm,
                ProbeStatus.FAILED,
                diagnosis=diag,
                error_type=type(exc).__name__,
                error_message=str(safe)[:1000],
                elapsed_ms=(time.perf_counter() - started) * 1000,
                error=safe,
            )

        def judged(perm: Permission, result: Any, started: float) -> ProbeOutcome:
            diag = classify_result(spec.id, perm, result)
            return ProbeOutcome(
                perm,
                ProbeStatus.GRANTED if diag is None else ProbeStatus.FAILED,
                diagnosis=diag,
                elapsed_ms=(time.perf_counter() - started) * 1000,
                summary=_summary(perm, result) if diag is None else None,
            )

        async def run_probe(perm: Permission, call: ProbeCall, client: Any) -> ProbeOutcome:
            started = time.perf_counter()
            try:
                if perm is Permission.VIEW_DEPOSIT_ADDRESS and self.factory.needs_signed_currencies(spec):
                    await self._retrying(  # chain ids the address parse needs
                        spec, perm, lambda: self.factory.share_signed_currencies(spec, client), deadline, redactor
                    )
                result = await self._retrying(spec, perm, lambda: call(spec, client, now_ms), deadline, redactor)
            except Exception as exc:  # noqa: BLE001 - every failure becomes an outcome
                return failed(perm, exc, started)
            return judged(perm, result, started)

        started = time.perf_counter()
        try:
            if plan.needs_markets:  # shared and cached: loads only at start or after the TTL
                await self._retrying(spec, None, lambda: self.factory.preload(spec), deadline, redactor)
            async with self.factory.client(spec, creds, markets=plan.needs_markets) as client:
                tasks: dict[Permission, asyncio.Task[ProbeOutcome]] = {}
                key_info: asyncio.Task[ProbeOutcome] | None = None
                if plan.key_info is not None:
                    key_info = asyncio.ensure_future(
                        self._key_info(plan.key_info, spec, client, now_ms, report, redactor, deadline)
                    )
                evidence = EVIDENCE.get(spec.id) if plan.key_info is None else None
                evidence_task = (
                    asyncio.ensure_future(self._evidence(evidence, spec, client, report, redactor, deadline))
                    if evidence
                    else None
                )
                for perm in wanted:
                    if perm in plan.probes:
                        tasks[perm] = asyncio.ensure_future(run_probe(perm, plan.probes[perm], client))
                if key_info is not None:
                    grants_outcome = await key_info
                    for perm in wanted:
                        by_info = _outcome_from_key_info(perm, grants_outcome, report)
                        if perm in tasks:
                            live = await tasks.pop(perm)
                            by_info = _combine(by_info, live)
                        await publish(by_info)
                for fut in asyncio.as_completed(list(tasks.values())):
                    await publish(await fut)
                if evidence_task is not None:
                    await evidence_task
        except Exception as exc:  # noqa: BLE001 - client construction or market loading failed
            for perm in wanted:
                if report.outcomes[perm].status is ProbeStatus.WAITING:
                    await publish(failed(perm, exc, started))

    async def _evidence(
        self,
        probe: EvidenceProbe,
        spec: ExchangeSpec,
        client: Any,
        report: KeyCheckReport,
        redactor: Redactor,
        deadline: float,
    ) -> None:
        """Read the key's own settings for the diagnosis; never fails the check."""
        try:
            reply = await self._retrying(spec, None, lambda: probe.fetch(client), deadline, redactor)
            report.evidence["key_info"] = probe.parse(reply)
        except Exception as exc:  # noqa: BLE001 - an evidence failure is evidence too
            report.evidence["key_info_error"] = classify_error(spec.id, None, redacted_copy(exc, redactor)).to_dict()

    async def _key_info(
        self,
        rule: KeyInfoRule,
        spec: ExchangeSpec,
        client: Any,
        now_ms: int,
        report: KeyCheckReport,
        redactor: Redactor,
        deadline: float,
    ) -> ProbeOutcome:
        """Call the key-info endpoint; the returned outcome carries either the parsed grants or the failure."""
        started = time.perf_counter()
        try:
            reply = await self._retrying(spec, None, lambda: rule.fetch(spec, client, now_ms), deadline, redactor)
            info = rule.parse(reply)
        except Exception as exc:  # noqa: BLE001
            safe = redacted_copy(exc, redactor)
            diag = classify_error(spec.id, None, safe)
            report.evidence["key_info_error"] = diag.to_dict()
            return ProbeOutcome(
                Permission.VIEW_ACCOUNT_BALANCE,
                ProbeStatus.FAILED,
                diagnosis=diag,
                error_type=type(exc).__name__,
                error_message=str(safe)[:1000],
                elapsed_ms=(time.perf_counter() - started) * 1000,
                error=safe,
            )
        report.evidence["key_info"] = info
        report.evidence["_grants"] = {str(p): (d.to_dict() if d else None) for p, d in rule.grants(info).items()}
        return ProbeOutcome(
            Permission.VIEW_ACCOUNT_BALANCE,
            ProbeStatus.GRANTED,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )


def _is_rate_limited(
    spec: ExchangeSpec, permission: Permission | None, error: BaseException, redactor: Redactor
) -> bool:
    """True when the exchange's reply means "too many requests" (the diagnosis tables decide, per exchange)."""
    return classify_error(spec.id, permission, redacted_copy(error, redactor)).cause is Cause.RATE_LIMITED


def _outcome_from_key_info(perm: Permission, info_outcome: ProbeOutcome, report: KeyCheckReport) -> ProbeOutcome:
    if info_outcome.status is ProbeStatus.FAILED:
        return ProbeOutcome(
            perm,
            ProbeStatus.FAILED,
            diagnosis=info_outcome.diagnosis,
            error_type=info_outcome.error_type,
            error_message=info_outcome.error_message,
            elapsed_ms=info_outcome.elapsed_ms,
            error=info_outcome.error,
        )
    grant = report.evidence.get("_grants", {}).get(str(perm))
    if grant is None:
        return ProbeOutcome(
            perm, ProbeStatus.GRANTED, elapsed_ms=info_outcome.elapsed_ms, summary="granted by key settings"
        )
    return ProbeOutcome(
        perm, ProbeStatus.FAILED, diagnosis=Diagnosis.from_dict(grant), elapsed_ms=info_outcome.elapsed_ms
    )


def _combine(by_info: ProbeOutcome, live: ProbeOutcome) -> ProbeOutcome:
    """Key settings first (that is HuFi's rule); a live probe can only add a failure (e.g. no ETH address)."""
    if by_info.status is ProbeStatus.FAILED:
        return by_info
    return live


def _summary(perm: Permission, result: Any) -> str:
    if perm is Permission.VIEW_DEPOSIT_ADDRESS:
        return "ETH deposit address found"
    if perm is Permission.VIEW_SPOT_TRADING_HISTORY:
        n = len(result) if isinstance(result, list) else None
        return "trade history readable" if n is None else f"trade history readable ({n} in window)"
    return "balance readable"


def _safe_diagnose(report: KeyCheckReport) -> Diagnosis | None:
    try:
        return diagnose_report(report)
    except Exception:  # the verdict must never crash a check
        log.exception("diagnose_report failed")
        return Diagnosis(Cause.UNKNOWN)
