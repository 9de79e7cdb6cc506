"""`ci-guard mirrors probe` over 6 candidates, 2 of them blackholed.

Candidates: two real docker-registry processes holding library/busybox, two ports
that accept TCP and never answer, a closed port, and a server answering 404 to every
manifest. Probes run in parallel, so the whole ranking should take about one probe
timeout (the blackholes use all of it), not the sum. Measured in a child process
(`python -m ci_guard mirrors probe --json`), 3 runs. Target: slowest run within
probe timeout + 1 s, and the ranking right (healthy first, dead last).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.unit.test_registry_servers import (
    blackhole,
    canned_http,
    closed_port_url,
    push_image,
    registry,
)

PROBE_TIMEOUT = 3.0
RUNS = 3
V2 = {"Docker-Distribution-API-Version": "registry/2.0"}


def _probe(candidates: list[str]) -> tuple[float, dict[str, Any]]:
    args = [sys.executable, "-m", "ci_guard", "mirrors", "probe", "--json"]
    args += ["--probe-timeout", str(PROBE_TIMEOUT)]
    for url in candidates:
        args += ["--mirror", url]
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    elapsed = time.perf_counter() - started
    return elapsed, json.loads(done.stdout)


def main() -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cig-bench-")))
        regs = [stack.enter_context(registry(root / f"r{i}")) for i in range(2)]
        for reg in regs:
            push_image(reg.url)
        holes = [stack.enter_context(blackhole()) for _ in range(2)]
        odd = stack.enter_context(canned_http({"/v2/": (200, V2, b"{}")}))
        candidates = [holes[0], regs[0].url, closed_port_url(), odd, holes[1], regs[1].url]
        runs = [_probe(candidates) for _ in range(RUNS)]
    seconds = [round(elapsed, 3) for elapsed, _ in runs]
    ranked = runs[-1][1]["mirrors"]
    verdicts = [m["verdict"] for m in ranked]
    order_ok = verdicts[:2] == ["healthy", "healthy"] and verdicts[-3:] == ["dead"] * 3
    return {
        "candidates": len(candidates),
        "blackholed": 2,
        "probe_timeout_s": PROBE_TIMEOUT,
        "wall_s_per_run": seconds,
        "wall_s_max": max(seconds),
        "target_s": PROBE_TIMEOUT + 1.0,
        "verdicts": verdicts,
        "targets_met": max(seconds) <= PROBE_TIMEOUT + 1.0 and order_ok,
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
