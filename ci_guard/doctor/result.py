"""The values checks return: one CheckResult per check, a DoctorReport for them all."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    severity: str
    """"error" (makes the report unhealthy when not ok), "warning" or "info"."""
    detail: str
    duration_s: float
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def is_failure(self) -> bool:
        return not self.ok and self.severity == ERROR

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "severity": self.severity,
            "detail": self.detail,
            "duration_s": round(self.duration_s, 4),
            "data": self.data,
        }


def since(start: float) -> float:
    """Seconds on the monotonic clock since `start`."""
    return time.monotonic() - start


def passed(
    name: str, detail: str, duration_s: float, data: dict[str, Any] | None = None
) -> CheckResult:
    return CheckResult(name, True, INFO, detail, duration_s, data or {})


def failed(
    name: str,
    detail: str,
    duration_s: float,
    severity: str = ERROR,
    data: dict[str, Any] | None = None,
) -> CheckResult:
    return CheckResult(name, False, severity, detail, duration_s, data or {})


def skipped(name: str, why: str) -> CheckResult:
    return CheckResult(name, False, INFO, f"skipped: {why}", 0.0, {"skipped": True})


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[CheckResult, ...]

    @property
    def healthy(self) -> bool:
        return not any(check.is_failure for check in self.checks)

    def as_log_fields(self) -> dict[str, Any]:
        return {"checks": [check.as_dict() for check in self.checks], "healthy": self.healthy}
