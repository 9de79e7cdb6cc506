"""How the daemon ran while it was healthy, kept in memory and on disk, so a remedy can
relaunch it as it ran (control.snapshot() records it)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ci_guard.atomic import atomic_write_text
from ci_guard.docker.api import resolve_host
from ci_guard.docker.endpoint import DaemonProcess
from ci_guard.hostlock import user_runtime_dir

SYSTEM_STATE_DIR = Path("/run/ci-guard")


# host -> (snapshot, fd on its network namespace): the fd keeps an unnamed namespace alive
# after the daemon in it died, so a relaunch lands in the very same one.
_remembered: dict[str, tuple[DaemonProcess, int | None]] = {}


def remembered(host: str) -> tuple[DaemonProcess, int | None] | None:
    """This process's record of `host`'s dockerd and the fd on its network namespace."""
    return _remembered.get(host)


def state_dir() -> Path:
    if SYSTEM_STATE_DIR.is_dir() and os.access(SYSTEM_STATE_DIR, os.W_OK):
        return SYSTEM_STATE_DIR
    if os.geteuid() == 0 and os.access(SYSTEM_STATE_DIR.parent, os.W_OK):
        return SYSTEM_STATE_DIR
    return user_runtime_dir()


def state_file(host: str, folder: Path) -> Path:
    digest = hashlib.sha256(host.encode()).hexdigest()[:12]
    return folder / f"dockerd-{digest}.json"


def remember(host: str, daemon: DaemonProcess) -> None:
    old = _remembered.pop(host, None)
    if old is not None and old[1] is not None:
        os.close(old[1])
    fd: int | None = None
    with contextlib.suppress(OSError):
        fd = os.open(f"/proc/{daemon.pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    _remembered[host] = (daemon, fd)


def save(host: str, daemon: DaemonProcess, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    record = {"host": host, "taken_at": time.time(), "daemon": asdict(daemon)}
    # The environment may hold proxy credentials: owner-only.
    atomic_write_text(state_file(host, folder), json.dumps(record), mode=0o600)


def load_snapshot(host: str, folder: Path | None = None) -> DaemonProcess | None:
    """The last recorded dockerd for `host`: this process's memory first, then the file."""
    if host in _remembered:
        return _remembered[host][0]
    try:
        data = json.loads(state_file(host, folder or state_dir()).read_text())
        raw: dict[str, Any] = data["daemon"]
        raw["argv"] = tuple(raw["argv"])
        return DaemonProcess(**raw)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget(host: str) -> None:
    """Drop the in-memory snapshot (and its namespace handle) of `host`."""
    old = _remembered.pop(resolve_host(host), None)
    if old is not None and old[1] is not None:
        os.close(old[1])
