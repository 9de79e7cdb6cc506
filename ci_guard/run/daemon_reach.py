"""Say once, at the start of a run, that the daemon is not this host's to configure.

A docker-in-docker service (DOCKER_HOST=tcp://docker:2376) or any daemon on another
host or in another container reads a daemon.json ci-guard cannot reach. The run still
builds and retries; mirror refreshes and daemon remedies skip their host-side changes
with the reason (their own results), and this event tells the way that works.
"""

from __future__ import annotations

from typing import Any

from ci_guard.config import Config
from ci_guard.doctor.preflight import REACH_FIELD
from ci_guard.records import RunRecord
from ci_guard.run.deps import RunDeps

EVENT = "daemon.remote"
DAEMON_STAGES = frozenset({"restart-daemon", "repair-network"})


def note_reach(run: RunRecord, log: Any, config: Config, deps: RunDeps, host: str | None) -> None:
    """Record and log (warning `daemon.remote`) a daemon ci-guard cannot configure."""
    fields = (run.preflight or {}).get(REACH_FIELD)
    if not isinstance(fields, dict) and deps.reach is not None and _may_change_host(config):
        try:
            fields = deps.reach(host)
        except Exception:  # a fact for the log: never the end of the run
            fields = None
    if not isinstance(fields, dict) or fields.get("local", True):
        return
    run.daemon_remote = dict(fields)
    log.warning(
        EVENT,
        **fields,
        detail=(
            f"{fields.get('reason')}: no daemon.json write, SIGHUP or daemon restart will be "
            "tried; mirrors are still probed and the build and its retries run as usual"
        ),
    )


def _may_change_host(config: Config) -> bool:
    """Only a run that could change the host needs to know (preflight did not say)."""
    return bool(config.mirrors) or bool(DAEMON_STAGES & set(config.ladder))
