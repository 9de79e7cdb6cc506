"""Doctor checks of the local daemon: /info, daemon.json, disk, buildx."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ci_guard.docker import api
from ci_guard.docker import daemon_json as dj
from ci_guard.docker.endpoint import DaemonEndpoint, DaemonProcess
from ci_guard.docker.reach import DIND_ADVICE, DaemonReach
from ci_guard.doctor.result import INFO, WARNING, CheckResult, failed, passed, since
from ci_guard.errors import CiGuardError

LOW_DISK_ERROR = 1 << 30
LOW_DISK_WARNING = 5 << 30
IGNORES_DAEMON_MIRRORS = frozenset({"docker-container", "kubernetes", "remote"})
"""buildx drivers that do not read the daemon's registry-mirrors."""


def check_daemon(
    endpoint: DaemonEndpoint,
    timeout: float,
    read_info: Callable[[str, float], dict[str, Any]] = api.info,
) -> CheckResult:
    """The daemon's /info: version, storage driver, mirrors, live-restore."""
    start = time.monotonic()
    try:
        info = read_info(endpoint.url, max(1.0, timeout))
    except OSError as exc:
        why = f"daemon at {endpoint.url} ({endpoint.source}) does not answer: {_short(exc)}"
        return failed("daemon", why, since(start), data={"endpoint": endpoint.url})
    data = daemon_facts(info, endpoint)
    mirrors = ", ".join(data["mirrors"]) or "none"
    detail = (
        f"Docker {data['server_version']}, storage {data['storage_driver']}, mirrors: {mirrors}, "
        f"live-restore {'on' if data['live_restore'] else 'off'}"
    )
    return passed("daemon", detail, since(start), data=data)


def _short(exc: BaseException) -> str:
    stderr = getattr(exc, "stderr", None)  # python-on-whales puts the CLI's words there
    source = stderr if isinstance(stderr, str) and stderr.strip() else str(exc)
    text = source.strip().splitlines()[0] if source.strip() else type(exc).__name__
    return text[:200]


def daemon_facts(info: dict[str, Any], endpoint: DaemonEndpoint) -> dict[str, Any]:
    registry = info.get("RegistryConfig") or {}
    return {
        "endpoint": endpoint.url,
        "server_version": info.get("ServerVersion", "?"),
        "storage_driver": info.get("Driver", "?"),
        "mirrors": [str(m).rstrip("/") for m in registry.get("Mirrors") or []],
        "live_restore": bool(info.get("LiveRestoreEnabled")),
        "data_root": info.get("DockerRootDir"),
    }


def check_reach(reach: DaemonReach) -> CheckResult:
    """Whether ci-guard may configure the daemon, or only use it over its API."""
    data = reach.as_log_fields()
    if reach.local:
        return passed("daemon.reach", reach.reason, 0.0, data=data)
    why = (
        f"{reach.reason}: ci-guard uses it over its API but changes none of its "
        f"configuration; {DIND_ADVICE}"
    )
    return failed("daemon.reach", why, 0.0, WARNING, data=data)


def check_daemon_json(path: Path, process: DaemonProcess | None) -> CheckResult:
    start = time.monotonic()
    try:
        current = dj.read_daemon_json(path)
    except CiGuardError as exc:
        return failed("daemon.json", exc.message, since(start), data={"path": str(path)})
    if not current.exists:
        return passed(
            "daemon.json",
            f"{path}: absent (dockerd defaults)",
            since(start),
            data={"path": str(path)},
        )
    problems = dj.validate(current.data, running_flags=process.flags if process else ())
    data = {"path": str(path), "problems": [p.__dict__ for p in problems]}
    errors = dj.errors(problems)
    if errors:
        return failed("daemon.json", "; ".join(p.message for p in errors), since(start), data=data)
    if problems:
        return failed(
            "daemon.json", "; ".join(p.message for p in problems), since(start), WARNING, data=data
        )
    return passed(
        "daemon.json",
        f"{path}: {len(current.data)} keys, no problem found",
        since(start),
        data=data,
    )


def check_disk(path: Path) -> CheckResult:
    start = time.monotonic()
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError as exc:
        return failed(
            "disk", f"{path}: {exc.strerror}", since(start), WARNING, data={"path": str(path)}
        )
    gib = usage.free / (1 << 30)
    data = {"path": str(path), "free_bytes": usage.free, "total_bytes": usage.total}
    detail = f"{gib:.1f} GiB free on {probe}"
    if usage.free < LOW_DISK_ERROR:
        return failed(
            "disk",
            f"{detail}: builds will fail with 'no space left on device'",
            since(start),
            data=data,
        )
    if usage.free < LOW_DISK_WARNING:
        return failed("disk", detail, since(start), WARNING, data=data)
    return passed("disk", detail, since(start), data=data)


def check_buildx(docker_host: str) -> CheckResult:
    """Builders whose driver ignores daemon.json's mirrors (they read buildkitd.toml)."""
    start = time.monotonic()
    try:
        builders = _buildx_builders(docker_host)
    except Exception as exc:  # no docker CLI, no buildx plugin, daemon down...
        return CheckResult("buildx", True, INFO, _buildx_unchecked(exc), since(start))
    ignoring = [
        f"{name} ({driver})" for name, driver in builders if driver in IGNORES_DAEMON_MIRRORS
    ]
    data = {"builders": [{"name": n, "driver": d} for n, d in builders]}
    if ignoring:
        why = (
            f"builder {', '.join(ignoring)} ignores daemon.json mirrors; write them for BuildKit "
            "with `ci-guard mirrors apply --buildkitd-toml PATH`"
        )
        return failed("buildx", why, since(start), WARNING, data=data)
    return passed(
        "buildx",
        f"{len(builders)} builder(s), all use the daemon's mirrors",
        since(start),
        data=data,
    )


def _buildx_unchecked(exc: BaseException) -> str:
    said = _short(exc)
    # Without the plugin the docker CLI rejects the flags of `buildx ls --format json`.
    if "unknown flag" in said or "is not a docker command" in said:
        return (
            "buildx not checked: the docker CLI has no buildx plugin, or one too old for "
            f"`docker buildx ls --format` ({said})"
        )
    return f"buildx not checked: {said}"


def _buildx_builders(docker_host: str) -> list[tuple[str, str]]:
    from python_on_whales import DockerClient  # spawns the CLI: doctor only

    client = DockerClient(host=docker_host)
    return [(str(b.name), str(b.driver)) for b in client.buildx.list()]
