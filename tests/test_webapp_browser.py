"""The Mini App page in a real headless browser: Debian's chromium driven through chromium-driver by selenium.

The page is served by the real `MiniApp` (mounted on an aiohttp application, as in webhook mode) with the demo's
stand-in for Telegram's script, which carries a correctly signed initData. Submissions run a REAL check:
`KeyChecker` with a `ClientFactory` pointed at the simulated exchanges of `SandboxWorld`, with demo keys they
know. Afterwards the canary credentials are searched for in every log record, every HTTP response the server
sent, the page and its URL.

Nothing is downloaded: the browser and driver are the system's (`apt-get install chromium chromium-driver`).
Without them the tests are skipped, unless CI_REQUIRE_BROWSER=1 (set by .ci/run), where that is a failure.
Selenium is synchronous, so each browser session runs in a worker thread while the server runs in the test's
event loop; every wait is on a DOM condition (WebDriverWait), never a sleep.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.diagnosis.model import CampaignType
from bot.exchanges.catalog import get_spec
from bot.exchanges.credentials import Credentials
from bot.exchanges.factory import ClientFactory
from bot.exchanges.probes import KeyChecker
from bot.logging_setup import setup_logging
from bot.sandbox.world import DemoKey, SandboxWorld
from bot.webapp import MiniApp, SubmissionResult, WebAppConfig, WebAppInitData, result_from_report, sign_init_data
from bot.webapp.texts import language_of, text
from tests.test_canary import forms

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: Flags that keep chromium off the network and quick to start on a shared 2-core machine.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=390,844",  # a phone's viewport
    # nothing but this machine resolves: the page's <script src="https://telegram.org/..."> fails at once, offline
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)
TOKEN = "7000000005:AAF-webapp-browser-tests-token-0000000"
DEMO_USER = {"id": 5150, "first_name": "Demo", "language_code": "en"}
WAIT = 20.0  # the longest any DOM condition may take (a check against the local fakes takes milliseconds)

# Records CSP violations from before the page's first script runs (CDP-injected scripts are not under the CSP).
VIOLATION_RECORDER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def _missing_browser() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (path.is_file() and os.access(path, os.X_OK)):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


def skip_or_fail(reason: str | None, environ: Mapping[str, str]) -> None:
    """Skip when the browser is missing here; fail instead where CI_REQUIRE_BROWSER=1 (CI must run these)."""
    if reason is None:
        return
    if environ.get("CI_REQUIRE_BROWSER") == "1":
        pytest.fail(f"CI_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless chromium driven by selenium, with the CSP violation recorder (skipped or failed when missing)."""
    skip_or_fail(_missing_browser(), os.environ)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="webapp-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(WAIT)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": VIOLATION_RECORDER})
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


@dataclass
class RealCheck:
    """The Submitter: a real key check against the simulated exchange, summarised for the page."""

    checker: KeyChecker
    calls: list[tuple[int, str, CampaignType | None]] = field(default_factory=list)

    async def __call__(
        self,
        user_id: int,
        exchange_id: str,
        credentials: Credentials,
        campaign_type: CampaignType | None,
        *,
        init_data: WebAppInitData,
    ) -> SubmissionResult:
        self.calls.append((user_id, exchange_id, campaign_type))
        report = await self.checker.check(exchange_id, credentials)
        return result_from_report(report, language_of(init_data.language_code))


@dataclass
class Site:
    url: str
    world: SandboxWorld
    check: RealCheck
    miniapp: MiniApp
    bodies: list[bytes]


