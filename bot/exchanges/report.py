"""The result of a key check: one outcome per permission, plus what the whole report means."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bot.diagnosis.model import CAMPAIGN_PERMISSIONS, CampaignType, Diagnosis, Permission
from bot.security import scrub_request_details


def scrubbed(value: Any) -> Any:
    """`value` (a string, or lists and dicts of them) without signed-request details: what is stored and shown
    never carries a signature, timestamp, nonce or api-key parameter, whoever built the report."""
    if isinstance(value, str):
        return scrub_request_details(value)
    if isinstance(value, dict):
        return {k: scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrubbed(v) for v in value]
    return value


class ProbeStatus(StrEnum):
    WAITING = "waiting"
    GRANTED = "granted"
    FAILED = "failed"
    NOT_CHECKED = "not_checked"


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """What one probe found.

    `error` is the exception the probe raised, rebuilt with a redacted message (same class), kept so the
    diagnosis can be recomputed; it is never serialised. `error_type` and `error_message` are its class name
    and redacted text; `diagnosis` is what `classify_error`/`classify_result` made of it.
    """

    permission: Permission
    status: ProbeStatus = ProbeStatus.WAITING
    diagnosis: Diagnosis | None = None
    error_type: str | None = None
    error_message: str | None = None
    elapsed_ms: float | None = None
    summary: str | None = None  # a redacted word about a successful result ("address found", "0 trades")
    error: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def granted(self) -> bool:
        return self.status is ProbeStatus.GRANTED

    def to_dict(self) -> dict[str, Any]:
        return {
            "permission": str(self.permission),
            "status": str(self.status),
            "diagnosis": scrubbed(self.diagnosis.to_dict()) if self.diagnosis else None,
            "error_type": self.error_type,
            "error_message": scrubbed(self.error_message),
            "elapsed_ms": None if self.elapsed_ms is None else round(self.elapsed_ms, 1),
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeOutcome:
        diag = data.get("diagnosis")
        return cls(
            permission=Permission(data["permission"]),
            status=ProbeStatus(data["status"]),
            diagnosis=Diagnosis.from_dict(scrubbed(diag)) if diag else None,
            error_type=data.get("error_type"),
            error_message=scrubbed(data.get("error_message")),
            elapsed_ms=data.get("elapsed_ms"),
            summary=data.get("summary"),
        )


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class KeyCheckReport:
    """Everything a check learned about one key on one exchange.

    `precheck` is set when the check stopped before any request (incomplete or malformed credentials, DEX).
    `diagnosis` is the report-level diagnosis (all probes weighed together), filled by `bot.diagnosis`.
    `verdict` is what the report says, once for everyone: the pre-request problem, else the diagnosis.
    `evidence` holds redacted facts from key-info endpoints (permissions, echoed IP, nonce window...).
    """

    exchange_id: str
    key_fingerprint: str = "—"
    outcomes: dict[Permission, ProbeOutcome] = field(default_factory=dict)
    precheck: Diagnosis | None = None
    diagnosis: Diagnosis | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    started_at: datetime = field(default_factory=_now)
    finished_at: datetime | None = None

    def __post_init__(self) -> None:
        for perm in Permission:
            self.outcomes.setdefault(perm, ProbeOutcome(perm, ProbeStatus.NOT_CHECKED))

    def set_outcome(self, outcome: ProbeOutcome) -> None:
        self.outcomes[outcome.permission] = outcome

    def mark_waiting(self, permissions: list[Permission]) -> None:
        for perm in permissions:
            self.outcomes[perm] = replace(self.outcomes[perm], status=ProbeStatus.WAITING)

    @property
    def granted(self) -> list[Permission]:
        return [p for p in Permission if self.outcomes[p].status is ProbeStatus.GRANTED]

    @property
    def missing(self) -> list[Permission]:
        """Permissions that failed, in HuFi's enum order."""
        return [p for p in Permission if self.outcomes[p].status is ProbeStatus.FAILED]

    @property
    def verdict(self) -> Diagnosis | None:
        """What the report says went wrong: the pre-request problem, else the diagnosis (None: nothing wrong yet)."""
        return self.precheck or self.diagnosis

    @property
    def ok(self) -> bool:
        """Every permission granted and nothing stopped the check."""
        return self.precheck is None and all(self.outcomes[p].granted for p in Permission)

    def qualifies(self, campaign_type: CampaignType) -> bool:
        if self.precheck is not None:
            return False
        return all(self.outcomes[p].granted for p in CAMPAIGN_PERMISSIONS[campaign_type])

    @property
    def campaign_types(self) -> dict[CampaignType, bool]:
        return {ct: self.qualifies(ct) for ct in CampaignType}

    @property
    def elapsed_ms(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds() * 1000

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form with nothing secret in it: messages are redacted when the outcome is built, and every
        text loses signed-request details here (and again in `from_dict`, for reports stored before)."""
        return {
            "exchange": self.exchange_id,
            "key_fingerprint": self.key_fingerprint,
            "ok": self.ok,
            "missing": [str(p) for p in self.missing],
            "outcomes": {str(p): self.outcomes[p].to_dict() for p in Permission},
            "precheck": scrubbed(self.precheck.to_dict()) if self.precheck else None,
            "diagnosis": scrubbed(self.diagnosis.to_dict()) if self.diagnosis else None,
            "campaign_types": {str(ct): ok for ct, ok in self.campaign_types.items()},
            "evidence": scrubbed(self.evidence),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KeyCheckReport:
        report = cls(
            exchange_id=data["exchange"],
            key_fingerprint=data.get("key_fingerprint", "—"),
            precheck=Diagnosis.from_dict(scrubbed(data["precheck"])) if data.get("precheck") else None,
            diagnosis=Diagnosis.from_dict(scrubbed(data["diagnosis"])) if data.get("diagnosis") else None,
            evidence=scrubbed(dict(data.get("evidence") or {})),
            started_at=datetime.fromisoformat(data["started_at"]),
            finished_at=datetime.fromisoformat(data["finished_at"]) if data.get("finished_at") else None,
        )
        for raw in (data.get("outcomes") or {}).values():
            report.set_outcome(ProbeOutcome.from_dict(raw))
        return report
