"""The one place where ci-guard starts processes.

`run_capture` runs a short helper command (systemctl, sysctl, docker CLI...) and
returns its output as a value. `supervise` runs one build attempt: output streamed
through unchanged and logged, deadlines enforced, the whole process tree ended, and
the outcome returned as a `ProcessResult` (it never raises for a failed build).
Finding and ending the tree lives in `ci_guard.proctree`, moving the output in
`ci_guard.streams`, and the watch loop of one attempt in `ci_guard.watch`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from ci_guard import exitcodes
from ci_guard.errors import CiGuardError, UsageError
from ci_guard.proctree import TREE_ID_VAR, ProcessTree, subreaper
from ci_guard.streams import OutputPump, TailBuffer
from ci_guard.watch import END_NO_OUTPUT, END_TIMEOUT, AttemptWatch, Limits

_CANCEL_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class Captured:
    argv: tuple[str, ...]
    returncode: int
    """127 when the program does not exist, 126 when it cannot run, 124 on timeout."""
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_capture(
    argv: Sequence[str],
    *,
    timeout: float = 30.0,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
) -> Captured:
    """Run argv (never through a shell) to completion; never raises for a failed command."""
    args = tuple(argv)
    try:
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=dict(env) if env is not None else None,
            input=input_text,
            stdin=None if input_text is not None else subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError as exc:
        return Captured(args, 127, "", f"{args[0]}: not found ({exc.strerror})")
    except PermissionError as exc:
        return Captured(args, 126, "", f"{args[0]}: cannot run ({exc.strerror})")
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        return Captured(args, 124, out, f"{args[0]}: timed out after {timeout:g}s")
    return Captured(args, done.returncode, done.stdout, done.stderr)


def spawn_detached(
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: str,
    log_path: str,
    netns_path: str | None = None,
) -> int:
    """Start a long-lived daemon that outlives ci-guard; its pid (OSError if it cannot start).

    Output goes to `log_path` (appended); the process gets its own session so a signal to
    ci-guard's process group never reaches it. With `netns_path` the program runs in that
    network namespace (`nsenter --net=PATH`, which execs the program: the pid is its own).
    """
    args = list(argv)
    if netns_path is not None:
        args = ["nsenter", f"--net={netns_path}", "--", *args]
    with open(log_path, "ab", buffering=0) as log:
        child = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
    return child.pid


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


class CancelToken:
    """Set from ci-guard's signal handlers (or any thread) to end a running attempt.

    A self-pipe wakes a `supervise` loop blocked in select() at once. The first signal
    wins; a further one skips what is left of the kill grace.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()  # re-entrant: a handler may interrupt cancel() itself
        self._signum: int | None = None
        self._count = 0
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        os.set_blocking(self._write_fd, False)

    def cancel(self, signum: int) -> None:
        with self._lock:
            if self._signum is None:
                self._signum = int(signum)  # a plain int, also when given a signal.Signals
            self._count += 1
        with contextlib.suppress(OSError):  # a full pipe wakes the reader just as well
            os.write(self._write_fd, b"\0")

    @property
    def signum(self) -> int | None:
        return self._signum

    @property
    def count(self) -> int:
        return self._count

    def fileno(self) -> int:
        """The read end of the wake-up pipe, for a selector."""
        return self._read_fd

    def clear_wakeups(self) -> None:
        with contextlib.suppress(OSError):
            while os.read(self._read_fd, 4096):
                pass

    def close(self) -> None:
        for fd in (self._read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._read_fd = self._write_fd = -1


def install_signal_handlers(token: CancelToken) -> Callable[[], None]:
    """SIGINT, SIGTERM, SIGHUP -> token.cancel(signum); returns a function restoring the old ones.

    Call it from the main thread (Python only lets the main thread set handlers).
    """

    def handler(signum: int, _frame: FrameType | None) -> None:
        token.cancel(signum)

    previous = {sig: signal.signal(sig, handler) for sig in _CANCEL_SIGNALS}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, signal.SIG_DFL if old is None else old)

    return restore


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
) -> ProcessResult:
    """Run one attempt of argv in its own session and return what happened.

    Output streams through to `stdout`/`stderr` unchanged and into `log_path`; on a
    deadline or cancel, and after a normal exit for whatever the child left running,
    the whole tree gets SIGTERM, `kill_grace` seconds, then SIGKILL. A command that
    cannot start is a result (126/127), not an exception. Raises UsageError for an
    empty argv and CiGuardError when the log file cannot be written.
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
    with _open_log(log_path) as log, subreaper():
        try:
            proc = _spawn(args, env, cwd, tree_id)
        except OSError as exc:
            code, message = _spawn_error(args, cwd, exc)
            return _unstarted(code, message, clock() - started, log_path, None)
        tail = TailBuffer(min(max(64 * 1024, tail_lines * 1024), 8 * 1024 * 1024))
        tree = ProcessTree(proc.pid, tree_id)
        pump = OutputPump(_sinks(proc, stdout, stderr), log, tail)
        limits = Limits(timeout, no_output_timeout, kill_grace)
        try:
            reason = AttemptWatch(proc, tree, pump, limits=limits, cancel=cancel, clock=clock).run()
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
    )


def _spawn(
    args: tuple[str, ...], env: Mapping[str, str] | None, cwd: Path | None, tree_id: str
) -> subprocess.Popen[bytes]:
    child_env = dict(os.environ if env is None else env)
    child_env[TREE_ID_VAR] = tree_id  # finds the attempt's processes wherever they went
    return subprocess.Popen(
        args,
        stdin=_stdin(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env,
        cwd=cwd,
        start_new_session=True,
        close_fds=True,
    )


def _stdin() -> int | None:
    """Inherit stdin when ci-guard has one, else /dev/null."""
    try:
        os.fstat(0)
    except OSError:
        return subprocess.DEVNULL
    return None


def _sinks(
    proc: subprocess.Popen[bytes], stdout: BinaryIO | None, stderr: BinaryIO | None
) -> dict[int, BinaryIO]:
    assert proc.stdout is not None  # both are PIPE
    assert proc.stderr is not None
    return {
        proc.stdout.fileno(): stdout if stdout is not None else sys.stdout.buffer,
        proc.stderr.fileno(): stderr if stderr is not None else sys.stderr.buffer,
    }


def _spawn_error(args: tuple[str, ...], cwd: Path | None, exc: OSError) -> tuple[int, str]:
    """Exit code and message for a command that could not start, as a shell words them."""
    name = args[0]
    if cwd is not None and exc.filename is not None and str(exc.filename) == str(cwd):
        return exitcodes.NOT_EXECUTABLE, f"cannot enter directory {cwd}: {exc.strerror}"
    if isinstance(exc, FileNotFoundError):
        reason = "No such file or directory" if "/" in name else "command not found"
        return exitcodes.NOT_FOUND, f"{name}: {reason}"
    reason = "Is a directory" if os.path.isdir(name) else (exc.strerror or str(exc))
    return exitcodes.NOT_EXECUTABLE, f"{name}: {reason}"


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


@contextlib.contextmanager
def _open_log(path: Path | None) -> Iterator[BinaryIO | None]:
    if path is None:
        yield None
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        log = open(path, "wb", buffering=0)  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise CiGuardError(f"cannot write the attempt log {path}: {exc.strerror}") from None
    with log:
        yield log


def _reap(proc: subprocess.Popen[bytes]) -> int | None:
    """The child's return code (negative: killed by that signal); None if it never died."""
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
    try:
        return proc.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        return None
