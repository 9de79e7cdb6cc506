"""The old practice's scenario on Compose v2 + BuildKit: dead mirrors first, two services.

On the sandboxed test bed: dockerd starts with daemon.json as the practice wrote it
(two mirrors that accept TCP and never answer, then a healthy pull-through mirror, then
registry-1.docker.io); a two-service compose project (FROM busybox, FROM alpine:3.19)
is built with `docker compose build` (Compose v2 on the daemon's BuildKit) from a cold
daemon (no image, no build cache) by three contenders, each from the same start:
- `ci-guard run --daemon-config daemon.json -- docker compose build`, default settings;
- plain `docker compose build`, which hangs: it runs under a bound, reported;
- the practice's loop: 5 tries of `timeout 60 docker compose build`.
Target: ci-guard succeeds on its first attempt in under 60 s, preflight included.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.testbed.bed import TestBed, start_testbed
from tests.testbed.check import bed_unavailable_reason
from tests.testbed.context import write_compose_project
from tests.testbed.faultproxy import Fault, FaultProxy
from tests.testbed.runlog import ci_guard_argv, events_named, forget_daemon_state, read_events

HUB = "https://registry-1.docker.io"
IMAGES = ("library/busybox:latest", "library/alpine:3.19")
SERVICES = {
    "web": "FROM busybox:latest\nRUN echo web > /built.txt\n",
    "worker": "FROM alpine:3.19\nRUN echo worker > /built.txt\n",
}
PLAIN_BOUND_S = 120.0
LOOP_TRIES, LOOP_TRY_TIMEOUT_S = 5, 60
CI_GUARD_BOUND_S = 300.0
TARGET_S = 60.0
BUILD = ["docker", "compose", "build"]


def cold_start(bed: TestBed, mirrors: list[str]) -> None:
    """dockerd restarted with `mirrors` (BuildKit reads them at start), nothing cached."""
    bed.dockerd.stop()
    bed.dockerd.write_config({**bed.baseline_config(), "registry-mirrors": mirrors})
    bed.dockerd.start()
    bed.remove_images()
    bed.prune_build_cache()
    forget_daemon_state(bed.docker_host)


def timed(argv: list[str], bed: TestBed, cwd: Path, bound: float) -> dict[str, Any]:
    """Run argv to its end or to the bound, in its own process group, then end the group.

    The group matters: a TERMed docker 20.10 CLI exits and leaves its compose plugin
    running (and hanging), as `timeout 60 docker compose build` does in the loop.
    """
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+", errors="replace") as out:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=bed.env(), stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            proc.wait(timeout=bound)
            bound_hit = False
        except subprocess.TimeoutExpired:
            bound_hit = True
        seconds = round(time.perf_counter() - started, 2)
        end_group(proc)
        out.seek(0)
        tail = out.read().strip().splitlines()[-2:]
    return {
        "ok": not bound_hit and proc.returncode == 0,
        "exit_code": None if bound_hit else proc.returncode,
        "seconds": seconds,
        "bound_hit": bound_hit,
        "tail": tail,
    }


def end_group(proc: subprocess.Popen[str]) -> None:
    """TERM what is left of proc's process group, KILL it 15 s later."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _group_alive(proc.pid):
            time.sleep(0.2)
            proc.poll()
    proc.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def images_built(bed: TestBed) -> bool:
    tags = [f"ci-guard-test/{name}:latest" for name in SERVICES]
    return all(bed.docker("image", "inspect", tag, check=False).returncode == 0 for tag in tags)


def run_ci_guard(bed: TestBed, project: Path, work: Path) -> dict[str, Any]:
    log = work / "run.jsonl"
    log.unlink(missing_ok=True)
    argv = [
        *ci_guard_argv(), "run", "--daemon-config", str(bed.dockerd.config_path),
        "--log-file", str(log), "--artifacts-dir", str(work / "artifacts"), "--", *BUILD,
    ]  # fmt: skip
    result = timed(argv, bed, project, CI_GUARD_BOUND_S)
    events = read_events(log) if log.exists() else []
    attempts = events_named(events, "attempt.finished")
    preflight = events_named(events, "preflight.finished")
    result["attempts"] = [
        {k: a.get(k) for k in ("attempt", "duration_s", "failure_class")} for a in attempts
    ]
    result["remedies"] = [e.get("remedy") for e in events_named(events, "remedy.finished")]
    if preflight:
        mirrors = preflight[0].get("mirrors") or {}
        result["mirrors_after"] = mirrors.get("mirrors_after")
        result["preflight_action"] = mirrors.get("action")
    result["images_built"] = images_built(bed)
    return result


def measure(bed: TestBed, dead: list[FaultProxy], work: Path) -> dict[str, Any]:
    project = write_compose_project(work / "project", SERVICES, v2=True).parent
    cold_start(bed, [bed.mirror.url])
    warm = timed(BUILD, bed, project, PLAIN_BOUND_S)  # fills the pull-through mirror's cache
    practice = [dead[0].url, dead[1].url, bed.mirror.url, HUB]
    cold_start(bed, practice)
    guard = run_ci_guard(bed, project, work)
    cold_start(bed, practice)
    plain = timed(BUILD, bed, project, PLAIN_BOUND_S)
    cold_start(bed, practice)
    loop = (
        f"for i in $(seq {LOOP_TRIES}); do timeout {LOOP_TRY_TIMEOUT_S} "
        f"{' '.join(BUILD)} && exit 0; done; exit 1"
    )
    practice_loop = timed(["sh", "-c", loop], bed, project, LOOP_TRIES * LOOP_TRY_TIMEOUT_S + 30)
    first_try = len(guard["attempts"]) == 1 and guard["ok"]
    return {
        "services": list(SERVICES),
        "mirrors_before": practice,
        "warm_build_healthy_mirror": warm,
        "ci_guard_run": guard,
        "plain_compose_build": {**plain, "bound_s": PLAIN_BOUND_S},
        "practice_loop": {
            **practice_loop,
            "tries": LOOP_TRIES,
            "try_timeout_s": LOOP_TRY_TIMEOUT_S,
        },
        "target_s": TARGET_S,
        "targets_met": bool(first_try and guard["seconds"] < TARGET_S and guard["images_built"]),
    }


def main() -> dict[str, Any]:
    reason = bed_unavailable_reason()
    if reason is not None:
        return {"error": f"Docker test bed unavailable: {reason}"}
    bed = start_testbed(images=IMAGES)
    if not bed.compose_v2:
        bed.stop()
        return {"error": "Compose v2 is not installed: run `python -m tests.tools compose`"}
    work = Path(tempfile.mkdtemp(prefix="cig-bench-compose-"))
    dead: list[FaultProxy] = []
    try:
        for _ in range(2):
            proxy = FaultProxy(("127.0.0.1", bed.mirror.port), fault=Fault("blackhole"))
            dead.append(proxy.start())
        return measure(bed, dead, work)
    finally:
        for proxy in dead:
            proxy.stop()
        forget_daemon_state(bed.docker_host)
        bed.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
