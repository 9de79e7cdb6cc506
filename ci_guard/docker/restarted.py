"""Has the daemon been restarted since a failure? Asked under the host lock, so that
runs queued behind one restart do not each restart the daemon again.

Ten jobs that fail together on one broken daemon all reach restart-daemon; the first
to take the host lock restarts it, and every later one finds a dockerd that started
after its failure (or another pid than the one it saw fail) and answers /_ping. That
daemon is not the one that failed: restarting it again would only cut off the builds
the first restart brought back.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from ci_guard.docker.api import ping
from ci_guard.docker.control import find_dockerd


@dataclass(frozen=True)
class DaemonSeen:
    pid: int
    started: float
    """Seconds since boot (CLOCK_BOOTTIME, as the kernel counts process start times)."""


def boot_seconds(epoch: float) -> float:
    """An epoch time as seconds since boot, the clock process start times use."""
    return epoch - time.time() + time.clock_gettime(time.CLOCK_BOOTTIME)


def process_started(pid: int) -> float | None:
    """When `pid` started, in seconds since boot (10 ms resolution), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime in ticks


def observe(host: str) -> DaemonSeen | None:
    """The dockerd serving `host` now, with its start time; None when there is none."""
    daemon = find_dockerd(host)
    if daemon is None:
        return None
    started = process_started(daemon.pid)
    return DaemonSeen(daemon.pid, started) if started is not None else None


def restarted_since(host: str, failed_at: float, seen: DaemonSeen | None) -> str | None:
    """Why a restart of `host` is not needed any more, or None when it still is.

    `failed_at`: epoch seconds when the failure being remedied was seen; `seen`: the
    dockerd observed then (before waiting for the lock), if any.
    """
    now = observe(host)
    if now is None or not ping(host, timeout=2.0):
        return None
    newer = now.started > boot_seconds(failed_at)
    replaced = seen is not None and seen.pid != now.pid
    if not (newer or replaced):
        return None
    ago = max(time.clock_gettime(time.CLOCK_BOOTTIME) - now.started, 0.0)
    return (
        f"dockerd was already restarted after this failure (pid {now.pid}, "
        f"started {ago:.1f}s ago) and answers /_ping on {host}"
    )