@asynccontextmanager
async def site(exchanges: list[str]) -> AsyncIterator[Site]:
    bodies: list[bytes] = []

    @web.middleware
    async def record(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        response = await handler(request)
        body = getattr(response, "body", None)
        bodies.append(bytes(body) if isinstance(body, bytes | bytearray) else repr(response).encode())
        return response

    async with SandboxWorld(exchanges) as world:
        factory = ClientFactory(url_overrides=world.url_overrides)
        for exchange in exchanges:
            factory.limiter(get_spec(exchange)).interval = 0.0
        check = RealCheck(KeyChecker(factory))
        miniapp = MiniApp(
            WebAppConfig(url="http://127.0.0.1/webapp"), bot_token=TOKEN, submit=check, demo_user=DEMO_USER
        )
        root = web.Application(middlewares=[record])
        miniapp.add_to(root)
        runner = web.AppRunner(root)
        await runner.setup()
        tcp = web.TCPSite(runner, "127.0.0.1", 0)
        await tcp.start()
        port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            yield Site(f"http://127.0.0.1:{port}/webapp", world, check, miniapp, bodies)
        finally:
            await runner.cleanup()


#: The test's own browser driver logs what it types into the page (it plays the user's device, not our server).
CLIENT_LOGGERS = ("selenium", "urllib3")


class Collect(logging.Handler):
    """Every record as production logging hands it to a handler (after the redaction filter), client side aside."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in CLIENT_LOGGERS:
            return
        line = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            line += " " + repr(record.exc_info[1])
        self.lines.append(line)


@pytest.fixture
def all_logs() -> Iterator[Collect]:
    with production_logs() as collect:
        yield collect


@contextmanager
def production_logs() -> Iterator[Collect]:
    """Production logging (`setup_logging`, its redaction filter) at DEBUG for every logger, collected."""
    root = logging.getLogger()
    quiet = ("httpx", "httpcore", "aiohttp.access", "aiohttp.client", "telegram", "apscheduler", *CLIENT_LOGGERS)
    saved = (root.level, list(root.handlers), {name: logging.getLogger(name).level for name in quiet})
    setup_logging("DEBUG")
    for name in CLIENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)  # the driver's wire log: every keystroke and page source
    collect = Collect()
    root.addHandler(collect)
    try:
        yield collect
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


def log_lines(collect: Collect) -> list[str]:
    assert collect.lines, "logging captured nothing: the check would prove nothing"
    return collect.lines


# -- driving the page (runs in a worker thread) ------------------------------------------------------------------
STANDIN = (Path(__file__).parents[1] / "bot" / "webapp" / "static" / "telegram-web-app-standin.js").read_text()


def telegram_client_script(init_data: str) -> str:
    """What Telegram's app gives a Mini App, played by the test: `window.Telegram.WebApp` carrying `init_data`.

    It stands in for telegram-web-app.js, which the page asks telegram.org for and the offline browser can't
    load. Injected before the page's scripts, it runs once the document is parsed and before the page's deferred
    script (readyState "interactive"), when the root element it styles exists.
    """
    boot = json.dumps({"initData": init_data})
    return (
        "document.addEventListener('readystatechange', function telegramClient() {\n"
        "  if (document.readyState !== 'interactive') { return; }\n"
        "  document.removeEventListener('readystatechange', telegramClient);\n"
        f"  window.__tgStandIn = {boot};\n{STANDIN}\n"
        "});"
    )


class Page:
    def __init__(self, driver: Any) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = driver
        self.wait = WebDriverWait(driver, WAIT, poll_frequency=0.02)
        self._client: str | None = None

    def open_in_telegram(self, url: str, init_data: str) -> None:
        """Open `url` as Telegram's app opens a Mini App: with `init_data` in `window.Telegram.WebApp`."""
        self.leave_telegram()
        source = telegram_client_script(init_data)
        added = self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})
        self._client = added["identifier"]
        self.open(url)

    def leave_telegram(self) -> None:
        """Pages opened from now on get no `window.Telegram` from the test."""
        if self._client is not None:
            self.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": self._client})
            self._client = None

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def until(self, script: str, *args: Any) -> Any:
        return self.wait.until(lambda d: d.execute_script(script, *args))

    def open(self, url: str) -> None:
        self.driver.get(url)
        self.until("return document.documentElement.getAttribute('data-ready') === 'true'")

    def fill(self, values: dict[str, str]) -> None:
        from selenium.webdriver.common.by import By

        for field_id, value in values.items():
            element = self.driver.find_element(By.ID, field_id)
            element.clear()
            element.send_keys(value)

    def press_main_button(self) -> None:
        from selenium.webdriver.common.by import By

        self.until("var b = document.getElementById('tg-main-button'); return b && !b.hidden && !b.disabled")
        self.driver.find_element(By.ID, "tg-main-button").click()

    def verdict(self) -> tuple[str, list[str]]:
        self.until("return !document.getElementById('result').hidden")
        title = self.js("return document.getElementById('verdict-title').textContent")
        details = self.js("return Array.from(document.querySelectorAll('#verdict-details li'), li => li.textContent)")
        return title, details

    def error(self, element_id: str = "form-error") -> str:
        self.until("var e = document.getElementById(arguments[0]); return e && !e.hidden", element_id)
        return str(self.js("return document.getElementById(arguments[0]).textContent", element_id))

    def values(self) -> dict[str, str]:
        fields = "Array.from(document.querySelectorAll('[data-credential]'), f => [f.id, f.value])"
        return dict(self.js(f"return Object.fromEntries({fields})"))

    def snapshot(self) -> str:
        """Everything the page holds that a credential could hide in."""
        return "\n".join(
            [
                self.driver.current_url,
                self.driver.page_source,
                str(self.js("return document.documentElement.outerHTML")),
                str(self.values()),
                str(self.js("return JSON.stringify(sessionStorage) + JSON.stringify(localStorage)")),
                str(self.js("return performance.getEntriesByType('resource').map(e => e.name).join(' ')")),
            ]
        )

    def csp_violations(self) -> list[str]:
        return list(self.js("return window.__cspViolations || ['recorder missing']"))


