"""Cancel: latency per phase of a run, and survivors of stubborn process trees.

- Latency: a real `ci-guard run` is signalled (SIGTERM and SIGINT) in each phase
  (tests/cancel_phases.py reaches them); measured from the signal to ci-guard's exit.
  Target: every run ends 128+N with run.finished "cancelled", within the 10 s a CI
  runner leaves before its SIGKILL.
- Survivors: 100 builds, each leaving processes that ignore SIGTERM, one in its own
  session (setsid) and one double-forked away, are cancelled with SIGTERM; processes
  of those trees alive after ci-guard exits are counted (target 0).
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.cancel_phases import PHASES, SIGNALS, cancel_in, expected_code

REPEATS = 3
TREES = 100
BATCH = 4
RUNNER_KILL_S = 10.0
# A build whose processes all ignore SIGTERM; one setsid's away, one double-forks away.
STUBBORN = """trap '' TERM
sleep 600 &
setsid sleep 600 &
( setsid sh -c 'sleep 600 & sleep 600' & )
touch ready
wait
"""


def _latencies(root: Path) -> tuple[dict[str, Any], bool]:
    table: dict[str, Any] = {}
    ok = True
    for phase in PHASES:
        for signum in SIGNALS:
            runs = [
                cancel_in(phase, signum, root / f"{phase}-{signum}-{i}") for i in range(REPEATS)
            ]
            right = all(
                r.code == expected_code(signum)
                and r.finished is not None
                and r.finished["status"] == "cancelled"
                and not r.traceback
                for r in runs
            )
            worst = max(r.latency_s for r in runs)
            ok = ok and right and worst < RUNNER_KILL_S
            table[f"{phase}/{signal.Signals(signum).name}"] = {
                "median_s": round(statistics.median(r.latency_s for r in runs), 3),
                "max_s": round(worst, 3),
                "exit_codes": sorted({r.code for r in runs}),
                "all_cancelled": right,
            }
    return table, ok


def _tree_members(token: str) -> list[int]:
    found = []
    needle = f"BENCH_TREE={token}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry))
    return found


def _one_tree(root: Path, index: int) -> tuple[int, int, float]:
    """(exit code, survivors, seconds from SIGTERM to exit) for one stubborn tree."""
    folder = root / f"tree-{index}"
    folder.mkdir()
    (folder / "tree.sh").write_text(STUBBORN)
    token = f"{os.getpid()}-{index}"
    argv = [sys.executable, "-m", "ci_guard", "run", "--no-preflight", "--kill-grace", "1"]
    proc = subprocess.Popen(
        [*argv, "--", "sh", "tree.sh"],
        cwd=folder,
        env={**os.environ, "BENCH_TREE": token},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not (folder / "ready").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # the double fork's sleeps are running
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    latency = time.monotonic() - sent
    time.sleep(0.1)
    survivors = [pid for pid in _tree_members(token) if pid != proc.pid]
    for pid in survivors:  # leave the machine clean whatever the result
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return code, len(survivors), latency


def _control(root: Path) -> int:
    """Survivors of one such tree whose shell is killed without ci-guard: proves the
    count can see them (a count that could not fail would prove nothing)."""
    folder = root / "control"
    folder.mkdir()
    (folder / "tree.sh").write_text(STUBBORN)
    token = f"{os.getpid()}-control"
    env = {**os.environ, "BENCH_TREE": token}
    proc = subprocess.Popen(["sh", "tree.sh"], cwd=folder, env=env)
    while not (folder / "ready").exists():
        time.sleep(0.05)
    time.sleep(0.2)
    proc.kill()
    proc.wait()
    survivors = _tree_members(token)
    for pid in survivors:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(survivors)


def _trees(root: Path) -> dict[str, Any]:
    with ThreadPoolExecutor(BATCH) as pool:
        results = list(pool.map(lambda i: _one_tree(root, i), range(TREES)))
    return {
        "control_survivors_without_ci_guard": _control(root),
        "trees": TREES,
        "survivors": sum(r[1] for r in results),
        "exit_codes": sorted({r[0] for r in results}),
        "median_s": round(statistics.median(r[2] for r in results), 3),
        "max_s": round(max(r[2] for r in results), 3),
        "kill_grace_s": 1,
    }


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ci-guard-cancel-") as folder:
        root = Path(folder)
        latency, latency_ok = _latencies(root)
        trees = _trees(root)
    return {
        "cancel_latency": latency,
        "stubborn_trees": trees,
        "targets_met": latency_ok
        and trees["survivors"] == 0
        and trees["exit_codes"] == [143]
        and trees["control_survivors_without_ci_guard"] > 0,
    }
