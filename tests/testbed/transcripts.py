"""Record real transcripts of `ci-guard run -- docker compose build` as GitHub and GitLab.

`python -m tests.testbed.transcripts` (root, inside a loopback-only network namespace)
reuses the demo's sandbox: a private dockerd whose daemon.json lists two dead mirrors,
a healthy pull-through mirror behind a fault proxy, and Docker Hub. It runs ci-guard
three times, each with the environment a CI platform sets:
1. GitHub Actions: the mirror's proxy resets every connection from the moment the
   preflight is logged until attempt 1 is logged, so attempt 1 fails on that fault and a
   later attempt builds;
2. GitLab CI: the same story;
3. GitHub Actions with a tag typo in a FROM line: it fails for good after 1 attempt.
What each run printed and wrote (stdout, stderr, step summary, outputs, dotenv, JUnit,
the first lines of the JSON log) is saved, with temporary paths shortened, to
tests/testbed/transcripts.json; docs/transcripts.md is rendered from that record by
tests/testbed/transcripts_render.py (a unit test checks the two agree).
Exit 0 when every run ended as its story says; 1 with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.testbed.context import write_compose_project
from tests.testbed.demo import SERVICES, Sandbox, build_sandbox, seed_config
from tests.testbed.demo_narrate import at, say
from tests.testbed.faultproxy import FaultProxy
from tests.testbed.runlog import Event, LogFollower, ci_guard_argv, read_events
from tests.testbed.transcripts_render import DOC, RECORD, render

RUN_TIMEOUT_S = 300.0
LOG_HEAD_LINES = 4
COMMAND = "make transcripts"


def typo(box: Sandbox) -> dict[str, str]:
    """A tag typo in a FROM line naming a private registry (Docker Hub is out of reach
    in the sandbox: a name without a registry would fall back to it and fail on DNS)."""
    registry = box.bed.upstream.url.removeprefix("http://")
    return {"web": f'FROM {registry}/library/busybox:lastest\nRUN echo "web" > /demo.txt\n'}


_CI_PREFIXES = ("GITHUB_", "GITLAB_", "CI_", "RUNNER_", "JENKINS_", "BUILD_")


def github_env(home: Path, project: Path) -> dict[str, str]:
    """What a GitHub-hosted runner sets that ci-guard reads (the files start empty)."""
    files = {}
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV"):
        path = home / "runner-files" / name.lower()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
        files[name] = str(path)
    (home / "runner-temp").mkdir(exist_ok=True)
    return {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        **files,
        "RUNNER_TEMP": str(home / "runner-temp"),
        "GITHUB_WORKSPACE": str(project),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_RUN_ID": "9071234567",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_JOB": "build",
        "GITHUB_WORKFLOW": "images",
    }


def gitlab_env(home: Path, project: Path) -> dict[str, str]:
    """What a GitLab runner sets that ci-guard reads."""
    return {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_PROJECT_PATH": "acme/shop",
        "CI_PROJECT_ID": "4242",
        "CI_JOB_ID": "881234",
        "CI_JOB_NAME": "build-images",
        "CI_JOB_URL": "https://gitlab.example.com/acme/shop/-/jobs/881234",
        "CI_PIPELINE_ID": "55123",
        "CI_BUILDS_DIR": str(project.parent),
        "CI_PROJECT_DIR": str(project),
    }


def run_argv(box: Sandbox, out: Path) -> list[str]:
    return [
        "run",
        "--daemon-config", str(box.bed.dockerd.config_path),
        "--timeout", "60",
        "--max-attempts", "3",
        "--backoff-initial", "2",
        "--probe-timeout", "3",
        "--artifacts-dir", str(out),
        "--log-file", str(out / "ci-guard.jsonl"),
        "--junit", str(out / "junit.xml"),
        "--", "docker", "compose", "build",
    ]  # fmt: skip


class Switch:
    """Fault on at preflight.finished, off once attempt 1 is logged (as in the demo)."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self.switched: list[str] = []

    def on_event(self, event: Event) -> None:
        name = event.get("event")
        if name == "preflight.finished" and not self.switched:
            self.proxy.set_fault("reset")
            self.switched.append("on")
        elif name == "attempt.finished" and event.get("attempt") == 1 and self.switched == ["on"]:
            self.proxy.set_fault("pass")
            self.switched.append("off")


