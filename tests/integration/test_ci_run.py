"""`ci-guard run --ci github|gitlab` end to end: a real child that prints workflow
commands, fails once and passes, with GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.unit.test_ci_github import RunnerModel, parse_github_output

CHILD = """\
import os, sys
print("::error::fake")
print("::add-mask::hunter2")
sys.stdout.write("::set-output name=x::y")
if not os.path.exists("state"):
    open("state", "w").close()
    sys.exit(3)
"""


def _run(
    tmp_path: Path, platform: str, extra_env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_GUARD_", "GITHUB_"))}
    env.pop("GITLAB_CI", None)
    env.update(extra_env)
    argv = [sys.executable, "-m", "ci_guard", "run", "--ci", platform, "--no-preflight"]
    argv += ["--max-attempts", "3", "--backoff-initial", "0", "--backoff-max", "0"]
    argv += ["--junit", "junit.xml", "--log-file", "run.jsonl", "--", sys.executable, "-c", CHILD]
    return subprocess.run(
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_github_run_brackets_child_commands_and_writes_outputs(tmp_path: Path) -> None:
    files = {"GITHUB_OUTPUT": "output", "GITHUB_STEP_SUMMARY": "summary.md"}
    done = _run(tmp_path, "github", {k: str(tmp_path / v) for k, v in files.items()})
    assert done.returncode == 0, done.stderr
    runner = RunnerModel().feed(done.stdout)
    names = [c.name for c in runner.executed]
    assert names == ["group", "endgroup", "warning", "group", "endgroup"], done.stdout
    assert runner.printed.count("::error::fake") == 2
    assert runner.printed.count("::add-mask::hunter2") == 2
    assert runner.printed.count("::set-output name=x::y") == 2
    assert runner.stop_token is None
    outputs = parse_github_output((tmp_path / "output").read_text("utf-8"))
    assert outputs == {
        "attempts": "2",
        "exit-code": "0",
        "failure-class": "",
        "stop-reason": "succeeded",
        "log-file": "run.jsonl",
    }
    summary = (tmp_path / "summary.md").read_text("utf-8")
    assert "| 1 | failed |" in summary
    assert "| 2 | passed |" in summary
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")


def test_gitlab_run_writes_sections_and_dotenv(tmp_path: Path) -> None:
    builds = tmp_path.parent / f"{tmp_path.name}-builds"
    done = _run(tmp_path, "gitlab", {"CI_BUILDS_DIR": str(builds), "CI_JOB_ID": "7"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\x1b[0Ksection_start:") == 2
    assert done.stdout.count("\x1b[0Ksection_end:") == 2
    # By default the artifacts folder is outside the project, in the builds folder.
    assert not (tmp_path / ".ci-guard").exists()
    dotenv = (builds / ".ci-guard" / "7" / "ci-guard.env").read_text("utf-8")
    assert "CI_GUARD_ATTEMPTS=2\n" in dotenv
