"""One real `ci-guard run` full of secrets, and every artifact it wrote, scanned.

The child prints every shape's line (stdout and stderr), puts some shapes into lines
the classifier keeps as evidence, and fails twice; the command's argv and the
environment carry the argv and environment shapes; the second attempt runs the
restart-daemon remedy in dry-run with a restart command that holds a password. Then
`ci-guard report` renders the log as text, JSON and HTML. Every file ci-guard wrote
(log, JUnit, metrics, dotenv, step summary, outputs, attempt logs, reports) and its
own stdout/stderr (the child's pass-through output taken out) is searched for every
secret. The child's pass-through output is checked to be byte-identical.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.leakcheck.shapes import RESTART_COMMAND, RESTART_SECRET, SHAPES, Shape

PLATFORMS = ("github", "gitlab", "jenkins", "none")
EVIDENCE_PER_RUN = 5  # the classifier keeps at most five evidence lines per rule
DAEMON_LINE = "Cannot connect to the Docker daemon at {s}. Is the docker daemon running?"
CHILD = """\
import json, sys
spec = json.load(open(sys.argv[1]))
sys.stdout.write(spec["stdout"])
sys.stdout.flush()
sys.stderr.write(spec["stderr"])
sys.stderr.flush()
sys.exit(1)
"""


@dataclass(frozen=True)
class Leak:
    shape: str
    artifact: str


@dataclass(frozen=True)
class RunResult:
    artifacts: dict[str, str]
    leaks: list[Leak]
    passthrough_identical: bool
    exit_code: int


def chunks(size: int = EVIDENCE_PER_RUN) -> list[tuple[Shape, ...]]:
    printed = [shape for shape in SHAPES if shape.line and "\n" not in shape.line]
    return [tuple(printed[i : i + size]) for i in range(0, len(printed), size)]


def _child_output(evidence: Sequence[Shape]) -> tuple[str, str]:
    lines = [shape.line for shape in SHAPES if shape.line]
    stdout = "\n".join(lines) + "\n"
    stdout += "".join(DAEMON_LINE.format(s=shape.line) + "\n" for shape in evidence)
    stderr = "\n".join(lines[: len(lines) // 3]) + "\n"
    return stdout, stderr


def _platform_env(platform: str, root: Path, project: Path) -> dict[str, str]:
    if platform == "github":
        return {
            "GITHUB_ACTIONS": "true",
            "RUNNER_TEMP": str(root / "runner-temp"),
            "GITHUB_OUTPUT": str(root / "github" / "output"),
            "GITHUB_STEP_SUMMARY": str(root / "github" / "step-summary.md"),
        }
    if platform == "gitlab":
        return {"GITLAB_CI": "true", "CI_BUILDS_DIR": str(root / "builds"), "CI_JOB_ID": "42"}
    if platform == "jenkins":
        return {"JENKINS_URL": "http://jenkins.invalid/", "WORKSPACE": str(project)}
    return {"CI_GUARD_DOTENV": str(root / "out" / "none.env")}


def _environment(platform: str, root: Path, project: Path) -> dict[str, str]:
    prefixes = ("CI_GUARD_", "GITHUB_", "GITLAB_", "CI_", "JENKINS_", "RUNNER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.pop("WORKSPACE", None)
    env["TMPDIR"] = str(root / "tmp")
    env.update(_platform_env(platform, root, project))
    for shape in SHAPES:
        env.update(shape.env)
    return env


def _ci_guard_argv(platform: str, root: Path, log_format: str) -> list[str]:
    out = root / "out"
    return [
        sys.executable,
        "-m",
        "ci_guard",
        "run",
        "--ci",
        platform,
        "--no-preflight",
        "--max-attempts",
        "2",
        "--backoff-initial",
        "0",
        "--backoff-max",
        "0",
        "--ladder",
        "retry,restart-daemon",
        "--dry-run",
        "--restart-command",
        RESTART_COMMAND,
        "--log-format",
        log_format,
        "--log-file",
        str(out / "run.jsonl"),
        "--junit",
        str(out / "junit.xml"),
        "--metrics-file",
        str(out / "metrics.prom"),
    ]


def run_once(
    root: Path, platform: str, evidence: Sequence[Shape], log_format: str = "json"
) -> RunResult:
    """Run ci-guard once under `root` and return what it wrote and what leaked."""
    project = root / "project"
    for folder in (project, root / "tmp", root / "out", root / "github"):
        folder.mkdir(parents=True, exist_ok=True)
    stdout, stderr = _child_output(evidence)
    spec = root / "child.json"
    spec.write_text(json.dumps({"stdout": stdout, "stderr": stderr}), "utf-8")
    (root / "child.py").write_text(CHILD, "utf-8")
    argv = [str(arg) for shape in SHAPES for arg in shape.argv]
    command = [sys.executable, str(root / "child.py"), str(spec), *argv]
    env = _environment(platform, root, project)
    done = subprocess.run(
        [*_ci_guard_argv(platform, root, log_format), "--", *command],
        cwd=project,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    own_out = done.stdout.decode("utf-8", "replace")
    own_err = done.stderr.decode("utf-8", "replace")
    identical = own_out.count(stdout) == 2 and own_err.count(stderr) == 2
    artifacts = {
        "ci-guard stdout": own_out.replace(stdout, ""),
        "ci-guard stderr": own_err.replace(stderr, ""),
    }
    artifacts.update(_reports(root, env, project))
    artifacts.update(_files(root))
    return RunResult(artifacts, find_leaks(artifacts), identical, done.returncode)


def _reports(root: Path, env: dict[str, str], project: Path) -> dict[str, str]:
    log = root / "out" / "run.jsonl"
    base = [sys.executable, "-m", "ci_guard", "report", str(log)]
    found = {}
    for name, extra in (("report text", []), ("report json", ["--json"])):
        done = subprocess.run(
            [*base, *extra], cwd=project, env=env, capture_output=True, text=True, check=False
        )
        found[name] = done.stdout + done.stderr
    html = root / "out" / "report.html"
    subprocess.run(
        [*base, "--html", str(html)], cwd=project, env=env, capture_output=True, check=False
    )
    return found


def _files(root: Path) -> dict[str, str]:
    inputs = {root / "child.py", root / "child.json"}
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path not in inputs:
            found[path.relative_to(root).as_posix()] = path.read_text("utf-8", "replace")
    return found


def find_leaks(artifacts: dict[str, str]) -> list[Leak]:
    leaks = []
    wanted = [(shape.name, shape.leaks) for shape in SHAPES]
    wanted.append(("restart-command", (RESTART_SECRET,)))
    for artifact, text in artifacts.items():
        for name, secrets in wanted:
            if any(secret in text for secret in secrets):
                leaks.append(Leak(name, artifact))
    return leaks
