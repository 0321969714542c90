"""The status page: what /status and `python -m bot status` report, built on the checks of `bot.health`.

Transport-free: the Bot API's getMe comes in as a callable. Everyone gets the summary; `detailed=True` (staff, and
the command line) adds latencies, errors and the facts passed in. `python -m bot status --self`, the container's
health check, is not built on this page: it reads the running bot's heartbeat (`bot.heartbeat`), and nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from bot import __version__
from bot.config import Settings
from bot.diagnosis.model import Cause
from bot.exchanges.catalog import CATALOG
from bot.exchanges.factory import ClientFactory
from bot.exchanges.report import KeyCheckReport
from bot.health import build_health_service, down_verdict, format_summary
from storage.db import Database

#: Verdicts for which an outage is the likelier story than the key.
OUTAGE_CAUSES = frozenset(
    {Cause.EXCHANGE_UNREACHABLE, Cause.EXCHANGE_MAINTENANCE, Cause.RATE_LIMITED, Cause.UNKNOWN, Cause.CHECK_FAILED}
)


async def database_write(db: Database) -> None:
    """A real write (it takes SQLite's write lock and rewrites a row) and a read."""
    async with db.transaction() as tx:
        await tx.execute("UPDATE schema_version SET version = version")
    await db.fetchval("SELECT COUNT(*) FROM schema_version")


class StatusPage:
    """The health of HuFi, the exchanges, Telegram and the database, as text, cached by `bot.health`."""

    def __init__(
        self,
        settings: Settings,
        *,
        factory: ClientFactory,
        db: Database,
        get_me: Callable[[], Awaitable[object]] | None = None,
        started_at: float | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.started_at = started_at or time.time()
        write = lambda: database_write(db)  # noqa: E731
        self.health = build_health_service(
            settings.hufi_recording_oracle_url,
            settings.hufi_campaign_launcher_url,
            factory,
            database=write,
            telegram=get_me,
        )

    async def text(self, *, detailed: bool, extra: Mapping[str, str] | None = None) -> str:
        snapshot = await self.health.snapshot()
        facts = dict(extra or {})
        if detailed:
            facts.setdefault("version", __version__)
            facts.setdefault("uptime", str(timedelta(seconds=int(time.time() - self.started_at))))
            facts.setdefault("database size", f"{(await self.db.size_bytes()) / 1024:.0f} KiB")
        return format_summary(snapshot, self.health.directory, detailed=detailed, extra=facts if detailed else None)

    async def healthy(self) -> bool:
        return (await self.health.snapshot()).healthy

    def enabled_exchanges(self) -> set[str] | None:
        """Exchanges HuFi has enabled, once its launcher's list has been read (else None: nothing is known)."""
        directory = self.health.directory
        if directory is None or directory.source != "launcher":
            return None
        return {eid for eid in CATALOG if directory.is_enabled(eid)}

    async def refresh_exchange_list(self) -> None:
        """Read HuFi's list of enabled exchanges now (at start), if this page has one."""
        if self.health.directory is not None:
            await self.health.directory.ensure_fresh()

    async def down_note(self, report: KeyCheckReport) -> str | None:
        """When the verdict looks like an outage and /status agrees, say so instead of blaming the key."""
        verdict = report.verdict
        if report.ok or verdict is None or verdict.cause not in OUTAGE_CAUSES:
            return None
        return down_verdict(report.exchange_id, await self.health.snapshot(), self.health.directory)

    async def close(self) -> None:
        await self.health.close()
