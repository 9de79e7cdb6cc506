"""`ci-guard report` over logs the real `ci-guard run` wrote (tests/report_history.py):
the project, command and CI job link of each run, the time lost split into failed
attempts, waits and remedies (a wait cut short by a cancel counts what elapsed),
the per-run trend, and mirror health per mirror and day."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from ci_guard.report import make_report
from ci_guard.report.figures import Report
from ci_guard.report.load import load_lines
from ci_guard.report.render_html import render_html
from ci_guard.report.render_text import render_text
from ci_guard.report.stats import build_report
from tests.report_history import GITHUB, GITLAB, Step, flaky, write_history

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)
JENKINS = {
    "JENKINS_URL": "https://ci.example/",
    "JOB_NAME": "infra/images",
    "BUILD_URL": "https://ci.example/job/infra/job/images/31/",
}
FAIL = ("--max-attempts", "3", "--backoff-initial", "0.4", "--backoff-max", "0.8")
STEPS = [
    Step(("sh", "-c", "echo built"), env=GITHUB),
    Step(flaky(".flake-a"), ("--backoff-initial", "0.4"), env=GITLAB),
    Step(("sh", "-c", "exit 1"), FAIL, env=JENKINS),
    Step(flaky(".flake-b"), ("--backoff-initial", "60"), cancel_after_retry=True),
    Step(flaky(".flake-c"), ("--ladder", "restart-daemon", "--backoff-initial", "0.3")),
    Step(("sh", "-c", "echo built"), env={"COMPOSE_PROJECT_NAME": "shopfront"}),
]
SHAKY_DOWN = sum(1 for index in range(len(STEPS)) if index % 3 == 2)
"""Runs for which write_history takes the second mirror down."""


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_history(tmp_path_factory.mktemp("history"), STEPS)


@pytest.fixture(scope="module")
def events(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def report(log: Path) -> Report:
    return make_report([str(log)], now=NOW)


def _of(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == name]


def _stamp(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))


def test_the_history_is_what_the_steps_made(report: Report) -> None:
    assert [p.outcome for p in report.recent_runs] == [
        "first_try",
        "rescued",
        "failed",
        "cancelled",
        "rescued",
        "first_try",
    ]
    assert [p.attempts for p in report.recent_runs] == [1, 2, 3, 1, 2, 1]


def test_slowest_builds_name_command_project_and_job(report: Report) -> None:
    by_project = {s.project: s for s in report.slowest}
    assert set(by_project) == {
        "acme/webshop",
        "acme/payments",
        "infra/images",
        "storefront",
        "shopfront",
    }
    assert by_project["acme/webshop"].ci_job_url == (
        "https://github.com/acme/webshop/actions/runs/7001/attempts/1"
    )
    assert by_project["acme/payments"].ci_job_url == GITLAB["CI_JOB_URL"]
    assert by_project["infra/images"].ci_job_url == JENKINS["BUILD_URL"]
    assert by_project["infra/images"].command == "sh -c 'exit 1'"
    assert by_project["storefront"].ci_job_url is None  # no CI: the working directory
    assert by_project["acme/payments"].command == "sh ./build-flaky.sh .flake-a"


def test_waits_are_the_logged_delays_and_a_cancelled_wait_what_elapsed(
    report: Report, events: list[dict[str, Any]]
) -> None:
    cancelled = _of(events, "run.finished")[3]
    assert cancelled["status"] == "cancelled"
    retries = _of(events, "retry.scheduled")
    cut = [r for r in retries if r["run_id"] == cancelled["run_id"]]
    assert len(cut) == 1
    elapsed = (_stamp(cancelled) - _stamp(cut[0])).total_seconds()
    assert 0 < elapsed < cut[0]["delay_s"]
    full = sum(r["delay_s"] for r in retries if r["run_id"] != cancelled["run_id"])
    lost = report.time_lost
    # The writer's own split (run.finished) is what the report takes; it measured the
    # waits as they really lasted, so they agree with the logged delays and the cut wait.
    finished = _of(events, "run.finished")
    assert lost.waits_s == pytest.approx(sum(f["lost_waits_s"] for f in finished), abs=1e-3)
    assert lost.waits_s == pytest.approx(full + elapsed, abs=0.5)
    assert lost.cut_waits == 1
    failed = sum(f["lost_attempts_s"] for f in finished)
    every_failure = sum(
        a["duration_s"] for a in _of(events, "attempt.finished") if a["failure_class"] is not None
    )
    assert lost.failed_attempts_s == pytest.approx(failed, abs=1e-3)
    assert 0 < lost.failed_attempts_s <= every_failure  # a run's last failure is no retry's cost
    assert lost.total_s == pytest.approx(lost.waits_s + lost.failed_attempts_s + lost.remedies_s)
    assert lost.waits_s > lost.failed_attempts_s  # sh exits at once; the backoff is the cost


def test_remedy_time_runs_from_its_start_to_its_end(
    report: Report, events: list[dict[str, Any]]
) -> None:
    started, finished = _of(events, "remedy.started"), _of(events, "remedy.finished")
    assert [e["remedy"] for e in started] == ["restart-daemon"]  # dry-run: only its plan
    spent = (_stamp(finished[0]) - _stamp(started[0])).total_seconds()
    assert spent > 0
    # The writer's own figure (run.finished) wins; it times the whole remedy step, so it
    # holds at least the span between the two events.
    logged = sum(f["lost_remedies_s"] for f in _of(events, "run.finished"))
    assert report.time_lost.remedies_s == pytest.approx(logged, abs=1e-3)
    assert report.time_lost.remedies_s >= spent - 1e-3
    assert report.remedies[0].name in {"retry", "restart-daemon"}


def test_mirror_health_per_mirror_and_day(report: Report, events: list[dict[str, Any]]) -> None:
    ranked = _of(events, "preflight.finished")[0]["mirrors"]["ranked"]
    urls = {m["url"] for m in ranked}
    assert {m.url for m in report.mirrors} == urls
    assert all(m.probes == len(STEPS) for m in report.mirrors)
    dead = [m for m in report.mirrors if m.healthy == 0]
    assert len(dead) == 1
    assert dead[0].dead == len(STEPS)
    assert dead[0].last_dead_at is not None
    shaky = [m for m in report.mirrors if 0 < m.healthy < m.probes]
    assert len(shaky) == 1
    assert shaky[0].dead == SHAKY_DOWN
    good = [m for m in report.mirrors if m.healthy == m.probes]
    assert len(good) == 1
    assert good[0].last_dead_at is None
    median, p95 = good[0].median_latency_s, good[0].p95_latency_s
    assert median is not None
    assert p95 is not None
    assert 0 < median <= p95
    assert sum(d.probes for d in good[0].days) == len(STEPS)
    assert sum(d.dead for d in shaky[0].days) == SHAKY_DOWN
    assert all(d.p95_latency_s is not None for d in good[0].days)


def test_builder_checks_are_counted_per_day(report: Report, events: list[dict[str, Any]]) -> None:
    checks = _of(events, "builder.mirrors")
    assert sum(d.checks for d in report.builder) == len(checks)


def _one_run(events: list[dict[str, Any]], status: str) -> list[dict[str, Any]]:
    run_id = next(e["run_id"] for e in _of(events, "run.finished") if e["status"] == status)
    return [e for e in events if e["run_id"] == run_id]


def test_run_finished_split_is_preferred_when_logged(events: list[dict[str, Any]]) -> None:
    failed = _one_run(events, "failed")
    computed = build_report(load_lines([json.dumps(e) for e in failed]), now=NOW).time_lost
    split = {"lost_attempts_s": 1.0, "lost_waits_s": 2.0, "lost_remedies_s": 3.0}
    whole = [json.dumps({**e, **split} if e["event"] == "run.finished" else e) for e in failed]
    lost = build_report(load_lines(whole), now=NOW).time_lost
    assert lost.runs_split_by_writer == 1
    assert (lost.failed_attempts_s, lost.waits_s, lost.remedies_s) == (1.0, 2.0, 3.0)
    waits_only = [
        json.dumps({**e, "lost_waits_s": 2.0} if e["event"] == "run.finished" else e)
        for e in failed
    ]
    part = build_report(load_lines(waits_only), now=NOW).time_lost
    assert part.waits_s == 2.0
    assert part.failed_attempts_s == pytest.approx(computed.failed_attempts_s)
    assert computed.waits_s != 2.0


def test_old_logs_without_the_new_fields_still_load(events: list[dict[str, Any]]) -> None:
    new = {"project", "project_source", "ci_job_url"}
    lines = [
        json.dumps({k: v for k, v in e.items() if k not in new})
        for e in events
        if e["event"] != "builder.mirrors"
    ]
    old = build_report(load_lines(lines), now=NOW)
    assert old.runs == len(STEPS)
    assert all(s.project == "" and s.ci_job_url is None and s.command for s in old.slowest)
    assert old.builder == ()
    render_text(old)
    render_html(old)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ci_guard", "report", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_text_json_and_html_hold_the_new_sections(log: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    done = _cli(str(log), "--html", str(page))
    assert done.returncode == 0, done.stderr
    for text in (
        "Time lost",
        "(waits ",
        "Last 6 runs, oldest first",
        "  outcome   orFcro",
        "Mirror health per day",
        "p95",
        "last dead",
        "$ sh -c 'exit 1'  https://ci.example/job/infra/job/images/31/",
    ):
        assert text in done.stdout, text
    data = json.loads(_cli(str(log), "--json").stdout)
    assert [r["outcome"] for r in data["recent_runs"]][:3] == ["first_try", "rescued", "failed"]
    assert {"remedies_s", "cut_waits"} <= set(data["time_lost"])
    assert {"command", "project", "ci_job_url"} <= set(data["slowest"][0])
    assert {"p95_latency_s", "dead", "last_dead_at"} <= set(data["mirrors"][0])
    html = page.read_text("utf-8")
    assert 'id="runs"' in html
    assert "duration per run" in html
    assert "time lost by kind" in html
    assert f"healthy of {len(STEPS)} probes, median" in html  # a mirror's day, on hover
    assert 'href="https://ci.example/job/infra/job/images/31/"' in html
    assert "LAST DEAD" in html.upper()


def test_garbage_and_a_truncated_tail_are_one_warning_line(log: Path, tmp_path: Path) -> None:
    text = log.read_text("utf-8")
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("not json at all\n" + text + text.splitlines()[-1][:40], "utf-8")
    done = _cli(str(damaged), "--json")
    assert done.returncode == 0
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("ci-guard: warning: skipped 2 of")
    assert "Traceback" not in done.stderr
    assert json.loads(done.stdout)["runs"] == len(STEPS)
