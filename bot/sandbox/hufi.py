"""A simulated HuFi: the recording oracle's and the campaign launcher's public endpoints on 127.0.0.1.

One aiohttp server serves both services' paths (point `HUFI_RECORDING_ORACLE_URL` and
`HUFI_CAMPAIGN_LAUNCHER_URL` at the same `base_url`, or start two fakes to fail them separately):

* `GET /health/check` (recording oracle, NestJS terminus), by `mode`: "up" → 200 ok report; "db_down" → 503
  naming the database as failed; "slow" → answers only after `slow_delay` seconds (longer than any client
  timeout; released at once when the fake stops); "down" → the server is stopped, connections are refused.
* `GET /health/ping` (campaign launcher): `{"node_env": "production", "git_hash": "..."}`.
* `GET /exchanges` (campaign launcher): `exchanges`, by default every exchange our catalog says HuFi lists,
  enabled. `launcher_mode` ("up", "error" → 503, "slow") governs both launcher paths.

Every request is counted per path in `hits`. Used by the tests and the offline demo.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import Counter
from typing import Any, Literal

from aiohttp import web

from bot.exchanges.catalog import CATALOG

HufiMode = Literal["up", "db_down", "slow", "down"]
LauncherMode = Literal["up", "error", "slow"]
GIT_HASH = "5f0c1e2d3b4a69788796a5b4c3d2e1f0a9b8c7d6"

OK_REPORT: dict[str, Any] = {
    "status": "ok",
    "info": {"database": {"status": "up"}, "cache-client": {"status": "up"}},
    "error": {},
    "details": {"database": {"status": "up"}, "cache-client": {"status": "up"}},
}
DB_DOWN_REPORT: dict[str, Any] = {
    "status": "error",
    "info": {"cache-client": {"status": "up"}},
    "error": {"database": {"status": "down", "message": "timeout"}},
    "details": {"cache-client": {"status": "up"}, "database": {"status": "down", "message": "timeout"}},
}


def default_exchanges() -> list[dict[str, Any]]:
    """What the launcher lists: every catalog exchange HuFi lists, enabled, in the launcher's field shape."""
    return [
        {
            "name": spec.id,
            "enabled": True,
            "display_name": spec.display_name,
            "url": spec.website,
            "logo": f"https://assets.hu.finance/exchanges/{spec.id}.svg",
            "type": str(spec.kind),
        }
        for spec in CATALOG.values()
        if spec.hufi_listed
    ]


class FakeHufi:
    """The fake HuFi server. `await start()` returns its base URL; `await set_mode("down")` refuses connections."""

    def __init__(
        self,
        *,
        mode: HufiMode = "up",
        launcher_mode: LauncherMode = "up",
        exchanges: list[dict[str, Any]] | None = None,
        slow_delay: float = 30.0,
    ) -> None:
        self.mode: HufiMode = mode
        self.launcher_mode: LauncherMode = launcher_mode
        self.exchanges: list[dict[str, Any]] = exchanges if exchanges is not None else default_exchanges()
        self.slow_delay = slow_delay
        self.hits: Counter[str] = Counter()
        self.base_url = ""
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._release = asyncio.Event()

    # -- knobs -------------------------------------------------------------------------------------------------
    def switch_off(self, exchange_id: str) -> None:
        """Mark an exchange `enabled: false` in the launcher's list (HuFi's FEATURE_<NAME>=false)."""
        for item in self.exchanges:
            if item["name"] == exchange_id:
                item["enabled"] = False

    async def set_mode(self, mode: HufiMode) -> None:
        """Change the recording oracle's behaviour; "down" stops the server, leaving it starts it on the same port."""
        self.mode = mode
        if mode == "down":
            await self._stop_server()
        elif self._runner is None and self._port:
            await self._start_server(self._port)

    # -- server ------------------------------------------------------------------------------------------------
    async def start(self) -> str:
        """Start on a free port of 127.0.0.1 (or stay stopped in "down" mode) and return the base URL."""
        if self.mode == "down":
            self._reserve_port()
        else:
            await self._start_server(0)
        return self.base_url

    async def stop(self) -> None:
        """Stop the server and release any request held by "slow"."""
        await self._stop_server()

    async def __aenter__(self) -> FakeHufi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _reserve_port(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            self._port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self._port}"

    async def _start_server(self, port: int) -> None:
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_get("/health/check", self._health_check)
        app.router.add_get("/health/ping", self._ping)
        app.router.add_get("/exchanges", self._exchanges)
        runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        self._runner = runner
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{self._port}"

    async def _stop_server(self) -> None:
        self._release.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _hold(self) -> None:
        """Wait `slow_delay` seconds, or until the fake stops."""
        try:
            await asyncio.wait_for(self._release.wait(), self.slow_delay)
        except TimeoutError:
            pass

    # -- handlers ----------------------------------------------------------------------------------------------
    async def _health_check(self, request: web.Request) -> web.Response:
        self.hits[request.path] += 1
        if self.mode == "slow":
            await self._hold()
        if self.mode == "db_down":
            return _json(DB_DOWN_REPORT, 503)
        return _json(OK_REPORT)

    async def _launcher_fault(self) -> web.Response | None:
        if self.launcher_mode == "slow":
            await self._hold()
        if self.launcher_mode == "error":
            return _json({"statusCode": 503, "message": "Service Unavailable"}, 503)
        return None

    async def _ping(self, request: web.Request) -> web.Response:
        self.hits[request.path] += 1
        fault = await self._launcher_fault()
        return fault or _json({"node_env": "production", "git_hash": GIT_HASH})

    async def _exchanges(self, request: web.Request) -> web.Response:
        self.hits[request.path] += 1
        fault = await self._launcher_fault()
        if fault is not None:
            return fault
        return _json(self.exchanges, headers={"Cache-Control": "public, max-age=3600"})


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(data), content_type="application/json", headers=headers)
