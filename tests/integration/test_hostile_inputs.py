"""Hostile input, as a user or an adversary gives it: real `ci-guard` processes.

Every case must end with its documented exit code and never a traceback: a bad setting
(wrong type, typo, huge, empty, a device or folder where a file belongs) is one
`ci-guard: error:` line and exit 2 before the build starts; an output that cannot be
written (JUnit, metrics, Pushgateway, log file, CI summary/output/dotenv files) is a
warning, and the build's own exit code comes back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile import BUILD, BUILD_CODE, Case, run_all, run_case
from tests.hostile_cases import sampled_cases

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="/proc and device cases assume root")


def test_hostile_inputs_end_in_their_documented_exit_code(tmp_path: Path) -> None:
    cases = sampled_cases()
    outcomes = run_all(cases, tmp_path)
    problems = [f"{o.case.name}: {', '.join(o.problems)}" for o in outcomes if o.problems]
    assert problems == []
    assert len(outcomes) > 150  # the suite did not shrink by accident


def test_github_summary_that_cannot_be_written_keeps_a_passing_build(tmp_path: Path) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": "/dev/null/y"}
    case = Case("summary", ("run", "--no-preflight", "--", "true"), 0, env=env)
    outcome = run_case(case, tmp_path)
    assert (outcome.code, outcome.traceback) == (0, False)
    warnings = [ln for ln in outcome.stderr.splitlines() if ln.startswith("ci-guard: warning:")]
    assert len(warnings) == 1, outcome.stderr
    assert warnings[0].startswith("ci-guard: warning: CI hook run_finished failed: ")
    assert "/dev/null/y: Not a directory" in warnings[0]


def test_endless_config_file_is_refused_at_once(tmp_path: Path) -> None:
    for device in ("/dev/zero", "/dev/urandom"):
        case = Case("endless", ("run", "--config", device, "--", "true"), 2)
        outcome = run_case(case, tmp_path / device.rsplit("/", 1)[1], timeout=20)
        assert outcome.code == 2
        assert f"config file {device}: cannot read: not a regular file" in outcome.stderr


def test_unknown_ladder_stage_is_refused_by_config_as_by_run(tmp_path: Path) -> None:
    for command in (("config",), ("run", "--no-preflight", "--", "true")):
        case = Case("ladder", (*command[:1], "--ladder", "retry,bogus", *command[1:]), 2)
        outcome = run_case(case, tmp_path / command[0])
        assert outcome.code == 2
        assert "ladder: unknown stage 'bogus'" in outcome.stderr


def _patched_run(tmp_path: Path, patch: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`ci-guard run` in a real process with one method replaced by a crashing one."""
    code = (
        "import sys\n"
        "from ci_guard.run import loop\n"
        "def boom(*a, **k):\n"
        "    raise RuntimeError('injected bug')\n"
        f"setattr(loop.Runner, {patch!r}, boom)\n"
        "from ci_guard.cli.entry import main\n"
        "sys.argv[0] = 'ci-guard'\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=60,
        check=False,
        env={**os.environ, "CI_GUARD_DEBUG": ""},
    )


def test_a_bug_before_the_build_is_one_line_and_exit_70(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    done = _patched_run(
        tmp_path, "_preflight", "run", "--no-preflight", "--log-file", str(log), "--", "true"
    )
    assert done.returncode == 70
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("ci-guard: error:")]
    assert errors == [
        "ci-guard: error: internal error: RuntimeError: injected bug "
        f"(the traceback is in the JSON log {log})"
    ]
    events = [json.loads(line) for line in log.read_text().splitlines()]
    crash = [e for e in events if e["event"] == "internal.error"]
    assert "injected bug" in crash[0]["traceback"]
    assert "Traceback (most recent call last)" in crash[0]["traceback"]


def test_a_bug_after_the_build_keeps_the_build_exit_code(tmp_path: Path) -> None:
    done = _patched_run(tmp_path, "_log_attempt", "run", "--no-preflight", "--", *BUILD)
    assert done.returncode == BUILD_CODE
    assert "Traceback" not in done.stderr
    assert f"the build's exit code {BUILD_CODE} is kept" in done.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    code = (
        "import os, sys\n"
        "os.environ['CI_GUARD_DEBUG'] = '1'\n"
        "from ci_guard.run import loop\n"
        "def boom(*a, **k):\n"
        "    raise RuntimeError('injected bug')\n"
        "loop.Runner._preflight = boom\n"
        "from ci_guard.cli.entry import main\n"
        "main()\n"
    )
    argv = [sys.executable, "-c", code, "run", "--no-preflight", "--", "true"]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 70
    assert "Traceback (most recent call last)" in done.stderr
    # the log file the error line names holds the traceback too
    line = done.stderr.splitlines()[-1]
    assert line.startswith("ci-guard: error: internal error: RuntimeError: injected bug")
    path = Path(line.split("the traceback is in the JSON log ", 1)[1].rstrip(")"))
    crash = [json.loads(ln) for ln in path.read_text().splitlines()][-1]
    assert crash["event"] == "internal.error"
    assert "injected bug" in crash["traceback"]
