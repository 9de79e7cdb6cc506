"""A CI cancel or Ctrl-C wins in every phase of `ci-guard run`: real processes, real signals.

Each phase is reached for real (the JSON log, the build's own marker, the signal mask of
the process); only a slow preflight and a remedy waiting for a daemon are stand-ins
inside the real ci-guard process, so that no host is probed or restarted. The exit code
is 128+N and `run.finished` says "cancelled". Latencies go to bench/bench_cancel.py.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.cancel_phases import PHASES, cancel_in, expected_code


@pytest.mark.parametrize("phase", PHASES)
def test_sigterm_cancels_the_run_in_every_phase(phase: str, tmp_path: Path) -> None:
    stopped = cancel_in(phase, signal.SIGTERM, tmp_path)
    assert stopped.code == expected_code(signal.SIGTERM)
    assert stopped.finished is not None
    assert stopped.finished["status"] == "cancelled"
    assert stopped.finished["signal"] == signal.SIGTERM
    assert not stopped.traceback


@pytest.mark.parametrize("phase", ["start-up", "classification", "remedy"])
def test_ctrl_c_cancels_the_run(phase: str, tmp_path: Path) -> None:
    stopped = cancel_in(phase, signal.SIGINT, tmp_path)
    assert stopped.code == expected_code(signal.SIGINT)
    assert stopped.finished is not None
    assert stopped.finished["status"] == "cancelled"
    assert not stopped.traceback  # no KeyboardInterrupt


def test_a_cancel_during_classification_does_not_wait_for_it(tmp_path: Path) -> None:
    # before the fix the classification ran to its end and the run said "failed", exit 1
    stopped = cancel_in("classification", signal.SIGTERM, tmp_path)
    assert stopped.finished is not None
    assert stopped.finished["attempts"] == 1
    assert stopped.finished["exit_code"] == 143
