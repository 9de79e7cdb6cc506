"""Preflight: the doctor checks, then mirrors probed, ranked and applied (unless dry-run).

`ci-guard run` calls `run_preflight(config)` before the first attempt and logs
`preflight.finished` with `as_log_fields()`. An unhealthy network is a result, not an
exception: only bad input (a bad mirror URL, an invalid daemon.json that must change)
raises UsageError.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ci_guard.config import Config
from ci_guard.docker import REACH_FIELD
from ci_guard.docker import daemon_json as dj
from ci_guard.docker.endpoint import (
    DEFAULT_CONFIG_FILE,
    DaemonEndpoint,
    DaemonProcess,
    find_daemon_process,
    find_endpoint,
)
from ci_guard.docker.reach import DaemonReach, observe_reach
from ci_guard.doctor import checks, mirror_checks
from ci_guard.doctor.daemon_checks import check_reach
from ci_guard.doctor.result import CheckResult, DoctorReport, skipped
from ci_guard.doctor.runner import Task, run_tasks
from ci_guard.errors import CiGuardError, PermissionDenied
from ci_guard.mirror_url import HUB_REGISTRY, normalise_mirror
from ci_guard.mirrors.apply import DaemonHandle, daemon_handle
from ci_guard.mirrors.builder import BuilderCheck, builder_probe_timeout, daemon_check
from ci_guard.mirrors.refresh import (
    effective_daemon_config,
    live_mirrors,
    refresh_mirrors,
    refresh_request,
)
from ci_guard.mirrors.result import MirrorApplyResult, skipped_result
from ci_guard.records import RemedyResult

DEFAULT_DATA_ROOT = Path("/var/lib/docker")
PROBE_IMAGE = "library/busybox"
REMOTE_SKIP = "the daemon is not this host's (see daemon.reach)"

__all__ = [
    "CheckResult",
    "DoctorReport",
    "DoctorSetup",
    "PreflightResult",
    "run_doctor",
    "run_preflight",
]


@dataclass(frozen=True)
class DoctorSetup:
    registries: tuple[str, ...]
    timeout: float
    daemon_config: Path
    explicit_config: bool
    image: str = PROBE_IMAGE
    buildx: bool = True
    endpoint: DaemonEndpoint | None = None
    process: DaemonProcess | None = None
    reach: DaemonReach | None = None
    """Whether the daemon is this host's (None: found out by run_doctor)."""
    mirrors: bool = True
    """Probe the daemon's configured mirrors (preflight ranks them itself)."""


def _daemon_tasks(setup: DoctorSetup, endpoint: DaemonEndpoint, reach: DaemonReach) -> list[Task]:
    def daemon_and_disk() -> list[CheckResult]:
        daemon = checks.check_daemon(endpoint, setup.timeout)
        if reach.remote:  # its data root is a path on another host
            return [daemon, skipped("disk", REMOTE_SKIP)]
        root = daemon.data.get("data_root") or DEFAULT_DATA_ROOT
        return [daemon, checks.check_disk(Path(root))]

    path: Path | None = effective_daemon_config(
        setup.daemon_config, explicit=setup.explicit_config, process=setup.process
    )
    if reach.remote and not setup.explicit_config:
        path = None  # this host's daemon.json is not the one that daemon reads
    tasks = [Task("daemon", daemon_and_disk)]
    if path is not None:
        checked = path
        tasks.append(
            Task("daemon.json", lambda: [checks.check_daemon_json(checked, setup.process)])
        )
    if setup.mirrors:
        tasks.append(Task("mirrors", lambda: _mirror_checks(setup, endpoint, path)))
    if setup.buildx:
        tasks.append(Task("buildx", lambda: [checks.check_buildx(endpoint.url)]))
    return tasks


def _mirror_checks(
    setup: DoctorSetup, endpoint: DaemonEndpoint, path: Path | None
) -> list[CheckResult]:
    listed = mirror_checks.configured_mirrors(path, endpoint.url, setup.timeout)
    return mirror_checks.check_mirrors(listed, setup.timeout, setup.image)


def _registry_task(url: str, setup: DoctorSetup) -> Task:
    return Task(f"registry:{url}", lambda: checks.registry_chain(url, setup.timeout, setup.image))


def run_doctor(setup: DoctorSetup) -> DoctorReport:
    """Every check at once; the whole run takes about as long as the slowest chain."""
    endpoint = setup.endpoint or find_endpoint()
    reach = setup.reach or observe_reach(endpoint)
    registries = [normalise_mirror(url) for url in setup.registries]  # UsageError if bad
    tasks = [_registry_task(url, setup) for url in registries]
    tasks += _daemon_tasks(setup, endpoint, reach)
    results = run_tasks(tasks, deadline_s=setup.timeout * 2 + 2)
    results.append(checks.check_clock(results))
    results.append(check_reach(reach))
    if reach.remote and not setup.explicit_config:
        results.append(skipped("daemon.json", REMOTE_SKIP))
    return DoctorReport(tuple(results))


