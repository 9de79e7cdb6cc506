"""One attempt: spawn the command under its deadlines, then classify what it printed."""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ci_guard.failure import Failure, FailureClass, class_table
from ci_guard.records import AttemptRecord
from ci_guard.run.registry_phase import PhaseTracker
from ci_guard.supervise.cancel import CancelToken
from ci_guard.supervise.supervisor import ProcessResult

if TYPE_CHECKING:  # the classifier loads only when an attempt failed
    from ci_guard.classify.evidence import Output

ClassifyFn = Callable[[int, "int | None", bool, "Output"], "Failure | None"]


@dataclass(frozen=True)
class AttemptSpec:
    argv: tuple[str, ...]
    attempt: int
    max_attempts: int
    timeout: float
    no_output_timeout: float | None
    kill_grace: float
    log_path: Path
    base_env: Mapping[str, str]
    cwd: Path | None = None

    def env(self) -> dict[str, str]:
        env = dict(self.base_env)
        env["CI_GUARD_ATTEMPT"] = str(self.attempt)
        env["CI_GUARD_MAX_ATTEMPTS"] = str(self.max_attempts)
        return env


def spawn_failure(result: ProcessResult) -> Failure:
    """A command that could not start at all: no retry can make it exist."""
    return Failure(
        failure_class=FailureClass.UNKNOWN,
        retryable=False,
        rule="command-not-runnable",
        evidence=(result.spawn_error or "",),
        why="the command does not exist or cannot be executed (exit 126/127)",
    )


def unclassified(result: ProcessResult) -> Failure | None:
    """A finished attempt whose output was not classified (ci-guard was cancelled)."""
    if result.exit_code == 0 and not (result.timed_out or result.no_output_timed_out):
        return None
    return Failure(
        failure_class=FailureClass.UNKNOWN,
        retryable=False,
        rule="not-classified",
        evidence=result.tail[-1:],
        why="ci-guard was cancelled while it classified this attempt's output",
    )


@contextmanager
def _output_lines(result: ProcessResult) -> Iterator[Output]:
    """The whole attempt output from its log file (streamed as bytes: the classifier
    decodes only the lines worth a regex), then what the log missed (disk full: kept
    in memory); without any log, the kept tail."""
    path = result.log_path
    missed = result.unlogged if result.log_error is not None else ()
    if path is not None and path.is_file():
        with path.open("rb") as handle:
            # A file is read in big chunks; line by line only when lines were missed.
            yield itertools.chain(handle, missed) if missed else handle
        return
    yield missed or result.tail


def registry_phase_failure(result: ProcessResult) -> Failure:
    """ci-guard ended the attempt while a registry phase was open: the registry is the cause.

    Both a stall (no progress for registry-stall-timeout) and a deadline hit in the
    phase qualify for the daemon-side ladder stages (data/classes.toml).
    """
    if result.stalled:
        rule, why = "registry-stall", "A registry phase showed no progress for too long."
    else:
        rule, why = "registry-phase-deadline", "The attempt's deadline hit during a registry phase."
    return Failure(
        failure_class=FailureClass.REGISTRY_TIMEOUT,
        retryable=class_table()[FailureClass.REGISTRY_TIMEOUT].retryable,
        rule=rule,
        evidence=result.phase_evidence,
        why=f"{why} (--registry-stall-timeout, ci-guard help failure-classes)",
    )


def classify_result(result: ProcessResult, classify: ClassifyFn) -> Failure | None:
    """None for success; otherwise the failure, read from the whole attempt output."""
    if result.spawn_error is not None:
        return spawn_failure(result)
    timed_out = result.timed_out or result.no_output_timed_out or result.stalled
    if result.exit_code == 0 and not timed_out:
        return None  # success: no need to load the rules or read the output again
    if result.stalled or (timed_out and result.phase_evidence):
        return registry_phase_failure(result)
    with _output_lines(result) as lines:
        return classify(result.exit_code, result.signal, timed_out, lines)


def inherited_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if extra:
        env.update(extra)
    return env


def finished_fields(record: AttemptRecord) -> dict[str, Any]:
    """The fields of the `attempt.finished` event."""
    failure = record.failure
    return {
        "attempt": record.attempt,
        "exit_code": record.exit_code,
        "signal": record.signal,
        "timed_out": record.timed_out,
        "stalled": record.stalled,
        "duration_s": record.duration_s,
        "failure_class": failure.failure_class.value if failure else None,
        "retryable": failure.retryable if failure else None,
        "evidence": list(failure.evidence) if failure else [],
        "rule": failure.rule if failure else None,
        "daemon_evidence": failure.daemon_log if failure else None,
        "log_path": record.log_path,
        **({"log_error": record.log_error} if record.log_error is not None else {}),
        **({"cancelled": True} if record.cancelled else {}),
    }


def run_spec(
    supervise: Callable[..., ProcessResult],
    spec: AttemptSpec,
    cancel: CancelToken,
    stall_timeout: float | None,
) -> ProcessResult:
    """Run the attempt under its deadlines (and the registry-stall watch when set)."""
    extra: dict[str, Any] = {}
    if stall_timeout is not None:
        extra["progress"] = PhaseTracker(stall_timeout)
    return supervise(
        list(spec.argv),
        env=spec.env(),
        timeout=spec.timeout,
        no_output_timeout=spec.no_output_timeout,
        kill_grace=spec.kill_grace,
        log_path=spec.log_path,
        cancel=cancel,
        **extra,
    )


def redacted(failure: Failure | None, redact: Callable[[str], str]) -> Failure | None:
    """The failure with its evidence masked, before it reaches any report."""
    if failure is None:
        return None
    return dataclasses.replace(failure, evidence=tuple(redact(line) for line in failure.evidence))
