"""Time to a successful build through a 30 s registry outage: ci-guard run vs a fixed-delay loop.

On the sandboxed test bed the daemon's only mirror sits behind a fault proxy. For each
contender the proxy refuses connections for OUTAGE_S seconds from the start (dockerd
then falls back to Docker Hub, which is unreachable in the sandbox, so the build fails
at once), then forwards again. busybox and the build cache are removed before each
run, so every build really pulls. Contenders:
- `ci-guard run -- docker build ...` with its default settings (preflight, backoff,
  ladder; the mirror also given as a --mirrors candidate);
- the original practice's loop: `for i in 1 2 3 4 5; do docker build ... && exit 0;
  sleep 60; done`.
Reported: seconds from start to success for each, attempts, classes and remedies.
Target: ci-guard succeeds, and sooner than the fixed-delay loop.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.testbed.bed import TestBed, start_testbed
from tests.testbed.check import bed_unavailable_reason
from tests.testbed.client import DOCKER
from tests.testbed.context import build_argv, write_build_context
from tests.testbed.faultproxy import FaultProxy
from tests.testbed.runlog import ci_guard_argv, events_named, forget_daemon_state, read_events

OUTAGE_S = 30.0
LOOP_SLEEP_S = 60
OUTAGE_MODE = "refuse"
TAG = "outage-bench:latest"
DOCKERFILE = "FROM busybox:latest\nRUN echo survived > /survived.txt\n"


def timed_outage(bed: TestBed, proxy: FaultProxy, argv: list[str]) -> tuple[float, int]:
    """Run argv with the proxy down for its first OUTAGE_S seconds; (seconds, exit code)."""
    bed.docker("image", "rm", "--force", "busybox:latest", TAG, check=False)
    bed.prune_build_cache()
    proxy.set_fault(OUTAGE_MODE)
    timer = threading.Timer(OUTAGE_S, proxy.set_fault, args=("pass",))
    started = time.perf_counter()
    timer.start()
    try:
        done = subprocess.run(
            argv, env=bed.env(), capture_output=True, text=True, timeout=900, check=False
        )
    finally:
        timer.cancel()
        proxy.set_fault("pass")
    return round(time.perf_counter() - started, 2), done.returncode


def ci_guard_run(bed: TestBed, proxy: FaultProxy, context: Path, work: Path) -> dict[str, Any]:
    log = work / "outage.jsonl"
    argv = [
        *ci_guard_argv(), "run",
        "--mirrors", proxy.url, "--daemon-config", str(bed.dockerd.config_path),
        "--log-file", str(log), "--artifacts-dir", str(work / "artifacts"),
        "--", DOCKER, *build_argv(context, TAG),
    ]  # fmt: skip
    seconds, code = timed_outage(bed, proxy, argv)
    events = read_events(log)
    attempts = events_named(events, "attempt.finished")
    return {
        "seconds_to_success": seconds if code == 0 else None,
        "exit_code": code,
        "attempts": len(attempts),
        "attempt_started_s": _attempt_offsets(events),
        "classes": [a.get("failure_class") for a in attempts],
        "waits_s": [r.get("delay_s") for r in events_named(events, "retry.scheduled")],
        "remedies": [
            {"remedy": r.get("remedy"), "actions": r.get("actions")}
            for r in events_named(events, "remedy.finished")
        ],
    }


def _attempt_offsets(events: list[dict[str, Any]]) -> list[float]:
    from datetime import datetime

    stamps = [datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")) for e in events]
    if not stamps:
        return []
    first = stamps[0]
    return [
        round((stamp - first).total_seconds(), 1)
        for stamp, event in zip(stamps, events, strict=True)
        if event.get("event") == "attempt.started"
    ]


def fixed_loop(bed: TestBed, proxy: FaultProxy, context: Path) -> dict[str, Any]:
    build = shlex.join([DOCKER, *build_argv(context, TAG)])
    script = (
        f"for i in 1 2 3 4 5; do echo attempt $i >&2; {build} && exit 0; "
        f"sleep {LOOP_SLEEP_S}; done; exit 1"
    )
    seconds, code = timed_outage(bed, proxy, ["sh", "-c", script])
    return {"seconds_to_success": seconds if code == 0 else None, "exit_code": code}


def main() -> dict[str, Any]:
    reason = bed_unavailable_reason()
    if reason is not None:
        return {"error": f"Docker test bed unavailable: {reason}"}
    bed = start_testbed(images=("library/busybox:latest",))
    proxy = FaultProxy(("127.0.0.1", bed.mirror.port)).start()
    try:
        bed.set_mirrors([proxy.url])
        with tempfile.TemporaryDirectory(prefix="cig-outage-") as name:
            work = Path(name)
            context = write_build_context(work / "context", DOCKERFILE)
            guarded = ci_guard_run(bed, proxy, context, work)
            loop = fixed_loop(bed, proxy, context)
    finally:
        proxy.stop()
        forget_daemon_state(bed.docker_host)
        bed.stop()
    ok = guarded["seconds_to_success"] is not None and loop["seconds_to_success"] is not None
    return {
        "outage_s": OUTAGE_S,
        "outage_mode": OUTAGE_MODE,
        "ci_guard_run": guarded,
        "fixed_delay_loop": {**loop, "sleep_s": LOOP_SLEEP_S, "max_attempts": 5},
        "targets_met": ok and guarded["seconds_to_success"] < loop["seconds_to_success"],
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
