"""Making dockerd take a changed daemon.json: SIGHUP when it can, a restart otherwise,
then waiting until `docker info` shows the change."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ci_guard.docker.keys import KeyTable, key_table

NOTHING = "none"
SIGHUP = "sighup"
RESTART = "restart"


def reload_action(changed: Iterable[str], table: KeyTable | None = None) -> str:
    """ "none" for no change, "sighup" when every changed key reloads live, else "restart"."""
    table = table or key_table()
    keys = set(changed)
    if not keys:
        return NOTHING
    return SIGHUP if all(table.reloadable(key) for key in keys) else RESTART


@dataclass(frozen=True)
class Signalled:
    ok: bool
    message: str


def send_sighup(pid: int, *, kill: Callable[[int, int], None] = os.kill) -> Signalled:
    try:
        kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        return Signalled(False, f"dockerd (pid {pid}) is gone")
    except PermissionError:
        return Signalled(False, f"no right to signal dockerd (pid {pid}); run as root")
    return Signalled(True, f"sent SIGHUP to dockerd (pid {pid})")


def info_mirrors(info: dict[str, Any]) -> list[str]:
    """The mirrors in effect, as `docker info` shows them, without trailing slashes."""
    registry = info.get("RegistryConfig") or {}
    mirrors = registry.get("Mirrors") or []
    return [str(m).rstrip("/") for m in mirrors]


@dataclass(frozen=True)
class Verified:
    ok: bool
    seen: tuple[str, ...]
    message: str


def wait_for_mirrors(
    info: Callable[[], dict[str, Any]],
    expected: Sequence[str],
    *,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Verified:
    """Poll `info()` until it shows exactly `expected` (in order) or `timeout` passes."""
    deadline = clock() + timeout
    seen: list[str] = []
    last_error = ""
    while True:
        try:
            seen = info_mirrors(info())
            last_error = ""
        except Exception as exc:  # any SDK or transport failure means "not yet"
            last_error = f"{type(exc).__name__}: {exc}"
        if not last_error and seen == list(expected):
            return Verified(True, tuple(seen), "docker info shows the new mirrors")
        if clock() >= deadline:
            break
        sleep(0.2)
    if last_error:
        return Verified(False, tuple(seen), f"daemon did not answer docker info: {last_error}")
    return Verified(False, tuple(seen), f"docker info still shows {seen or 'no mirrors'}")