@dataclass(frozen=True)
class PreflightResult:
    report: DoctorReport
    mirrors: MirrorApplyResult | None
    reach: DaemonReach | None = None
    """Whether the daemon is this host's; a remote one gets no host-side change."""

    @property
    def healthy(self) -> bool:
        return self.report.healthy

    def as_log_fields(self) -> dict[str, Any]:
        fields = self.report.as_log_fields()
        fields["mirrors"] = self.mirrors.as_log_fields() if self.mirrors else None
        changes = self.mirrors.host_changes() if self.mirrors else ()
        fields["host_changes"] = [replace(c, source="preflight").as_dict() for c in changes]
        fields[REACH_FIELD] = self.reach.as_log_fields() if self.reach else None
        return fields


Restarter = Callable[[Config, str], Callable[[], bool]]
"""(config, daemon URL) -> a callable that restarts that daemon: the caller's choice, since
the remedies sit above preflight."""
BuilderRestarter = Callable[[Config, str], Callable[[], RemedyResult]]
"""The same, returning the restart-daemon remedy's result (for the BuildKit restart)."""


@dataclass(frozen=True)
class Restarters:
    """How preflight may restart the daemon: after a failed reload, and for BuildKit."""

    daemon: Restarter | None = None
    builder: BuilderRestarter | None = None


def run_preflight(
    config: Config,
    *,
    apply_mirrors: bool = True,
    restarters: Restarters = Restarters(),
    command: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> PreflightResult:
    """Doctor checks and mirror refresh side by side; see the module docstring.

    `command` and `env`: the wrapped command, to tell whether it builds with BuildKit
    (then a mirrors reload is checked to reach the builder, see mirrors/builder.py).
    """
    endpoint = find_endpoint()
    process = find_daemon_process(endpoint)
    explicit = config.daemon_config != DEFAULT_CONFIG_FILE
    setup = DoctorSetup(
        registries=(HUB_REGISTRY,),
        timeout=config.probe_timeout,
        daemon_config=config.daemon_config,
        explicit_config=explicit,
        buildx=False,
        endpoint=endpoint,
        process=process,
        reach=observe_reach(endpoint),
        mirrors=False,
    )
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="preflight") as pool:
        report = pool.submit(run_doctor, setup)
        target = _Target(tuple(command), dict(os.environ if env is None else env), restarters)
        mirrors = pool.submit(_mirrors, config, setup, apply_mirrors, target)
        return PreflightResult(report.result(), mirrors.result(), setup.reach)


@dataclass(frozen=True)
class _Target:
    command: tuple[str, ...]
    env: dict[str, str]
    restarters: Restarters


def _mirrors(
    config: Config, setup: DoctorSetup, apply: bool, target: _Target
) -> MirrorApplyResult | None:
    path = effective_daemon_config(
        setup.daemon_config, explicit=setup.explicit_config, process=setup.process
    )
    assert setup.endpoint is not None
    host = setup.endpoint.url
    restarter = target.restarters.daemon
    restart = restarter(config, host) if restarter is not None else None
    handle = replace(_handle(setup), restart=restart)
    remote = handle.reach is not None and handle.reach.remote
    existing = live_mirrors(handle) if remote else _existing_mirrors(path)
    if not config.mirrors and not existing:
        return None
    request = refresh_request(config, dry_run=config.dry_run or not apply)
    try:
        return refresh_mirrors(request, daemon=handle, builder=builder_check(config, host, target))
    except PermissionDenied as exc:
        return skipped_result(path, existing, dry_run=request.dry_run, why=exc.message)


def builder_check(config: Config, host: str, target: _Target) -> Callable[[], BuilderCheck]:
    """How to check that a reload reached the builder `target.command` will use."""

    def make() -> BuilderCheck:
        from ci_guard.docker.builder_use import uses_buildkit

        restarter = target.restarters.builder
        restart = restarter(config, host) if restarter is not None else _no_restart
        return daemon_check(
            host,
            use=uses_buildkit(target.command, target.env),
            image=PROBE_IMAGE,
            timeout=builder_probe_timeout(config),
            enabled=config.builder_restart,
            dry_run=config.dry_run,
            restart=restart,
        )

    return make


def _no_restart() -> RemedyResult:
    return RemedyResult("restart-daemon", False, False, detail="no restart offered by the caller")


def _existing_mirrors(path: Path) -> list[str]:
    try:
        return dj.current_mirrors(dj.read_daemon_json(path).data)
    except CiGuardError:
        return []  # the daemon.json check reports it; nothing to re-rank


def _handle(setup: DoctorSetup) -> DaemonHandle:
    handle = daemon_handle(endpoint=setup.endpoint, reach=setup.reach)
    process = setup.process if setup.process is not None else handle.process
    return replace(handle, process=process)
