"""A known support history for the insights tests, written through storage's own repositories.

NOW is Monday 30 Nov 2026 12:00 UTC; the 7-day period runs from Tuesday 24 Nov 00:00 UTC. The expected numbers
(worked out by hand from the rows below, see each comment) are in EXPECTED_*.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.diagnosis.model import Cause, Diagnosis, Permission
from bot.exchanges.report import KeyCheckReport, ProbeOutcome, ProbeStatus
from storage import Repositories
from storage.db import Database

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
# user ids, names and fingerprints that must never show up in a report, a caption or a picture
USERS = {7100001 + n: (f"Zelda{n}", f"zelda_hufi_{n}") for n in range(9)}
U = sorted(USERS)
FP = {n: f"fp{n:02d}…zq{n:02d}" for n in range(11)}
NO_KEY = "—"


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC).timestamp()


def report(exchange: str, fingerprint: str, cause: Cause | None) -> KeyCheckReport:
    """A stored check: every probe granted (cause None), or the deposit probe failed with `cause`."""
    result = KeyCheckReport(exchange, key_fingerprint=fingerprint)
    for perm in Permission:
        result.set_outcome(ProbeOutcome(perm, ProbeStatus.GRANTED, summary="ok"))
    if cause is not None:
        diagnosis = Diagnosis(cause, detail="[REDACTED]")
        result.set_outcome(ProbeOutcome(Permission.VIEW_DEPOSIT_ADDRESS, ProbeStatus.FAILED, diagnosis=diagnosis))
        result.diagnosis = diagnosis
    return result


PM, IP, NDA = Cause.PERMISSION_MISSING, Cause.IP_NOT_WHITELISTED, Cause.NO_DEPOSIT_ADDRESS
PASS = None

#: (time, user, exchange, fingerprint, cause or PASS)
CHECKS: list[tuple[float, int, str, str, Cause | None]] = [
    (at(20, 9), U[1], "mexc", FP[1], PM),  # before the period: counted nowhere
    (at(23, 23, 59, 59), U[0], "binance", FP[10], PM),  # one second before the period
    (at(24, 0), U[0], "binance", FP[10], PASS),  # exactly the start: day 0, a pass, no failure in the period
    (at(24, 10), U[1], "mexc", FP[1], PM),  # key 1 fails ...
    (at(24, 10, 5), U[1], "mexc", FP[1], PM),  # ... again, same cause: one key, one cause
    (at(24, 10, 40), U[1], "mexc", FP[1], PASS),  # ... fixed after 40 min
    (at(24, 11), U[2], "gate", FP[2], NDA),  # key 2 fails ...
    (at(25, 11), U[2], "gate", FP[2], PASS),  # ... fixed after 24 h (next day)
    (at(25, 9), U[3], "mexc", FP[3], IP),  # key 3 fails ...
    (at(25, 9, 30), U[3], "mexc", FP[4], PASS),  # ... and the user passes with another key: replaced
    (at(25, 15), U[4], "bybit", FP[5], PM),  # never passes
    (at(25, 16), U[5], "kucoin", FP[6], Cause.PASSPHRASE_WRONG),  # key 6: two causes ...
    (at(25, 16, 10), U[5], "kucoin", FP[6], PM),
    (at(25, 16, 30), U[5], "kucoin", FP[6], PASS),  # ... fixed after 30 min (from its first failure)
    (at(27, 12), U[6], "bybit", NO_KEY, Cause.INCOMPLETE_CREDENTIALS),  # names no key: never "fixed" ...
    (at(27, 12, 20), U[6], "bybit", FP[7], PASS),  # ... but replaced by a real key that passes
    (at(27, 13), U[7], "mexc", FP[8], PASS),  # a pass without a failure
    (at(30, 8), U[8], "htx", FP[9], Cause.KEY_EXPIRED),  # fails today ...
    (at(30, 13), U[8], "htx", FP[9], PASS),  # ... passes after NOW: neither a check nor a fix of this period
    (at(30, 9), U[1], "mexc", FP[1], PM),  # key 1 fails again after its fix: still fixed (first failure counts)
]

#: (opened, user, first staff reply, closed)
TICKETS: list[tuple[float, int, float | None, float | None]] = [
    (at(20, 9), U[2], at(20, 10), at(26, 9)),  # opened and answered before; closed in the period after 6 days
    (at(24, 10, 10), U[1], at(24, 10, 30), at(24, 12, 10)),  # reply 20 min, closed after 2 h
    (at(25, 15, 30), U[4], at(25, 17, 30), None),  # reply 2 h, still open
    (at(27, 12, 5), U[6], at(28, 12, 5), at(29, 12, 5)),  # reply 24 h, closed after 48 h
    (at(30, 8, 30), U[8], None, None),  # waiting for a first reply, 3.5 h old at NOW
]

EXPECTED_DAILY = [  # (checks, passed, tickets opened, tickets closed) for 24 Nov ... 30 Nov
    (5, 2, 1, 1),
    (7, 3, 1, 0),
    (0, 0, 0, 1),
    (3, 2, 1, 0),
    (0, 0, 0, 0),
    (0, 0, 0, 1),
    (2, 0, 1, 0),
]
EXPECTED_CAUSES = [  # most failed keys first, then by exchange id; causes by count, then name
    ("bybit", [("incomplete_credentials", 1), ("permission_missing", 1)]),
    ("kucoin", [("passphrase_wrong", 1), ("permission_missing", 1)]),
    ("mexc", [("ip_not_whitelisted", 1), ("permission_missing", 1)]),
    ("gate", [("no_deposit_address", 1)]),
    ("htx", [("key_expired", 1)]),
]


async def seed(db: Database) -> None:
    """Write USERS, CHECKS and TICKETS into `db` as the bot would."""
    clock = Clock()
    repos = Repositories.create(db, clock)
    for user_id, (name, username) in USERS.items():
        clock.now = at(1, 0)
        await repos.users.upsert(user_id, name, username, "en")
    for when, user, exchange, fingerprint, cause in CHECKS:
        clock.now = when
        await repos.checks.add(user, report(exchange, fingerprint, cause), "MARKET_MAKING")
    for opened, user, reply, closed in TICKETS:
        clock.now = opened
        ticket, created = await repos.tickets.open(user, f"ticket of {USERS[user][0]}")
        assert created
        if reply is not None:
            assert await repos.tickets.mark_first_staff_reply(ticket.id, reply)
        if closed is not None:
            clock.now = closed
            assert await repos.tickets.close(ticket.id)
