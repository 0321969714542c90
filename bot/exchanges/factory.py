"""Exchange clients: fresh per check, sharing what is expensive to build.

Figures behind the design (reference/testing.md §4-5): an instance is cheap (~0.26 MB) but its own SSL context
costs ~12 ms and ~0.7 MB, `load_markets()` costs ~35 MB and ~0.3 s, and `close()` sleeps 250 ms by default. So:
markets are loaded once per exchange and shared read-only through `set_markets_from_exchange`; one SSL context
serves every client; `timeout_on_exit` is 0; every client is closed. A fresh instance per check avoids state that
changes ccxt's error labels (binance relabels -2015 after a success). ccxt's throttler is per instance, so a
limiter per exchange, shared by all checks, keeps many simultaneous checks within the exchange's limits
(`bot.exchanges.limiter`: every request holds a slot from before it is signed until its reply is read).

Market lists are what the process handles in bulk: 13,450 spot markets over the nine exchanges whose markets the
probes need, about 10 kB each once ccxt has parsed them. Loading them the plain way cost 1-3 s of event-loop stall
per round and ~180 MB (benchmarks/market_loading.py). So a template is loaded on a worker thread with an event loop
of its own (its requests still take their turn on the exchange's limiter), with no cycle collection while the
parse runs and large replies decoded by a JSON scanner that lets the GIL go (`yielding_json_loads`), and is then
trimmed to what the probes read (`keep_only_what_probes_need`); Binance is asked for the probed symbol only
(`MARKET_PARAMS`). The variant loaded on the loop and kept whole stays available
(`markets_in_thread=False, trim_markets=False`) for the benchmark's baseline.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import email.utils
import gc
import json
import json.decoder
import json.scanner
import re
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import ccxt.async_support as ccxt_async
import certifi

from bot.exchanges.catalog import ClientKind, ExchangeSpec
from bot.exchanges.credentials import Credentials
from bot.exchanges.limiter import RequestLimiter

DEFAULT_TIMEOUT_MS = 10_000
#: clients built ahead of a check that wait per exchange (`ClientFactory.prepare`): one. The key flow prepares
#: when it asks for the key and again while the key's message is being deleted; the second finds the first's
#: client waiting and costs nothing, and under a burst each check that takes the spare leaves the next flow's
#: prepare to build one, so no more are built than checks run
SPARE_CLIENTS = 1
MARKETS_TTL_SECONDS = 6 * 3600
_HOST_RE = re.compile(r"^https?://[^/]+")

#: per-exchange ccxt options that keep market loading to what the probes need (spot only)
CCXT_OPTIONS: Mapping[str, Mapping[str, Any]] = {
    "binance": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False},
    "bybit": {"fetchMarkets": {"types": ["spot"]}},
    "okx": {"fetchMarkets": {"types": ["spot"]}},
    "bitget": {"fetchMarkets": {"types": ["spot"]}},
    "gate": {"fetchMarkets": {"types": ["spot"]}},
    "kucoin": {"fetchMarkets": {"types": ["spot"]}},
    "htx": {
        "fetchMarkets": {"types": {"spot": True, "linear": False, "inverse": False}},
        # fetch_currencies fills these network maps; share them with every client (deposit addresses need them)
        "marketHelperProps": ["networkNamesByChainIds", "networkChainIdsByNames"],
    },
    "xt": {"fetchMarkets": {"types": ["spot"]}},
}

#: query parameters that make an exchange's market endpoint list only the trades probe's market, where ccxt passes
#: them to one endpoint only and the exchange documents them. Binance: `GET /api/v3/exchangeInfo?symbol=ETHUSDT`
#: (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints#exchange-information)
#: answers one symbol instead of ~3,000 (a 3-5 MB reply whose JSON parse alone holds the GIL for tens of ms).
#: Others are left out on purpose: ccxt's MEXC, XT and Gate load several endpoints with the same parameters.
MARKET_PARAMS: Mapping[str, Mapping[str, str]] = {"binance": {"symbol": "ETHUSDT"}}

#: exchanges that serve their currency list, with the chain ids deposit addresses are parsed with, only to a
#: signed request: keyless markets lack them, and ccxt then drops every address (OKX: `ETH-ERC20`). The first
#: check with a key fetches them once and every later client shares them, as HuFi's own keyed load_markets has
SIGNED_CURRENCIES: frozenset[str] = frozenset({"okx"})


#: the client method that makes one request, from before it is signed until its reply is decoded (or raised)
REQUEST_METHOD: Mapping[ClientKind, str] = {ClientKind.CCXT: "fetch2", ClientKind.BITMART: "request"}
#: longest Retry-After we note on an exception (a ban of hours is "rate limited", not something to wait for)
MAX_RETRY_AFTER_S = 3600.0


class _Reply:
    """What the paced request saw of its reply: the HTTP status and the response headers (for Retry-After)."""

    __slots__ = ("headers", "status")

    def __init__(self) -> None:
        self.headers: Mapping[str, str] | None = None
        self.status: int | None = None


_REPLY: contextvars.ContextVar[_Reply | None] = contextvars.ContextVar("exchange_reply", default=None)


def retry_after_seconds(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """The wait a `Retry-After` header asks for (delta-seconds or an HTTP date), or None when absent or invalid.

    Source: RFC 9110 §10.2.3 (https://www.rfc-editor.org/rfc/rfc9110#field.retry-after); Binance sends it with
    its 429 and 418 replies (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits).
    """
    if not headers:
        return None
    value = next((str(v) for k, v in headers.items() if str(k).lower() == "retry-after"), "").strip()
    if not value:
        return None
    seconds: float | None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _paced(client: Any, method: str, limiter: RequestLimiter) -> None:
    """Route every request of `client` through `limiter`, and note on what a request raises its reply's HTTP
    status (`http_status`) and Retry-After (`retry_after`).

    The status matters where ccxt's text loses it: BigONE answering 403 with a JSON code ccxt does not know
    raises a plain ExchangeError whose message has no status, and HuFi counts any 401/403 from BigONE as a
    missing permission (`bot.diagnosis.rules.EXCHANGE_STATUS`). It is noted per request (a context variable set
    around the call), not per client: a check's probes share a client and run at the same time.
    """
    send = getattr(client, method)

    async def paced(*args: Any, **kwargs: Any) -> Any:
        reply = _Reply()
        token = _REPLY.set(reply)
        try:
            async with limiter.slot():
                return await send(*args, **kwargs)
        except Exception as exc:
            wait = retry_after_seconds(reply.headers)
            if wait is not None:
                exc.retry_after = wait  # type: ignore[attr-defined]
            if reply.status is not None and getattr(exc, "http_status", None) is None:
                with contextlib.suppress(AttributeError):
                    exc.http_status = reply.status  # type: ignore[attr-defined]
            raise
        finally:
            _REPLY.reset(token)

    setattr(client, method, paced)
    on_rest = getattr(client, "on_rest_response", None)
    if on_rest is None:
        return

    def on_rest_response(code: Any, reason: Any, url: Any, method: Any, headers: Any, *rest: Any) -> Any:
        noted = _REPLY.get()
        if noted is not None:
            noted.headers = headers
            with contextlib.suppress(TypeError, ValueError):
                noted.status = int(code)
        return on_rest(code, reason, url, method, headers, *rest)

    client.on_rest_response = on_rest_response


#: replies larger than this are decoded by a worker in Python bytecode rather than by the C decoder
YIELDING_JSON_MIN_CHARS = 128 * 1024


def yielding_json_loads(text: str) -> Any:
    """`json.loads` that lets other threads run while it works: for large replies, Python's own pure-Python
    scanner, which gives the GIL up at every switch interval. The C decoder holds the GIL for the whole reply
    (40 ms for MEXC's 1.2 MB market list on the benchmark machine, more under load), and so stalls the event
    loop however the work is spread over threads; the Python one takes about 12 x the CPU, on the worker."""
    if len(text) < YIELDING_JSON_MIN_CHARS:
        return json.loads(text)
    decoder = json.JSONDecoder()
    decoder.parse_string = json.decoder.py_scanstring  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder.decode(text)


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """No automatic cycle collection while a market list is parsed: a full collection would walk the hundreds of
    thousands of objects of the parse while holding the GIL. Parses never make cycles that outlive them (refcounts
    free them), and collection resumes as soon as the last parse in progress ends."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def _paced_across_loops(
    client: Any, method: str, limiter: RequestLimiter, main_loop: asyncio.AbstractEventLoop
) -> None:
    """`_paced` for a client running on another thread's event loop: its turns are taken on `main_loop`."""
    send = getattr(client, method)

    async def paced(*args: Any, **kwargs: Any) -> Any:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(limiter.enter(), main_loop))
        try:
            return await send(*args, **kwargs)
        finally:
            with contextlib.suppress(RuntimeError):  # the main loop closed meanwhile (shutdown): nothing to free
                main_loop.call_soon_threadsafe(limiter.leave)

    setattr(client, method, paced)


