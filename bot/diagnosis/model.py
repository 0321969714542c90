"""The vocabulary every layer shares: permissions, causes, diagnoses and HuFi campaign types."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Permission(StrEnum):
    """HuFi's three probes, in HuFi's enum order (the order of a `missing` list)."""

    VIEW_ACCOUNT_BALANCE = "VIEW_ACCOUNT_BALANCE"
    VIEW_DEPOSIT_ADDRESS = "VIEW_DEPOSIT_ADDRESS"
    VIEW_SPOT_TRADING_HISTORY = "VIEW_SPOT_TRADING_HISTORY"


class Cause(StrEnum):
    """Why a key failed, in words that decide what the user has to do."""

    OK = "ok"
    KEY_INVALID = "key_invalid"
    KEY_EXPIRED = "key_expired"
    SECRET_MISMATCH = "secret_mismatch"
    PASSPHRASE_WRONG = "passphrase_wrong"
    IP_NOT_WHITELISTED = "ip_not_whitelisted"
    PERMISSION_MISSING = "permission_missing"
    NO_DEPOSIT_ADDRESS = "no_deposit_address"
    CLOCK_SKEW = "clock_skew"
    RATE_LIMITED = "rate_limited"
    EXCHANGE_MAINTENANCE = "exchange_maintenance"
    EXCHANGE_UNREACHABLE = "exchange_unreachable"
    UNKNOWN = "unknown"
    # Causes beyond the fixture vocabulary, each asking the user for something different.
    INCOMPLETE_CREDENTIALS = "incomplete_credentials"
    MALFORMED_CREDENTIALS = "malformed_credentials"
    KEY_SECRET_SWAPPED = "key_secret_swapped"
    NONCE_WINDOW = "nonce_window"
    NONCE_REUSED = "nonce_reused"
    ACCOUNT_RESTRICTED = "account_restricted"
    DEMO_KEY = "demo_key"
    # The exchange froze or locked the key itself (not the account): a new key, or the exchange's support, fixes it.
    KEY_FROZEN = "key_frozen"
    # The key belongs to a sub-account that may not use the API (or this part of it); the main account decides.
    SUBACCOUNT_NO_API = "subaccount_no_api"
    # The exchange's risk control holds the account; only the exchange can lift it.
    RISK_CONTROL = "risk_control"
    # A compliance or regional rule: the account's (or the request's) country or region is not served.
    REGION_BLOCKED = "region_blocked"
    # The exchange would accept the key, but HuFi's own form refuses it (length or format limits).
    HUFI_FORM_LIMIT = "hufi_form_limit"
    NO_KEY_NEEDED = "no_key_needed"
    # The check itself could not judge the key (a client-side bug, a probe misconfiguration, a location block of
    # the checking server): nothing for the user to change in the key; retry later or hand it to support.
    CHECK_FAILED = "check_failed"


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What a reply (or a whole report) means.

    `alternatives` lists the other causes the same evidence can mean, most likely first; it is empty when the
    evidence is unambiguous. `code` is the exchange's own error code or label when there is one, `detail` a short
    redacted text that support can read (English). `args` are the facts behind `detail` as name/value pairs (field
    names and numbers, never a credential), so the advice can say the same thing in the user's language
    (`bot.advice.prechecks`); empty for a reply's diagnosis.
    """

    cause: Cause
    alternatives: tuple[Cause, ...] = field(default=())
    code: str | None = None
    detail: str = ""
    args: tuple[tuple[str, str], ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "cause": str(self.cause),
            "alternatives": [str(c) for c in self.alternatives],
            "code": self.code,
            "detail": self.detail,
        }
        if self.args:
            data["args"] = dict(self.args)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Diagnosis:
        alternatives = data.get("alternatives") or ()
        return cls(
            cause=Cause(str(data["cause"])),
            alternatives=tuple(Cause(str(c)) for c in alternatives),  # type: ignore[union-attr]
            code=None if data.get("code") is None else str(data["code"]),
            detail=str(data.get("detail") or ""),
            args=tuple((str(k), str(v)) for k, v in args.items()) if isinstance(args := data.get("args"), dict) else (),
        )


class CampaignType(StrEnum):
    """HuFi campaign types (recording-oracle `CampaignType`)."""

    MARKET_MAKING = "MARKET_MAKING"
    COMPETITIVE_MARKET_MAKING = "COMPETITIVE_MARKET_MAKING"
    THRESHOLD_MARKET_MAKING = "THRESHOLD_MARKET_MAKING"
    HOLDING = "HOLDING"
    THRESHOLD = "THRESHOLD"


_TRADING = (Permission.VIEW_SPOT_TRADING_HISTORY, Permission.VIEW_DEPOSIT_ADDRESS)
_HOLDING = (Permission.VIEW_ACCOUNT_BALANCE, Permission.VIEW_DEPOSIT_ADDRESS)

#: HuFi's CAMPAIGN_PERMISSIONS_MAP: what joining a campaign of each type requires.
CAMPAIGN_PERMISSIONS: dict[CampaignType, frozenset[Permission]] = {
    CampaignType.MARKET_MAKING: frozenset(_TRADING),
    CampaignType.COMPETITIVE_MARKET_MAKING: frozenset(_TRADING),
    CampaignType.THRESHOLD_MARKET_MAKING: frozenset(_TRADING),
    CampaignType.HOLDING: frozenset(_HOLDING),
    CampaignType.THRESHOLD: frozenset(_HOLDING),
}
