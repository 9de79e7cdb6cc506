"""Secrets x artifacts: how many secret shapes leak into anything ci-guard writes.

Every chunk of shapes runs through the real `ci-guard run` on every platform (GitHub,
GitLab, Jenkins, none), with the log on stderr as JSON and as console text in turn;
every artifact is searched for every secret (tests/leakcheck/scenario.py). Target: 0
leaks, and the child's own output passed through byte-identical. Also measured: the
masking rate of an attempt log (MB/s) in build-output shape and in secret-dense text.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from ci_guard.redact import Redactor
from ci_guard.redact_file import mask_file
from tests.leakcheck.scenario import PLATFORMS, chunks, run_once
from tests.leakcheck.shapes import SHAPES

LINE = b"#12 3.456 Step 7/12 : RUN pip install -r requirements.txt  ... downloading wheel 42%\n"
SIZE = 50 * 1024 * 1024


def _leaks(tmp: Path) -> dict[str, Any]:
    leaks: set[tuple[str, str]] = set()
    artifacts: set[str] = set()
    runs = identical = 0
    for index, chunk in enumerate(chunks()):
        for platform in PLATFORMS:
            fmt = "json" if index % 2 == 0 else "console"
            result = run_once(tmp / f"{platform}-{index}", platform, chunk, log_format=fmt)
            runs += 1
            identical += result.passthrough_identical
            artifacts.update(_kind(name) for name in result.artifacts)
            leaks.update((leak.shape, _kind(leak.artifact)) for leak in result.leaks)
    return {
        "shapes": len(SHAPES) + 1,
        "artifact_kinds": sorted(artifacts),
        "runs": runs,
        "passthrough_identical_runs": identical,
        "leaks": len(leaks),
        "leaked": sorted(f"{shape} -> {artifact}" for shape, artifact in leaks),
    }


def _kind(artifact: str) -> str:
    """`runner-temp/ci-guard/<run id>/attempt-1.log` -> `runner-temp/ci-guard/*/attempt-1.log`."""
    parts = artifact.split("/")
    return "/".join("*" if part[:8].isdigit() and "T" in part else part for part in parts)


def _mask_rate(tmp: Path, data: bytes, redactor: Redactor) -> float:
    source, target = tmp / "raw.log", tmp / "masked.log"
    with source.open("wb") as handle:
        for _ in range(SIZE // len(data) + 1):
            handle.write(data)
    started = time.perf_counter()
    mask_file(source, target, redactor)
    elapsed = time.perf_counter() - started
    return round(source.stat().st_size / elapsed / 1e6, 1)


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        result = _leaks(tmp)
        redactor = Redactor()
        build = LINE * ((1 << 20) // len(LINE))
        dense = "\n".join(shape.line for shape in SHAPES if shape.line).encode() + b"\n"
        result["mask_mb_per_s_build_output"] = _mask_rate(tmp, build, redactor)
        result["mask_mb_per_s_secret_dense"] = _mask_rate(tmp, dense * 200, redactor)
    result["targets_met"] = result["leaks"] == 0 and (
        result["passthrough_identical_runs"] == result["runs"]
    )
    return result
