"""The report's figures as plain values: what stats.build_report returns and every
renderer (text, JSON, HTML) reads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

REPORT_VERSION = 1


@dataclass(frozen=True)
class Rates:
    rated_runs: int
    """Finished runs that were not cancelled: the denominator of both rates."""
    first_try: float | None
    after_retries: float | None
    rescued_runs: int
    """Runs that failed at first and succeeded on a later attempt."""


@dataclass(frozen=True)
class TimeLost:
    total_s: float
    """failed_attempts_s + waits_s + remedies_s."""
    failed_attempts_s: float
    waits_s: float
    runs_with_retries: int
    remedies_s: float = 0.0
    cut_waits: int = 0
    """Waits a cancel (or a killed runner) cut short: counted as far as the log shows."""
    runs_split_by_writer: int = 0
    """Runs whose run.finished gave the split itself (lost_*_s fields)."""


@dataclass(frozen=True)
class ClassStat:
    name: str
    attempts: int
    """Failed attempts of this class."""
    share: float
    """Of all failed attempts."""
    retryable: bool | None
    """As logged by the classifier (majority), None when never logged."""
    final_runs: int
    """Finished runs that ended failed with this class."""


@dataclass(frozen=True)
class RemedyStat:
    name: str
    used: int
    runs: int
    """Finished runs that used it at least once."""
    succeeded_after: int
    """Of those runs, how many succeeded after it."""
    success_share: float | None
    reported: int
    """Uses with a remedy.finished line (a plain retry has none)."""
    ok: int
    changed: int


@dataclass(frozen=True)
class MirrorDay:
    day: str
    probes: int
    healthy: int
    healthy_share: float
    median_latency_s: float | None
    p95_latency_s: float | None = None
    dead: int = 0


@dataclass(frozen=True)
class MirrorStat:
    url: str
    probes: int
    healthy: int
    healthy_share: float
    median_latency_s: float | None
    last_verdict: str
    days: tuple[MirrorDay, ...]
    p95_latency_s: float | None = None
    """Of the probes it answered as a mirror, like the median."""
    dead: int = 0
    last_dead_at: str | None = None
    """When a probe last found it dead (verdict `dead`), ISO 8601 UTC."""
    last_seen_at: str | None = None


@dataclass(frozen=True)
class BuilderDay:
    """builder.mirrors checks of one day: did BuildKit take the reloaded mirror list."""

    day: str
    checks: int
    ok: int
    decisions: dict[str, int]
    median_probe_s: float | None


@dataclass(frozen=True)
class DayStat:
    day: str
    runs: int
    rated_runs: int
    succeeded: int
    first_try: int
    success_rate: float | None
    first_try_rate: float | None
    failed_attempts_s: float
    waits_s: float
    remedies_s: float = 0.0


@dataclass(frozen=True)
class SlowRun:
    run_id: str
    started_at: str | None
    duration_s: float
    attempts: int
    status: str
    failure_class: str | None
    command: str = ""
    """The wrapped command, secrets masked, as one line."""
    project: str = ""
    ci_job_url: str | None = None
    lost_s: float = 0.0


@dataclass(frozen=True)
class RunPoint:
    """One run in the per-run trend, oldest first."""

    run_id: str
    started_at: str | None
    duration_s: float
    attempts: int
    status: str
    outcome: str
    """first_try, rescued, failed, timed_out, cancelled or incomplete."""
    lost_s: float
    failure_class: str | None
    project: str = ""


@dataclass(frozen=True)
class InputStat:
    files: int
    lines: int
    skipped: dict[str, int]
    other_events: int

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


@dataclass(frozen=True)
class Report:
    generated_at: str
    since: str | None
    input: InputStat
    runs: int
    by_status: dict[str, int]
    by_stop_reason: dict[str, int]
    """Finished runs by why they stopped (run.finished's stop_reason), most first."""
    rates: Rates
    attempts_histogram: dict[int, int]
    time_lost: TimeLost
    classes: tuple[ClassStat, ...]
    remedies: tuple[RemedyStat, ...]
    mirrors: tuple[MirrorStat, ...]
    days: tuple[DayStat, ...]
    slowest: tuple[SlowRun, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    recent_runs: tuple[RunPoint, ...] = ()
    """The last runs by start time, oldest first (`--runs N`)."""
    builder: tuple[BuilderDay, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["report_version"] = REPORT_VERSION
        data["input"]["skipped_total"] = self.input.skipped_total
        data["attempts_histogram"] = {str(k): v for k, v in self.attempts_histogram.items()}
        return data
