"""Bans, the rate-limit ledger, the limits beyond the account (per API key, global ceiling, relays) and
retention (check reports and ticket texts deleted after a number of days)."""

from __future__ import annotations

import hashlib
import hmac
import math
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from storage.db import Database, Transaction

Clock = Callable[[], float]

#: The ledger kind for key checks.
CHECK = "check"


@dataclass(frozen=True, slots=True)
class Ban:
    user_id: int
    banned_by: int | None
    reason: str | None
    at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Ban:
        return cls(user_id=int(row["user_id"]), banned_by=row["banned_by"], reason=row["reason"], at=float(row["at"]))


class BanRepository:
    """Users staff have banned from the bot."""

    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock

    async def ban(self, user_id: int, banned_by: int | None, reason: str | None = None) -> None:
        """Ban a user (again: the newest ban replaces the old one)."""
        await self._db.execute(
            "INSERT INTO bans (user_id, banned_by, reason, at) VALUES (?, ?, ?, ?) ON CONFLICT (user_id) "
            "DO UPDATE SET banned_by = excluded.banned_by, reason = excluded.reason, at = excluded.at",
            (user_id, banned_by, reason, self._clock()),
        )

    async def unban(self, user_id: int) -> bool:
        """Lift a ban; False if the user was not banned."""
        return await self._db.execute("DELETE FROM bans WHERE user_id = ?", (user_id,)) > 0

    async def is_banned(self, user_id: int) -> bool:
        return await self._db.fetchval("SELECT 1 FROM bans WHERE user_id = ?", (user_id,)) is not None

    async def get(self, user_id: int) -> Ban | None:
        row = await self._db.fetchone("SELECT * FROM bans WHERE user_id = ?", (user_id,))
        return None if row is None else Ban.from_row(row)

    async def list_bans(self, limit: int = 100) -> list[Ban]:
        rows = await self._db.fetchall("SELECT * FROM bans ORDER BY at DESC LIMIT ?", (int(limit),))
        return [Ban.from_row(row) for row in rows]


class RateLimitLedger:
    """Timestamps of rate-limited actions per user: record, count in a window, prune."""

    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock

    async def record(self, user_id: int, kind: str = CHECK, at: float | None = None) -> None:
        await self._db.execute(
            "INSERT INTO rate_events (user_id, kind, at) VALUES (?, ?, ?)",
            (user_id, kind, self._clock() if at is None else at),
        )

    async def count_since(self, user_id: int, since: float, kind: str = CHECK) -> int:
        """How many actions of `kind` the user took at or after `since`."""
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM rate_events WHERE user_id = ? AND kind = ? AND at >= ?", (user_id, kind, since)
            )
        )

    async def oldest_since(self, user_id: int, since: float, kind: str = CHECK) -> float | None:
        """The oldest action in the window: the limit lifts once it leaves the window."""
        value = await self._db.fetchval(
            "SELECT MIN(at) FROM rate_events WHERE user_id = ? AND kind = ? AND at >= ?", (user_id, kind, since)
        )
        return None if value is None else float(value)

    async def prune(self, before: float) -> int:
        """Delete entries older than `before` (every kind, every user)."""
        return await self._db.execute("DELETE FROM rate_events WHERE at < ?", (before,))


# -- abuse limits beyond the account ----------------------------------------------------------------------------

#: The ledger kind for messages relayed from a user to the support chat.
RELAY = "relay"
HOUR = 3600.0
DAY = 24 * HOUR
#: Check reports and ticket texts are kept this many days by default.
DEFAULT_RETENTION_DAYS = 90
#: Ledger rows are kept this long: far past the longest limit window, short enough to say little about anyone.
LEDGER_KEEP_SECONDS = 2 * DAY

_LIMIT_KEY_INFO = b"hufi-support-bot/per-key-limit/v1"


def derive_limit_key(vault_key: bytes) -> bytes:
    """The key of the per-key limit's HMAC, derived from the vault key (HKDF-SHA256, its own `info`), so the
    limit needs no secret of its own and a database copy without the vault key can't test guessed keys."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LIMIT_KEY_INFO).derive(vault_key)


def key_mac(limit_key: bytes, api_key: str) -> str:
    """What the per-key limit stores for an API key: 16 bytes of HMAC-SHA256, hex. The key is normalised first
    (no whitespace, case folded), so retyping it in another case does not get round the limit."""
    normalised = "".join(api_key.split()).casefold()
    return hmac.new(limit_key, normalised.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Limits:
    """How much is allowed. Per user and per key: checks in the last hour; the ceiling: every user's checks in
    the last hour together; relays: messages a user sends to the support chat in `relay_window_seconds`."""

    checks_per_user_per_hour: int = 10
    checks_per_key_per_hour: int = 10
    checks_per_hour: int = 600
    relays_per_user: int = 20
    relay_window_seconds: float = 10 * 60


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer of a limit: allowed, or which limit stopped it ("user", "key", "global", "relay") and when
    the oldest counted action leaves the window."""

    allowed: bool
    limit: str | None = None
    retry_after: float = 0.0
    used: int = 0
    allowed_count: int = 0

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