def needed_codes(client: Any) -> set[str]:
    """The currencies the probes read: ETH (its deposit address) and both sides of every kept market."""
    codes = {"ETH"}
    for market in (client.markets or {}).values():
        codes.update(c for c in (market.get("base"), market.get("quote")) if c)
    return codes


def keep_only_what_probes_need(client: Any, spec: ExchangeSpec) -> None:
    """Shrink a loaded template to the markets and currencies HuFi's probes read.

    The probes look up one market (the trades probe's symbol, ETH/USDT) and one currency (ETH, with its networks
    for the deposit address); balances are parsed by currency id with ccxt's common-code fallback. Keeping the
    rest (2,500-3,000 markets on the large exchanges, about 10 kB each) would cost 100-150 MB across the catalog.
    A symbol the exchange does not list stays absent, so the probe fails exactly as HuFi's would.
    """
    markets = client.markets or {}
    kept = [markets[s] for s in (spec.trades.symbol,) if s in markets]
    codes = {"ETH"} | {c for m in kept for c in (m.get("base"), m.get("quote")) if c}
    if isinstance(client, ccxt_async.Exchange):
        currencies = {code: c for code, c in (client.currencies or {}).items() if code in codes}
        # set_markets merges currencies into what is there and keeps the base/quote maps it does not rebuild
        client.currencies = {}
        client.baseCurrencies = {c: v for c, v in (client.baseCurrencies or {}).items() if c in codes}
        client.quoteCurrencies = {c: v for c, v in (client.quoteCurrencies or {}).items() if c in codes}
        client.set_markets(kept, currencies or None)
    else:
        client.set_markets(kept)


