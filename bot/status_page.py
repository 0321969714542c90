"""The status page: what /status and `python -m bot status` report, built on the checks of `bot.health`.

Transport-free: the Bot API's getMe comes in as a callable. Everyone gets the summary; `detailed=True` (staff, and
the command line) adds latencies, errors and the facts passed in. `pages(text)` cuts a long text into messages
that fit Telegram's limit (the staff view with every exchange failing and every fact runs past it).
`python -m bot status --self`, the container's health check, is not built on this page: it reads the running
bot's heartbeat (`bot.heartbeat`), and nothing else.
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
from bot.health import build_health_service, down_verdict, format_summary, status_text
from bot.i18n import DEFAULT_LANGUAGE
from storage.db import Database

#: Longest text of one message: Telegram counts 4,096 characters after entity parsing
#: (https://core.telegram.org/bots/api#sendmessage); a page stays below that with room to spare.
PAGE_LIMIT = 4000
#: At most this many messages for one /status (the rest is cut, saying so).
MAX_PAGES = 4
_ELLIPSIS = "…"

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

    async def text(
        self, *, detailed: bool, extra: Mapping[str, str] | None = None, language: str = DEFAULT_LANGUAGE
    ) -> str:
        """The status in `language` (the user's; the staff language in the support chat)."""
        snapshot = await self.health.snapshot()
        facts = dict(extra or {})
        if detailed:
            facts.setdefault(status_text(language, "fact_version"), __version__)
            uptime = str(timedelta(seconds=int(time.time() - self.started_at)))
            facts.setdefault(status_text(language, "fact_uptime"), uptime)
            size = f"{(await self.db.size_bytes()) / 1024:.0f} KiB"
            facts.setdefault(status_text(language, "fact_database_size"), size)
        return format_summary(
            snapshot, self.health.directory, detailed=detailed, extra=facts if detailed else None, language=language
        )

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

    async def down_note(self, report: KeyCheckReport, language: str = DEFAULT_LANGUAGE) -> str | None:
        """When the verdict looks like an outage and /status agrees, say so instead of blaming the key."""
        verdict = report.verdict
        if report.ok or verdict is None or verdict.cause not in OUTAGE_CAUSES:
            return None
        return down_verdict(report.exchange_id, await self.health.snapshot(), self.health.directory, language)

    async def close(self) -> None:
        await self.health.close()


def pages(text: str, limit: int = PAGE_LIMIT, max_pages: int = MAX_PAGES) -> list[str]:
    """`text` as at most `max_pages` pieces of at most `limit` characters, cut between sections (blank lines) where it
    can, else between lines; a single line longer than `limit` is shortened with an ellipsis, and what does not fit
    in `max_pages` is left out, saying how many lines. The text is plain: the caller escapes each piece on its own,
    so no markup is ever cut in two."""
    lines = [line if len(line) <= limit else line[: limit - 1] + _ELLIPSIS for line in text.split("\n")]
    chunks: list[list[str]] = []
    page: list[str] = []
    for line in lines:
        while page and len("\n".join([*page, line])) > limit:
            cut = _section_end(page)
            chunks.append(page[:cut])
            page = page[cut:]
        page.append(line)
    chunks.append(page)
    result = [joined for chunk in chunks if (joined := "\n".join(chunk).strip("\n"))]
    if len(result) > max_pages:
        kept = result[max_pages - 1].split("\n")
        left = sum(len(chunk) for chunk in chunks[max_pages:])
        while len(kept) > 1 and len("\n".join(kept)) + len(f"\n{_ELLIPSIS} ({left + 1} more lines not shown)") > limit:
            kept.pop()
            left += 1
        note = f"{_ELLIPSIS} ({left} more lines not shown)"
        last = "\n".join(kept)[: limit - len(note) - 1]
        result = [*result[: max_pages - 1], last + "\n" + note]
    return result or [""]


def _section_end(page: list[str]) -> int:
    """Where to cut a full page: after its last blank line if that keeps at least half of it, else at its end."""
    for index in range(len(page) - 1, 0, -1):
        if not page[index].strip():
            return index + 1 if index + 1 >= len(page) // 2 else len(page)
    return len(page)