class AbuseLimiter:
    """Check and relay limits beyond the account, admitted and recorded in one transaction (two updates racing
    for the last slot can't both get it).

    Checks count in `rate_events` (kind "check", the same rows `RateLimitLedger` counts per user) and, per API
    key, in `key_events` under `key_mac`. Relays count in `rate_events` (kind "relay").
    """

    def __init__(self, db: Database, limit_key: bytes, limits: Limits | None = None, clock: Clock = time.time) -> None:
        if len(limit_key) < 16:
            raise ValueError("the limit key must be at least 16 bytes")
        self._db = db
        self._limit_key = limit_key
        self.limits = limits or Limits()
        self._clock = clock

    def mac(self, api_key: str) -> str:
        return key_mac(self._limit_key, api_key)

    async def admit_check(self, user_id: int, api_key: str, *, record: bool = True) -> Decision:
        """May `user_id` check `api_key` now? When allowed and `record`, the check is counted (user, key and
        the global ceiling). Limits are tried in this order: the user's, the key's, the global ceiling."""
        now = self._clock()
        since = now - HOUR
        mac = self.mac(api_key)
        lim = self.limits
        allowed = {
            "user": lim.checks_per_user_per_hour,
            "key": lim.checks_per_key_per_hour,
            "global": lim.checks_per_hour,
        }
        params = {"user": user_id, "kind": CHECK, "since": since, "mac": mac, "now": now}
        params |= {f"{name}_allowed": count for name, count in allowed.items()}
        async with self._db.serialised() as ops:  # no other admission between the count and the two rows
            if record and await ops.fetchall(_COUNT_CHECK_IF_ALLOWED, params):
                await ops.insert("INSERT INTO key_events (key_mac, at) VALUES (?, ?)", (mac, now))
                return Decision(True)
            row = await ops.fetchone(_windows_read(allowed), params)
        # not recorded (with `record`, the same windows under the same lock were full)
        return _first_full(row, allowed, now)

    async def admit_start(self, user_id: int) -> Decision:
        """May `user_id` start setting up a check (the key is not known yet)? Their own limit and the global
        ceiling, tried as `admit_check` tries them; nothing is recorded."""
        now = self._clock()
        allowed = {"user": self.limits.checks_per_user_per_hour, "global": self.limits.checks_per_hour}
        params = {"user": user_id, "kind": CHECK, "since": now - HOUR}
        row = await self._db.fetchone(_windows_read(allowed), params)
        return _first_full(row, allowed, now)

    async def admit_relay(self, user_id: int, *, record: bool = True) -> Decision:
        """May `user_id` have one more message relayed to the support chat? Counted when allowed and `record`."""
        now = self._clock()
        window = self.limits.relay_window_seconds
        async with self._db.transaction() as tx:
            used, oldest = await _window(
                tx,
                "SELECT COUNT(*), MIN(at) FROM rate_events WHERE user_id = ? AND kind = ? AND at >= ?",
                (user_id, RELAY, now - window),
            )
            if used >= self.limits.relays_per_user:
                return _refused("relay", used, self.limits.relays_per_user, oldest, window, now)
            if record:
                await tx.execute("INSERT INTO rate_events (user_id, kind, at) VALUES (?, ?, ?)", (user_id, RELAY, now))
        return Decision(True)

    async def checks_in_last_hour(self) -> int:
        """Every user's checks in the last hour (for /status next to the ceiling)."""
        since = self._clock() - HOUR
        return int(
            await self._db.fetchval("SELECT COUNT(*) FROM rate_events WHERE kind = ? AND at >= ?", (CHECK, since))
        )


