"""Placeholder classifier (replaced by the rule tables of the diagnosis issue)."""

from __future__ import annotations

from typing import Any

import ccxt

from bot.diagnosis.model import Cause, Diagnosis, Permission


def classify_error(exchange_id: str, permission: Permission | None, error: BaseException) -> Diagnosis:
    """Name the cause of `error`. Never raises."""
    try:
        if isinstance(error, ccxt.NetworkError):
            return Diagnosis(Cause.EXCHANGE_UNREACHABLE, detail=str(error)[:300])
        if isinstance(error, ccxt.PermissionDenied):
            return Diagnosis(Cause.PERMISSION_MISSING, detail=str(error)[:300])
        if isinstance(error, ccxt.AuthenticationError):
            return Diagnosis(Cause.KEY_INVALID, detail=str(error)[:300])
        return Diagnosis(Cause.UNKNOWN, detail=str(error)[:300])
    except Exception:  # noqa: BLE001
        return Diagnosis(Cause.UNKNOWN)


def classify_result(exchange_id: str, permission: Permission, result: Any) -> Diagnosis | None:
    """None when `result` proves `permission`; a Diagnosis otherwise. Never raises."""
    if permission is Permission.VIEW_DEPOSIT_ADDRESS:
        address = result.get("address") if isinstance(result, dict) else None
        if not address:
            return Diagnosis(Cause.NO_DEPOSIT_ADDRESS)
    return None


def diagnose_report(report: Any) -> Diagnosis | None:
    """The verdict for a whole report; None when the key is fine."""
    for outcome in report.outcomes.values():
        if outcome.diagnosis is not None:
            return outcome.diagnosis
    return None
