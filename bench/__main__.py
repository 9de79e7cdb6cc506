"""`make bench`: run every benchmark module, print and save JSON results.

Each module bench/bench_*.py exposes `main() -> dict`; results go to
bench/results/<name>.json. Targets are checked here, never in the test suite.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str]) -> int:
    wanted = set(argv)
    RESULTS.mkdir(exist_ok=True)
    failed = []
    package = Path(__file__).resolve().parent
    for info in sorted(pkgutil.iter_modules([str(package)]), key=lambda i: i.name):
        if not info.name.startswith("bench_"):
            continue
        short = info.name.removeprefix("bench_")
        if wanted and short not in wanted:
            continue
        print(f"== {short}", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"bench.{info.name}")
        try:
            result = module.main()
        except Exception as exc:  # one broken benchmark must not hide the others
            result = {"error": f"{type(exc).__name__}: {exc}"}
        result["bench_seconds"] = round(time.perf_counter() - started, 2)
        (RESULTS / f"{short}.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
        print(json.dumps(result, indent=2), flush=True)
        if result.get("error") or result.get("targets_met") is False:
            failed.append(short)
    if failed:
        print(f"benchmarks missing their targets or failing: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
