"""Report statistics on a small hand-made history whose every figure is known."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ci_guard.report.figures import Report
from ci_guard.report.load import load_lines
from ci_guard.report.stats import build_report
from tests.logsynth import simple_run, synth_runs, to_lines

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def _mirror(url: str, verdict: str, latency: float | None) -> dict[str, object]:
    return {"url": url, "verdict": verdict, "latency_s": latency, "reason": ""}


HISTORY = "".join(
    [
        simple_run(
            "r1",
            "2026-11-01",
            ["registry_timeout", None],
            durations=[30, 100],
            delays=[5],
            mirrors=[_mirror("http://a", "healthy", 0.1), _mirror("http://b", "dead", None)],
        ),
        simple_run(
            "r2",
            "2026-11-01",
            [None],
            durations=[50],
            mirrors=[_mirror("http://a", "healthy", 0.3), _mirror("http://b", "healthy", 0.2)],
        ),
        simple_run(
            "r3",
            "2026-11-02",
            ["dns_failure", "dns_failure", "image_not_found"],
            durations=[20, 20, 5],
            delays=[10, 20],
            remedies=["repair-network", "retry"],
            mirrors=[_mirror("http://a", "dead", None)],
        ),
        simple_run("r4", "2026-11-03", [None], cancelled=True),
        simple_run("r5", "2026-11-03", ["connection_failure"], finished=False),
    ]
)


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(load_lines(HISTORY.splitlines()), now=NOW, slowest_count=2)


def test_statuses_and_rates(report: Report) -> None:
    assert report.runs == 5
    assert report.by_status == {
        "succeeded": 2,
        "failed": 1,
        "timed_out": 0,
        "cancelled": 1,
        "incomplete": 1,
    }
    assert report.rates.rated_runs == 3
    assert report.rates.first_try == pytest.approx(1 / 3)
    assert report.rates.after_retries == pytest.approx(2 / 3)
    assert report.rates.rescued_runs == 1


def test_attempts_histogram_counts_finished_runs(report: Report) -> None:
    assert report.attempts_histogram == {1: 2, 2: 1, 3: 1}


def test_time_lost_is_failed_attempts_plus_waits(report: Report) -> None:
    lost = report.time_lost
    # A run's last failure is its result, not time lost to retries (r3's 5 s, r5's 10 s).
    assert lost.failed_attempts_s == pytest.approx(30 + 20 + 20)
    assert lost.waits_s == pytest.approx(5 + 30)
    assert lost.total_s == pytest.approx(105)
    assert lost.runs_with_retries == 2


def test_failure_classes(report: Report) -> None:
    by_name = {c.name: c for c in report.classes}
    assert report.classes[0].name == "dns_failure"
    assert by_name["dns_failure"].attempts == 2
    assert by_name["dns_failure"].share == pytest.approx(0.4)
    assert by_name["dns_failure"].retryable is True
    assert by_name["image_not_found"].retryable is False
    assert by_name["image_not_found"].final_runs == 1
    assert by_name["registry_timeout"].final_runs == 0
    assert sum(c.attempts for c in report.classes) == 5


def test_remedies_and_success_after_them(report: Report) -> None:
    by_name = {r.name: r for r in report.remedies}
    retry, repair = by_name["retry"], by_name["repair-network"]
    assert (retry.used, retry.runs, retry.succeeded_after) == (2, 2, 1)
    assert retry.success_share == pytest.approx(0.5)
    assert retry.reported == 0
    assert (repair.used, repair.runs, repair.succeeded_after, repair.ok) == (1, 1, 0, 1)
    assert repair.success_share == 0.0


def test_mirror_health_per_url_and_day(report: Report) -> None:
    a, b = report.mirrors
    assert (a.url, a.probes, a.healthy) == ("http://a", 3, 2)
    assert a.median_latency_s == pytest.approx(0.2)
    assert a.last_verdict == "dead"
    assert [(d.day, d.probes, d.healthy_share) for d in a.days] == [
        ("2026-11-01", 2, 1.0),
        ("2026-11-02", 1, 0.0),
    ]
    assert (b.url, b.probes, b.healthy_share, b.median_latency_s) == ("http://b", 2, 0.5, 0.2)


def test_days_and_slowest(report: Report) -> None:
    assert [(d.day, d.runs, d.rated_runs, d.succeeded, d.first_try) for d in report.days] == [
        ("2026-11-01", 2, 2, 2, 1),
        ("2026-11-02", 1, 1, 0, 0),
        ("2026-11-03", 2, 0, 0, 0),
    ]
    assert report.days[2].success_rate is None
    assert [(s.run_id, s.duration_s, s.attempts, s.failure_class) for s in report.slowest] == [
        ("r1", 135.0, 2, None),
        ("r3", 75.0, 3, "image_not_found"),
    ]


def test_since_keeps_later_runs_only() -> None:
    since = datetime(2026, 11, 2, tzinfo=timezone.utc)
    later = build_report(load_lines(HISTORY.splitlines()), now=NOW, since=since)
    assert later.runs == 3
    assert later.since == "2026-11-02T00:00:00Z"
    assert [d.day for d in later.days] == ["2026-11-02", "2026-11-03"]


def test_empty_history_has_a_note_and_no_rates() -> None:
    empty = build_report(load_lines([]), now=NOW)
    assert empty.runs == 0
    assert empty.rates.first_try is None
    assert empty.notes == ("no ci-guard runs found",)
    assert empty.to_dict()["runs"] == 0


def test_days_without_runs_are_filled_between_first_and_last() -> None:
    text = simple_run("a", "2026-11-01", [None]) + simple_run("b", "2026-11-05", [None])
    days = build_report(load_lines(text.splitlines()), now=NOW).days
    assert [d.day for d in days] == [f"2026-11-0{i}" for i in range(1, 6)]
    assert days[2].runs == 0


def test_synthetic_history_is_consistent() -> None:
    lines = [ln for events in synth_runs(400, seed=3) for ln in to_lines(events).splitlines()]
    report = build_report(load_lines(lines), now=NOW, slowest_count=5)
    assert report.runs == 400
    assert sum(report.by_status.values()) == 400
    finished = report.runs - report.by_status["incomplete"]
    assert sum(report.attempts_histogram.values()) == finished
    assert sum(d.runs for d in report.days) == 400
    assert sum(c.share for c in report.classes) == pytest.approx(1.0)
    assert report.rates.first_try is not None
    assert report.rates.after_retries is not None
    assert report.rates.first_try <= report.rates.after_retries
    assert len(report.mirrors) == 3
    assert [s.duration_s for s in report.slowest] == sorted(
        (s.duration_s for s in report.slowest), reverse=True
    )


def test_stop_reasons_come_from_run_finished(report: Report) -> None:
    assert report.by_stop_reason == {"succeeded": 2, "not_retryable": 1, "cancelled": 1}


def test_an_absurd_attempt_count_does_not_fill_the_histogram() -> None:
    text = simple_run("a", "2026-11-01", [None]).replace(
        '"attempts": 1,', '"attempts": 10000000000,'
    )
    assert '"attempts": 10000000000' in text
    histogram = build_report(load_lines(text.splitlines()), now=NOW).attempts_histogram
    assert histogram == {10000000000: 1}
