"""supervise() with a phase tracker: real children, real pipes, the real tracker."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO

from ci_guard.failure import FailureClass
from ci_guard.run.attempt import classify_result
from ci_guard.run.deps import _default_classify
from ci_guard.run.registry_phase import PhaseTracker
from ci_guard.supervise.supervisor import ProcessResult, supervise

METADATA = "#3 [internal] load metadata for docker.io/library/busybox:latest"


def sink(tmp_path: Path) -> BinaryIO:
    return (tmp_path / "out").open("wb")


def child(script: str) -> list[str]:
    return [sys.executable, "-c", script]


REGISTRY_PHASE_THEN_SILENCE = f"import time; print({METADATA!r}, flush=True); time.sleep(60)"


def supervise_logged(
    tmp_path: Path, script: str, *, timeout: float, stall_timeout: float
) -> ProcessResult:
    """Run the child under supervise() with a log file and a real phase tracker."""
    return supervise(
        child(script), timeout=timeout, kill_grace=1, log_path=tmp_path / "a.log",
        stdout=sink(tmp_path), progress=PhaseTracker(stall_timeout),
    )  # fmt: skip


def test_a_registry_phase_without_progress_ends_the_attempt_as_registry_timeout(
    tmp_path: Path,
) -> None:
    result = supervise_logged(tmp_path, REGISTRY_PHASE_THEN_SILENCE, timeout=120, stall_timeout=0.5)
    assert result.stalled
    assert not result.timed_out
    assert result.exit_code == 124
    assert result.phase_evidence == (METADATA,)
    failure = classify_result(result, _default_classify)
    assert failure is not None
    assert failure.failure_class is FailureClass.REGISTRY_TIMEOUT
    assert failure.rule == "registry-stall"
    assert failure.evidence == (METADATA,)


def test_a_silent_run_step_longer_than_the_stall_timeout_runs_to_its_end(tmp_path: Path) -> None:
    script = (
        "import time; print('#3 [internal] load metadata for docker.io/library/busybox', "
        "flush=True); time.sleep(0.2); print('#3 DONE 0.2s', flush=True); "
        "print('#5 [2/2] RUN sleep 2', flush=True); time.sleep(2); print('#5 DONE 2.0s')"
    )
    result = supervise(
        child(script), timeout=120, kill_grace=1, stdout=sink(tmp_path),
        progress=PhaseTracker(0.5),
    )  # fmt: skip
    assert result.exit_code == 0
    assert not result.stalled
    assert result.phase_evidence == ()


def test_a_deadline_during_a_registry_phase_is_registry_timeout_not_timeout(
    tmp_path: Path,
) -> None:
    result = supervise_logged(tmp_path, REGISTRY_PHASE_THEN_SILENCE, timeout=1.0, stall_timeout=300)
    assert result.timed_out
    assert not result.stalled
    failure = classify_result(result, _default_classify)
    assert failure is not None
    assert failure.failure_class is FailureClass.REGISTRY_TIMEOUT
    assert failure.rule == "registry-phase-deadline"


def test_a_deadline_outside_any_registry_phase_stays_timeout(tmp_path: Path) -> None:
    script = "import time; print('#5 [2/2] RUN sleep 60', flush=True); time.sleep(60)"
    result = supervise_logged(tmp_path, script, timeout=1.0, stall_timeout=300)
    failure = classify_result(result, _default_classify)
    assert failure is not None
    assert failure.failure_class is FailureClass.TIMEOUT