def creds_for(key: DemoKey) -> dict[str, str]:
    values = {"api_key": key.account.api_key, "secret": key.secret_to_send}
    if key.account.passphrase:
        values["passphrase"] = key.account.passphrase
    return values


def assert_nowhere(secrets: list[str], haystacks: list[str]) -> None:
    joined = "\n".join(haystacks)
    assert joined.strip(), "nothing searched: the check would prove nothing"
    for secret in secrets:
        assert secret
        for form in forms(secret):
            assert form not in joined, "a credential leaked"


# -- the tests ---------------------------------------------------------------------------------------------------
async def test_a_demo_key_submitted_in_the_browser_gets_a_real_verdict(browser: Any, all_logs: Any) -> None:
    async with site(["mexc"]) as s:
        keys = {k.cause: k for k in s.world.seed_demo("mexc")}
        good, partial = creds_for(keys["ok"]), creds_for(keys["permission_missing"])

        def scenario() -> dict[str, Any]:
            page = Page(browser)
            page.open(f"{s.url}/key/mexc?campaign=MARKET_MAKING&lang=en")
            out: dict[str, Any] = {"initial": page.values()}
            out["paste_blocked"] = page.js(
                "var dt = new DataTransfer(); dt.setData('text/plain', 'x');"
                "var ev = new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true});"
                "document.getElementById('secret').dispatchEvent(ev); return ev.defaultPrevented;"
            )
            out["overflow"] = page.js("return document.documentElement.scrollWidth - window.innerWidth")
            page.fill(good)
            out["typed_type"] = page.js("return document.getElementById('secret').type")
            reveal = "document.querySelector('button.reveal[data-for=secret]').click();"
            out["revealed"] = page.js(reveal + "return document.getElementById('secret').type")
            out["masked_again"] = page.js(reveal + "return document.getElementById('secret').type")
            page.press_main_button()
            out["good"] = page.verdict()
            out["after_good"] = page.values()
            out["main_button"] = page.js("return Telegram.WebApp.MainButton.text")
            out["snapshot_good"] = page.snapshot()
            out["violations_good"] = page.csp_violations()
            page.press_main_button()  # now "Close"
            out["closed"] = page.until("return document.documentElement.getAttribute('data-tg-closed')")

            page.open(f"{s.url}/key/mexc?lang=en")
            page.fill(partial)
            page.press_main_button()
            out["partial"] = page.verdict()
            out["after_partial"] = page.values()
            out["snapshot_partial"] = page.snapshot()
            out["violations_partial"] = page.csp_violations()
            return out

        out = await asyncio.to_thread(scenario)
        calls = list(s.check.calls)
        bodies = [b.decode("utf-8", "replace") for b in s.bodies]

    assert out["initial"] == {"api_key": "", "secret": ""}
    assert out["paste_blocked"] is False
    assert out["overflow"] <= 0, "the page scrolls sideways on a phone"
    assert (out["typed_type"], out["revealed"], out["masked_again"]) == ("password", "text", "password")
    title, details = out["good"]
    assert title == text("verdict_ok")
    assert details == [
        "✓ Account balance: readable",
        "✓ ETH deposit address: readable",
        "✓ Spot trade history: readable",
    ]
    assert out["main_button"] == text("close")
    assert out["closed"] == "true"
    title, details = out["partial"]
    assert title != text("verdict_ok") and "✓ Account balance: readable" in details
    assert any(line.startswith("✗ Spot trade history:") for line in details)
    assert calls == [(5150, "mexc", CampaignType.MARKET_MAKING), (5150, "mexc", None)]
    assert out["after_good"] == out["after_partial"] == {"api_key": "", "secret": ""}
    assert out["violations_good"] == out["violations_partial"] == []
    assert_nowhere(
        [*good.values(), *partial.values()],
        [out["snapshot_good"], out["snapshot_partial"], *bodies, *log_lines(all_logs)],
    )


