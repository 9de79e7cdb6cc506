"""Hostile input: the full matrix of bad settings, files, outputs and arguments.

Every case is a real `ci-guard` process (tests/hostile.py describes them). Counted:
tracebacks (target 0), data losses, i.e. a build that ran but whose exit code did not
come back (target 0), wrong exit codes and replaced device nodes (target 0).
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.hostile import HUNG, run_all
from tests.hostile_cases import all_cases


def main() -> dict[str, Any]:
    cases = all_cases()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ci-guard-hostile-") as folder:
        outcomes = run_all(cases, Path(folder))
    bad = [o for o in outcomes if o.problems]
    groups = Counter(o.case.name.split("-", 1)[0] for o in outcomes)
    result: dict[str, Any] = {
        "cases": len(outcomes),
        "cases_by_group": dict(sorted(groups.items())),
        "tracebacks": sum(o.traceback for o in outcomes),
        "hung": sum(o.code == HUNG for o in outcomes),
        "data_losses": sum(o.data_loss for o in outcomes),
        "wrong_exit_codes": sum(o.code != o.case.expect for o in outcomes),
        "devices_replaced": sum(not o.devices_intact for o in outcomes),
        "exit_codes": dict(sorted(Counter(str(o.code) for o in outcomes).items())),
        "problems": [f"{o.case.name}: {', '.join(o.problems)}" for o in bad][:20],
        "seconds": round(time.perf_counter() - started, 1),
    }
    result["targets_met"] = not bad
    return result