#: what ccxt's `set_markets_from_exchange` reads from the source exchange (ccxt 4.5.90, base/exchange.py)
MARKET_FIELDS = (
    "markets",
    "markets_by_id",
    "symbols",
    "ids",
    "currencies",
    "currencies_by_id",
    "baseCurrencies",
    "quoteCurrencies",
    "codes",
)


class MarketsTemplate:
    """One exchange's loaded markets as data: what `set_markets_from_exchange` copies into a client, and nothing
    else.

    A loaded ccxt instance also carries its whole `describe()` tree (for MEXC about 15,000 dicts and lists) and
    reference cycles. Kept as the template, that tree was the bulk of what a market load left behind: the first
    cycle collection after the load walked it (20-50 ms on the loop's GIL, benchmark 6), and an old template
    replaced at a refresh waited for a full collection to be freed. So the loaded client is copied into this
    object and then emptied (`release`), and its tree is freed at once by reference counting.
    """

    __slots__ = ("id", "options", *MARKET_FIELDS)

    def __init__(self, source: Any) -> None:
        self.id = source.id
        for name in MARKET_FIELDS:
            setattr(self, name, getattr(source, name, None))
        options = getattr(source, "options", None) or {}
        helpers = list(options.get("marketHelperProps") or [])
        self.options: dict[str, Any] = {"marketHelperProps": helpers, **{h: options.get(h) for h in helpers}}


