"""Classifier speed and memory on a 200 MB log of ordinary build noise.

The log mixes BuildKit plain output, apt/pip/npm/gcc lines, ANSI colours and CI
timestamps, with the real failure (an apt DNS error, then compose's "context
canceled") in its last lines, so the classifier must read all of it. Measured in a
child process (`python -m ci_guard classify LOG --json`): wall time and max RSS.
Targets: under 5 s for 200 MB, peak memory under 80 MB, and the right class.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SIZE = 200 * 1024 * 1024
TARGET_SECONDS = 5.0
TARGET_RSS_MB = 80.0

NOISE = (
    "#{step} {t:.3f} Get:{n} http://deb.debian.org/debian bookworm/main amd64 libssl3 amd64"
    " 3.0.11-1~deb12u2 [2019 kB]",
    "#{step} {t:.3f} Unpacking libpython3.11-stdlib:amd64 (3.11.2-6) ...",
    "#{step} {t:.3f} Setting up ca-certificates (20230311) ...",
    "#{step} {t:.3f} Collecting requests==2.31.0 (from -r requirements.txt (line {n}))",
    "#{step} {t:.3f}   Downloading requests-2.31.0-py3-none-any.whl (62 kB)",
    "#{step} {t:.3f} gcc -O2 -Wall -fPIC -c src/module_{n}.c -o build/module_{n}.o",
    "#{step} {t:.3f} added {n} packages, and audited {n} packages in 41s",
    " => [web {step}/9] RUN npm ci                                                  {t:.1f}s",
    "\x1b[32m ✔ \x1b[0mContainer app-web-{n}  \x1b[32mStarted\x1b[0m      {t:.1f}s",
    "2024-05-10T11:19:58.376Z #{step} DONE {t:.1f}s",
    "#{step} sha256:5b8c6fdb2a7fd493f98e8dce30c94f762dca21750eb19909686668dd08e86da2"
    " {n}MB / 29.06MB {t:.1f}s",
    "#{step} {t:.3f} [notice] A new release of pip is available: 23.0.1 -> 24.0",
)
FAILURE = (
    "#9 168.3 W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease"
    "  Temporary failure resolving 'deb.debian.org'\n"
    "#9 168.4 E: Unable to locate package build-essential\n"
    " => CANCELED [worker 3/5] RUN pip install -r requirements.txt   12.0s\n"
    "failed to solve: Canceled: context canceled\n"
)


def write_log(path: Path, size: int = SIZE, seed: int = 3) -> None:
    rng = random.Random(seed)
    lines = [
        NOISE[i % len(NOISE)].format(step=rng.randint(2, 30), t=rng.uniform(0, 900), n=i)
        for i in range(5000)
    ]
    chunk = ("\n".join(lines) + "\n").encode("utf-8")
    with path.open("wb") as out:
        written = 0
        while written < size:
            out.write(chunk)
            written += len(chunk)
        out.write(FAILURE.encode("utf-8"))


def _run(log: Path) -> tuple[float, int, dict[str, Any]]:
    argv = [sys.executable, "-m", "ci_guard", "classify", str(log), "--json"]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"ci-guard classify exited {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_maxrss, json.loads(out)


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "attempt.log"
        write_log(log)
        size_mb = log.stat().st_size / 1024 / 1024
        elapsed, rss_kib, result = _run(log)
    rss_mb = rss_kib / 1024
    return {
        "log_mb": round(size_mb, 1),
        "seconds": round(elapsed, 2),
        "mb_per_second": round(size_mb / elapsed, 1),
        "peak_rss_mb": round(rss_mb, 1),
        "class": result["class"],
        "rule": result["rule"],
        "targets": {"seconds": TARGET_SECONDS, "peak_rss_mb": TARGET_RSS_MB},
        "targets_met": elapsed < TARGET_SECONDS
        and rss_mb < TARGET_RSS_MB
        and result["class"] == "dns_failure",
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
