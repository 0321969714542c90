"""What each cause means for what comes next, as one table: whether checking the same key again can help, and what
to do in HuFi once the key works.

The chat's keyboard ("Done, check again"), the "I keep the key for N minutes" line, the advice's last steps, the
command line and the check service (whether the key is kept in the vault at all) all read `CAUSE_TRAITS`, so they
never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from bot.diagnosis.model import Cause, Diagnosis


class HufiNext(StrEnum):
    """What to do in HuFi's app once the key works (each is a text in the advice texts' `hufi` table)."""

    #: the same key, fixed on the exchange: press the refresh icon next to it in HuFi's key list
    REVALIDATE = "revalidate"
    #: a new key, secret, passphrase or memo: edit the exchange's key in HuFi and paste the new values
    REPLACE = "replace"
    #: nothing was wrong with the key: try HuFi again once the exchange (or our check) works
    RETRY_LATER = "retry_later"
    #: nothing to do with keys in HuFi (a DEX)
    NONE = "none"


@dataclass(frozen=True, slots=True)
class CauseTraits:
    #: checking the very same credentials again may give another answer (after a change on the exchange, or in
    #: time); False where only new credentials can help, so the bot neither offers it nor keeps the key
    recheck_helps: bool
    hufi: HufiNext
    #: the fix creates or edits the key on the exchange: the exchange's notes (expiry, extra steps) matter
    touches_key: bool = False


_R, _N = HufiNext.REVALIDATE, HufiNext.REPLACE

CAUSE_TRAITS: Mapping[Cause, CauseTraits] = MappingProxyType(
    {
        Cause.OK: CauseTraits(False, HufiNext.REVALIDATE),
        Cause.KEY_INVALID: CauseTraits(True, _N, touches_key=True),  # a key waiting for activation starts working
        Cause.KEY_EXPIRED: CauseTraits(True, _N, touches_key=True),  # some exchanges renew the same key
        Cause.SECRET_MISMATCH: CauseTraits(False, _N, touches_key=True),
        Cause.PASSPHRASE_WRONG: CauseTraits(False, _N),
        Cause.IP_NOT_WHITELISTED: CauseTraits(True, _R, touches_key=True),
        Cause.PERMISSION_MISSING: CauseTraits(True, _R, touches_key=True),
        Cause.NO_DEPOSIT_ADDRESS: CauseTraits(True, _R),
        Cause.CLOCK_SKEW: CauseTraits(True, HufiNext.RETRY_LATER),
        Cause.RATE_LIMITED: CauseTraits(True, HufiNext.RETRY_LATER),
        Cause.EXCHANGE_MAINTENANCE: CauseTraits(True, HufiNext.RETRY_LATER),
        Cause.EXCHANGE_UNREACHABLE: CauseTraits(True, HufiNext.RETRY_LATER),
        Cause.UNKNOWN: CauseTraits(True, _R),
        Cause.INCOMPLETE_CREDENTIALS: CauseTraits(False, _N),
        Cause.MALFORMED_CREDENTIALS: CauseTraits(False, _N, touches_key=True),
        Cause.KEY_SECRET_SWAPPED: CauseTraits(False, _N),
        Cause.NONCE_WINDOW: CauseTraits(True, _R, touches_key=True),
        Cause.NONCE_REUSED: CauseTraits(True, _R),
        Cause.ACCOUNT_RESTRICTED: CauseTraits(True, _R),
        Cause.DEMO_KEY: CauseTraits(False, _N, touches_key=True),
        Cause.KEY_FROZEN: CauseTraits(True, _N, touches_key=True),  # the exchange may lift the freeze
        Cause.SUBACCOUNT_NO_API: CauseTraits(True, _R),
        Cause.RISK_CONTROL: CauseTraits(True, _R),
        Cause.REGION_BLOCKED: CauseTraits(True, _R),
        Cause.HUFI_FORM_LIMIT: CauseTraits(False, _N, touches_key=True),
        Cause.NO_KEY_NEEDED: CauseTraits(False, HufiNext.NONE),
        Cause.CHECK_FAILED: CauseTraits(True, HufiNext.RETRY_LATER),
    }
)


def traits(cause: Cause | str | None) -> CauseTraits:
    """The traits of `cause` (those of `Cause.UNKNOWN` for anything unknown)."""
    try:
        return CAUSE_TRAITS[Cause(str(cause))]
    except (ValueError, KeyError):
        return CAUSE_TRAITS[Cause.UNKNOWN]


def recheck_helps(verdict: Diagnosis | Cause | str | None) -> bool:
    """Whether checking the same credentials again can help with `verdict` (a diagnosis or a cause).

    None (no verdict: the key passed) is False: there is nothing to check again. The check service keeps a key for
    "check again" only when this is True.
    """
    if verdict is None:
        return False
    cause = verdict.cause if isinstance(verdict, Diagnosis) else verdict
    return traits(cause).recheck_helps
