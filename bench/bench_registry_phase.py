"""The registry-phase tracker on the output hot path: CPU time per 200 MB.

`ci-guard run` feeds every chunk it reads to the tracker (registry-stall-timeout is on
by default), so its cost adds to the run's throughput (bench_run_overhead). Measured in
this process with CPU time (not wall time: the machine is shared), 64 KiB chunks as
pipe reads come:
- idle: build output with no registry phase open (the usual case);
- watching: a BuildKit registry vertex stays open while another vertex prints, so
  every line is split and looked at (the slow path).
Target: idle under 50 ms per 200 MB (bench_run_overhead's ci-guard rate is about
1 GB/s, so 5 % at most); the slow path is reported, it only runs during pulls.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ci_guard.run.registry_phase import PhaseTracker

SIZE = 200 * 1024 * 1024
CHUNK = 64 * 1024
TARGET_IDLE_MS = 50.0
LINE = b"#12 3.456 Step 7/12 : RUN pip install -r requirements.txt  ... downloading wheel 42%\n"
OPEN = b"#3 [internal] load metadata for docker.io/library/busybox:latest\n"


def _chunks() -> list[bytes]:
    data = LINE * (SIZE // len(LINE))
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


def _cpu_ms(tracker: PhaseTracker, chunks: list[bytes]) -> float:
    started = time.process_time()
    for chunk in chunks:
        tracker.feed(chunk)
    return (time.process_time() - started) * 1000


def main() -> dict[str, Any]:
    chunks = _chunks()
    idle = min(_cpu_ms(PhaseTracker(300), chunks) for _ in range(3))
    watching_tracker = PhaseTracker(300)
    watching_tracker.feed(OPEN)
    watching = _cpu_ms(watching_tracker, chunks)
    assert watching_tracker.deadline() is not None  # the phase stayed open throughout
    megabytes = SIZE / 1024 / 1024
    return {
        "output_mb": round(megabytes),
        "idle_cpu_ms": round(idle, 1),
        "idle_mb_per_s": round(megabytes / (idle / 1000)),
        "watching_cpu_ms": round(watching, 1),
        "watching_mb_per_s": round(megabytes / (watching / 1000)),
        "targets": {"idle_cpu_ms": TARGET_IDLE_MS},
        "targets_met": idle < TARGET_IDLE_MS,
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
