"""Startup overhead and output throughput of `ci-guard run`, and its peak memory.

Measured in one run, side by side:
- startup: `true` bare, through a minimal Python subprocess wrapper, and through
  `ci-guard run --no-preflight -- true` (median of N runs each);
- throughput: `cat` of a 200 MB text log to /dev/null, directly and through ci-guard
  (which also writes the per-attempt log file and, once the output has streamed
  through, its masked copy), as a ratio of the times to the last byte of output;
  the masking rate of the attempt log is reported beside it;
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
REPO = Path(__file__).resolve().parents[1]
# An installed ci-guard has byte-compiled modules; let this run write them too.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
WRAPPER = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"
LINE = b"#12 3.456 Step 7/12 : RUN pip install -r requirements.txt  ... downloading wheel 42%\n"


def _timed(argv: list[str]) -> tuple[float, int]:
    elapsed, _, rss = _timed_stream(argv)
    return elapsed, rss


def _timed_stream(argv: list[str]) -> tuple[float, float, int]:
    """Wall time, time to the last byte of output, and max RSS (KiB) of one run of argv,
    its stdout drained from a pipe.

    A CI runner reads a job's output from a pipe, so both the bare command and
    ci-guard write into one here, and this process reads it as fast as it can. The
    last byte arrives when the command's output has streamed through; ci-guard masks
    the attempt log after that, before it exits.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_ENV)
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    last = started
    while os.read(fd, 1 << 20):
        last = time.perf_counter()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:4]} exited {proc.returncode}")
    return elapsed, last - started, usage.ru_maxrss


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


def installed_copy(tmp: Path) -> list[str]:
    """ci-guard installed the way users get it (a built, byte-compiled package), not the
    development checkout's editable install, whose import hook costs start-up time.
    Its dependencies come from the running environment through a .pth file."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            site,
            str(REPO),
        ],
        check=True,
        env=_ENV,
        cwd=tmp,
    )
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (Path(site) / "ci_guard_bench_deps.pth").write_text("\n".join(deps) + "\n", "utf-8")
    # What the `ci-guard` console script runs, without the entry-point file lookup.
    return [str(python), "-c", "import sys; from ci_guard.cli.main import main; sys.exit(main())"]


def startup(ci_guard: list[str], artifacts: Path) -> dict[str, Any]:
    true = shutil.which("true") or "/bin/true"
    guard = [*ci_guard, "run", "--no-preflight", "--artifacts-dir", str(artifacts), "--", true]
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


def throughput(ci_guard: list[str], tmp: Path, size_mb: int) -> dict[str, Any]:
    """Best-of-5 wall times of one output size, directly and through ci-guard."""
    log = tmp / f"out-{size_mb}.log"
    _make_log(log, size_mb * 1_000_000)
    cat = shutil.which("cat") or "/bin/cat"
    direct = min(_timed([cat, str(log)])[0] for _ in range(5))
    art = str(tmp / "art")
    guard = [*ci_guard, "run", "--no-preflight", "--artifacts-dir", art, "--", cat, str(log)]
    runs = [_timed_stream(guard) for _ in range(5)]
    log.unlink()
    shutil.rmtree(art, ignore_errors=True)
    wrapped = min(r[0] for r in runs)
    streamed = min(r[1] for r in runs)
    return {
        "size_mb": size_mb,
        "direct_s": round(direct, 3),
        "ci_guard_streamed_s": round(streamed, 3),
        "ci_guard_s": round(wrapped, 3),
        "whole_run_ratio": round(direct / wrapped, 3),
        "peak_rss_mb": round(max(r[2] for r in runs) / 1024, 1),
    }


def streaming(small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    """The rate of the extra 180 MB, directly and through ci-guard: fixed costs (start-up,
    the per-attempt folder, exit) cancel out, leaving the throughput proper."""
    extra_mb = large["size_mb"] - small["size_mb"]
    direct = large["direct_s"] - small["direct_s"]
    guarded = large["ci_guard_streamed_s"] - small["ci_guard_streamed_s"]
    # After the output has streamed through, the attempt log is masked: its rate.
    masking = (large["ci_guard_s"] - large["ci_guard_streamed_s"]) - (
        small["ci_guard_s"] - small["ci_guard_streamed_s"]
    )
    return {
        "extra_mb": extra_mb,
        "direct_mb_per_s": round(extra_mb / direct, 1),
        "ci_guard_mb_per_s": round(extra_mb / guarded, 1),
        "throughput_ratio": round(direct / guarded, 3),
        "log_masking_mb_per_s": round(extra_mb / masking, 1) if masking > 0 else None,
    }


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ci-guard-bench-") as name:
        tmp = Path(name)
        ci_guard = installed_copy(tmp)
        start = startup(ci_guard, tmp / "art-startup")
        small = throughput(ci_guard, tmp, 20)
        large = throughput(ci_guard, tmp, 200)
    rate = streaming(small, large)
    targets = {
        "overhead_under_120ms": start["overhead_ms"] < 120,
        "throughput_at_least_80pct": rate["throughput_ratio"] >= 0.8,
        "peak_memory_under_60mb": max(small["peak_rss_mb"], large["peak_rss_mb"]) < 60,
        "memory_flat": abs(large["peak_rss_mb"] - small["peak_rss_mb"]) < 5,
    }
    return {
        "startup": start,
        "output_20mb": small,
        "output_200mb": large,
        "streaming": rate,
        "targets": targets,
        "targets_met": all(targets.values()),
        "runs_per_figure": RUNS,
        "cpu_count": os.cpu_count(),
    }
