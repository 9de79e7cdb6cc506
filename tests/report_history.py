"""A real run history for `ci-guard report`: the real `ci-guard run` run many times.

Each run is a subprocess of `python -m ci_guard run` appending to one log file, with
a preflight that probes three loopback mirrors (one answering as a registry, one that
answers some runs and fails others with a server error, one closed port) in dry-run,
and commands that succeed, fail, flake, hit their deadline or get cancelled during a
backoff wait. The report tests and the documentation screenshots read what it writes.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DIGEST = "sha256:" + "ab" * 32
FLAKY_SCRIPT = """\
# fails once with a network timeout, then succeeds: a flaky registry
if [ -f "$1" ]; then rm -f "$1"; echo built; exit 0; fi
touch "$1"
echo "dial tcp 10.9.9.9:443: i/o timeout" >&2
exit 1
"""
FLAKY_NAME = "build-flaky.sh"
LOG_NAME = "ci-guard.jsonl"
PROJECT_DIR = "storefront"
"""The working directory of runs outside CI: the report names them by it."""


class _Mirror(http.server.BaseHTTPRequestHandler):
    """Answers as a Docker Hub mirror; a server error while the owner says it is down."""

    def _reply(self) -> None:
        owner: MirrorServer = self.server.owner  # type: ignore[attr-defined]
        time.sleep(owner.delay_s)
        path = self.path.split("?", 1)[0]
        headers = {"Docker-Distribution-API-Version": "registry/2.0"}
        status = 503 if owner.down else 200 if path == "/v2/" else 404
        if not owner.down and path.startswith("/v2/library/busybox/manifests/"):
            status = 200
            headers["Docker-Content-Digest"] = DIGEST
            headers["Content-Type"] = "application/vnd.docker.distribution.manifest.v2+json"
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "2")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(b"{}")

    do_GET = do_HEAD = _reply

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class MirrorServer:
    delay_s: float = 0.0
    down: bool = False
    url: str = ""
    _server: http.server.ThreadingHTTPServer | None = field(default=None, repr=False)

    def start(self) -> MirrorServer:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Mirror)
        server.owner = self  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server, self.url = server, f"http://127.0.0.1:{server.server_address[1]}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@dataclass(frozen=True)
class Step:
    """One `ci-guard run`: its options, command and CI environment."""

    command: tuple[str, ...]
    options: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cancel_after_retry: bool = False
    """Send SIGTERM once the log shows the first retry.scheduled (a wait in progress)."""


GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/webshop",
    "GITHUB_RUN_ID": "7001",
    "GITHUB_RUN_ATTEMPT": "1",
}
GITLAB = {
    "GITLAB_CI": "true",
    "CI_PROJECT_PATH": "acme/payments",
    "CI_JOB_URL": "https://gitlab.example/acme/payments/-/jobs/4242",
}


def flaky(marker: str) -> tuple[str, ...]:
    """A build that fails once (leaving `marker` in the working directory), then passes."""
    return ("sh", f"./{FLAKY_NAME}", marker)


def default_steps() -> list[Step]:
    """A varied history: first-try successes, rescued flakes, failures, a deadline, a cancel."""
    fail = ("--max-attempts", "3", "--backoff-initial", "1.5", "--backoff-max", "3")
    return [
        Step(("sh", "-c", "sleep 0.3; echo built"), env=GITHUB),
        Step(flaky(".flake-1"), ("--backoff-initial", "1"), env=GITHUB),
        Step(("sh", "-c", "exit 1"), fail, env=GITLAB),
        Step(("sh", "-c", "sleep 0.6; echo built"), env=GITLAB),
        Step(
            ("sh", "-c", "sleep 5"),
            ("--timeout", "1", "--no-retry-on-timeout", "--kill-grace", "1"),
        ),
        Step(flaky(".flake-2"), ("--backoff-initial", "2"), env=GITHUB),
        Step(flaky(".flake-3"), ("--backoff-initial", "60"), cancel_after_retry=True),
        Step(("docker", "compose", "-p", "shopfront", "build"), ("--max-attempts", "1")),
        Step(("sh", "-c", "sleep 0.2; echo built"), env=GITHUB),
    ]


def _env(extra: Mapping[str, str]) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_", "GITLAB"))}
    keep.pop("JENKINS_URL", None)
    keep.pop("CI", None)
    return {**keep, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), **extra}


def run_step(step: Step, work: Path, mirrors: Sequence[str]) -> int:
    """One real `ci-guard run` appending to work/LOG_NAME; its exit code."""
    log = work / LOG_NAME
    argv = [
        sys.executable, "-m", "ci_guard", "run", "--log-file", str(log), "--dry-run",
        "--mirrors", ",".join(mirrors), "--probe-timeout", "1",
        "--artifacts-dir", str(work / "artifacts"), *step.options, "--", *step.command,
    ]  # fmt: skip
    before = log.read_text("utf-8").count("retry.scheduled") if log.exists() else 0
    proc = subprocess.Popen(
        argv,
        cwd=work / PROJECT_DIR,
        env=_env(step.env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if step.cancel_after_retry:
            _wait_for_count(log, "retry.scheduled", before + 1)
            time.sleep(0.5)  # well into the wait
            proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=120)
    finally:
        if proc.poll() is None:  # a step that went wrong must not outlive the history
            proc.kill()
            proc.wait()


def _wait_for_count(path: Path, text: str, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text("utf-8", "replace").count(text) >= count:
            return
        time.sleep(0.05)
    raise TimeoutError(f"{text} never appeared {count} times in {path}")


@contextlib.contextmanager
def mirrors() -> Iterator[tuple[MirrorServer, MirrorServer, str]]:
    """(a good mirror, one that goes down at times, a dead one)."""
    good, shaky = MirrorServer(delay_s=0.02).start(), MirrorServer(delay_s=0.15).start()
    try:
        yield good, shaky, closed_port()
    finally:
        good.stop()
        shaky.stop()


def write_history(work: Path, steps: Sequence[Step] | None = None) -> Path:
    """Run every step (default_steps) into work/LOG_NAME and return that log."""
    (work / PROJECT_DIR).mkdir(parents=True, exist_ok=True)
    (work / PROJECT_DIR / FLAKY_NAME).write_text(FLAKY_SCRIPT, "utf-8")
    chosen = list(steps) if steps is not None else default_steps()
    with mirrors() as (good, shaky, dead):
        for index, step in enumerate(chosen):
            shaky.down = index % 3 == 2
            good.delay_s = 0.02 + 0.03 * (index % 4)
            run_step(step, work, [good.url, shaky.url, dead])
    return work / LOG_NAME
