"""The GitHub step summary and the JUnit report say what ci-guard changed on the host and
which remedies failed, for records the real run loop wrote (tests/unit/test_run_summary.py's
scripted attempts, remedies and preflight)."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

from ci_guard.ci import write_junit
from ci_guard.ci.github import render_step_summary
from ci_guard.config import Config
from ci_guard.failure import FailureClass
from ci_guard.records import RemedyResult, RunRecord
from tests.unit.test_run_summary import (
    BACKUP,
    DAEMON_JSON,
    HEALTHY,
    Clock,
    Remedy,
    config,
    failure,
    mirrors_refresh,
    play,
    preflight_of,
)

__all__ = ["config"]  # the fixture, used by name
WHY = "restarting the daemon needs root"


def _pruned_then_remedy_failed(config: Config) -> RunRecord:
    restart = Remedy(Clock(), 0, RemedyResult("restart-daemon", False, False, detail=WHY))
    steps = [(1.0, failure(FailureClass.DAEMON_UNREACHABLE))] * 3
    ladder = dataclasses.replace(config, max_attempts=3, ladder=("restart-daemon",))
    run, _ = play(ladder, steps, remedies=[restart], preflight=preflight_of(mirrors_refresh()))
    return run


def test_step_summary_lists_host_changes_and_failed_remedies(config: Config) -> None:
    text = render_step_summary(_pruned_then_remedy_failed(config))
    lines = text.splitlines()
    changed = lines.index("**Changed on the host:**")
    assert lines[changed + 2].startswith(f"- daemon.json (preflight): {DAEMON_JSON}: ")
    assert f"backup {BACKUP}" in lines[changed + 2]
    assert lines[changed + 3] == (
        "- daemon (preflight): reloaded with SIGHUP to read the new registry-mirrors"
    )
    failed = lines.index("**Remedies that failed:**")
    assert lines[failed + 2] == f"- restart-daemon after attempts 1, 2 failed: {WHY}"
    assert failed > changed
    assert text.index("**Remedies that failed:**") < text.index("<summary>Evidence</summary>")


def test_step_summary_of_a_run_that_changed_nothing_has_neither_list(config: Config) -> None:
    run, _ = play(config, [(1.0, failure(FailureClass.REGISTRY_TIMEOUT)), (1.0, None)])
    text = render_step_summary(run)
    assert "Changed on the host" not in text
    assert "Remedies that failed" not in text


def test_junit_properties_and_output_hold_host_changes_and_failed_remedies(
    config: Config, tmp_path: Path
) -> None:
    run = _pruned_then_remedy_failed(config)
    suite = ET.parse(write_junit(run, tmp_path / "junit.xml")).getroot().find("testsuite")
    assert suite is not None
    props = [(p.get("name"), p.get("value", "")) for p in suite.iter("property")]
    changes = [value for name, value in props if name == "host_change"]
    assert [c.split(" ", 1)[0] for c in changes] == ["daemon.json", "daemon"]
    assert HEALTHY not in changes[0]  # kept, not removed: only removals are listed
    assert [value for name, value in props if name == "remedy_failed"] == [
        f"restart-daemon after attempts 1, 2 failed: {WHY}"
    ]
    out = suite.find("system-out")
    assert out is not None
    assert out.text is not None
    assert out.text.splitlines() == [
        *(f"changed on the host: {c}" for c in changes),
        f"remedy failed: restart-daemon after attempts 1, 2 failed: {WHY}",
    ]
