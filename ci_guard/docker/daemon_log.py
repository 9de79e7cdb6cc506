"""The daemon's own log lines for a time window: journald, or the file it writes to.

When dockerd pulls through registry mirrors and every mirror fails, the client sees
only the last fallback (Docker Hub's name not resolving, or its network being
unreachable); the mirror's real answer (a reset, a 503, a 429, an unknown tag) is in
dockerd's log. Where systemd runs the daemon, `journalctl -u UNIT --since --until -o
cat` has it; a daemon started by hand writes its log to the file its stderr points
at (/proc/PID/fd/2). Lines are logrus text (`time="..." level=... msg="..."`); the
message is returned unquoted. Reads are bounded (the file's last MAX_READ bytes, at
most MAX_LINES lines) and never raise: no log is an answer too.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ci_guard.docker.api import resolve_host
from ci_guard.docker.control import DaemonProcess, find_dockerd, load_snapshot
from ci_guard.process import run_capture

MAX_READ = 4 << 20
MAX_LINES = 2000
JOURNAL_TIMEOUT_S = 5.0
BEFORE_S = 0.05
AFTER_S = 0.5
"""Lines this long before the attempt started (clock rounding) or after it ended (the
daemon logs as it answers) still count. Kept short: another client's pull on the
same daemon just before or after must not count; one during the attempt can."""

_TIME = re.compile(r'^time="([^"]+)"')
_MSG = re.compile(r'\bmsg="((?:[^"\\]|\\.)*)"')
_FRACTION = re.compile(r"\.(\d+)")


@dataclass(frozen=True)
class DaemonLog:
    lines: tuple[str, ...]
    """The messages of the window, oldest first."""
    origin: str
    """`journald:UNIT` or `file:PATH`."""


def message(line: str) -> str:
    """The msg of a logrus line, unquoted (the line itself when it has none)."""
    found = _MSG.search(line)
    if found is None:
        return line.strip()
    return found.group(1).replace('\\"', '"').replace("\\\\", "\\")


def _timestamp(line: str) -> float | None:
    found = _TIME.match(line)
    if found is None:
        return None
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6], found.group(1)).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def log_file_of(pid: int) -> Path | None:
    """The regular file the process writes its stderr to, if any."""
    for fd in (2, 1):
        try:
            target = Path(os.readlink(f"/proc/{pid}/fd/{fd}"))
            if target.is_absolute() and stat.S_ISREG(target.stat().st_mode):
                return target
        except OSError:
            continue
    return None


def _tail(path: Path) -> list[str]:
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - MAX_READ))
        data = handle.read(MAX_READ)
    return data.decode("utf-8", "replace").splitlines()


def in_window(lines: list[str], since: float, until: float) -> list[str]:
    """Messages of timestamped lines inside [since - BEFORE_S, until + AFTER_S]."""
    kept: list[str] = []
    for line in lines:
        when = _timestamp(line)
        if when is not None and since - BEFORE_S <= when <= until + AFTER_S:
            kept.append(message(line))
    return kept[-MAX_LINES:]


def _from_journal(unit: str, since: float, until: float) -> DaemonLog | None:
    argv = (
        "journalctl", "-u", unit, "--no-pager", "-o", "cat",
        "--since", f"@{since - BEFORE_S:.3f}", "--until", f"@{until + AFTER_S:.3f}",
    )  # fmt: skip
    done = run_capture(argv, timeout=JOURNAL_TIMEOUT_S)
    if not done.ok or not done.stdout.strip():
        return None
    lines = [message(line) for line in done.stdout.splitlines() if line.strip()]
    return DaemonLog(tuple(lines[-MAX_LINES:]), f"journald:{unit}")


def read_window(daemon: DaemonProcess | None, since: float, until: float) -> DaemonLog | None:
    """The daemon's messages between since and until (epoch seconds), or None."""
    if daemon is None:
        return None
    try:
        if daemon.unit:
            from_journal = _from_journal(daemon.unit, since, until)
            if from_journal is not None:
                return from_journal
        path = log_file_of(daemon.pid)
        if path is None:
            return None
        lines = in_window(_tail(path), since, until)
    except OSError:
        return None
    return DaemonLog(tuple(lines), f"file:{path}") if lines else None


def for_host(docker_host: str | None, since: float, until: float) -> DaemonLog | None:
    """The window of the daemon serving docker_host (running, else as last recorded)."""
    host = resolve_host(docker_host)
    return read_window(find_dockerd(host) or load_snapshot(host), since, until)
