"""The numbers behind the insights picture, computed from the database for a period (`build_report`).

Definitions (each is what a panel shows; all times are the stored ones, Unix seconds):

(a) Checks per day: every stored check whose `created_at` falls on the day (calendar days of the period, see
    `bot.insights.period`); "passed" is a check stored with ok = 1 (every permission HuFi checks granted).
(b) Causes per exchange: the keys that failed in the period, by the cause of their failed checks. A key is
    (user, exchange, key fingerprint); a key counts once per distinct cause it failed with, however often it
    was re-checked, so one user retrying ten times does not outweigh ten users. A failed check without a stored
    cause counts as "unknown". Only the most frequent causes get their own colour; the rest are "Other".
(c) Fixed keys: a key that failed in the period is *fixed* when the same user later (after the key's first
    failed check in the period, up to the period's end) has a passing check of the same key fingerprint on the
    same exchange. A check that named no key (fingerprint "—", e.g. incomplete details) is never "fixed"; it
    and any key not fixed is *replaced* when the same user later passed on the same exchange with another key.
    "Users who fixed their key" counts users with at least one fixed key among the users with a failed key.
    The time to fix is from the key's first failed check in the period to its first passing check after it.
    A failure near the end of the period has had little time to be fixed: compare periods of the same length.
(d) Tickets per day: opened = `created_at` on the day, closed = `closed_at` on the day. Time to the first staff
    reply = `first_staff_reply_at - created_at` for the tickets first answered in the period; time to close =
    `closed_at - created_at` for the tickets closed in the period (events in the period, so a long-open ticket
    closed this week counts this week). "Waiting" = tickets open when the report is made that have no staff
    reply yet, with the age of the oldest.

Nothing in a report identifies a user or a key: it holds counts, exchange ids, cause values and durations.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.exchanges.catalog import CATALOG
from bot.insights.period import Period, zone_name

if TYPE_CHECKING:  # the rows only; this module never touches the database (see bot.insights.service)
    from storage.checks import FailedKey
    from storage.support import TicketTimes


@dataclass(frozen=True, slots=True)
class DayStats:
    """One calendar day of the period."""

    day: date
    checks: int = 0
    passed: int = 0
    tickets_opened: int = 0
    tickets_closed: int = 0

    @property
    def failed(self) -> int:
        return self.checks - self.passed

    @property
    def pass_share(self) -> float | None:
        return self.passed / self.checks if self.checks else None


@dataclass(frozen=True, slots=True)
class ExchangeCauses:
    """Failed keys on one exchange by cause (cause value -> number of keys), most frequent cause first."""

    exchange_id: str
    causes: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.causes)

    @property
    def name(self) -> str:
        spec = CATALOG.get(self.exchange_id)
        return spec.display_name if spec is not None else self.exchange_id


@dataclass(frozen=True, slots=True)
class ExchangeFixes:
    """Keys that failed on one exchange, and how many were fixed or replaced later."""

    exchange_id: str
    failed: int
    fixed: int
    replaced: int

    @property
    def not_passed(self) -> int:
        return self.failed - self.fixed - self.replaced

    @property
    def name(self) -> str:
        spec = CATALOG.get(self.exchange_id)
        return spec.display_name if spec is not None else self.exchange_id


@dataclass(frozen=True, slots=True)
class FixStats:
    keys_failed: int = 0
    keys_fixed: int = 0
    keys_replaced: int = 0
    users_failed: int = 0
    users_fixed: int = 0
    #: users with no fixed key who passed with another key on the same exchange
    users_replaced: int = 0
    median_fix_seconds: float | None = None
    by_exchange: tuple[ExchangeFixes, ...] = ()

    @property
    def users_fixed_share(self) -> float | None:
        return self.users_fixed / self.users_failed if self.users_failed else None


@dataclass(frozen=True, slots=True)
class TicketStats:
    opened: int = 0
    closed: int = 0
    replied: int = 0
    median_first_reply_seconds: float | None = None
    median_close_seconds: float | None = None
    waiting: int = 0
    oldest_waiting_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class InsightsReport:
    """Everything the picture and its caption show. Holds no user id, name, key or fingerprint."""

    days: int
    start: datetime
    end: datetime
    tz_name: str
    daily: tuple[DayStats, ...]
    causes: tuple[ExchangeCauses, ...] = ()
    fixes: FixStats = field(default_factory=FixStats)
    tickets: TicketStats = field(default_factory=TicketStats)

    @property
    def checks(self) -> int:
        return sum(d.checks for d in self.daily)

    @property
    def passed(self) -> int:
        return sum(d.passed for d in self.daily)

    @property
    def pass_share(self) -> float | None:
        return self.passed / self.checks if self.checks else None

    @property
    def cause_totals(self) -> tuple[tuple[str, int], ...]:
        """Failed keys per cause over every exchange, most frequent first (ties by cause value)."""
        totals: Counter[str] = Counter()
        for exchange in self.causes:
            totals.update(dict(exchange.causes))
        return tuple(sorted(totals.items(), key=lambda item: (-item[1], item[0])))

    @property
    def first_day(self) -> date:
        return self.daily[0].day

    @property
    def last_day(self) -> date:
        return self.daily[-1].day


def compute(
    period: Period,
    outcomes: list[tuple[float, bool]],
    failed_keys: list[FailedKey],
    tickets: list[TicketTimes],
) -> InsightsReport:
    """The report from the rows the repositories return (pure; `bot.insights.service.build_report` feeds it)."""
    checks = [0] * period.days
    passed = [0] * period.days
    for at, ok in outcomes:
        index = period.day_index(at)
        if index is not None:
            checks[index] += 1
            passed[index] += int(ok)
    opened = [0] * period.days
    closed = [0] * period.days
    for ticket in tickets:
        if (index := period.day_index(ticket.created_at)) is not None:
            opened[index] += 1
        if ticket.closed_at is not None and (index := period.day_index(ticket.closed_at)) is not None:
            closed[index] += 1
    daily = tuple(DayStats(day, checks[n], passed[n], opened[n], closed[n]) for n, day in enumerate(period.dates))
    return InsightsReport(
        days=period.days,
        start=period.start,
        end=period.end,
        tz_name=zone_name(period.tz),
        daily=daily,
        causes=_causes(failed_keys),
        fixes=_fixes(failed_keys),
        tickets=_tickets(period, tickets),
    )


def _causes(keys: list[FailedKey]) -> tuple[ExchangeCauses, ...]:
    per_exchange: dict[str, Counter[str]] = {}
    for key in keys:
        per_exchange.setdefault(key.exchange_id, Counter()).update(set(key.causes))
    rows = [
        ExchangeCauses(exchange, tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))))
        for exchange, counts in per_exchange.items()
    ]
    return tuple(sorted(rows, key=lambda row: (-row.total, row.exchange_id)))


def _fixes(keys: list[FailedKey]) -> FixStats:
    if not keys:
        return FixStats()
    fixed = [k for k in keys if k.fixed_at is not None]
    replaced = [k for k in keys if k.fixed_at is None and k.replaced_at is not None]
    users_failed = {k.user_id for k in keys}
    users_fixed = {k.user_id for k in fixed}
    users_replaced = {k.user_id for k in replaced} - users_fixed
    exchanges: dict[str, list[int]] = {}
    for key in keys:
        row = exchanges.setdefault(key.exchange_id, [0, 0, 0])
        row[0] += 1
        row[1] += key.fixed_at is not None
        row[2] += key.fixed_at is None and key.replaced_at is not None
    by_exchange = tuple(
        sorted(
            (ExchangeFixes(exchange, *counts) for exchange, counts in exchanges.items()),
            key=lambda row: (-row.failed, row.exchange_id),
        )
    )
    return FixStats(
        keys_failed=len(keys),
        keys_fixed=len(fixed),
        keys_replaced=len(replaced),
        users_failed=len(users_failed),
        users_fixed=len(users_fixed),
        users_replaced=len(users_replaced),
        median_fix_seconds=_median([k.fixed_at - k.first_failed_at for k in fixed if k.fixed_at is not None]),
        by_exchange=by_exchange,
    )


def _tickets(period: Period, tickets: list[TicketTimes]) -> TicketStats:
    start, end = period.start_ts, period.end_ts

    def within(at: float | None) -> bool:
        return at is not None and start <= at <= end

    replies = [t.first_staff_reply_at - t.created_at for t in tickets if within(t.first_staff_reply_at)]  # type: ignore[operator]
    closes = [t.closed_at - t.created_at for t in tickets if within(t.closed_at)]  # type: ignore[operator]
    waiting = [
        t
        for t in tickets
        if t.is_open and t.created_at <= end and (t.first_staff_reply_at is None or t.first_staff_reply_at > end)
    ]
    return TicketStats(
        opened=sum(1 for t in tickets if within(t.created_at)),
        closed=len(closes),
        replied=len(replies),
        median_first_reply_seconds=_median(replies),
        median_close_seconds=_median(closes),
        waiting=len(waiting),
        oldest_waiting_seconds=max((end - t.created_at for t in waiting), default=None),
    )


def _median(values: list[float]) -> float | None:
    return statistics.median([max(0.0, v) for v in values]) if values else None
