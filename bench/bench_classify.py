"""Classifier speed and memory on a 200 MB log of varied, real-shaped build output.

The log (bench/mixedlog.py) mixes every quiet line of the cited corpus with generated
BuildKit, compose, apt, pip, npm, go, gcc and pytest output, varied in names,
versions and numbers and full of the rules' words in lines that are no failure.
The real failure (an apt DNS error, then compose's "context canceled") is in its last
lines, so the classifier must read all of it. Measured in a child process
(`python -m ci_guard classify LOG --json`): wall time, CPU time (user + system: the
machine may be shared, so wall time can exceed it) and max RSS.
Targets: under 3 s of CPU for 200 MB, peak memory under 80 MB, and the right class.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import mixedlog

SIZE = 200 * 1024 * 1024
TARGET_SECONDS = 3.0
TARGET_RSS_MB = 80.0

FAILURE = (
    "#9 168.3 W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease"
    "  Temporary failure resolving 'deb.debian.org'\n"
    "#9 168.4 E: Unable to locate package build-essential\n"
    " => CANCELED [worker 3/5] RUN pip install -r requirements.txt   12.0s\n"
    "failed to solve: Canceled: context canceled\n"
)


def write_log(path: Path, size: int = SIZE, seed: int = 3) -> None:
    mixedlog.write(path, size, FAILURE, seed)


def _run(log: Path) -> tuple[float, float, int, dict[str, Any]]:
    argv = [sys.executable, "-m", "ci_guard", "classify", str(log), "--json"]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"ci-guard classify exited {os.waitstatus_to_exitcode(status)}")
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss, json.loads(out)


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "attempt.log"
        write_log(log)
        size_mb = log.stat().st_size / 1024 / 1024
        elapsed, cpu, rss_kib, result = _run(log)
    rss_mb = rss_kib / 1024
    return {
        "log_mb": round(size_mb, 1),
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),
        "mb_per_cpu_second": round(size_mb / cpu, 1),
        "peak_rss_mb": round(rss_mb, 1),
        "class": result["class"],
        "rule": result["rule"],
        "targets": {"seconds": TARGET_SECONDS, "peak_rss_mb": TARGET_RSS_MB},
        "targets_met": cpu < TARGET_SECONDS
        and rss_mb < TARGET_RSS_MB
        and result["class"] == "dns_failure",
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
