"""Aggregate logged runs into the report: pure functions of the runs, no I/O, no clock.

Rates count finished runs only, and leave cancelled runs out: a cancel says nothing
about the network. Incomplete runs (no run.finished) are counted and listed apart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from ci_guard.report import lost, mirror_stats, trend
from ci_guard.report.figures import (
    ClassStat,
    DayStat,
    InputStat,
    Rates,
    RemedyStat,
    Report,
    TimeLost,
)
from ci_guard.report.runs import STATUS_INCOMPLETE, LoadResult, LoggedRun

MAX_FILLED_DAYS = 400
"""Days without runs between the first and last day are shown as empty up to this span."""
STATUS_ORDER = ("succeeded", "failed", "timed_out", "cancelled", STATUS_INCOMPLETE)


# --- helpers ----------------------------------------------------------------------------


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _rated(runs: Iterable[LoggedRun]) -> list[LoggedRun]:
    return [r for r in runs if r.finished and r.status != "cancelled"]


def _splits(runs: Iterable[LoggedRun]) -> list[lost.LostSplit]:
    return [lost.split(r) for r in runs]


def _day(run: LoggedRun) -> str:
    start = run.start
    return start.date().isoformat() if start else "unknown"


# --- sections ---------------------------------------------------------------------------


def rates(runs: Sequence[LoggedRun]) -> Rates:
    rated = _rated(runs)
    succeeded = [r for r in rated if r.status == "succeeded"]
    first = sum(1 for r in succeeded if r.first_try_success)
    return Rates(
        rated_runs=len(rated),
        first_try=_ratio(first, len(rated)),
        after_retries=_ratio(len(succeeded), len(rated)),
        rescued_runs=len(succeeded) - first,
    )


HISTOGRAM_FILL_LIMIT = 100
"""Counts up to this (--max-attempts' own limit) get a row even when no run made them."""


def attempts_histogram(runs: Sequence[LoggedRun]) -> dict[int, int]:
    counts = Counter(r.attempt_count for r in runs if r.finished and r.attempt_count > 0)
    if not counts:
        return {}
    if max(counts) > HISTOGRAM_FILL_LIMIT:  # a damaged log line: no run makes that many
        return dict(sorted(counts.items()))
    return {n: counts.get(n, 0) for n in range(1, max(counts) + 1)}


def time_lost(runs: Sequence[LoggedRun]) -> TimeLost:
    splits = _splits(runs)
    failed = sum(s.attempts_s for s in splits)
    waits = sum(s.waits_s for s in splits)
    remedies_s = sum(s.remedies_s for s in splits)
    retried = sum(1 for r in runs if r.retries or r.attempt_count > 1)
    return TimeLost(
        total_s=failed + waits + remedies_s,
        failed_attempts_s=failed,
        waits_s=waits,
        runs_with_retries=retried,
        remedies_s=remedies_s,
        cut_waits=sum(s.cut_waits for s in splits),
        runs_split_by_writer=sum(s.logged for s in splits),
    )


def failure_classes(runs: Sequence[LoggedRun]) -> tuple[ClassStat, ...]:
    attempts: Counter[str] = Counter()
    retryable: dict[str, Counter[bool]] = defaultdict(Counter)
    for run in runs:
        for attempt in run.attempts.values():
            if attempt.failed:
                name = attempt.failure_class or "unknown"
                attempts[name] += 1
                if attempt.retryable is not None:
                    retryable[name][attempt.retryable] += 1
    final = Counter(r.failure_class or "unknown" for r in _rated(runs) if r.status != "succeeded")
    total = sum(attempts.values())
    names = sorted(set(attempts) | set(final), key=lambda n: (-attempts[n], -final[n], n))
    return tuple(
        ClassStat(
            name=name,
            attempts=attempts[name],
            share=attempts[name] / total if total else 0.0,
            retryable=_majority(retryable.get(name)),
            final_runs=final[name],
        )
        for name in names
    )


def _majority(votes: Counter[bool] | None) -> bool | None:
    if not votes:
        return None
    return votes[True] >= votes[False]


def remedies(runs: Sequence[LoggedRun]) -> tuple[RemedyStat, ...]:
    used: Counter[str] = Counter()
    ok: Counter[str] = Counter()
    reported: Counter[str] = Counter()
    changed: Counter[str] = Counter()
    run_users: Counter[str] = Counter()
    rescued: Counter[str] = Counter()
    for run in runs:
        for retry in run.retries.values():
            used[retry.remedy] += 1
            ok[retry.remedy] += retry.remedy_ok is True
            reported[retry.remedy] += retry.remedy_ok is not None
            changed[retry.remedy] += retry.remedy_changed is True
        if not run.finished:
            continue
        for name in {r.remedy for r in run.retries.values()}:
            run_users[name] += 1
            rescued[name] += run.status == "succeeded"
    return tuple(
        RemedyStat(
            name=name,
            used=used[name],
            runs=run_users[name],
            succeeded_after=rescued[name],
            success_share=_ratio(rescued[name], run_users[name]),
            reported=reported[name],
            ok=ok[name],
            changed=changed[name],
        )
        for name in sorted(used, key=lambda n: (-used[n], n))
    )


def days(runs: Sequence[LoggedRun]) -> tuple[DayStat, ...]:
    grouped: dict[str, list[LoggedRun]] = defaultdict(list)
    for run in runs:
        grouped[_day(run)].append(run)
    return tuple(_day_stat(day, grouped.get(day, [])) for day in _day_range(grouped))


def _day_range(grouped: dict[str, list[LoggedRun]]) -> list[str]:
    known = sorted(d for d in grouped if d != "unknown")
    if len(known) >= 2:
        first, last = date.fromisoformat(known[0]), date.fromisoformat(known[-1])
        span = (last - first).days
        if span <= MAX_FILLED_DAYS:
            known = [(first + timedelta(days=i)).isoformat() for i in range(span + 1)]
    return [*known, "unknown"] if "unknown" in grouped else known


def _day_stat(day: str, runs: list[LoggedRun]) -> DayStat:
    rated = _rated(runs)
    succeeded = sum(1 for r in rated if r.status == "succeeded")
    first = sum(1 for r in rated if r.first_try_success)
    splits = _splits(runs)
    return DayStat(
        day=day,
        runs=len(runs),
        rated_runs=len(rated),
        succeeded=succeeded,
        first_try=first,
        success_rate=_ratio(succeeded, len(rated)),
        first_try_rate=_ratio(first, len(rated)),
        failed_attempts_s=sum(s.attempts_s for s in splits),
        waits_s=sum(s.waits_s for s in splits),
        remedies_s=sum(s.remedies_s for s in splits),
    )


def by_status(runs: Sequence[LoggedRun]) -> dict[str, int]:
    counts = Counter(r.status for r in runs)
    ordered = {s: counts.pop(s, 0) for s in STATUS_ORDER}
    ordered.update(sorted(counts.items()))
    return ordered


# --- the whole report -------------------------------------------------------------------


def select_since(runs: Iterable[LoggedRun], since: datetime | None) -> list[LoggedRun]:
    if since is None:
        return list(runs)
    return [r for r in runs if r.start is not None and r.start >= since]


def build_report(
    loaded: LoadResult,
    *,
    now: datetime,
    since: datetime | None = None,
    slowest_count: int = 10,
    recent_count: int = 60,
) -> Report:
    runs = select_since(loaded.runs, since)
    notes = []
    if not runs:
        notes.append("no ci-guard runs found" + (" since the given date" if since else ""))
    return Report(
        generated_at=now.isoformat().replace("+00:00", "Z"),
        since=since.isoformat().replace("+00:00", "Z") if since else None,
        input=InputStat(len(loaded.files), loaded.lines, dict(loaded.skipped), loaded.other_events),
        runs=len(runs),
        by_status=by_status(runs),
        by_stop_reason=dict(Counter(r.stop_reason for r in runs if r.stop_reason).most_common()),
        rates=rates(runs),
        attempts_histogram=attempts_histogram(runs),
        time_lost=time_lost(runs),
        classes=failure_classes(runs),
        remedies=remedies(runs),
        mirrors=mirror_stats.mirrors(runs),
        days=days(runs),
        slowest=trend.slowest(runs, slowest_count),
        notes=tuple(notes),
        recent_runs=trend.recent_runs(runs, recent_count),
        builder=mirror_stats.builder_days(runs),
    )
