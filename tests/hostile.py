"""Hostile inputs for `ci-guard`: running a case, and judging what it did.

Every case runs the real executable in its own folder. The wrapped build writes a
marker and exits BUILD_CODE, so a case tells three things apart: ci-guard refused the
input before the build (exit 2, no marker), the build ran and its code came back, or
the build's code was lost (a data loss). The cases themselves are in hostile_cases.py;
both are shared by the test suite and bench/.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

BUILD_CODE = 3
USAGE = 2
HUNG = -1
"""The exit code recorded for a case that did not end within its time (killed)."""
MARKER = "build-ran"
# The build: proves it ran, prints a byte that is not UTF-8, and fails with its own code.
BUILD = ("sh", "-c", f"echo ran > {MARKER}; printf 'out \\377\\n'; exit {BUILD_CODE}")
FAST = ("--no-preflight", "--max-attempts", "1")

# Special file contents (anything else is written as bytes).
DIR, FIFO, HUGE, NOT_UTF8 = "<dir>", "<fifo>", "<huge>", "<not-utf8>"
# Private copies of /dev/full and /dev/null in each case's folder: a regression that
# replaced or wrote the device must never touch the machine's own.
DEV_FULL, DEV_NULL = "dev-full", "dev-null"
# Paths a hostile user can name: devices, below a device, a folder, unreadable in /proc.
BAD_PATHS = (DEV_FULL, f"{DEV_NULL}/x", DEV_NULL, "sub", "/proc/self/clear_refs")


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    expect: int
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str | bytes] = field(default_factory=dict)
    build_runs: bool = False


@dataclass(frozen=True)
class Outcome:
    case: Case
    code: int
    stderr: str
    build_ran: bool
    devices_intact: bool = True

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr

    @property
    def data_loss(self) -> bool:
        """The build ran (or had to) but its exit code did not come back."""
        return self.case.build_runs and (not self.build_ran or self.code != BUILD_CODE)

    @property
    def problems(self) -> list[str]:
        found = []
        if self.traceback:
            found.append("traceback")
        if self.code == HUNG:
            found.append("hung (killed)")
        elif self.code != self.case.expect:
            found.append(f"exit {self.code}, expected {self.case.expect}")
        if self.data_loss:
            found.append("build's exit code lost")
        if not self.devices_intact:
            found.append("a device node was replaced")
        if self.code == USAGE and self.build_ran:
            found.append("the build ran although the input was refused")
        if self.code == USAGE and not _one_error_line(self.stderr):
            found.append("no one-line 'ci-guard: error:' message")
        return found


def _one_error_line(stderr: str) -> bool:
    lines = [line for line in stderr.splitlines() if line.startswith("ci-guard: error:")]
    return len(lines) == 1


def run_case(case: Case, root: Path, timeout: float = 60) -> Outcome:
    folder = root / case.name.replace("/", "_")
    folder.mkdir(parents=True)
    (folder / ".git").mkdir()  # the config search stops here, as in a checkout
    (folder / "sub").mkdir()
    os.mknod(folder / DEV_FULL, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    os.mknod(folder / DEV_NULL, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    for name, content in case.files.items():
        _make(folder / name, content)
    env = {k: v for k, v in os.environ.items() if not _ci_variable(k)}
    env.update(case.env)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ci_guard", *case.args],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # a hang is an outcome, not a crash
        done = subprocess.CompletedProcess(exc.cmd, HUNG, None, exc.stderr or b"")
    stderr = done.stderr.decode("utf-8", "replace")
    intact = all(stat.S_ISCHR(os.stat(folder / dev).st_mode) for dev in (DEV_FULL, DEV_NULL))
    return Outcome(case, done.returncode, stderr, (folder / MARKER).exists(), intact)


def run_all(cases: list[Case], root: Path, workers: int = 4, timeout: float = 60) -> list[Outcome]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda case: run_case(case, root, timeout), cases))


def _ci_variable(name: str) -> bool:
    return name.startswith(("CI_GUARD_", "GITHUB_", "GITLAB_", "JENKINS_")) or name in (
        "CI",
        "BUILD_ID",
    )


def _make(path: Path, content: str | bytes) -> None:
    if content == DIR:
        path.mkdir()
    elif content == FIFO:
        os.mkfifo(path)
    elif content == HUGE:
        path.write_bytes(b"# padding\n" * 200_000)
    elif content == NOT_UTF8:
        path.write_bytes(b"timeout = '\xff\xfe'\n")
    else:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