async def test_forged_stale_and_replayed_init_data_are_refused_in_the_browser(browser: Any, all_logs: Any) -> None:
    async with site(["mexc"]) as s:
        key = s.world.seed_demo("mexc")[0]
        creds = creds_for(key)
        now = int(time.time())
        forged = sign_init_data(DEMO_USER, "7000000006:AAF-not-this-bots-token-00000000000", auth_date=now)
        stale = sign_init_data(DEMO_USER, TOKEN, auth_date=now - 3700)

        def attempt(page: Page, init_data: str | None) -> tuple[str, dict[str, str]]:
            page.open(f"{s.url}/key/mexc")
            if init_data is not None:
                page.js("Telegram.WebApp.initData = arguments[0]", init_data)
            page.fill(creds)
            page.press_main_button()
            return page.error(), page.values()

        def scenario() -> dict[str, Any]:
            page = Page(browser)
            out = {name: attempt(page, data) for name, data in [("forged", forged), ("stale", stale)]}
            page.open(f"{s.url}/key/mexc")
            used = page.js("return Telegram.WebApp.initData")
            page.fill(creds)
            page.press_main_button()
            out["first"] = page.verdict()
            out["replayed"] = attempt(page, used)
            out["snapshot"] = page.snapshot()
            out["violations"] = page.csp_violations()
            return out

        out = await asyncio.to_thread(scenario)
        calls = list(s.check.calls)
        bodies = [b.decode("utf-8", "replace") for b in s.bodies]

    empty = {"api_key": "", "secret": ""}
    assert out["forged"] == (text("err_bad_init_data"), empty)
    assert out["stale"] == (text("err_stale"), empty)
    assert out["first"][0] == text("verdict_ok")
    assert out["replayed"] == (text("err_replayed"), empty)
    assert calls == [(5150, "mexc", None)], "only the genuine, fresh, first submission reached the check"
    assert out["violations"] == []
    assert_nowhere(list(creds.values()), [out["snapshot"], *bodies, *log_lines(all_logs)])