def run_one(box: Sandbox, spec: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    home = box.work / spec["name"]
    services = spec["services"](box) if callable(spec["services"]) else spec["services"]
    project_file = write_compose_project(home / "shop", services, v2=True)
    project = project_file.parent
    ci_env: dict[str, str] = spec["env"](home, project)
    out = Path(ci_env.get("RUNNER_TEMP") or home / "tmp") / "ci-guard"
    argv = run_argv(box, out)
    env = {k: v for k, v in box.bed.env().items() if not k.startswith(_CI_PREFIXES)}
    env.update(ci_env)
    seed_config(box)
    switch = Switch(box.healthy)
    follower = LogFollower(out / "ci-guard.jsonl", switch.on_event)
    if spec["fault"]:
        follower.start()
    say(f"  $ ci-guard {' '.join(argv)}")
    done = subprocess.run(
        [*ci_guard_argv(), *argv], cwd=project, env=env, capture_output=True,
        timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    if spec["fault"]:
        follower.stop()
    box.healthy.set_fault("pass")
    at(f"ci-guard exited {done.returncode}")
    events = read_events(out / "ci-guard.jsonl")
    record = {
        "name": spec["name"],
        "title": spec["title"],
        "story": spec["story"],
        "env": ci_env,
        "argv": argv,
        "exit_code": done.returncode,
        "stdout": done.stdout.decode("utf-8", "replace"),
        "stderr": done.stderr.decode("utf-8", "replace"),
        "files": _files(ci_env, out),
        "log_head": _head(out / "ci-guard.jsonl"),
    }
    return record, spec["check"](done.returncode, events) + follower.errors


def _files(ci_env: dict[str, str], out: Path) -> list[dict[str, str]]:
    paths = [("$" + name, Path(ci_env[name])) for name in sorted(ci_env) if name.endswith(
        ("_OUTPUT", "_STEP_SUMMARY", "_ENV"))]  # fmt: skip
    paths += [("dotenv report", out / "ci-guard.env"), ("JUnit report", out / "junit.xml")]
    found = []
    for label, path in paths:
        if path.exists():
            found.append({"label": label, "path": str(path), "text": path.read_text()})
    return found


def _head(log: Path) -> list[str]:
    try:
        return log.read_text().splitlines()[:LOG_HEAD_LINES]
    except FileNotFoundError:
        return []


def recovered(code: int, events: list[Event]) -> list[str]:
    attempts = [e for e in events if e.get("event") == "attempt.finished"]
    if code != 0 or len(attempts) < 2 or attempts[0].get("failure_class") in (None, "timeout"):
        classes = [e.get("failure_class") for e in attempts]
        return [f"expected a failed attempt 1 then success; exit {code}, classes {classes}"]
    return []


def failed_for_good(code: int, events: list[Event]) -> list[str]:
    attempts = [e for e in events if e.get("event") == "attempt.finished"]
    classes = [e.get("failure_class") for e in attempts]
    if code == 0 or classes != ["image_not_found"]:
        return [f"expected 1 attempt ending as image_not_found; exit {code}, classes {classes}"]
    return []


Check = Callable[[int, list[Event]], list[str]]
RUNS: list[dict[str, Any]] = [
    {"name": "github", "title": "GitHub Actions: attempt 1 fails on a registry fault, "
     "attempt 2 builds", "env": github_env, "services": SERVICES, "fault": True,
     "check": recovered, "story": "The healthy mirror's proxy resets every connection from "
     "the moment the preflight is logged until attempt 1 is logged."},
    {"name": "gitlab", "title": "GitLab CI: the same fault, the same recovery",
     "env": gitlab_env, "services": SERVICES, "fault": True, "check": recovered,
     "story": "The same fault as above, switched by the same log events."},
    {"name": "github-typo", "title": "GitHub Actions: a tag typo fails for good",
     "env": github_env, "services": typo, "fault": False, "check": failed_for_good,
     "story": "`FROM <private registry>/library/busybox:lastest` (for `latest`): the "
     "registry has no such tag; no fault is injected."},
]  # fmt: skip


def shorten(value: Any, replacements: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for raw, short in replacements:
            value = value.replace(raw, short)
        return re.sub(r"(\.ci-guard-)?daemon\.json\.\d{8}T\d{6}Z", r"daemon.json.<time>", value)
    if isinstance(value, list):
        return [shorten(item, replacements) for item in value]
    if isinstance(value, dict):
        return {key: shorten(item, replacements) for key, item in value.items()}
    return value


def main() -> int:
    if os.geteuid() != 0:
        say("transcripts: needs root (it starts a private dockerd)")
        return 1
    box = build_sandbox()
    problems: list[str] = []
    records = []
    try:
        for spec in RUNS:
            record, why = run_one(box, spec)
            records.append(record)
            problems += [f"{spec['name']}: {reason}" for reason in why]
        short = [(str(box.work), "/tmp/ci"), (str(box.bed.root), "/tmp/bed")]
        data = {
            "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": COMMAND,
            "runs": shorten(records, short),
        }
    finally:
        box.stop()
    if problems:
        kept = Path(tempfile.gettempdir()) / "cig-transcripts-failed.json"
        kept.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        say(f"transcripts: the runs did not go as told, not written (record in {kept}):")
        for problem in problems:
            say(f"  - {problem}")
        return 1
    RECORD.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    DOC.write_text(render(data))
    say(f"wrote {RECORD} and {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
