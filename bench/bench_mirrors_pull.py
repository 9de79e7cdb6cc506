"""Pulling 5 images with the original practice's mirror list, then after `ci-guard mirrors apply`.

On the sandboxed test bed (a private dockerd in a loopback-only network namespace):
daemon.json lists two dead mirrors first (TCP proxies that accept and never answer),
then a healthy pull-through mirror, then registry-1.docker.io, as the practice did.
Five Hub-style images are pulled one after the other and timed; the local images go;
`ci-guard mirrors apply` re-ranks the list (dead mirrors and Hub's name leave, dockerd
reloads with SIGHUP); the same five pulls are timed again. The mirror's cache is warmed
first, so both rounds pull the same way. Target: the second round at least 10x faster.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

from tests.testbed.bed import TestBed, start_testbed
from tests.testbed.check import bed_unavailable_reason
from tests.testbed.faultproxy import Fault, FaultProxy
from tests.testbed.runlog import ci_guard_argv, forget_daemon_state

IMAGES = (
    "busybox:latest",
    "alpine:latest",
    "hello-world:latest",
    "debian:bookworm-slim",
    "nginx:alpine",
)
HUB = "https://registry-1.docker.io"
PROBE_TIMEOUT_S = 3.0
TARGET_SPEEDUP = 10.0


def pull_all(bed: TestBed) -> list[float]:
    """Seconds per pull; every pull must succeed."""
    seconds = []
    for image in IMAGES:
        started = time.perf_counter()
        done = bed.pull(image, timeout=600)
        seconds.append(round(time.perf_counter() - started, 3))
        if done.returncode != 0:
            raise RuntimeError(f"pull {image} failed: {done.stderr.strip()[-300:]}")
    bed.remove_images()
    return seconds


def mirrors_apply(bed: TestBed) -> tuple[float, dict[str, Any]]:
    argv = [
        *ci_guard_argv(), "mirrors", "apply", "--json",
        "--daemon-config", str(bed.dockerd.config_path), "--probe-timeout", str(PROBE_TIMEOUT_S),
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(
        argv, env=bed.env(), capture_output=True, text=True, timeout=120, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"ci-guard mirrors apply exited {done.returncode}: {done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return round(elapsed, 3), result


def measure(bed: TestBed, dead: list[FaultProxy]) -> dict[str, Any]:
    bed.remove_images()
    pull_all(bed)  # warms the pull-through mirror's cache
    seed_list = [dead[0].url, dead[1].url, bed.mirror.url, HUB]
    bed.set_mirrors(seed_list)
    before = pull_all(bed)
    apply_s, applied = mirrors_apply(bed)
    after = pull_all(bed)
    speedup = sum(before) / sum(after)
    with_apply = sum(before) / (sum(after) + apply_s)
    return {
        "images": list(IMAGES),
        "mirrors_before": seed_list,
        "mirrors_after": applied["mirrors_after"],
        "apply_action": applied["action"],
        "before_pull_s": before,
        "after_pull_s": after,
        "before_total_s": round(sum(before), 2),
        "after_total_s": round(sum(after), 2),
        "mirrors_apply_s": apply_s,
        "speedup": round(speedup, 1),
        "speedup_including_apply": round(with_apply, 1),
        "target_speedup": TARGET_SPEEDUP,
        "targets_met": speedup >= TARGET_SPEEDUP,
    }


def main() -> dict[str, Any]:
    reason = bed_unavailable_reason()
    if reason is not None:
        return {"error": f"Docker test bed unavailable: {reason}"}
    bed = start_testbed(images=tuple(f"library/{image}" for image in IMAGES))
    dead: list[FaultProxy] = []
    try:
        for _ in range(2):
            proxy = FaultProxy(("127.0.0.1", bed.mirror.port), fault=Fault("blackhole"))
            dead.append(proxy.start())
        return measure(bed, dead)
    finally:
        for proxy in dead:
            proxy.stop()
        forget_daemon_state(bed.docker_host)
        bed.stop()


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
