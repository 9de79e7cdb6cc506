"""What a run learns about its daemon off the main thread, and says once.

At the start, in the background: the snapshot of how the daemon runs (so a remedy can
relaunch it as it ran) and, when no preflight will say it, whether the daemon is this
host's to configure (docker/reach.py). A docker-in-docker service
(DOCKER_HOST=tcp://docker:2376) or any daemon on another host or in another container
reads a daemon.json ci-guard cannot reach: the run still builds and retries; mirror
refreshes and daemon remedies skip their host-side changes with the reason, and one
`daemon.remote` warning tells the way that works. It is logged after the preflight, or
at the latest before the first remedy or the end of the run, so a run with
--no-preflight waits for no process scan before its first attempt.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ci_guard.config import Config
from ci_guard.docker import REACH_FIELD
from ci_guard.records import RunRecord
from ci_guard.run.deps import RunDeps

EVENT = "daemon.remote"
DAEMON_STAGES = frozenset({"restart-daemon", "repair-network"})
"""Ladder stages that may change the host (relaunch the daemon, rewrite daemon.json)."""
DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"
REMEDY_WAIT_S = 5.0
"""How long a remedy waits for the background answer before it goes on without it."""


class DaemonFacts:
    def __init__(self, config: Config, deps: RunDeps, host: str | None) -> None:
        self.config = config
        self.deps = deps
        self.host = host
        self._reach: dict[str, Any] | None = None
        self._reach_done = threading.Event()
        self._noted = False

    def start(self) -> None:
        """Background threads: never a wait before the first attempt."""
        if not self._daemon_here():
            self._reach_done.set()
            return
        if self.deps.snapshot is not None and not self.config.dry_run and self._may_change():
            self._thread(self.deps.snapshot, "ci-guard-daemon-snapshot")
        if self.deps.reach is not None and not self._preflight_says() and self._may_change():
            self._thread(self._observe, "ci-guard-daemon-reach")
        else:
            self._reach_done.set()

    def note(self, run: RunRecord, log: Any, *, wait: float = 0.0) -> None:
        """Record and log (warning `daemon.remote`) a daemon ci-guard cannot configure,
        once; `wait`: seconds to wait for the background answer if it is not in yet."""
        if self._noted:
            return
        fields = (run.preflight or {}).get(REACH_FIELD)
        if not isinstance(fields, dict):
            if not self._reach_done.wait(wait):
                return  # asked again later
            fields = self._reach
        self._noted = True
        if not isinstance(fields, dict) or fields.get("local", True):
            return
        run.daemon_remote = dict(fields)
        detail = (
            f"{fields.get('reason')}: no daemon.json write, SIGHUP or daemon restart will be "
            "tried; mirrors are still probed and the build and its retries run as usual"
        )
        log.warning(EVENT, **fields, detail=detail)

    def _observe(self) -> None:
        try:
            assert self.deps.reach is not None
            self._reach = self.deps.reach(self.host)
        except Exception:  # a fact for the log: never the end of the run
            self._reach = None
        finally:
            self._reach_done.set()

    def _preflight_says(self) -> bool:
        return self.config.preflight and self.deps.preflight is not None

    def _daemon_here(self) -> bool:
        # No endpoint at all: spare the run the imports and the process scan.
        return self.host is not None or os.path.exists(DEFAULT_DOCKER_SOCKET)

    def _may_change(self) -> bool:
        return bool(DAEMON_STAGES & set(self.config.ladder))

    def _thread(self, target: Any, name: str) -> None:
        args = (self.host,) if target is self.deps.snapshot else ()
        threading.Thread(target=target, args=args, name=name, daemon=True).start()