async def test_a_pre_check_message_shows_at_its_field_and_the_corrected_key_is_checked(
    browser: Any, all_logs: Any
) -> None:
    async with site(["kucoin"]) as s:
        account = s.world.fakes["kucoin"].add_account()
        creds = {"api_key": account.api_key, "secret": account.secret, "passphrase": account.passphrase or ""}
        short = "Ab1x"

        def scenario() -> dict[str, Any]:
            page = Page(browser)
            page.open(f"{s.url}/key/kucoin?campaign=HOLDING")
            out: dict[str, Any] = {"fields": sorted(page.values())}
            page.fill({"api_key": creds["api_key"]})
            page.press_main_button()
            out["missing"] = page.error("secret-error")
            page.fill({"secret": creds["secret"], "passphrase": short})
            page.press_main_button()
            out["short"] = page.error("passphrase-error")
            out["kept"] = page.values()
            page.fill({"passphrase": creds["passphrase"]})
            page.press_main_button()
            out["verdict"] = page.verdict()
            out["after"] = page.values()
            out["snapshot"] = page.snapshot()
            out["violations"] = page.csp_violations()
            return out

        out = await asyncio.to_thread(scenario)
        calls = list(s.check.calls)
        bodies = [b.decode("utf-8", "replace") for b in s.bodies]

    assert out["fields"] == ["api_key", "passphrase", "secret"]
    assert out["missing"] == "Please fill in the Secret key."
    assert "at least 7 characters" in out["short"]
    assert out["kept"] == {**creds, "passphrase": short}, "a pre-check refusal keeps the fields for correcting"
    assert out["verdict"][0] == text("verdict_ok")
    assert out["after"] == {"api_key": "", "secret": "", "passphrase": ""}
    assert calls == [(5150, "kucoin", CampaignType.HOLDING)]
    assert out["violations"] == []
    assert_nowhere([*creds.values(), short], [out["snapshot"], *bodies, *log_lines(all_logs)])


async def test_the_page_takes_telegrams_light_and_dark_theme(browser: Any) -> None:
    async with site(["mexc"]) as s:

        def scenario() -> dict[str, Any]:
            page = Page(browser)
            out: dict[str, Any] = {}
            try:
                for scheme in ("light", "dark"):
                    browser.execute_cdp_cmd(
                        "Emulation.setEmulatedMedia",
                        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
                    )
                    page.open(f"{s.url}/key/mexc")
                    out[scheme] = page.js(
                        "var cs = getComputedStyle(document.body);"
                        "var input = getComputedStyle(document.getElementById('api_key'));"
                        "return [Telegram.WebApp.colorScheme, cs.backgroundColor, cs.color, input.backgroundColor,"
                        " getComputedStyle(document.documentElement).getPropertyValue('--tg-theme-bg-color').trim()]"
                    )
                    out[scheme + "_violations"] = page.csp_violations()
            finally:
                browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
            return out

        out = await asyncio.to_thread(scenario)

    # the stand-in's theme colours (as Telegram would set them) reach the page through the CSS variables
    assert out["light"] == ["light", "rgb(255, 255, 255)", "rgb(0, 0, 0)", "rgb(244, 244, 245)", "#ffffff"]
    assert out["dark"] == ["dark", "rgb(33, 33, 33)", "rgb(255, 255, 255)", "rgb(24, 24, 24)", "#212121"]
    assert out["light_violations"] == out["dark_violations"] == []


def test_the_page_script_never_uses_send_data_or_blocks_paste() -> None:
    script = (Path(__file__).parents[1] / "bot" / "webapp" / "static" / "app.js").read_text()
    assert "sendData(" not in script and ".sendData" not in script.replace("never Telegram.WebApp.sendData", "")
    assert "paste" not in script
    assert "localStorage" not in script and "sessionStorage" not in script


def test_a_missing_browser_is_a_skip_here_and_a_failure_in_ci() -> None:
    skip_or_fail(None, {"CI_REQUIRE_BROWSER": "1"})
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        skip_or_fail("/usr/bin/chromium is not installed", {})
    with pytest.raises(pytest.fail.Exception, match="CI_REQUIRE_BROWSER=1 but"):
        skip_or_fail("/usr/bin/chromium is not installed", {"CI_REQUIRE_BROWSER": "1"})
