"""The one place where ci-guard starts processes.

`run_capture` runs a short helper command (systemctl, sysctl, docker CLI...) and
returns its output as a value; `spawn_detached` starts a daemon that outlives ci-guard;
`spawn_attempt` starts one build attempt in its own session for `ci_guard.supervise`,
which watches it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ci_guard import exitcodes


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


def spawn_attempt(
    args: tuple[str, ...], env: Mapping[str, str] | None, cwd: Path | None, marker: tuple[str, str]
) -> subprocess.Popen[bytes]:
    """Start an attempt in its own session, stdout and stderr piped; raises OSError.

    `marker` (name, value) goes into the child's environment so that the attempt's
    processes can be found wherever they went.
    """
    child_env = dict(os.environ if env is None else env)
    child_env[marker[0]] = marker[1]
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


def start_error(args: tuple[str, ...], cwd: Path | None, exc: OSError) -> tuple[int, str]:
    """Exit code and message for a command that could not start, as a shell words them."""
    name = args[0]
    if cwd is not None and exc.filename is not None and str(exc.filename) == str(cwd):
        return exitcodes.NOT_EXECUTABLE, f"cannot enter directory {cwd}: {exc.strerror}"
    if isinstance(exc, FileNotFoundError):
        reason = "No such file or directory" if "/" in name else "command not found"
        return exitcodes.NOT_FOUND, f"{name}: {reason}"
    reason = "Is a directory" if os.path.isdir(name) else (exc.strerror or str(exc))
    return exitcodes.NOT_EXECUTABLE, f"{name}: {reason}"
