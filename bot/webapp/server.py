"""The Mini App's web server: one form page, its script and style, and one JSON endpoint that takes the key.

Transport-free with respect to python-telegram-bot: the check itself is an injected `Submitter`. Every
submission is authenticated by Telegram's signed `initData` (`bot.webapp.initdata`); the user id comes from
it, never from the form. What the server refuses (a wrong, stale or replayed initData, a body over the limit,
another content type, too many requests from one user) gets a JSON error, and nothing of the request is
stored, logged or passed on.

Replay protection: the hash of an initData that reached the check is kept in memory until that initData
would be stale anyway (its `auth_date` plus an hour), and a second submission with it is refused. A restart
forgets these hashes, so for the rest of that hour an initData used before the restart could be submitted
once more: that needs the user's own initData (it lives only in the user's Telegram client and our TLS
connection) and still passes the check service's per-user limits. A pre-check refusal (an empty or malformed
field) does not use the initData up, so the user corrects the field and sends again.

All state is keyed by validated data (hashes and user ids Telegram signed), so unauthenticated requests can't
grow it.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from aiohttp import web

from bot.advice.advisor import cause_title
from bot.advice.prechecks import precheck_text
from bot.diagnosis.model import CampaignType, Diagnosis
from bot.diagnosis.precheck import precheck
from bot.exchanges.catalog import CATALOG, ExchangeSpec
from bot.exchanges.credentials import Credentials
from bot.listening import start_site
from bot.security import ACTIVE_SECRETS, Redactor
from bot.webapp.config import WebAppConfig
from bot.webapp.initdata import MAX_AGE_SECONDS, InitDataError, WebAppInitData, sign_init_data, validate_init_data
from bot.webapp.page import TELEGRAM_SCRIPT, render_form, render_message
from bot.webapp.result import SubmissionResult, Submitter
from bot.webapp.texts import language_of, text

log = logging.getLogger(__name__)

JSON_TYPE = "application/json"
#: Telegram's web clients, which show a Mini App in an iframe (Web A and Web K live under web.telegram.org;
#: the two older hosts still answer). The phone and desktop apps open the page in a web view, not a frame.
TELEGRAM_FRAME_ANCESTORS = ("https://web.telegram.org", "https://webk.telegram.org", "https://webz.telegram.org")
_STATIC_TYPES = {"app.js": "text/javascript", "app.css": "text/css"}
_STANDIN_FILE = "telegram-web-app-standin.js"
_CREDENTIAL_FIELDS = ("api_key", "secret", "passphrase", "memo")
#: the language the submitting page is in, for the error answer (set once the body is read)
_LANGUAGE = web.RequestKey("webapp_language", str)
_BODY_FIELDS = frozenset({"init_data", "exchange", "campaign", "language", "credentials"})


def content_security_policy() -> str:
    """The page's policy: our own files only, Telegram's script (that one file, not the whole host: a CSP source
    with a path matches only that path), no inline code, no external fonts or forms."""
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {TELEGRAM_SCRIPT}",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'none'",
            "connect-src 'self'",
            "form-action 'none'",
            "base-uri 'none'",
            "object-src 'none'",
            "frame-ancestors " + " ".join(TELEGRAM_FRAME_ANCESTORS),
        ]
    )


_SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": content_security_policy(),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


@dataclass(frozen=True, slots=True)
class Limits:
    """How much the server accepts. A real submission is under 8 KB; a PEM secret of an RSA key about 2 KB."""

    max_body_bytes: int = 32 * 1024
    #: authenticated requests (submissions and pre-check refusals) per user in `window_seconds`
    requests_per_user: int = 10
    window_seconds: float = 600.0
    #: the oldest initData accepted, seconds after its `auth_date` (Telegram's advice: check it; we take an hour)
    max_init_data_age: float = MAX_AGE_SECONDS


class ReplayGuard:
    """Hashes of initData that were already used, each kept until its initData would be stale anyway."""

    def __init__(self, max_age: float, clock: Callable[[], float] = time.time) -> None:
        self.max_age = max_age
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    def __len__(self) -> int:
        self._prune()
        return len(self._expiry)

    def _prune(self) -> None:
        now = self._clock()
        while self._heap and self._heap[0][0] <= now:
            _, digest = heapq.heappop(self._heap)
            self._expiry.pop(digest, None)

    def used(self, digest: str) -> bool:
        self._prune()
        return digest in self._expiry

    def use(self, digest: str, auth_date: int) -> bool:
        """Mark `digest` used; False when it already was (no await in between: safe against a concurrent twin)."""
        if self.used(digest):
            return False
        expires = auth_date + self.max_age + 1
        self._expiry[digest] = expires
        heapq.heappush(self._heap, (expires, digest))
        return True


class UserRateLimiter:
    """At most `limit` requests per user in any `window` seconds (a sliding window of request times)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._times: dict[int, deque[float]] = {}

    def __len__(self) -> int:
        """How many users are being tracked."""
        return len(self._times)

    def acquire(self, user_id: int) -> float:
        """0 when the request may go ahead (and is counted); else the seconds until it may."""
        now = self._clock()
        times = self._times.setdefault(user_id, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return max(0.001, times[0] + self.window - now)
        times.append(now)
        for uid in [u for u, t in self._times.items() if not t or t[-1] <= now - self.window]:
            del self._times[uid]  # users idle for a whole window leave no trace
        return 0.0


class WebAppError(Exception):
    """A refusal with its HTTP status, a short code, and whether the same form may be sent again."""

    def __init__(self, status: int, code: str, *, retry: bool = False, field: str | None = None, **values: Any):
        super().__init__(code)
        self.status = status
        self.code = code
        self.retry = retry
        self.field = field
        self.values = values
        self.message: str | None = None  # set for pre-check refusals (the diagnosis' own words)
        self.headers: dict[str, str] = {}


#: which form field a pre-check code is about (`bot.diagnosis.precheck` codes start with the field)
_PRECHECK_FIELDS = (
    ("api_key", "api_key"),
    ("key_", "api_key"),
    ("secret", "secret"),
    ("passphrase", "passphrase"),
    ("memo", "memo"),
)


def _precheck_field(diag: Diagnosis) -> str | None:
    code = (diag.code or "").removeprefix("hufi_")  # HuFi's own form limits: hufi_<field>_<problem>
    return next((field for prefix, field in _PRECHECK_FIELDS if code.startswith(prefix)), None)


def _static(name: str) -> bytes:
    return files("bot.webapp").joinpath("static", name).read_bytes()


class MiniApp:
    """The Mini App: its aiohttp sub-application, the state behind it, and a standalone server if wanted.

    `demo_user` turns on the offline demo's stand-in for Telegram's script (served at
    `<prefix>/demo/telegram-web-app.js`, signing an initData for that user with `bot_token`); production
    leaves it None, and the route does not exist.
    """

    def __init__(
        self,
        config: WebAppConfig,
        *,
        bot_token: str,
        submit: Submitter,
        limits: Limits = Limits(),
        demo_user: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not bot_token:
            raise ValueError("the Mini App needs the bot token to check initData")
        self.config = config
        self.prefix = config.path_prefix
        self.limits = limits
        self.demo_user = dict(demo_user) if demo_user is not None else None
        self._token = bot_token
        self._submit = submit
        self._clock = clock
        self.replays = ReplayGuard(limits.max_init_data_age, clock)
        self.rate = UserRateLimiter(limits.requests_per_user, limits.window_seconds, monotonic)
        self._static = {name: _static(name) for name in _STATIC_TYPES}
        self._standin = _static(_STANDIN_FILE) if self.demo_user is not None else b""
        self._runner: web.AppRunner | None = None
        self.port: int | None = None  # the standalone server's port once started
        self.submissions = 0  # checks handed to `submit`, for tests and the status page

    def __repr__(self) -> str:
        return f"MiniApp(prefix={self.prefix!r}, demo={self.demo_user is not None})"

    # -- wiring ----------------------------------------------------------------------------------------------
    def application(self) -> web.Application:
        """A fresh sub-application with the Mini App's routes (relative to the prefix)."""
        app = web.Application(middlewares=[self._guard], client_max_size=self.limits.max_body_bytes)
        app.router.add_get("/key/{exchange}", self._page)
        app.router.add_get("/static/{name}", self._asset)
        app.router.add_post("/api/submit", self._api_submit)
        if self.demo_user is not None:
            app.router.add_get("/demo/telegram-web-app.js", self._standin_script)
        return app

    def add_to(self, app: web.Application) -> web.Application:
        """Mount the Mini App under its prefix on an existing (not yet started) aiohttp application.

        This is how one server answers both the webhook and the Mini App on one port. Returns the sub-app.
        """
        sub = self.application()
        app.add_subapp(self.prefix, sub)
        return sub

    async def start_standalone(self) -> str:
        """Serve the Mini App alone on `config.listen`:`config.port` (0: any free port). Returns its local URL."""
        if self._runner is not None:
            raise RuntimeError("the Mini App server is already running")
        root = web.Application(client_max_size=self.limits.max_body_bytes)
        self.add_to(root)
        # handler_cancellation off: a user closing the page mid-check must not cancel the check (the chat shows it)
        runner = web.AppRunner(root, handler_cancellation=False)
        await runner.setup()
        site = web.TCPSite(runner, self.config.listen, self.config.port)
        try:
            await start_site(site, f"WEBAPP_LISTEN/WEBAPP_PORT {self.config.listen}:{self.config.port}")
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = self.config.port
        server = getattr(site, "_server", None)
        if port == 0 and server is not None and server.sockets:
            port = server.sockets[0].getsockname()[1]
        self.port = port
        host = self.config.listen if ":" not in self.config.listen else f"[{self.config.listen}]"
        return f"http://{host}:{port}{self.prefix}"

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    # -- middleware ------------------------------------------------------------------------------------------
    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Security headers on every answer; no exception text ever reaches a response or a log."""
        api = request.path.startswith(f"{self.prefix}/api/")
        try:
            response = await handler(request)
        except WebAppError as exc:
            response = self._error_response(exc, self._language_hint(request))
        except web.HTTPException as exc:
            if api:
                code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "bad_request")
                message = text("err_bad_request", self._language_hint(request))
                response = self._json({"ok": False, "error": code, "message": message, "retry": False}, exc.status)
            else:
                language = self._language_hint(request)
                page = render_message(text("not_found", language), language=language, prefix=self.prefix)
                response = web.Response(text=page, content_type="text/html", status=exc.status)
        except Exception as exc:  # noqa: BLE001 - the class name only: a message could hold anything
            log.error("webapp: %s %s failed: %s", request.method, request.path, type(exc).__name__)
            error = WebAppError(500, "internal")
            response = (
                self._error_response(error, "en")
                if api
                else web.Response(text="Internal error", content_type="text/plain", status=500)
            )
        response.headers.update(_SECURITY_HEADERS)
        return response

    @staticmethod
    def _language_hint(request: web.Request) -> str:
        return language_of(request.query.get("lang") or request.get(_LANGUAGE))

    # -- pages -----------------------------------------------------------------------------------------------
    def _spec_or_none(self, exchange_id: object) -> ExchangeSpec | None:
        spec = CATALOG.get(exchange_id) if isinstance(exchange_id, str) else None
        return spec if spec is not None and spec.needs_key else None

    async def _page(self, request: web.Request) -> web.Response:
        language = language_of(request.query.get("lang"))
        spec = self._spec_or_none(request.match_info["exchange"])
        if spec is None:
            page = render_message(text("not_found", language), language=language, prefix=self.prefix)
            return web.Response(text=page, content_type="text/html", status=404)
        campaign = request.query.get("campaign", "")
        campaign_type = CampaignType(campaign) if campaign in CampaignType.__members__ else None
        script = f"{self.prefix}/demo/telegram-web-app.js" if self.demo_user is not None else TELEGRAM_SCRIPT
        page = render_form(
            spec, campaign_type=campaign_type, language=language, prefix=self.prefix, telegram_script=script
        )
        return web.Response(text=page, content_type="text/html")

    async def _asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = self._static.get(name)
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type=_STATIC_TYPES[name], charset="utf-8")

    async def _standin_script(self, request: web.Request) -> web.Response:
        """The demo's `telegram-web-app.js`: a freshly signed initData for the demo user, then the stand-in."""
        assert self.demo_user is not None
        init_data = sign_init_data(
            self.demo_user, self._token, extra={"query_id": secrets.token_urlsafe(12)}, clock=self._clock
        )
        boot = json.dumps({"initData": init_data}).replace("<", "\\u003c")
        body = f"window.__tgStandIn = {boot};\n".encode() + self._standin
        return web.Response(body=body, content_type="text/javascript", charset="utf-8")

    # -- the submission --------------------------------------------------------------------------------------
    async def _read_body(self, request: web.Request) -> bytes:
        limit = self.limits.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise WebAppError(413, "too_large")
        data = bytearray()
        while True:
            chunk = await request.content.read(limit + 1 - len(data))
            if not chunk:
                return bytes(data)
            data += chunk
            if len(data) > limit:
                raise WebAppError(413, "too_large")

    async def _api_submit(self, request: web.Request) -> web.Response:
        if request.content_type != JSON_TYPE or (request.charset or "utf-8").lower() != "utf-8":
            raise WebAppError(415, "content_type")
        raw = await self._read_body(request)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            raise WebAppError(400, "bad_request") from None
        if not isinstance(body, dict) or not set(body) <= _BODY_FIELDS:
            raise WebAppError(400, "bad_request")
        if isinstance(body.get("language"), str):
            request[_LANGUAGE] = body["language"][:16]
        try:
            init = validate_init_data(
                body.get("init_data"),  # type: ignore[arg-type] - anything not a string is refused inside
                self._token,
                now=self._clock(),
                max_age=self.limits.max_init_data_age,
            )
        except InitDataError as exc:
            log.info("webapp: refused a submission: initData %s", exc.reason)
            raise WebAppError(401, "stale" if exc.stale else "bad_init_data") from None
        language = language_of(request.get(_LANGUAGE) or init.language_code)
        request[_LANGUAGE] = language
        if self.replays.used(init.hash):
            log.info("webapp: refused a replayed submission from user %s", init.user_id)
            raise WebAppError(409, "replayed")
        wait = self.rate.acquire(init.user_id)
        if wait:
            log.info("webapp: user %s is over the request limit", init.user_id)
            error = WebAppError(429, "rate_limited", retry=True, minutes=max(1, math.ceil(wait / 60)))
            error.headers["Retry-After"] = str(math.ceil(wait))
            raise error
        spec, campaign_type, creds = self._parse_submission(body)
        with ACTIVE_SECRETS.active(creds.secrets()) as redactor:
            return await self._run(init, spec, campaign_type, creds, redactor, language)

    def _parse_submission(self, body: dict[str, Any]) -> tuple[ExchangeSpec, CampaignType | None, Credentials]:
        spec = self._spec_or_none(body.get("exchange"))
        if spec is None:
            raise WebAppError(404, "unknown_exchange")
        campaign = body.get("campaign")
        if campaign in (None, ""):
            campaign_type = None
        elif isinstance(campaign, str) and campaign in CampaignType.__members__:
            campaign_type = CampaignType(campaign)
        else:
            raise WebAppError(400, "bad_request")
        given = body.get("credentials")
        if not isinstance(given, dict) or not set(given) <= set(_CREDENTIAL_FIELDS):
            raise WebAppError(400, "bad_request")
        if any(value is not None and not isinstance(value, str) for value in given.values()):
            raise WebAppError(400, "bad_request")
        wanted = {c.name for c in spec.extra_credentials}
        creds = Credentials.clean(
            given.get("api_key"),
            given.get("secret"),
            given.get("passphrase") if "passphrase" in wanted else None,
            given.get("memo") if "memo" in wanted else None,
        )
        return spec, campaign_type, creds

    async def _run(
        self,
        init: WebAppInitData,
        spec: ExchangeSpec,
        campaign_type: CampaignType | None,
        creds: Credentials,
        redactor: Redactor,
        language: str,
    ) -> web.Response:
        refused = precheck(spec, creds)
        if refused is not None:
            # The chat's own pre-checks, before anything is counted: the user fixes the field and sends again.
            log.info("webapp: pre-check refused a key from user %s: %s", init.user_id, refused.code)
            error = WebAppError(422, "precheck", retry=True, field=_precheck_field(refused))
            found = precheck_text(refused, spec.id, language)
            error.message = redactor.redact(found or cause_title(refused.cause, language, exchange_id=spec.id))
            raise error
        if not self.replays.use(init.hash, init.auth_date):
            raise WebAppError(409, "replayed")  # a concurrent twin got here first
        self.submissions += 1
        log.info("webapp: user %s submitted a key for %s (%s)", init.user_id, spec.id, creds.fingerprint)
        result = await self._submit(init.user_id, spec.id, creds, campaign_type, init_data=init)
        return self._json({"ok": True, "result": self._safe_result(result, redactor, language)})

    @staticmethod
    def _safe_result(result: SubmissionResult, redactor: Redactor, language: str) -> dict[str, Any]:
        lines = [result.title, *result.details]
        if any(redactor.redact(line) != line for line in lines):
            log.error("webapp: a verdict summary held a credential; it was not sent")
            return {"ok": False, "title": text("err_internal", language), "details": [], "checked": result.checked}
        return {"ok": result.ok, "title": result.title, "details": list(result.details), "checked": result.checked}

    # -- answers ---------------------------------------------------------------------------------------------
    @staticmethod
    def _json(payload: Mapping[str, Any], status: int = 200) -> web.Response:
        return web.Response(
            text=json.dumps(payload, ensure_ascii=False), status=status, content_type=JSON_TYPE, charset="utf-8"
        )

    def _error_response(self, exc: WebAppError, language: str) -> web.Response:
        message = exc.message if exc.message is not None else text(f"err_{exc.code}", language, **exc.values)
        payload: dict[str, Any] = {"ok": False, "error": exc.code, "message": message, "retry": exc.retry}
        if exc.field:
            payload["field"] = exc.field
        response = self._json(payload, exc.status)
        response.headers.update(exc.headers)
        return response


@contextlib.asynccontextmanager
async def running_standalone(miniapp: MiniApp) -> Any:
    """`async with running_standalone(app) as url:` the Mini App served alone until the block ends."""
    url = await miniapp.start_standalone()
    try:
        yield url
    finally:
        await miniapp.stop()


__all__ = [
    "Limits",
    "MiniApp",
    "ReplayGuard",
    "UserRateLimiter",
    "WebAppError",
    "content_security_policy",
    "running_standalone",
]
