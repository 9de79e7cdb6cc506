"""Fleet metrics for one run: Prometheus text format, a textfile-collector file, a Pushgateway push.

What to export is a pure function of the RunRecord (`run_metric_families`); the
`prometheus-client` package renders and pushes it, imported only when metrics are
asked for so a plain `ci-guard run` never loads it. docs/metrics.md lists the names.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ci_guard.atomic import atomic_write_text
from ci_guard.errors import CiGuardError
from ci_guard.records import STATUS_SUCCEEDED, RunRecord, time_lost

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

PREFIX = "ci_guard_"
DEFAULT_JOB = "ci_guard"

# Where each CI platform names the runner (instance) and the job (pipeline); first hit wins.
INSTANCE_VARS = ("RUNNER_NAME", "CI_RUNNER_DESCRIPTION", "BUILDKITE_AGENT_NAME", "NODE_NAME")
PIPELINE_VARS = (
    ("GITHUB_REPOSITORY", "GITHUB_JOB"),
    ("CI_PROJECT_PATH", "CI_JOB_NAME"),
    ("BUILDKITE_PIPELINE_SLUG", "BUILDKITE_STEP_KEY"),
    ("JOB_NAME", ""),
    ("DRONE_REPO", "DRONE_STAGE_NAME"),
)


@dataclass(frozen=True)
class MetricFamily:
    """One metric: name without prefix, `gauge` or `counter`, help, (labels, value) samples."""

    name: str
    kind: str
    help: str
    labels: tuple[str, ...] = ()
    samples: list[tuple[tuple[str, ...], float]] = field(default_factory=list)


def _end_timestamp(run: RunRecord) -> float:
    try:
        text = run.started_at.replace("Z", "+00:00")
        started = datetime.fromisoformat(text)
    except (AttributeError, ValueError):
        return time.time()
    if started.tzinfo is None:
        started = started.replace(tzinfo=timezone.utc)
    return started.timestamp() + run.duration_s


def _gauge(name: str, help_text: str, value: float) -> MetricFamily:
    return MetricFamily(name, "gauge", help_text, (), [((), float(value))])


def _failures(run: RunRecord) -> MetricFamily:
    counts = Counter(a.failure.failure_class.value for a in run.attempts if a.failure is not None)
    return MetricFamily(
        "attempt_failures_total",
        "counter",
        "Failed attempts in the run, by failure class.",
        ("class",),
        [((name,), float(n)) for name, n in sorted(counts.items())],
    )


def _retries(run: RunRecord) -> list[MetricFamily]:
    by_remedy = Counter(r.remedy for r in run.retries)
    failed = Counter(
        r.remedy for r in run.retries if r.remedy_result is not None and not r.remedy_result.ok
    )
    lost = time_lost(run)
    return [
        MetricFamily(
            "retries_total",
            "counter",
            "Retries scheduled in the run, by the remedy run before the next attempt.",
            ("remedy",),
            [((name,), float(n)) for name, n in sorted(by_remedy.items())],
        ),
        MetricFamily(
            "remedy_failures_total",
            "counter",
            "Remedies that reported failure (ok=false) in the run.",
            ("remedy",),
            [((name,), float(n)) for name, n in sorted(failed.items())],
        ),
        MetricFamily(
            "retry_wait_seconds_total",
            "counter",
            "Seconds the run really waited between attempts.",
            (),
            [((), lost.waits_s)],
        ),
        _gauge(
            "run_time_lost_seconds",
            "Seconds lost to retries: failed attempts another attempt followed, waits, remedies.",
            lost.total_s,
        ),
    ]


def run_metric_families(run: RunRecord) -> list[MetricFamily]:
    """Everything exported for one run, as values (no prometheus-client needed)."""
    families = [
        _gauge("run_success", "1 if the run succeeded, else 0.", run.status == STATUS_SUCCEEDED),
        _gauge("run_duration_seconds", "Wall-clock seconds of the whole run.", run.duration_s),
        _gauge("run_attempts", "Attempts the run made.", len(run.attempts)),
        _gauge("run_max_attempts", "Attempts the run was allowed.", run.max_attempts),
        _gauge("run_exit_code", "The exit code ci-guard returned.", run.exit_code),
        _gauge(
            "last_run_timestamp_seconds",
            "Unix time the run finished.",
            _end_timestamp(run),
        ),
        MetricFamily(
            "run_info",
            "gauge",
            "Always 1; labels describe the run.",
            ("run_id", "status", "failure_class", "stop_reason", "ci_platform"),
            [
                (
                    (
                        run.run_id,
                        run.status,
                        run.failure_class or "",
                        run.stop_reason,
                        run.ci_platform,
                    ),
                    1.0,
                )
            ],
        ),
        _failures(run),
        *_retries(run),
    ]
    healthy = run.preflight.get("healthy") if run.preflight else None
    if isinstance(healthy, bool):
        families.append(
            _gauge("preflight_healthy", "1 if the preflight checks passed, else 0.", healthy)
        )
    return families


# --- rendering with prometheus-client ---------------------------------------------------


def load_client() -> Any:
    try:
        import prometheus_client
    except ImportError:
        raise CiGuardError(
            "metrics need the prometheus-client package (pip install prometheus-client)"
        ) from None
    return prometheus_client


def collector_registry(run: RunRecord) -> CollectorRegistry:
    load_client()
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        Metric,
    )
    from prometheus_client.registry import Collector, CollectorRegistry

    families = run_metric_families(run)

    class RunCollector(Collector):
        def collect(self) -> Iterator[Metric]:
            for family in families:
                if not family.samples:
                    continue  # an empty family confuses some textfile parsers
                kind = CounterMetricFamily if family.kind == "counter" else GaugeMetricFamily
                metric = kind(PREFIX + family.name, family.help, labels=family.labels)
                for labels, value in family.samples:
                    metric.add_metric(list(labels), value)
                yield metric

    registry = CollectorRegistry(auto_describe=False)
    registry.register(RunCollector())
    return registry


def run_metrics_text(run: RunRecord) -> str:
    """The run's metrics in the Prometheus text exposition format (0.0.4)."""
    from prometheus_client.exposition import generate_latest

    registry = collector_registry(run)
    return generate_latest(registry).decode("utf-8")


def write_metrics_file(run: RunRecord, path: Path) -> None:
    """Write the metrics for node_exporter's textfile collector, atomically (temp + rename).

    The temporary file is a dot file without the .prom suffix, so the collector never
    reads a half-written one.
    """
    path = Path(path)
    try:
        atomic_write_text(path, run_metrics_text(run), mode=0o644)
    except OSError as exc:
        raise CiGuardError(f"cannot write metrics file {path}: {exc.strerror or exc}") from None