#: The windows of the check limits, tried in this order (`admit_check`; `admit_start` the user's and the global):
#: which rows count towards each in the last hour.
_CHECK_WINDOWS = {
    "user": "FROM rate_events WHERE user_id = :user AND kind = :kind AND at >= :since",
    "key": "FROM key_events WHERE key_mac = :mac AND at >= :since",
    "global": "FROM rate_events WHERE kind = :kind AND at >= :since",
}
#: `admit_check`'s check counted by one statement, in one hop to the database thread, only when every window has
#: room (RETURNING: SQLite 3.35 or later).
_COUNT_CHECK_IF_ALLOWED = (
    "INSERT INTO rate_events (user_id, kind, at) SELECT :user, :kind, :now WHERE "
    + " AND ".join(f"(SELECT COUNT(*) {rows}) < :{name}_allowed" for name, rows in _CHECK_WINDOWS.items())
    + " RETURNING id"
)


def _windows_read(names: Iterable[str]) -> str:
    """One statement reading the named windows: `<name>_used` and `<name>_oldest` of each."""
    columns = []
    for name in names:
        rows = _CHECK_WINDOWS[name]
        columns.append(f"(SELECT COUNT(*) {rows}) AS {name}_used, (SELECT MIN(at) {rows}) AS {name}_oldest")
    return "SELECT " + ", ".join(columns)


def _first_full(row: sqlite3.Row | None, allowed: Mapping[str, int], now: float) -> Decision:
    """The first window (in `allowed`'s order) with no room left, as a refusal; allowed when none."""
    if row is None:  # pragma: no cover - scalar subqueries always give one row
        raise RuntimeError("the limit windows were not read")
    for name, count in allowed.items():
        used, oldest = int(row[f"{name}_used"]), row[f"{name}_oldest"]
        if used >= count:
            return _refused(name, used, count, None if oldest is None else float(oldest), HOUR, now)
    return Decision(True)


async def _window(tx: Transaction | Database, sql: str, params: tuple[object, ...]) -> tuple[int, float | None]:
    row = await tx.fetchone(sql, params)
    if row is None:  # pragma: no cover - COUNT always answers
        return 0, None
    return int(row[0]), None if row[1] is None else float(row[1])


def _refused(limit: str, used: int, allowed: int, oldest: float | None, window: float, now: float) -> Decision:
    retry = max(1.0, (oldest if oldest is not None else now) + window - now)
    return Decision(False, limit, retry, used, allowed)


@dataclass(frozen=True, slots=True)
class PurgeResult:
    checks: int = 0
    ticket_texts: int = 0
    ledger_rows: int = 0
    #: delivered (or given-up) support messages, whose payload holds copies of ticket texts and cards
    outbox_rows: int = 0

    @property
    def total(self) -> int:
        return self.checks + self.ticket_texts + self.ledger_rows + self.outbox_rows


class Retention:
    """Deletes what is kept too long; `purge` is the one call the expiry job makes (next to the vault's).

    Check reports older than `days` are deleted (a ticket pointing at one keeps the ticket, its link is set to
    NULL); ticket texts (descriptions) of tickets without activity for `days` are emptied, and so are delivered
    support messages (cards and relays, which carry copies of them) older than `days`; ledger rows (rate
    limits, per-key limits, relays) older than LEDGER_KEEP_SECONDS are deleted. The WAL is purged afterwards, as
    after a vault wipe, so the deleted texts are gone from the files too.
    """

    def __init__(
        self,
        db: Database,
        days: float = DEFAULT_RETENTION_DAYS,
        clock: Clock = time.time,
        *,
        ledger_keep_seconds: float = LEDGER_KEEP_SECONDS,
    ) -> None:
        if days <= 0:
            raise ValueError("retention days must be positive")
        self._db = db
        self.days = days
        self._clock = clock
        self.ledger_keep_seconds = ledger_keep_seconds

    async def purge(self) -> PurgeResult:
        now = self._clock()
        cutoff = now - self.days * DAY
        ledger_cutoff = now - self.ledger_keep_seconds
        async with self._db.transaction() as tx:
            checks = await tx.execute("DELETE FROM checks WHERE created_at < ?", (cutoff,))
            texts = await tx.execute(
                "UPDATE tickets SET description = '' WHERE description != '' AND updated_at < ?", (cutoff,)
            )
            ledger = await tx.execute("DELETE FROM rate_events WHERE at < ?", (ledger_cutoff,))
            ledger += await tx.execute("DELETE FROM key_events WHERE at < ?", (ledger_cutoff,))
            # the delivery engine prunes these after a week; a shorter retention must not wait for it
            outbox = await tx.execute(
                "DELETE FROM outbox WHERE status IN ('sent', 'failed') AND created_at < ?", (cutoff,)
            )
        result = PurgeResult(checks, texts, ledger, outbox)
        if result.total:
            await self._db.purge_wal()
        else:
            await self._db.purge_pending()
        return result
