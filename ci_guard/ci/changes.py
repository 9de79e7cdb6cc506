"""What ci-guard did to the host and which remedies failed, in words every report shares."""

from __future__ import annotations

from dataclasses import dataclass

from ci_guard.ci.common import clean_line
from ci_guard.records import HostChange, RunRecord


def host_change_line(change: HostChange, limit: int = 600) -> str:
    """`what (source): detail`, saying so when the change was undone."""
    detail = clean_line(change.detail, limit=limit)
    if change.rolled_back and "rolled back" not in detail:
        detail += "; rolled back"
    source = f" ({change.source})" if change.source else ""
    return f"{change.what}{source}: {detail}"


@dataclass(frozen=True)
class FailedRemedy:
    """One remedy that failed for one reason, and after which attempts."""

    name: str
    why: str
    after: tuple[int, ...]

    def line(self, why: str | None = None) -> str:
        plural = "s" if len(self.after) > 1 else ""
        when = f"attempt{plural} {', '.join(map(str, self.after))}"
        return f"{self.name} after {when} failed: {self.why if why is None else why}"


def failed_remedies(run: RunRecord) -> list[FailedRemedy]:
    """Each failed remedy with its reason, once per (remedy, reason), in the run's order."""
    failed: dict[tuple[str, str], list[int]] = {}
    for retry in run.retries:
        result = retry.remedy_result  # a plain retry never fails: it does nothing
        if result is not None and not result.ok:
            failed.setdefault((retry.remedy, result.why_failed), []).append(retry.attempt)
    return [FailedRemedy(name, why, tuple(after)) for (name, why), after in failed.items()]
