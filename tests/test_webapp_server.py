"""The Mini App server over real HTTP on 127.0.0.1: the page, its headers, and every way a submission is refused.

Each test posts with unique canary credentials and then searches every response body and every log record
(all loggers at DEBUG, before any redaction) for them, in their plain and encoded forms.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.advice.advisor import cause_title
from bot.diagnosis.model import CampaignType, Cause
from bot.exchanges.catalog import get_spec
from bot.exchanges.credentials import Credentials
from bot.exchanges.factory import ClientFactory
from bot.exchanges.probes import KeyChecker
from bot.sandbox.world import SandboxWorld
from bot.webapp import (
    Limits,
    MiniApp,
    SubmissionResult,
    WebAppConfig,
    WebAppInitData,
    result_from_report,
    running_standalone,
    sign_init_data,
    validate_init_data,
)
from bot.webapp.server import ReplayGuard, UserRateLimiter, content_security_policy
from tests.i18n_harness import pseudo, pseudo_locales
from tests.test_canary import forms

TOKEN = "7000000003:AAF-webapp-server-tests-token-00000000"
USER = {"id": 777001, "first_name": "Mia", "language_code": "en"}


@dataclass
class Call:
    user_id: int
    exchange_id: str
    credentials: Credentials
    campaign_type: CampaignType | None
    init_data: WebAppInitData


@dataclass
class Recorder:
    """A Submitter that records what it was given (the real check runs in the browser test)."""

    result: SubmissionResult = field(default_factory=lambda: SubmissionResult(True, "All good", ("line one",)))
    error: BaseException | None = None
    hold: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)
    calls: list[Call] = field(default_factory=list)

    async def __call__(
        self,
        user_id: int,
        exchange_id: str,
        credentials: Credentials,
        campaign_type: CampaignType | None,
        *,
        init_data: WebAppInitData,
    ) -> SubmissionResult:
        self.calls.append(Call(user_id, exchange_id, credentials, campaign_type, init_data))
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.error is not None:
            raise self.error
        return self.result


@dataclass
class Client:
    url: str
    session: aiohttp.ClientSession
    app: MiniApp
    bodies: list[str] = field(default_factory=list)

    def init_data(self, user: dict[str, Any] | None = None, *, age: int = 0, token: str = TOKEN) -> str:
        return sign_init_data(
            user or USER, token, auth_date=int(time.time()) - age, extra={"query_id": secrets.token_hex(6)}
        )

    async def post(self, payload: object = None, *, raw: Any = None, headers: dict[str, str] | None = None) -> Any:
        kwargs: dict[str, Any] = {"headers": {"Content-Type": "application/json"} if headers is None else headers}
        kwargs["data"] = raw if raw is not None else json.dumps(payload)
        async with self.session.post(self.url + "/api/submit", **kwargs) as response:
            text = await response.text()
            self.bodies.append(text)
            return response.status, json.loads(text), response.headers

    async def get(self, path: str) -> tuple[int, str, Any]:
        async with self.session.get(self.url + path) as response:
            text = await response.text()
            self.bodies.append(text)
            return response.status, text, response.headers


@asynccontextmanager
async def served(submit: Recorder, **kwargs: Any) -> AsyncIterator[Client]:
    app = MiniApp(WebAppConfig(url="http://127.0.0.1/webapp", port=0), bot_token=TOKEN, submit=submit, **kwargs)
    async with running_standalone(app) as url, aiohttp.ClientSession() as session:
        yield Client(url, session, app)


def mexc_creds() -> dict[str, str]:
    return {"api_key": "mx0" + secrets.token_hex(8), "secret": secrets.token_hex(16)}


def kucoin_creds(passphrase: str | None = None) -> dict[str, str]:
    return {
        "api_key": secrets.token_hex(12),
        "secret": str(uuid.uuid4()),
        "passphrase": passphrase or "Pp" + secrets.token_hex(5),
    }


def payload(init_data: str, creds: dict[str, str], exchange: str = "mexc", **more: Any) -> dict[str, Any]:
    return {"init_data": init_data, "exchange": exchange, "credentials": creds, **more}


def assert_no_canary(values: Iterable[str], haystacks: Iterable[str]) -> None:
    text = "\n".join(haystacks)
    assert text, "nothing searched: the check would prove nothing"
    for value in values:
        for form in forms(value):
            assert form not in text


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def log_text(caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = []
    for record in caplog.records:
        line = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            line += " " + repr(record.exc_info[1])
        lines.append(line)
    return lines


# -- the page ----------------------------------------------------------------------------------------------------
class PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.script_text = ""
        self.in_script = False
        self.controls: list[tuple[str, dict[str, str | None]]] = []
        self.inline_styles = 0
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self.scripts.append(values)
            self.in_script = True
        if tag in ("input", "textarea", "select"):
            self.controls.append((tag, values))
        if tag == "style" or "style" in values or any(name.startswith("on") for name in values):
            self.inline_styles += 1
        if tag == "link":
            self.links.append(values.get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script:
            self.script_text += data


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    return parser


def assert_strict_headers(headers: Any) -> None:
    csp = headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split("; ")}
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'", "https://telegram.org"]
    assert directives["style-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    assert directives["form-action"] == ["'none'"]
    assert directives["font-src"] == ["'none'"]
    assert "https://web.telegram.org" in directives["frame-ancestors"]
    assert "unsafe" not in csp and "*" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("exchange", "fields"),
    [
        ("mexc", ["api_key", "secret"]),
        ("kucoin", ["api_key", "secret", "passphrase"]),
        ("okx", ["api_key", "secret", "passphrase"]),
        ("bitmart", ["api_key", "secret", "memo"]),
        ("binance", ["api_key", "secret"]),
    ],
)
async def test_the_form_has_the_exchanges_fields_masked_and_nothing_inline(exchange: str, fields: list[str]) -> None:
    async with served(Recorder()) as client:
        status, page, headers = await client.get(f"/key/{exchange}?campaign=HOLDING&lang=en")
    assert status == 200
    assert_strict_headers(headers)
    parsed = parse(page)
    assert [values["id"] for _, values in parsed.controls] == fields
    for tag, values in parsed.controls:
        assert "name" not in values, "a named field would be sent by a plain form submission"
        assert values.get("autocomplete") == "off"
        masked = values.get("type") == "password" or (tag == "textarea" and values.get("class") == "masked")
        assert masked, values["id"]
        assert "maxlength" not in values, "a silently cut paste would hide a too-long value from the pre-check"
    assert parsed.script_text.strip() == "", "inline script"
    assert parsed.inline_styles == 0
    assert [s.get("src") for s in parsed.scripts] == [
        "https://telegram.org/js/telegram-web-app.js",
        "/webapp/static/app.js",
    ]
    assert parsed.links == ["/webapp/static/app.css"]
    assert "Holding" in page
    spec = get_spec(exchange)
    for cred in spec.extra_credentials:
        assert cred.label in page
    secret_tag = next(tag for tag, values in parsed.controls if values["id"] == "secret")
    assert secret_tag == ("textarea" if exchange == "binance" else "input")  # binance takes PEM private keys


async def test_static_files_and_error_pages_carry_the_same_headers() -> None:
    async with served(Recorder()) as client:
        for path, status, kind in [
            ("/static/app.js", 200, "text/javascript"),
            ("/static/app.css", 200, "text/css"),
            ("/static/nothing.js", 404, "text/html"),
            ("/key/hyperliquid", 404, "text/html"),  # a DEX: no key, no form
            ("/key/nosuchexchange", 404, "text/html"),
            ("/elsewhere", 404, "text/html"),
            ("/demo/telegram-web-app.js", 404, "text/html"),  # the stand-in exists in demo mode only
        ]:
            got, body, headers = await client.get(path)
            assert got == status, path
            assert headers["Content-Type"].startswith(kind), path
            assert_strict_headers(headers)
            if status == 404:
                assert "<script" not in body
        status, body, headers = await client.get("/api/submit")
        assert (status, json.loads(body)["error"]) == (405, "method_not_allowed")
        assert json.loads(body)["message"] and headers["Content-Type"].startswith("application/json")
        assert_strict_headers(headers)


async def test_the_page_speaks_the_language_of_its_catalog(tmp_path: Path) -> None:
    with pseudo_locales(tmp_path):
        async with served(Recorder()) as client:
            _, page_es, _ = await client.get("/key/mexc?lang=es-ES")
            _, page_xx, _ = await client.get("/key/mexc?lang=xx")
    heading = pseudo("es", "Check your MEXC API key")
    assert '<html lang="es">' in page_es and heading in page_es
    submit = json.dumps(pseudo("es", "Check the key"), ensure_ascii=False).replace('"', "&quot;")
    assert f"&quot;submit&quot;: {submit}" in page_es  # the script's texts come from the same catalog
    assert '<html lang="en">' in page_xx and "Check your MEXC API key" in page_xx


# -- submissions -------------------------------------------------------------------------------------------------
async def test_a_submission_reaches_the_submitter_with_the_user_from_init_data(all_logs: Any) -> None:
    recorder = Recorder()
    creds = kucoin_creds()
    async with served(recorder) as client:
        init = client.init_data({"id": 424299, "first_name": "Ola", "language_code": "en"})
        status, body, headers = await client.post(payload(init, creds, "kucoin", campaign="HOLDING", language="en"))
        assert status == 200
        assert body == {
            "ok": True,
            "result": {"ok": True, "title": "All good", "details": ["line one"], "checked": True},
        }
        assert headers["Cache-Control"] == "no-store"
        call = recorder.calls[0]
        assert (call.user_id, call.exchange_id, call.campaign_type) == (424299, "kucoin", CampaignType.HOLDING)
        assert call.credentials == Credentials(creds["api_key"], creds["secret"], creds["passphrase"])
        assert call.init_data.user_id == 424299
        # the user id can't be given in the form: unknown fields are refused
        status, body, _ = await client.post(payload(client.init_data(), mexc_creds(), user_id=1))
        assert (status, body["error"]) == (400, "bad_request")
        status, body, _ = await client.post(payload(client.init_data(), {**mexc_creds(), "user_id": "1"}))
        assert (status, body["error"]) == (400, "bad_request")
        assert len(recorder.calls) == 1
    assert_no_canary(creds.values(), client.bodies + log_text(all_logs))


async def test_values_are_trimmed_and_extras_the_exchange_does_not_use_are_dropped() -> None:
    recorder = Recorder()
    creds = mexc_creds()
    async with served(recorder) as client:
        padded = {"api_key": f"  {creds['api_key']}\n", "secret": f"\t{creds['secret']} ", "passphrase": "stray"}
        status, _, _ = await client.post(payload(client.init_data(), padded))
    assert status == 200
    assert recorder.calls[0].credentials == Credentials(creds["api_key"], creds["secret"])


async def test_the_same_init_data_checks_one_key_only(all_logs: Any) -> None:
    recorder = Recorder()
    first, second = mexc_creds(), mexc_creds()
    async with served(recorder) as client:
        init = client.init_data()
        assert (await client.post(payload(init, first)))[0] == 200
        status, body, _ = await client.post(payload(init, second))
        assert (status, body["error"], body["retry"]) == (409, "replayed", False)
        assert "already used" in body["message"]
        assert len(recorder.calls) == 1
        assert len(client.app.replays) == 1
        # a fresh initData of the same user is fine
        assert (await client.post(payload(client.init_data(), second)))[0] == 200
    assert_no_canary([*first.values(), *second.values()], client.bodies + log_text(all_logs))


async def test_two_concurrent_requests_with_one_init_data_run_one_check() -> None:
    recorder = Recorder(hold=asyncio.Event())
    async with served(recorder) as client:
        init = client.init_data()
        first = asyncio.create_task(client.post(payload(init, mexc_creds())))
        await asyncio.wait_for(recorder.started.wait(), 5)
        status, body, _ = await client.post(payload(init, mexc_creds()))
        assert (status, body["error"]) == (409, "replayed")
        recorder.hold.set()  # type: ignore[union-attr]
        assert (await first)[0] == 200
    assert len(recorder.calls) == 1


@pytest.mark.parametrize(
    ("case", "status", "error"),
    [
        ("forged", 401, "bad_init_data"),
        ("other_bot", 401, "bad_init_data"),
        ("tampered_user", 401, "bad_init_data"),
        ("stale", 401, "stale"),
        ("missing", 401, "bad_init_data"),
        ("not_a_string", 401, "bad_init_data"),
        ("text_plain", 415, "content_type"),
        ("form_encoded", 415, "content_type"),
        ("latin1", 415, "content_type"),
        ("huge", 413, "too_large"),
        ("huge_chunked", 413, "too_large"),
        ("not_json", 400, "bad_request"),
        ("deep_json", 400, "bad_request"),
        ("json_list", 400, "bad_request"),
        ("unknown_exchange", 404, "unknown_exchange"),
        ("dex", 404, "unknown_exchange"),
        ("bad_campaign", 400, "bad_request"),
        ("number_secret", 400, "bad_request"),
    ],
)
async def test_refused_requests_store_nothing_and_pass_nothing_on(
    case: str, status: int, error: str, all_logs: Any
) -> None:
    recorder = Recorder()
    creds = mexc_creds()
    async with served(recorder) as client:
        good = client.init_data()
        body_of = payload(good, creds)
        kwargs: dict[str, Any] = {}
        if case == "forged":
            kwargs["payload"] = payload(good[:-64] + secrets.token_hex(32), creds)
        elif case == "other_bot":
            kwargs["payload"] = payload(client.init_data(token="7000000004:AAF-another-bots-token-000000000000"), creds)
        elif case == "tampered_user":
            kwargs["payload"] = payload(good.replace(str(USER["id"]), "1"), creds)
        elif case == "stale":
            kwargs["payload"] = payload(client.init_data(age=3700), creds)
        elif case == "missing":
            kwargs["payload"] = {k: v for k, v in body_of.items() if k != "init_data"}
        elif case == "not_a_string":
            kwargs["payload"] = {**body_of, "init_data": {"hash": "x"}}
        elif case == "text_plain":
            kwargs.update(raw=json.dumps(body_of), headers={"Content-Type": "text/plain"})
        elif case == "form_encoded":
            kwargs.update(raw={"init_data": good, **creds}, headers={})
        elif case == "latin1":
            kwargs.update(raw=json.dumps(body_of), headers={"Content-Type": "application/json; charset=latin-1"})
        elif case == "huge":
            kwargs["payload"] = {**body_of, "credentials": {**creds, "secret": creds["secret"] * 2000}}
        elif case == "huge_chunked":

            async def chunks() -> AsyncIterator[bytes]:
                yield json.dumps(body_of)[:-1].encode() + b', "pad": "'
                for _ in range(64):
                    yield b"x" * 1024
                yield b'"}'

            kwargs.update(raw=chunks())
        elif case == "not_json":
            kwargs["raw"] = "{not json " + creds["secret"]
        elif case == "deep_json":
            kwargs["raw"] = "[" * 15000 + "]" * 15000
        elif case == "json_list":
            kwargs["raw"] = json.dumps([body_of])
        elif case == "unknown_exchange":
            kwargs["payload"] = payload(good, creds, "nosuchexchange")
        elif case == "dex":
            kwargs["payload"] = payload(good, creds, "pancakeswap")
        elif case == "bad_campaign":
            kwargs["payload"] = payload(good, creds, campaign="EVERYTHING")
        elif case == "number_secret":
            kwargs["payload"] = payload(good, {**creds, "secret": 12345})
        got, body, headers = await client.post(kwargs.pop("payload", None), **kwargs)
        assert (got, body["ok"], body["error"]) == (status, False, error)
        assert body["message"], "every refusal says what to do"
        assert_strict_headers(headers)
        assert recorder.calls == []
        assert len(client.app.replays) == 0
        assert client.app.submissions == 0
        if status in (401, 413, 415) or case in ("not_json", "deep_json", "json_list"):
            assert len(client.app.rate) == 0, "nothing is kept about a request that was not authenticated"
        # the genuine request still works afterwards: a refusal uses nothing up
        assert (await client.post(body_of))[0] == 200
    assert_no_canary(creds.values(), client.bodies + log_text(all_logs))


async def test_a_pre_check_refusal_names_the_field_and_keeps_the_init_data_usable(all_logs: Any) -> None:
    recorder = Recorder()
    short = "Ab1" + secrets.token_hex(1)  # 7 characters at least on KuCoin
    good = kucoin_creds()
    async with served(recorder) as client:
        init = client.init_data()
        status, body, _ = await client.post(payload(init, {**good, "passphrase": short}, "kucoin"))
        assert (status, body["error"], body["field"], body["retry"]) == (422, "precheck", "passphrase", True)
        assert "at least 7 characters" in body["message"]
        status, body, _ = await client.post(payload(init, {**good, "secret": ""}, "kucoin"))
        assert (status, body["field"]) == (422, "secret")
        status, body, _ = await client.post(payload(init, {**good, "api_key": good["api_key"][:-1] + "*"}, "kucoin"))
        assert (status, body["field"]) == (422, "api_key") and "never uses" in body["message"]
        assert recorder.calls == [] and len(client.app.replays) == 0
        assert (await client.post(payload(init, good, "kucoin")))[0] == 200
    assert len(recorder.calls) == 1
    assert_no_canary([short, *good.values()], client.bodies + log_text(all_logs))


async def test_each_user_has_a_request_limit() -> None:
    recorder = Recorder()
    async with served(recorder, limits=Limits(requests_per_user=2, window_seconds=600)) as client:
        for _ in range(2):
            assert (await client.post(payload(client.init_data(), mexc_creds())))[0] == 200
        status, body, headers = await client.post(payload(client.init_data(), mexc_creds()))
        assert (status, body["error"], body["retry"]) == (429, "rate_limited", True)
        assert "10 min" in body["message"]
        assert 590 <= int(headers["Retry-After"]) <= 600
        other = {"id": 777002, "first_name": "Bo"}
        assert (await client.post(payload(client.init_data(other), mexc_creds())))[0] == 200
    assert len(recorder.calls) == 3


async def test_a_failing_check_answers_a_plain_error_and_logs_no_secret(all_logs: Any) -> None:
    creds = mexc_creds()
    recorder = Recorder(error=RuntimeError(f"exchange said no to {creds['api_key']} / {creds['secret']}"))
    async with served(recorder) as client:
        init = client.init_data()
        status, body, _ = await client.post(payload(init, creds))
        assert (status, body["error"], body["retry"]) == (500, "internal", False)
        assert (await client.post(payload(init, creds)))[1]["error"] == "replayed"
    assert any("RuntimeError" in line for line in log_text(all_logs))
    assert_no_canary(creds.values(), client.bodies + log_text(all_logs))


async def test_a_verdict_summary_holding_a_credential_is_not_sent(all_logs: Any) -> None:
    creds = mexc_creds()
    recorder = Recorder(result=SubmissionResult(False, "Bad key", (f"you sent {creds['secret']}",)))
    async with served(recorder) as client:
        status, body, _ = await client.post(payload(client.init_data(), creds))
    assert status == 200 and body["result"]["details"] == []
    assert_no_canary(creds.values(), client.bodies + log_text(all_logs))


# -- wiring ------------------------------------------------------------------------------------------------------
async def test_the_mini_app_shares_one_server_and_port_with_other_routes() -> None:
    async def webhook(request: web.Request) -> web.Response:
        return web.Response(text="update taken")

    root = web.Application()
    root.router.add_post("/telegram", webhook)
    miniapp = MiniApp(WebAppConfig(url="https://bot.example.org/mini"), bot_token=TOKEN, submit=Recorder())
    miniapp.add_to(root)
    runner = web.AppRunner(root)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{port}/telegram") as response:
                assert await response.text() == "update taken"
                assert "Content-Security-Policy" not in response.headers  # our headers stay on our routes
            async with session.get(f"http://127.0.0.1:{port}/mini/key/gate") as response:
                assert response.status == 200
                assert "/mini/static/app.js" in await response.text()
                assert response.headers["Content-Security-Policy"] == content_security_policy()
    finally:
        await runner.cleanup()


async def test_the_demo_stand_in_signs_a_fresh_init_data_for_the_demo_user() -> None:
    demo_user = {"id": 5150, "first_name": "Demo", "language_code": "en"}
    async with served(Recorder(), demo_user=demo_user) as client:
        _, page, _ = await client.get("/key/mexc")
        scripts = [s.get("src") for s in parse(page).scripts]
        assert scripts == ["/webapp/demo/telegram-web-app.js", "/webapp/static/app.js"]
        hashes = set()
        for _ in range(2):
            status, script, headers = await client.get("/demo/telegram-web-app.js")
            assert status == 200 and headers["Content-Type"].startswith("text/javascript")
            assert headers["Cache-Control"] == "no-store"
            boot = json.loads(script.split("window.__tgStandIn = ", 1)[1].split(";\n", 1)[0])
            init = validate_init_data(boot["initData"], TOKEN)
            assert init.user_id == 5150
            hashes.add(init.hash)
            assert TOKEN not in script and TOKEN.split(":")[1] not in script
        assert len(hashes) == 2


def test_config_semantics() -> None:
    assert not WebAppConfig().enabled
    config = WebAppConfig(url="https://bot.example.org")
    assert config.enabled and config.path_prefix == "/webapp"
    assert config.base_url == "https://bot.example.org/webapp"
    assert config.page_url("kucoin", CampaignType.HOLDING, "de") == (
        "https://bot.example.org/webapp/key/kucoin?lang=de&campaign=HOLDING"
    )
    assert WebAppConfig(url="https://bot.example.org/keys/").base_url == "https://bot.example.org/keys"
    assert WebAppConfig(url="http://127.0.0.1:8081/webapp").path_prefix == "/webapp"
    for bad in ("http://bot.example.org/webapp", "https://bot.example.org/webapp?x=1", "ftp://x", "https://"):
        with pytest.raises(ValueError):
            WebAppConfig(url=bad)
    with pytest.raises(ValueError):
        WebAppConfig(port=70000)
    with pytest.raises(AttributeError):
        config.url = "https://other.example.org"  # type: ignore[misc]


def test_the_webapp_settings_map_onto_the_config_and_are_documented() -> None:
    from bot.config import ConfigError, Settings
    from tests.test_env_example import readme_settings

    token = "7000000003:" + "A" * 35
    env = {"TELEGRAM_BOT_TOKEN": token, "WEBAPP_URL": "https://bot.example.org/keys", "WEBAPP_PORT": "9090"}
    settings = Settings.from_env({**env, "WEBAPP_LISTEN": "0.0.0.0"}, env_file=None)
    assert settings.webapp == WebAppConfig(url="https://bot.example.org/keys", listen="0.0.0.0", port=9090)
    assert settings.webapp.path_prefix == "/keys"
    off = Settings.from_env({"TELEGRAM_BOT_TOKEN": token}, env_file=None).webapp
    assert off == WebAppConfig(url=None, listen="127.0.0.1", port=8081) and not off.enabled
    bad = {**env, "WEBAPP_URL": "http://bot.example.org/webapp", "WEBAPP_PORT": "70000"}
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(bad, env_file=None)
    assert refused.value.problems == [
        "WEBAPP_URL must start with https:// (http:// only for 127.0.0.1, the offline demo)",
        "WEBAPP_PORT must be a whole number between 0 and 65535 (0: any free port) (got '70000')",
    ]
    with pytest.raises(ConfigError, match="WEBAPP_URL must be a plain address"):
        Settings.from_env({**env, "WEBAPP_URL": "https://bot.example.org/webapp?x=1"}, env_file=None)
    documented = set(readme_settings())
    assert {"WEBAPP_URL", "WEBAPP_LISTEN", "WEBAPP_PORT"} <= documented
    assert {name.upper() for name in Settings.model_fields} == documented, "every setting has its README row"


def test_the_replay_guard_forgets_a_hash_when_its_init_data_expires() -> None:
    now = [1000.0]
    guard = ReplayGuard(3600, clock=lambda: now[0])
    assert guard.use("a" * 64, auth_date=1000)
    assert not guard.use("a" * 64, auth_date=1000)
    assert guard.use("b" * 64, auth_date=1500)
    now[0] = 1000 + 3600 + 1
    assert len(guard) == 1 and not guard.used("a" * 64) and guard.used("b" * 64)
    now[0] = 1500 + 3600 + 1
    assert len(guard) == 0


def test_the_rate_limiter_is_a_sliding_window_per_user() -> None:
    now = [0.0]
    limiter = UserRateLimiter(2, 60, clock=lambda: now[0])
    assert limiter.acquire(1) == 0 and limiter.acquire(1) == 0
    assert limiter.acquire(1) == pytest.approx(60)
    assert limiter.acquire(2) == 0
    now[0] = 30
    assert limiter.acquire(1) == pytest.approx(30)
    now[0] = 60.5
    assert limiter.acquire(1) == 0
    now[0] = 1000
    assert limiter.acquire(3) == 0
    assert len(limiter) == 1  # users idle for a window leave no trace


# -- the summary of a real check ---------------------------------------------------------------------------------
async def test_result_from_report_summarises_real_checks() -> None:
    async with SandboxWorld(["mexc"]) as world:
        keys = {k.cause: k for k in world.seed_demo("mexc")}
        factory = ClientFactory(url_overrides=world.url_overrides)
        factory.limiter(get_spec("mexc")).interval = 0.0
        checker = KeyChecker(factory)

        def creds(cause: str) -> Credentials:
            return Credentials(keys[cause].account.api_key, keys[cause].secret_to_send)

        good = result_from_report(await checker.check("mexc", creds("ok")))
        partial = result_from_report(await checker.check("mexc", creds("permission_missing")))
        malformed = result_from_report(await checker.check("mexc", Credentials("mx0short", "x" * 32)))
        no_address = result_from_report(await checker.check("mexc", creds("no_deposit_address")))
    assert good.ok and good.title == "The key passes every check HuFi makes."
    assert good.details == (
        "✓ Account balance: readable",
        "✓ ETH deposit address: readable",
        "✓ Spot trade history: readable",
    )
    assert not partial.ok
    assert partial.title == cause_title(Cause.PERMISSION_MISSING, exchange_id="mexc")
    assert any(line.startswith("✗ Spot trade history:") for line in partial.details)
    assert "Enough for: Holding, Threshold" in partial.details
    # the exchange's own words and code, as in the chat; never one of our internal labels
    assert "MEXC answered: No permission to access the endpoint. (700007)" in partial.details
    assert not no_address.ok and not any("ccxt_" in line for line in no_address.details)
    assert not malformed.ok and malformed.details
    assert malformed.title == cause_title(Cause.MALFORMED_CREDENTIALS, exchange_id="mexc")


def test_the_mini_app_never_imports_telegram() -> None:
    code = "import sys, bot.webapp, bot.webapp.server; print('telegram' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"