def release(client: Any) -> None:
    """Empty a closed client's attributes, breaking its reference cycles: what it held is freed at once by
    reference counting instead of waiting for (and adding to) a cycle collection."""
    with contextlib.suppress(TypeError):
        vars(client).clear()


def rewrite_urls(urls: Any, base_url: str) -> Any:
    """Every URL in a ccxt `urls['api']` tree, with its scheme and host replaced by `base_url`."""
    base = base_url.rstrip("/")
    if isinstance(urls, str):
        return _HOST_RE.sub(base, urls)
    if isinstance(urls, dict):
        return {k: rewrite_urls(v, base) for k, v in urls.items()}
    if isinstance(urls, list):
        return [rewrite_urls(v, base) for v in urls]
    return urls


NativeClientBuilder = Callable[[ExchangeSpec, dict[str, Any]], Any]


class ClientFactory:
    """Builds exchange clients for checks and health probes.

    `url_overrides` maps an exchange id to a base URL that replaces the scheme and host of every API URL (the
    sandbox and the tests point it at fake exchanges on 127.0.0.1). `native_builders` builds clients for the
    exchanges ccxt lacks (BitMart); they take the same config dict as a ccxt constructor.
    """

    def __init__(
        self,
        *,
        url_overrides: Mapping[str, str] | None = None,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        markets_ttl: float = MARKETS_TTL_SECONDS,
        native_builders: Mapping[ClientKind, NativeClientBuilder] | None = None,
        clock: Callable[[], float] = time.monotonic,
        markets_in_thread: bool = True,
        trim_markets: bool = True,
        yielding_json: bool = True,
    ) -> None:
        self.url_overrides = dict(url_overrides or {})
        self.timeout_ms = min(timeout_ms, DEFAULT_TIMEOUT_MS)
        self.markets_ttl = markets_ttl
        self.markets_in_thread = markets_in_thread
        self.trim_markets = trim_markets
        self.yielding_json = yielding_json
        self._clock = clock
        self.ssl_context = ssl.create_default_context(cafile=certifi.where())
        self._templates: dict[str, tuple[float, MarketsTemplate]] = {}
        self._signed_currencies: dict[str, MarketsTemplate] = {}  # exchange id -> the template that holds them
        self._market_locks: dict[str, asyncio.Lock] = {}
        self._limiters: dict[str, RequestLimiter] = {}
        self._native = dict(native_builders or {})
        self._spares: dict[str, list[Any]] = {}  # exchange id -> clients built ahead, never used, no credentials
        self.markets_loads = 0  # how often markets were fetched, for tests and benchmarks
        self.spares_used = 0

    def limiter(self, spec: ExchangeSpec) -> RequestLimiter:
        lim = self._limiters.get(spec.id)
        if lim is None:
            lim = self._limiters[spec.id] = RequestLimiter(spec.rate_limit_per_second, clock=self._clock)
        return lim

    def _config(self, spec: ExchangeSpec, creds: Credentials | None) -> dict[str, Any]:
        config: dict[str, Any] = {
            "enableRateLimit": False,  # our shared per-exchange limiter paces requests instead
            "timeout": self.timeout_ms,
            "ssl_context": self.ssl_context,
            "options": {"defaultType": "spot", **CCXT_OPTIONS.get(spec.id, {})},
        }
        if creds is not None:
            config.update(creds.ccxt_config(spec))
        return config

    def _build(self, spec: ExchangeSpec, creds: Credentials | None, *, paced: bool = True) -> Any:
        config = self._config(spec, creds)
        if spec.client is ClientKind.CCXT:
            client = getattr(ccxt_async, spec.id)(config)
        else:
            if spec.client not in self._native:
                from bot.exchanges.bitmart import build_bitmart_client

                self._native[ClientKind.BITMART] = build_bitmart_client
            client = self._native[spec.client](spec, config)
        client.timeout_on_exit = 0
        base = self.url_overrides.get(spec.id)
        if base:
            client.urls = dict(client.urls)
            client.urls["api"] = rewrite_urls(client.urls["api"], base)
        # Every request of this client goes through the exchange's shared limiter (ccxt's own throttler is per
        # instance and off); the limiter counts each request until a window after its reply.
        client.enableRateLimit = False
        if paced:
            _paced(client, REQUEST_METHOD[spec.client], self.limiter(spec))
        return client

    async def _template(self, spec: ExchangeSpec) -> MarketsTemplate:
        """The exchange's markets, loaded once per exchange and refreshed after the TTL."""
        cached = self._templates.get(spec.id)
        if cached and self._clock() - cached[0] < self.markets_ttl:
            return cached[1]
        async with self._market_locks.setdefault(spec.id, asyncio.Lock()):
            return await self._template_unlocked(spec)

    async def _template_unlocked(self, spec: ExchangeSpec) -> MarketsTemplate:
        """`_template` for a caller that holds the exchange's market lock."""
        cached = self._templates.get(spec.id)
        if cached and self._clock() - cached[0] < self.markets_ttl:
            return cached[1]
        return await self._load_template(spec)

    async def _load_template(self, spec: ExchangeSpec) -> MarketsTemplate:
        """Load a new template (the caller holds the exchange's market lock) and make it the shared one."""
        if self.markets_in_thread:
            main_loop = asyncio.get_running_loop()

            def load() -> MarketsTemplate:
                with _no_cycle_collection():
                    return asyncio.run(self._load_in_worker(spec, main_loop))

            template = await asyncio.to_thread(load)
        else:
            client = self._build(spec, None)
            try:
                await self._load_markets(client, spec)
            finally:
                await client.close()
            template = self._as_template(client, spec)
        self.markets_loads += 1
        self._templates[spec.id] = (self._clock(), template)
        return template

    async def _load_in_worker(self, spec: ExchangeSpec, main_loop: asyncio.AbstractEventLoop) -> MarketsTemplate:
        """Load (and trim) a template on a worker thread's own event loop; its requests are paced by the
        exchange's limiter, which lives on `main_loop`."""
        template = self._build(spec, None, paced=False)
        _paced_across_loops(template, REQUEST_METHOD[spec.client], self.limiter(spec), main_loop)
        if self.yielding_json and isinstance(template, ccxt_async.Exchange):
            template.on_json_response = yielding_json_loads  # ccxt decodes every reply with this
        try:
            await self._load_markets(template, spec)
        finally:
            await template.close()
        return self._as_template(template, spec)

    def _as_template(self, client: Any, spec: ExchangeSpec) -> MarketsTemplate:
        """The loaded (closed) client's markets, trimmed unless `trim_markets` is off, as a `MarketsTemplate`; the
        client itself is emptied."""
        if self.trim_markets:
            keep_only_what_probes_need(client, spec)
        template = MarketsTemplate(client)
        release(client)
        return template

    async def _load_markets(self, template: Any, spec: ExchangeSpec) -> None:
        params = MARKET_PARAMS.get(spec.id) if self.trim_markets else None
        if params:
            await template.load_markets(False, dict(params))
        else:
            await template.load_markets()
        template.last_http_response = None  # ccxt keeps the last reply's text: here, the whole market list

    async def preload(self, spec: ExchangeSpec) -> None:
        """Load markets for `spec` now, unless fresh ones are loaded (start-up)."""
        await self._template(spec)

    async def refresh_markets(self, spec: ExchangeSpec) -> None:
        """Load `spec`'s markets again and swap the new template in once it is complete (the periodic refresh).

        Until then every check keeps using the current template: nobody waits for the reload (forgetting first
        and loading after would make a check arriving in between load the markets itself, or wait for them). A
        check finds the exchange's market lock taken only if the current template has expired meanwhile."""
        async with self._market_locks.setdefault(spec.id, asyncio.Lock()):
            await self._load_template(spec)

    def forget_markets(self, exchange_id: str | None = None) -> None:
        if exchange_id is None:
            self._templates.clear()
        else:
            self._templates.pop(exchange_id, None)

    def needs_signed_currencies(self, spec: ExchangeSpec) -> bool:
        """True while the shared markets of `spec` still lack the currency list only a signed request returns."""
        if spec.id not in SIGNED_CURRENCIES:
            return False
        cached = self._templates.get(spec.id)
        return cached is None or self._signed_currencies.get(spec.id) is not cached[1]

    async def share_signed_currencies(self, spec: ExchangeSpec, client: Any) -> None:
        """Fetch the currency list with `client`'s key once per markets refresh and share it with every client.

        Raises what the exchange raises (the caller's probe reports it): without the list the probe's own
        answer would be wrong.
        """
        if not self.needs_signed_currencies(spec):
            return
        async with self._market_locks.setdefault(spec.id, asyncio.Lock()):
            template = await self._template_unlocked(spec)
            if self._signed_currencies.get(spec.id) is not template:
                currencies = await client.fetch_currencies()
                if self.trim_markets:
                    currencies = {code: c for code, c in (currencies or {}).items() if code in needed_codes(template)}
                builder = self._build(spec, None, paced=False)  # makes no request: only its set_markets is used
                try:
                    builder.set_markets(list((template.markets or {}).values()), currencies)
                finally:
                    await builder.close()
                loaded_at = self._templates[spec.id][0]
                template = MarketsTemplate(builder)
                release(builder)
                self._templates[spec.id] = (loaded_at, template)
                self._signed_currencies[spec.id] = template
        client.set_markets_from_exchange(template)

    def prepare(self, spec: ExchangeSpec) -> None:
        """Have a client for `spec` waiting for a check that is about to come, built without credentials (unless
        SPARE_CLIENTS wait already): building one is most of the few milliseconds a check spends before its first
        request (ccxt's constructor). The key flow prepares when it asks for the key, long before a person can
        answer, and again while the message holding the key is being deleted, in case the first was taken. The
        next `client` for `spec` takes it and gets its credentials then. A spare has made no request, so it
        holds no connection and needs no closing."""
        spares = self._spares.setdefault(spec.id, [])
        if len(spares) < SPARE_CLIENTS:
            spares.append(self._build(spec, None))

    def _fresh(self, spec: ExchangeSpec, creds: Credentials | None) -> Any:
        spares = self._spares.get(spec.id)
        if not spares:
            return self._build(spec, creds)
        client = spares.pop()
        self.spares_used += 1
        for name, value in (creds.ccxt_config(spec) if creds is not None else {}).items():
            setattr(client, name, value)
        return client

    @asynccontextmanager
    async def client(
        self, spec: ExchangeSpec, creds: Credentials | None, *, markets: bool = True
    ) -> AsyncIterator[Any]:
        """A fresh client for one check (one `prepare` built, or a new one), with shared markets, closed on exit
        whatever happens, and then emptied (`release`): its credentials and its ccxt tree go at once, not at the
        next cycle collection. A client is never used for two checks."""
        template = await self._template(spec) if markets else None
        client = self._fresh(spec, creds)
        try:
            if template is not None:
                client.set_markets_from_exchange(template)
            yield client
        finally:
            try:
                await client.close()
            finally:
                release(client)
