"""`ci-guard report` over 1,000 synthetic run logs (one file per run, tests/logsynth.py).

Measured in a child process, as a user runs it (`python -m ci_guard report DIR`),
interpreter start included: the text report, --json, and --html. Best of 3 runs each.
Target: under 2 s for the text report (and for the others, which read the same logs).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RUNS = 1000
REPEAT = 3
TARGET_SECONDS = 2.0
ROOT = Path(__file__).resolve().parent.parent


def _time(argv: list[str]) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT, timeout=120)
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def main() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tests.logsynth import write_logs

    with tempfile.TemporaryDirectory(prefix="ci-guard-bench-report-") as tmp:
        logs = Path(tmp) / "logs"
        files = write_logs(logs, RUNS, runs_per_file=1, days=30)
        size = sum(f.stat().st_size for f in files)
        base = [sys.executable, "-m", "ci_guard", "report", str(logs)]
        startup = _time([sys.executable, "-c", "import ci_guard.cli.main"])
        text_s = _time(base)
        json_s = _time([*base, "--json"])
        html_s = _time([*base, "--html", str(Path(tmp) / "report.html")])
        html_kb = round((Path(tmp) / "report.html").stat().st_size / 1024, 1)
    slowest = max(text_s, json_s, html_s)
    return {
        "runs": RUNS,
        "files": len(files),
        "log_mb": round(size / 1e6, 2),
        "seconds_text": text_s,
        "seconds_json": json_s,
        "seconds_html": html_s,
        "seconds_interpreter_and_cli_import": startup,
        "html_kb": html_kb,
        "target_seconds": TARGET_SECONDS,
        "targets_met": slowest < TARGET_SECONDS,
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
