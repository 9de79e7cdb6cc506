"""Reading run logs back: tolerant of garbage, strict only about unreadable input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ci_guard.errors import UsageError
from ci_guard.report.load import load_lines, load_runs, parse_line, parse_timestamp
from tests.logsynth import line, simple_run, write_logs


def test_timestamps_with_z_offset_or_none_become_utc() -> None:
    a = parse_timestamp("2026-11-27T23:40:01.123456Z")
    b = parse_timestamp("2026-11-28T00:40:01.123456+01:00")
    c = parse_timestamp("2026-11-27T23:40:01.123456")
    assert a == b == c
    assert a.utcoffset() is not None


def test_several_runs_in_one_file_with_noise_and_a_truncated_tail(tmp_path: Path) -> None:
    log = tmp_path / "ci.jsonl"
    log.write_text(
        simple_run("r1", "2026-11-01", ["registry_timeout", None])
        + "Step 1/3 : FROM busybox\n"
        + '{"level": "info", "msg": "some other tool"}\n'
        + "[1, 2, 3]\n"
        + simple_run("r2", "2026-11-02", [None])
        + '{"timestamp": "2026-11-02T10:00:00Z", "event": "run.fin',
        "utf-8",
    )
    loaded = load_runs([str(log)])
    assert [r.run_id for r in loaded.runs] == ["r1", "r2"]
    assert loaded.skipped == {"not_json": 3, "not_an_event": 1}
    r1 = loaded.runs[0]
    assert r1.status == "succeeded"
    assert r1.attempt_count == 2
    assert r1.attempts[1].failure_class == "registry_timeout"
    assert r1.retries[1].delay_s == 1.0


def test_run_without_run_finished_is_incomplete() -> None:
    loaded = load_lines(
        simple_run("r1", "2026-11-01", ["dns_failure"], finished=False).splitlines()
    )
    (run,) = loaded.runs
    assert run.status == "incomplete"
    assert not run.finished
    assert run.final_class == "dns_failure"
    assert run.wall_time_s == 10.0


def test_malformed_fields_skip_the_line_not_the_run() -> None:
    lines = [
        line("run.started", "r1", "2026-11-01T10:00:00Z", command=["x"]),
        line("attempt.finished", "r1", "2026-11-01T10:00:01Z", attempt="one", duration_s=3),
        line("attempt.finished", "r1", "not a time", attempt=1, duration_s=3),
        line("attempt.finished", "r1", "2026-11-01T10:00:01Z", attempt=1, duration_s="slow"),
        line(
            "attempt.finished",
            "r1",
            "2026-11-01T10:00:02Z",
            attempt=1,
            exit_code=0,
            duration_s=4.5,
            failure_class=None,
        ),
        line(
            "run.finished",
            "r1",
            "2026-11-01T10:00:03Z",
            status="succeeded",
            attempts=1,
            exit_code=0,
            duration_s=5.0,
        ),
    ]
    loaded = load_lines(lines)
    assert loaded.skipped == {"bad_fields": 3}
    (run,) = loaded.runs
    assert run.attempts[1].duration_s == 4.5
    assert run.first_try_success


def test_unknown_events_are_counted_apart_and_make_no_run() -> None:
    loaded = load_lines([line("cache.hit", "other", "2026-11-01T10:00:00Z")])
    assert loaded.runs == []
    assert loaded.other_events == 1
    assert loaded.skipped == {}


def test_the_same_log_given_twice_counts_once(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    log.write_text(simple_run("r1", "2026-11-01", ["tls_timeout", None]), "utf-8")
    loaded = load_runs([str(log), str(tmp_path), str(tmp_path / "*.jsonl")])
    assert len(loaded.files) == 1
    assert len(loaded.runs) == 1


def test_a_run_split_over_two_files_is_joined(tmp_path: Path) -> None:
    text = simple_run("r1", "2026-11-01", ["dns_failure", None]).splitlines(keepends=True)
    (tmp_path / "1.log").write_text("".join(text[:4]), "utf-8")
    (tmp_path / "2.log").write_text("".join(text[4:]), "utf-8")
    (run,) = load_runs([str(tmp_path)]).runs
    assert run.status == "succeeded"
    assert sorted(run.attempts) == [1, 2]


def test_remedy_finished_joins_its_retry() -> None:
    text = simple_run("r1", "2026-11-01", ["daemon_unreachable", None], remedies=["restart-daemon"])
    (run,) = load_lines(text.splitlines()).runs
    retry = run.retries[1]
    assert (retry.remedy, retry.remedy_ok, retry.remedy_changed) == ("restart-daemon", True, True)


def test_ranked_mirrors_of_preflight_become_probes() -> None:
    mirrors: list[dict[str, Any]] = [
        {"url": "http://a", "verdict": "healthy", "latency_s": 0.1, "reason": ""},
        {"url": "http://b", "verdict": "dead", "latency_s": 3.0, "reason": "no answer"},
        {"url": "http://c", "verdict": "slow", "latency_s": 2.5, "reason": ""},
        {"url": "http://d", "verdict": "misbehaving", "latency_s": 0.2, "reason": "404"},
    ]
    (run,) = load_lines(simple_run("r1", "2026-11-01", [None], mirrors=mirrors).splitlines()).runs
    assert [(p.url, p.healthy, p.verdict, p.latency_s) for p in run.mirror_probes] == [
        ("http://a", True, "healthy", 0.1),
        ("http://b", False, "dead", 3.0),
        ("http://c", True, "slow", 2.5),
        ("http://d", False, "misbehaving", 0.2),
    ]


def test_directories_globs_and_gzip(tmp_path: Path) -> None:
    write_logs(tmp_path / "logs", 6, runs_per_file=2)
    with gzip.open(tmp_path / "logs" / "old.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(simple_run("gz1", "2026-10-01", [None]))
    (tmp_path / "logs" / "notes.txt").write_text("not a log\n", "utf-8")
    by_dir = load_runs([str(tmp_path / "logs")])
    assert len(by_dir.files) == 4
    assert len(by_dir.runs) == 7
    by_glob = load_runs([str(tmp_path / "**" / "*.jsonl")])
    assert len(by_glob.runs) == 6


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    data = gzip.compress(
        "".join(simple_run(f"r{i}", "2026-11-01", [None]) for i in range(200)).encode()
    )
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    loaded = load_runs([str(tmp_path)])
    assert loaded.skipped.get("unreadable_tail") == 1
    assert 0 < len(loaded.runs) < 200


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("missing.jsonl", "no such file"),
        ("empty-dir", "no run logs"),
        ("nothing-*.jsonl", "no file matches"),
    ],
)
def test_unreadable_input_is_a_usage_error(tmp_path: Path, spec: str, message: str) -> None:
    (tmp_path / "empty-dir").mkdir()
    (tmp_path / "empty-dir" / "README").write_text("x", "utf-8")
    with pytest.raises(UsageError, match=message) as caught:
        load_runs([str(tmp_path / spec)])
    assert caught.value.exit_code == 2
    assert "\n" not in caught.value.message


def test_no_input_at_all_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        load_runs([])


def test_parse_line_reasons() -> None:
    assert parse_line("plain text") == "not_json"
    assert parse_line("{broken") == "not_json"
    assert parse_line('{"event": "run.started"}') == "not_an_event"
    assert parse_line('{"event": "x", "run_id": "", "timestamp": "t"}') == "not_an_event"
    assert isinstance(parse_line('{"event": "x", "run_id": "r", "timestamp": "t"}'), dict)


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_events = st.sampled_from(
    [
        "run.started",
        "preflight.finished",
        "attempt.started",
        "attempt.finished",
        "retry.scheduled",
        "remedy.started",
        "remedy.finished",
        "run.finished",
    ]
)
_fields = st.sampled_from(
    [
        "attempt",
        "exit_code",
        "duration_s",
        "failure_class",
        "retryable",
        "delay_s",
        "remedy",
        "status",
        "attempts",
        "mirrors",
        "command",
        "ok",
        "changed",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=40),
            st.builds(
                lambda ev, fields: json.dumps(
                    {"timestamp": "2026-11-01T10:00:00Z", "event": ev, "run_id": "r", **fields}
                ),
                _events,
                st.dictionaries(_fields, _values, max_size=5),
            ),
        ),
        max_size=12,
    )
)
def test_any_lines_never_crash_the_loader(lines: list[str]) -> None:
    from datetime import datetime, timezone

    from ci_guard.report.render_html import render_html
    from ci_guard.report.render_text import render_text
    from ci_guard.report.stats import build_report

    loaded = load_lines(lines)
    report = build_report(loaded, now=datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert render_text(report)
    assert render_html(report).startswith("<!DOCTYPE html>")
    json.dumps(report.to_dict())


def test_a_command_logged_unmasked_is_masked_in_the_report() -> None:
    """Logs from before a shape was known still hold it: the report masks on reading."""
    token = "xoxb-123456789012-" + "A" * 24
    line = json.dumps(
        {
            "timestamp": "2026-11-27T23:40:01.002Z",
            "level": "info",
            "event": "run.started",
            "run_id": "r1",
            "command": ["curl", "-u", "ops:pa55word-x", "-H", f"X: {token}"],
        }
    )
    (run,) = load_lines([line]).runs
    assert run.command == ("curl", "-u", "ops:***", "-H", "X: ***")
