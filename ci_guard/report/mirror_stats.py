"""Mirror health over time: per mirror and per day, from every probe the runs logged.

Probes come from preflight.finished (`mirrors.ranked`, with latency) and from remedies
that re-ranked the mirrors (`remedy.finished.mirrors_ranked`, verdict only). Latency
figures count the probes a mirror answered as one: a dead mirror's latency is only
the time until it was given up. builder.mirrors lines say whether the daemon's BuildKit
took a reloaded list; they are summed per day apart.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime

from ci_guard.registry.probe import DEAD
from ci_guard.report.figures import BuilderDay, MirrorDay, MirrorStat
from ci_guard.report.runs import BuilderCheck, LoggedRun, MirrorProbe


def iso(stamp: datetime | None) -> str | None:
    return None if stamp is None else stamp.isoformat().replace("+00:00", "Z")


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p95(values: Sequence[float]) -> float | None:
    """Nearest-rank 95th percentile: a value that was measured, never interpolated."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def _served(probes: Sequence[MirrorProbe]) -> list[float]:
    return [p.latency_s for p in probes if p.healthy and p.latency_s is not None]


def _dead(probe: MirrorProbe) -> bool:
    return probe.verdict.lower() == DEAD


def mirrors(runs: Sequence[LoggedRun]) -> tuple[MirrorStat, ...]:
    by_url: dict[str, list[MirrorProbe]] = defaultdict(list)
    for run in runs:
        for probe in run.mirror_probes:
            by_url[probe.url].append(probe)
    stats = [_mirror_stat(url, probes) for url, probes in by_url.items()]
    return tuple(sorted(stats, key=lambda m: (-m.probes, m.url)))


def _mirror_stat(url: str, probes: list[MirrorProbe]) -> MirrorStat:
    probes.sort(key=lambda p: p.at)
    by_day: dict[str, list[MirrorProbe]] = defaultdict(list)
    for probe in probes:
        by_day[probe.at.date().isoformat()].append(probe)
    healthy = sum(p.healthy for p in probes)
    dead = [p for p in probes if _dead(p)]
    served = _served(probes)
    return MirrorStat(
        url=url,
        probes=len(probes),
        healthy=healthy,
        healthy_share=healthy / len(probes),
        median_latency_s=median(served),
        last_verdict=probes[-1].verdict,
        days=tuple(_mirror_day(day, by_day[day]) for day in sorted(by_day)),
        p95_latency_s=p95(served),
        dead=len(dead),
        last_dead_at=iso(dead[-1].at) if dead else None,
        last_seen_at=iso(probes[-1].at),
    )


def _mirror_day(day: str, probes: list[MirrorProbe]) -> MirrorDay:
    healthy = sum(p.healthy for p in probes)
    served = _served(probes)
    return MirrorDay(
        day=day,
        probes=len(probes),
        healthy=healthy,
        healthy_share=healthy / len(probes),
        median_latency_s=median(served),
        p95_latency_s=p95(served),
        dead=sum(_dead(p) for p in probes),
    )


def builder_days(runs: Sequence[LoggedRun]) -> tuple[BuilderDay, ...]:
    by_day: dict[str, list[BuilderCheck]] = defaultdict(list)
    for run in runs:
        for check in run.builder_checks:
            by_day[check.at.date().isoformat()].append(check)
    return tuple(_builder_day(day, by_day[day]) for day in sorted(by_day))


def _builder_day(day: str, checks: list[BuilderCheck]) -> BuilderDay:
    decisions = Counter(c.decision for c in checks)
    durations = [c.probe_s for c in checks if c.probe_s is not None]
    return BuilderDay(
        day=day,
        checks=len(checks),
        ok=sum(c.ok is True for c in checks),
        decisions=dict(decisions.most_common()),
        median_probe_s=median(durations),
    )
