"""Stopping a real `ci-guard run` in each phase of a run, and what it leaves behind.

`cancel_in(phase, signum, folder)` starts ci-guard, waits until it is in that phase
(watching its JSON log and the build's marker files), sends the signal, and returns the
exit code, the `run.finished` event and the time from the signal to the exit. Where a
phase cannot be reached without a host to damage (a preflight against real registries,
a daemon restart), a stand-in that blocks the same way is put in its place in the real
ci-guard process. Shared by the tests and bench/.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CAUSE = (
    'Get "https://registry-1.docker.io/v2/": net/http: request canceled while waiting for '
    "connection (Client.Timeout exceeded while awaiting headers)"
)
DAEMON_GONE = (
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
    "Is the docker daemon running?"
)
PHASES = ("start-up", "preflight", "attempt", "classification", "backoff", "remedy")
# A large output (about 40 MB) whose classification takes seconds, then a failure.
_LARGE_OUTPUT = (
    "import sys\n"
    "line = '#12 3.456 Step 7/12 : RUN pip install -r requirements.txt ... 42%\\n' * 10000\n"
    "for _ in range(60):\n"
    "    sys.stdout.write(line)\n"
    "sys.stdout.flush()\n"
    "open('build-done', 'w').close()\n"
    "sys.exit(1)\n"
)
# Run inside the ci-guard process: stand-ins for a slow preflight and a remedy that
# waits for a daemon (both block, as a probe or a /_ping wait on a dead host does).
_STAND_INS = (
    "import sys, time\n"
    "from ci_guard.run import job\n"
    "from ci_guard import remedies\n"
    "job._preflight = lambda *_: (lambda config: time.sleep(120) or {})\n"
    "remedies.REMEDIES['restart-daemon'] = 'tests.cancel_phases:BlockingRemedy'\n"
    "from ci_guard.cli.entry import main\n"
    "sys.argv[0] = 'ci-guard'\n"
    "main()\n"
)


class BlockingRemedy:
    """Stands in for restart-daemon waiting for a daemon that does not come back."""

    name = "restart-daemon"

    def plan(self, ctx: Any) -> list[str]:
        return ["wait for a daemon that never answers"]

    def apply(self, ctx: Any) -> Any:
        time.sleep(120)
        raise AssertionError("the remedy was not abandoned")


@dataclass(frozen=True)
class Stopped:
    phase: str
    signum: int
    code: int
    finished: dict[str, Any] | None
    latency_s: float
    traceback: bool


def _argv(phase: str) -> list[str]:
    base = ["run", "--log-file", "run.jsonl", "--kill-grace", "5"]
    fail = ["sh", "-c", f"echo '{CAUSE}'; exit 1"]
    if phase in ("start-up", "attempt"):
        return [*base, "--no-preflight", "--", "sleep", "60"]
    if phase == "preflight":
        return [*base, "--", "true"]
    if phase == "classification":
        return [*base, "--no-preflight", "--", sys.executable, "-c", _LARGE_OUTPUT]
    if phase == "backoff":
        return [
            *base,
            "--no-preflight",
            "--backoff-initial",
            "60",
            "--backoff-max",
            "60",
            "--",
            *fail,
        ]
    if phase == "remedy":
        extra = ["--ladder", "restart-daemon", "--backoff-initial", "0", "--backoff-max", "0"]
        return [*base, "--no-preflight", *extra, "--", "sh", "-c", f"echo '{DAEMON_GONE}'; exit 1"]
    raise ValueError(f"unknown phase {phase!r}")


def _events(folder: Path) -> list[dict[str, Any]]:
    path = folder / "run.jsonl"
    if not path.exists():
        return []
    lines = path.read_text("utf-8", "replace").splitlines()
    return [json.loads(line) for line in lines if line.endswith("}")]


def _reached(phase: str, folder: Path) -> bool:
    names = {event["event"] for event in _events(folder)}
    if phase == "preflight":
        return "run.started" in names
    if phase == "attempt":
        return "attempt.started" in names
    if phase == "classification":
        return (folder / "build-done").exists()
    if phase == "backoff":
        return "retry.scheduled" in names
    if phase == "remedy":
        return "remedy.started" in names
    return True


def cancel_in(phase: str, signum: int, folder: Path, *, settle: float = 0.3) -> Stopped:
    """Start ci-guard, wait for `phase`, send `signum` `settle` seconds in, measure.

    "start-up" sends it as soon as ci-guard's handlers are in place, while Python is
    still loading the command's modules (click, the run machinery).
    """
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO), "CI_GUARD_DEBUG": ""}
    program = ["-m", "ci_guard"] if phase == "start-up" else ["-c", _STAND_INS]
    proc = subprocess.Popen(
        [sys.executable, *program, *_argv(phase)],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(phase, folder, proc)
        if phase != "start-up":
            time.sleep(settle)
        sent = time.monotonic()
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=60)
        latency = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    finished = [e for e in _events(folder) if e["event"] == "run.finished"]
    return Stopped(
        phase=phase,
        signum=signum,
        code=proc.returncode,
        finished=finished[-1] if finished else None,
        latency_s=latency,
        traceback=b"Traceback (most recent call last)" in stderr,
    )


def catches(pid: int, signum: int) -> bool:
    """Whether process pid has a handler for signum (SigCgt in /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(mask, 16) >> (signum - 1) & 1)


def _wait_for(phase: str, folder: Path, proc: subprocess.Popen[bytes]) -> None:
    """Until the phase is reached; "start-up": until ci-guard's first line has installed
    its handlers (before it, the interpreter itself is starting, and a signal gets the
    interpreter's default action)."""
    deadline = time.monotonic() + 60
    while not (
        catches(proc.pid, signal.SIGTERM) if phase == "start-up" else _reached(phase, folder)
    ):
        if proc.poll() is not None:
            raise RuntimeError(f"ci-guard exited {proc.returncode} before the {phase} phase")
        if time.monotonic() > deadline:
            raise RuntimeError(f"ci-guard never reached the {phase} phase")
        time.sleep(0.002 if phase == "start-up" else 0.02)


def expected_code(signum: int) -> int:
    return 128 + signum


SIGNALS = (signal.SIGTERM, signal.SIGINT)
