"""Startup overhead and output throughput of `ci-guard run`, and its peak memory.

Measured in one run, side by side:
- startup: `true` bare, through a minimal Python subprocess wrapper, and through
  `ci-guard run --no-preflight -- true` (median of N runs each);
- throughput: `cat` of a 200 MB text log to /dev/null, directly and through ci-guard
  (which also writes the per-attempt log file), as a ratio of wall times;
- peak memory (max RSS of the ci-guard process) with 20 MB and 200 MB of output.
Targets: overhead < 120 ms, throughput >= 80 % of direct, peak memory < 60 MB.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RUNS = 15
CI_GUARD = [sys.executable, "-m", "ci_guard"]
WRAPPER = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"
LINE = b"#12 3.456 Step 7/12 : RUN pip install -r requirements.txt  ... downloading wheel 42%\n"


def _timed(argv: list[str], *, stdout: Any = subprocess.DEVNULL) -> tuple[float, int]:
    """Wall time and max RSS (KiB) of one run of argv."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:4]} exited {proc.returncode}")
    return elapsed, usage.ru_maxrss


def _median_ms(argv: list[str]) -> float:
    _timed(argv)  # warm the page cache
    return round(statistics.median(_timed(argv)[0] for _ in range(RUNS)) * 1000, 1)


def _make_log(path: Path, size: int) -> None:
    block = LINE * (1 << 20 // len(LINE) + 1)
    with path.open("wb") as handle:
        written = 0
        while written < size:
            chunk = block[: size - written]
            handle.write(chunk)
            written += len(chunk)


def startup(artifacts: Path) -> dict[str, Any]:
    true = shutil.which("true") or "/bin/true"
    guard = [*CI_GUARD, "run", "--no-preflight", "--artifacts-dir", str(artifacts), "--", true]
    bare = _median_ms([true])
    wrapper = _median_ms([sys.executable, "-c", WRAPPER, true])
    ci_guard = _median_ms(guard)
    return {
        "bare_ms": bare,
        "python_wrapper_ms": wrapper,
        "ci_guard_ms": ci_guard,
        "overhead_ms": round(ci_guard - bare, 1),
        "overhead_vs_python_wrapper_ms": round(ci_guard - wrapper, 1),
    }


def throughput(tmp: Path, size_mb: int) -> dict[str, Any]:
    log = tmp / f"out-{size_mb}.log"
    _make_log(log, size_mb * 1_000_000)
    cat = shutil.which("cat") or "/bin/cat"
    direct = min(_timed([cat, str(log)])[0] for _ in range(3))
    guard = [
        *CI_GUARD,
        "run",
        "--no-preflight",
        "--artifacts-dir",
        str(tmp / "art"),
        "--",
        cat,
        str(log),
    ]
    runs = [_timed(guard) for _ in range(3)]
    wrapped = min(r[0] for r in runs)
    peak_kib = max(r[1] for r in runs)
    log.unlink()
    shutil.rmtree(tmp / "art", ignore_errors=True)
    return {
        "size_mb": size_mb,
        "direct_s": round(direct, 3),
        "ci_guard_s": round(wrapped, 3),
        "throughput_ratio": round(direct / wrapped, 3),
        "ci_guard_mb_per_s": round(size_mb / wrapped, 1),
        "peak_rss_mb": round(peak_kib / 1024, 1),
    }


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ci-guard-bench-") as name:
        tmp = Path(name)
        start = startup(tmp / "art-startup")
        small = throughput(tmp, 20)
        large = throughput(tmp, 200)
    targets = {
        "overhead_under_120ms": start["overhead_ms"] < 120,
        "throughput_at_least_80pct": large["throughput_ratio"] >= 0.8,
        "peak_memory_under_60mb": max(small["peak_rss_mb"], large["peak_rss_mb"]) < 60,
        "memory_flat": abs(large["peak_rss_mb"] - small["peak_rss_mb"]) < 5,
    }
    return {
        "startup": start,
        "output_20mb": small,
        "output_200mb": large,
        "targets": targets,
        "targets_met": all(targets.values()),
        "runs_per_figure": RUNS,
        "cpu_count": os.cpu_count(),
    }
