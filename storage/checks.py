"""Finished key checks: the redacted report and its diagnosis, never credentials."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from bot.diagnosis.model import Cause
from bot.exchanges.report import KeyCheckReport
from storage.db import Database

#: Forbidden values shorter than this are not searched for: they would match ordinary words in a report.
MIN_GUARDED_SECRET_LENGTH = 8


#: What `bot.security.fingerprint` stores when there was no API key: such a check names no key.
NO_KEY_FINGERPRINTS = ("", "—")


class SecretInReportError(ValueError):
    """A report about to be stored contains a forbidden value. The message never contains the value."""


@dataclass(frozen=True, slots=True)
class CheckRecord:
    id: int
    user_id: int
    exchange_id: str
    key_fingerprint: str
    campaign_type: str | None
    cause: str | None
    ok: bool
    report: dict[str, Any]
    created_at: float

    def to_report(self) -> KeyCheckReport:
        return KeyCheckReport.from_dict(self.report)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> CheckRecord:
        return cls(
            id=int(row["id"]),
            user_id=int(row["user_id"]),
            exchange_id=row["exchange_id"],
            key_fingerprint=row["key_fingerprint"],
            campaign_type=row["campaign_type"],
            cause=row["cause"],
            ok=bool(row["ok"]),
            report=json.loads(row["report_json"]),
            created_at=float(row["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class FailedKey:
    """A key that failed at least once in a period, and what its owner did next (for support insights).

    A key is (user, exchange, key fingerprint); the fingerprint alone could collide between users. `causes` are the
    distinct causes of its failed checks in the period. `fixed_at` is the first passing check of the same key after
    its first failure in the period (never for a check that named no key); `replaced_at` the first passing check
    of another key of the same user on the same exchange after that failure. Both stop at the period's end.
    """

    user_id: int
    exchange_id: str
    causes: tuple[str, ...]
    first_failed_at: float
    fixed_at: float | None
    replaced_at: float | None


def _secret_forms(secret: str) -> set[str]:
    return {secret, secret.strip(), json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}


def assert_no_secrets(text: str, forbidden: Iterable[str | None]) -> None:
    """Raise SecretInReportError if `text` contains any forbidden value (or its JSON/URL-encoded form)."""
    for secret in forbidden:
        if not secret or len(secret.strip()) < MIN_GUARDED_SECRET_LENGTH:
            continue
        if any(form and form in text for form in _secret_forms(secret)):
            raise SecretInReportError("refusing to store a check report that contains a credential")


def report_cause(report: KeyCheckReport) -> Cause | None:
    """The cause to index a check by: the report's verdict, else OK for a clean report."""
    if report.verdict is not None:
        return report.verdict.cause
    return Cause.OK if report.ok else None


class CheckRepository:
    """Stores finished checks. The report is already redacted when built; `forbidden` double-checks it."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def add(
        self,
        user_id: int,
        report: KeyCheckReport,
        campaign_type: str | None = None,
        *,
        cause: Cause | str | None = None,
        forbidden: Iterable[str | None] = (),
    ) -> int:
        """Store a finished check and return its id.

        Pass the checked credentials' `secrets()` as `forbidden`: the serialised report is searched for each of
        them (values shorter than MIN_GUARDED_SECRET_LENGTH are skipped) and SecretInReportError is raised,
        before anything is written, if one is found.
        """
        data = report.to_dict()
        report_json = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        assert_no_secrets(report_json, forbidden)
        if cause is None:
            cause = report_cause(report)
        return await self._db.insert(
            "INSERT INTO checks (user_id, exchange_id, key_fingerprint, campaign_type, cause, ok, report_json, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user_id,
                report.exchange_id,
                report.key_fingerprint,
                None if campaign_type is None else str(campaign_type),
                None if cause is None else str(cause),
                int(bool(data["ok"])),
                report_json,
                self._clock(),
            ),
        )

    async def get(self, check_id: int) -> CheckRecord | None:
        row = await self._db.fetchone("SELECT * FROM checks WHERE id = ?", (check_id,))
        return None if row is None else CheckRecord.from_row(row)

    async def recent(self, user_id: int, limit: int = 5, *, exchange_id: str | None = None) -> list[CheckRecord]:
        """The user's latest checks, newest first (for one exchange, if given)."""
        sql = "SELECT * FROM checks WHERE user_id = ?"
        params: list[object] = [user_id]
        if exchange_id is not None:
            sql += " AND exchange_id = ?"
            params.append(exchange_id)
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        params.append(int(limit))
        return [CheckRecord.from_row(row) for row in await self._db.fetchall(sql, params)]

    async def count_since(self, since: float) -> int:
        """How many checks all users ran since `since`, for /status."""
        return int(await self._db.fetchval("SELECT COUNT(*) FROM checks WHERE created_at >= ?", (since,)))

    async def outcomes_between(self, start: float, end: float) -> list[tuple[float, bool]]:
        """(created_at, ok) of every check made from `start` to `end` (both included), oldest first."""
        rows = await self._db.fetchall(
            "SELECT created_at, ok FROM checks WHERE created_at >= ? AND created_at <= ? ORDER BY created_at, id",
            (start, end),
        )
        return [(float(row["created_at"]), bool(row["ok"])) for row in rows]

    async def failed_keys_between(self, start: float, end: float) -> list[FailedKey]:
        """Every key with a failed check from `start` to `end`, with its causes and any later pass (see FailedKey)."""
        rows = await self._db.fetchall(
            """
            WITH failed AS (
                SELECT user_id, exchange_id, key_fingerprint, MIN(created_at) AS first_failed_at,
                       group_concat(DISTINCT COALESCE(cause, 'unknown')) AS causes
                FROM checks
                WHERE ok = 0 AND created_at >= :start AND created_at <= :end
                GROUP BY user_id, exchange_id, key_fingerprint
            )
            SELECT f.user_id, f.exchange_id, f.first_failed_at, f.causes,
                   (SELECT MIN(c.created_at) FROM checks c
                     WHERE c.user_id = f.user_id AND c.exchange_id = f.exchange_id
                       AND c.key_fingerprint = f.key_fingerprint AND f.key_fingerprint NOT IN (:nokey0, :nokey1)
                       AND c.ok = 1 AND c.created_at > f.first_failed_at AND c.created_at <= :end) AS fixed_at,
                   (SELECT MIN(c.created_at) FROM checks c
                     WHERE c.user_id = f.user_id AND c.exchange_id = f.exchange_id
                       AND c.key_fingerprint != f.key_fingerprint
                       AND c.ok = 1 AND c.created_at > f.first_failed_at AND c.created_at <= :end) AS replaced_at
            FROM failed f
            ORDER BY f.first_failed_at, f.user_id, f.exchange_id
            """,
            {"start": start, "end": end, "nokey0": NO_KEY_FINGERPRINTS[0], "nokey1": NO_KEY_FINGERPRINTS[1]},
        )
        return [
            FailedKey(
                user_id=int(row["user_id"]),
                exchange_id=row["exchange_id"],
                causes=tuple(sorted(str(row["causes"]).split(","))),
                first_failed_at=float(row["first_failed_at"]),
                fixed_at=None if row["fixed_at"] is None else float(row["fixed_at"]),
                replaced_at=None if row["replaced_at"] is None else float(row["replaced_at"]),
            )
            for row in rows
        ]
