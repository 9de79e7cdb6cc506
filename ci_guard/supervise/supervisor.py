"""Supervising one attempt: output streamed through unchanged and logged, deadlines
enforced, the whole process tree ended, and the outcome returned as a `ProcessResult`
(it never raises for a failed build). Finding and ending the tree lives in `proctree`,
moving the output in `streams`, the watch loop of one attempt in `watch`.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ci_guard import exitcodes
from ci_guard.errors import UsageError
from ci_guard.logs import warn
from ci_guard.process import spawn_attempt, start_error
from ci_guard.supervise.cancel import CancelToken
from ci_guard.supervise.proctree import TREE_ID_VAR, ProcessTree, subreaper
from ci_guard.supervise.streams import UNLOGGED_BYTES, OutputPump, TailBuffer
from ci_guard.supervise.watch import (
    END_NO_OUTPUT,
    END_STALL,
    END_TIMEOUT,
    AttemptWatch,
    Limits,
    ProgressWatch,
)

_ALL_LINES = 1_000_000


@dataclass(frozen=True)
class ProcessResult:
    """What one supervised attempt did, as a value (`supervise` never raises for a build)."""

    exit_code: int
    """The child's own code; 128+N if it died of signal N; 124 if our deadline or no-output
    deadline ended it; 127 not found / 126 not executable; 128+N when ci-guard was cancelled."""
    signal: int | None
    """The signal that ended the child, from its wait status."""
    timed_out: bool
    no_output_timed_out: bool
    cancelled_by: int | None
    """The signal ci-guard received (SIGINT/SIGTERM/SIGHUP) that made it end the tree."""
    duration_s: float
    tail: tuple[str, ...]
    """The last lines of the combined output, decoded (invalid bytes replaced)."""
    log_path: Path | None
    """Combined stdout+stderr of the attempt, raw bytes."""
    spawn_error: str | None
    killed_pids: tuple[int, ...]
    """Processes ci-guard had to TERM/KILL at the end of the attempt."""
    log_error: str | None = None
    """Why the attempt log is missing or cut short (disk full...), if it is."""
    unlogged: tuple[str, ...] = ()
    """The output the log missed (its last few MiB), kept in memory for classification."""
    stalled: bool = False
    """The `progress` watch saw a phase stall and ci-guard ended the attempt for it."""
    phase_evidence: tuple[str, ...] = ()
    """The lines of the phase `progress` saw open when ci-guard ended the attempt (a stall,
    a deadline or cancel); () when none was open or the child exited by itself."""


def exit_code_for(returncode: int | None, *, deadline: bool, cancelled_by: int | None) -> int:
    """The exit code of an attempt, as a shell and coreutils `timeout` would report it."""
    if cancelled_by is not None:
        return exitcodes.for_signal(cancelled_by)
    if deadline:
        return exitcodes.TIMED_OUT
    if returncode is None:  # the child could not be reaped even after SIGKILL
        return exitcodes.for_signal(signal.SIGKILL)
    return exitcodes.for_signal(-returncode) if returncode < 0 else returncode


def supervise(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None,
    no_output_timeout: float | None = None,
    kill_grace: float = 10.0,
    log_path: Path | None = None,
    stdout: BinaryIO | None = None,
    stderr: BinaryIO | None = None,
    tail_lines: int = 200,
    cancel: CancelToken | None = None,
    clock: Callable[[], float] = time.monotonic,
    progress: ProgressWatch | None = None,
) -> ProcessResult:
    """Run one attempt of argv in its own session and return what happened.

    Output streams through to `stdout`/`stderr` unchanged and into `log_path`; on a
    deadline or cancel, and after a normal exit for whatever the child left running,
    the whole tree gets SIGTERM, `kill_grace` seconds, then SIGKILL. A command that
    cannot start is a result (126/127), not an exception. A log that cannot be written
    costs a warning, never the build. `progress` reads the output too and may end the
    attempt when a phase of it stalls. Raises UsageError for an empty argv.
    """
    args = tuple(argv)
    if not args:
        raise UsageError("no command to run")
    started = clock()
    if cancel is not None and cancel.signum is not None:
        return _unstarted(
            exitcodes.for_signal(cancel.signum), None, clock() - started, None, cancel
        )
    tree_id = uuid.uuid4().hex
    with _open_log(log_path) as (log, log_error), subreaper():
        try:
            proc = spawn_attempt(args, env, cwd, (TREE_ID_VAR, tree_id))
        except OSError as exc:
            code, message = start_error(args, cwd, exc)
            return _unstarted(code, message, clock() - started, log_path, None)
        tail = TailBuffer(min(max(64 * 1024, tail_lines * 1024), 8 * 1024 * 1024))
        tree = ProcessTree(proc.pid, tree_id)
        pump = OutputPump(
            _sinks(proc, stdout, stderr),
            log,
            tail,
            log_error=log_error,
            on_log_error=lambda why: _warn_log(log_path, why),
            observe=progress.feed if progress is not None else None,
        )
        limits = Limits(timeout, no_output_timeout, kill_grace)
        watch = AttemptWatch(
            proc, tree, pump, limits=limits, cancel=cancel, clock=clock, progress=progress
        )
        try:
            reason = watch.run()
        finally:
            returncode = _reap(proc)
    cancelled_by = cancel.signum if cancel is not None and reason is not None else None
    return ProcessResult(
        exit_code=exit_code_for(returncode, deadline=reason is not None, cancelled_by=cancelled_by),
        signal=-returncode if returncode is not None and returncode < 0 else None,
        timed_out=reason == END_TIMEOUT,
        no_output_timed_out=reason == END_NO_OUTPUT,
        cancelled_by=cancelled_by,
        duration_s=clock() - started,
        tail=tail.lines(tail_lines),
        log_path=log_path,
        spawn_error=None,
        killed_pids=tuple(tree.killed),
        log_error=pump.log_error,
        unlogged=pump.unlogged.lines(_ALL_LINES) if pump.unlogged is not None else (),
        stalled=reason == END_STALL,
        phase_evidence=watch.phase_evidence,
    )


def _sinks(
    proc: subprocess.Popen[bytes], stdout: BinaryIO | None, stderr: BinaryIO | None
) -> dict[int, BinaryIO]:
    assert proc.stdout is not None  # both are PIPE
    assert proc.stderr is not None
    return {
        proc.stdout.fileno(): stdout if stdout is not None else sys.stdout.buffer,
        proc.stderr.fileno(): stderr if stderr is not None else sys.stderr.buffer,
    }


def _unstarted(
    code: int,
    spawn_error: str | None,
    duration: float,
    log_path: Path | None,
    cancel: CancelToken | None,
) -> ProcessResult:
    return ProcessResult(
        exit_code=code,
        signal=None,
        timed_out=False,
        no_output_timed_out=False,
        cancelled_by=cancel.signum if cancel is not None else None,
        duration_s=duration,
        tail=(),
        log_path=log_path,
        spawn_error=spawn_error,
        killed_pids=(),
    )


def _warn_log(path: Path | None, why: str) -> None:
    warn(
        f"attempt log {path}: {why}; the build goes on, its last "
        f"{UNLOGGED_BYTES // (1024 * 1024)} MiB of output are kept in memory for classification",
        once_per=why,
    )


@contextlib.contextmanager
def _open_log(path: Path | None) -> Iterator[tuple[BinaryIO | None, str | None]]:
    """The attempt log, or (None, why) when it cannot be written: the build runs anyway."""
    if path is None:
        yield None, None
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        log = open(path, "wb", buffering=0)  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        why = exc.strerror or str(exc)
        _warn_log(path, why)
        yield None, why
        return
    with log:
        yield log, None


def _reap(proc: subprocess.Popen[bytes]) -> int | None:
    """The child's return code (negative: killed by that signal); None if it never died."""
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
    try:
        return proc.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        return None
