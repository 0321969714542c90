"""A demo-like support history, and the picture of it: `python -m bot.insights.sample docs/insights.png`.

The history is made up but shaped like the real thing (a deterministic random walk: the same picture every
run): users check keys on HuFi's exchanges, most failures have the cause that exchange is known for, most users
fix the key after the bot's advice, some make a new key, some ask support, and staff answer and close tickets.
Everything is written through the storage repositories into a real SQLite file, exactly as the bot writes it,
so the picture in the README is what `/stats` and `python -m bot stats` make from such a database.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.diagnosis.model import Cause, Diagnosis, Permission
from bot.exchanges.report import KeyCheckReport, ProbeOutcome, ProbeStatus
from bot.insights.service import Insights, make_insights
from storage.checks import CheckRepository
from storage.db import Database
from storage.support import TicketRepository

#: The moment the sample history ends (the "now" of its picture).
SAMPLE_NOW = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
SAMPLE_SEED = 22
HOUR = 3600.0

#: (exchange, share of the users, the causes its failures have with their weights)
EXCHANGES: tuple[tuple[str, float, tuple[tuple[Cause, int], ...]], ...] = (
    ("mexc", 0.26, ((Cause.PERMISSION_MISSING, 5), (Cause.IP_NOT_WHITELISTED, 3), (Cause.SECRET_MISMATCH, 2))),
    ("gate", 0.18, ((Cause.NO_DEPOSIT_ADDRESS, 5), (Cause.PERMISSION_MISSING, 3), (Cause.KEY_EXPIRED, 2))),
    ("bybit", 0.14, ((Cause.PERMISSION_MISSING, 4), (Cause.IP_NOT_WHITELISTED, 2), (Cause.KEY_INVALID, 1))),
    ("kucoin", 0.12, ((Cause.PASSPHRASE_WRONG, 5), (Cause.PERMISSION_MISSING, 2))),
    ("htx", 0.1, ((Cause.KEY_EXPIRED, 4), (Cause.PERMISSION_MISSING, 2), (Cause.NO_DEPOSIT_ADDRESS, 1))),
    ("bitmart", 0.08, ((Cause.PASSPHRASE_WRONG, 4), (Cause.KEY_INVALID, 2))),
    ("kraken", 0.07, ((Cause.NONCE_WINDOW, 4), (Cause.PERMISSION_MISSING, 3))),
    ("xt", 0.05, ((Cause.ACCOUNT_RESTRICTED, 3), (Cause.KEY_INVALID, 2), (Cause.UNKNOWN, 1))),
)


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _report(exchange: str, fingerprint: str, cause: Cause | None) -> KeyCheckReport:
    report = KeyCheckReport(exchange, key_fingerprint=fingerprint)
    for perm in Permission:
        report.set_outcome(ProbeOutcome(perm, ProbeStatus.GRANTED, summary="ok"))
    if cause is not None:
        diagnosis = Diagnosis(cause)
        report.set_outcome(ProbeOutcome(Permission.VIEW_DEPOSIT_ADDRESS, ProbeStatus.FAILED, diagnosis=diagnosis))
        report.diagnosis = diagnosis
    return report


def _fingerprint(rng: random.Random) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choices(alphabet, k=4)) + "…" + "".join(rng.choices(alphabet, k=4))


async def seed_sample(db: Database, *, now: datetime = SAMPLE_NOW, days: int = 7, seed: int = SAMPLE_SEED) -> None:
    """Write a demo-like history of `days` days up to `now` into `db`."""
    rng = random.Random(seed)
    clock = _Clock(0.0)
    checks = CheckRepository(db, clock)
    tickets = TicketRepository(db, clock)
    end = now.timestamp()
    start = end - days * 24 * HOUR
    events: list[tuple[float, int, str, str, Cause | None]] = []  # (at, user, exchange, fingerprint, cause)
    support: list[tuple[float, int, float | None, float | None]] = []  # (opened, user, first reply, closed)
    users = 40 * days
    for user in range(1, users + 1):
        exchange, _, causes = rng.choices(EXCHANGES, weights=[e[1] for e in EXCHANGES])[0]
        at = rng.uniform(start, end - 0.5 * HOUR)
        key = _fingerprint(rng)
        if rng.random() < 0.4:
            events.append((at, user, exchange, key, None))
            continue
        cause = rng.choices([c for c, _ in causes], weights=[w for _, w in causes])[0]
        events.append((at, user, exchange, key, cause))
        if rng.random() < 0.3:  # checks again before changing anything
            events.append((at + rng.uniform(60, 600), user, exchange, key, cause))
        roll = rng.random()
        later = at + rng.expovariate(1 / (0.6 * HOUR))
        if roll < 0.62:
            events.append((later, user, exchange, key, None))
        elif roll < 0.77:
            events.append((later, user, exchange, _fingerprint(rng), None))
        if roll >= 0.55 and rng.random() < 0.55:
            opened = at + rng.uniform(120, 1200)
            reply = opened + rng.lognormvariate(7.6, 0.8) if rng.random() < 0.9 else None
            closed = (reply or opened) + rng.lognormvariate(9.6, 0.9) if reply and rng.random() < 0.8 else None
            support.append((opened, user, reply, closed))
    for at, user, exchange, key, cause in sorted(events, key=lambda e: e[0]):
        if at <= end:
            clock.now = at
            await checks.add(user, _report(exchange, key, cause), "MARKET_MAKING")
    for opened, user, reply, closed in sorted(support, key=lambda s: s[0]):
        if opened > end:
            continue
        clock.now = opened
        ticket, _ = await tickets.open(user, "my key fails on HuFi")
        if reply is not None and reply <= end:
            await tickets.mark_first_staff_reply(ticket.id, reply)
        if closed is not None and closed <= end:
            clock.now = closed
            await tickets.close(ticket.id)


async def sample_insights(*, days: int = 7) -> Insights:
    """Seed a throw-away database with the sample history; its report, picture and caption."""
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "sample.sqlite3")
        try:
            await seed_sample(db, days=days)
            return await make_insights(db, days, SAMPLE_NOW, isolated=False)
        finally:
            await db.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.insights.sample", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where to write the PNG, e.g. docs/insights.png")
    parser.add_argument("--days", type=int, default=7, help="days of history (default 7)")
    args = parser.parse_args(argv)
    insights = asyncio.run(sample_insights(days=args.days))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(insights.png)
    print(insights.caption)
    return 0


if __name__ == "__main__":
    sys.exit(main())
