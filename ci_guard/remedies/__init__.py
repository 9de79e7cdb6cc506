"""Registry of ladder remedies, imported lazily so `run` loads no Docker client it needs not."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ci_guard.config import Config
from ci_guard.records import RemedyResult
from ci_guard.remedies.base import Remedy, RemedyContext

# name -> "module:Class". A name whose module is not shipped yet is a known stage that
# falls back to a plain retry (and says so in its log line).
REMEDIES: dict[str, str] = {
    "retry": "ci_guard.remedies.retry:PlainRetry",
    "restart-daemon": "ci_guard.remedies.restart_daemon:RestartDaemon",
    "repair-network": "ci_guard.remedies.repair_network:RepairNetwork",
    "free-disk": "ci_guard.remedies.free_disk:FreeDisk",
}


def known_stages() -> tuple[str, ...]:
    return tuple(REMEDIES)


def load_remedy(name: str) -> Remedy | None:
    """The remedy named `name`, or None when its module is not available."""
    target = REMEDIES.get(name)
    if target is None:
        return None
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    factory = getattr(module, attr)
    remedy: Remedy = factory()
    return remedy


def restart_via_remedy(config: Config, docker_host: str) -> Callable[[], bool]:
    """A restart callable backed by the restart-daemon remedy (loaded when called), for
    the mirror refresh of preflight and `mirrors apply` when SIGHUP is not enough."""
    restart = restart_remedy(config, docker_host)
    return lambda: restart().ok


def restart_remedy(config: Config, docker_host: str) -> Callable[[], RemedyResult]:
    """The restart-daemon remedy (plan, host lock, dry-run) as a callable with its result,
    for the BuildKit restart when the builder keeps the old mirror list."""

    def restart() -> RemedyResult:
        remedy = load_remedy("restart-daemon")
        if remedy is None:
            return RemedyResult("restart-daemon", False, False, detail="not available")
        return remedy.apply(RemedyContext(config=config, docker_host=docker_host))

    return restart


__all__ = [
    "REMEDIES",
    "Remedy",
    "RemedyContext",
    "known_stages",
    "load_remedy",
    "restart_remedy",
    "restart_via_remedy",
]
