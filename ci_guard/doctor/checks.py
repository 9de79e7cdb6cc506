"""The checks: each a small function returning a CheckResult, never raising.

Network checks for one registry go in order (DNS, TCP, TLS, registry API) so that a
failure early in the chain is reported once, as the cause, and the later steps say
"skipped". Daemon checks talk to the endpoint the docker CLI uses.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ci_guard.docker import daemon_json as dj
from ci_guard.docker.endpoint import DaemonEndpoint, DaemonProcess
from ci_guard.doctor.result import ERROR, INFO, WARNING, CheckResult, failed, passed, skipped
from ci_guard.errors import CiGuardError
from ci_guard.registry.http import describe_error
from ci_guard.registry.probe import DEAD, SLOW, RegistryProbe, probe_registry

LOW_DISK_ERROR = 1 << 30
LOW_DISK_WARNING = 5 << 30
CLOCK_WARNING_S = 60.0
CLOCK_ERROR_S = 300.0
LOW_PULLS = 10
IGNORES_DAEMON_MIRRORS = frozenset({"docker-container", "kubernetes", "remote"})


def _since(start: float) -> float:
    return time.monotonic() - start


def resolve(host: str, port: int, timeout: float) -> list[str]:
    """getaddrinfo with a timeout (it has none of its own): the addresses, or OSError."""
    box: dict[str, Any] = {}

    def lookup() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            box["error"] = exc

    thread = threading.Thread(target=lookup, daemon=True, name=f"dns-{host}")
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"no DNS answer within {timeout:g}s")
    if "error" in box:
        raise box["error"]
    return sorted({str(info[4][0]) for info in box["infos"]})


def check_dns(host: str, port: int, timeout: float) -> CheckResult:
    start = time.monotonic()
    try:
        addresses = resolve(host, port, timeout)
    except OSError as exc:
        return failed(f"dns:{host}", describe_error(exc, timeout), _since(start))
    return passed(
        f"dns:{host}", ", ".join(addresses[:4]), _since(start), data={"addresses": addresses}
    )


def check_tcp(host: str, port: int, timeout: float) -> CheckResult:
    start = time.monotonic()
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return failed(f"tcp:{host}:{port}", describe_error(exc, timeout), _since(start))
    return passed(
        f"tcp:{host}:{port}", f"connected in {_since(start) * 1000:.0f} ms", _since(start)
    )


def check_tls(host: str, port: int, timeout: float) -> CheckResult:
    start = time.monotonic()
    context = ssl.create_default_context()
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            version = tls.version() or "TLS"
    except (OSError, ssl.SSLError) as exc:
        return failed(f"tls:{host}", describe_error(exc, timeout), _since(start))
    return passed(
        f"tls:{host}",
        f"{version} handshake, certificate trusted",
        _since(start),
        data={"version": version},
    )


def check_registry(
    url: str, timeout: float, image: str, probe: Callable[..., RegistryProbe] = probe_registry
) -> CheckResult:
    result = probe(url, timeout=timeout, image=image)
    data = result.as_dict()
    name = f"registry:{url}"
    if result.verdict == DEAD or not result.usable:
        return failed(name, f"{result.verdict}: {result.reason}", result.latency_s, data=data)
    limit = result.ratelimit
    if limit is not None and limit.remaining is not None and limit.remaining < LOW_PULLS:
        why = f"only {limit.remaining} of {limit.limit} pulls left: log in, or use a mirror"
        return failed(name, why, result.latency_s, WARNING, data=data)
    if result.verdict == SLOW:
        return failed(name, result.reason, result.latency_s, WARNING, data=data)
    return passed(name, _registry_summary(result), result.latency_s, data=data)


def _registry_summary(result: RegistryProbe) -> str:
    auth = "token flow ok" if result.auth == "bearer" else "anonymous"
    return f"/v2/ {result.v2_status} ({auth}); {result.reason}"


def registry_chain(url: str, timeout: float, image: str) -> list[CheckResult]:
    """DNS, TCP, TLS (https) and the registry API for one registry, stopping at a failure."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    steps: list[tuple[str, Callable[[], CheckResult]]] = [
        (f"dns:{host}", lambda: check_dns(host, port, timeout)),
        (f"tcp:{host}:{port}", lambda: check_tcp(host, port, timeout)),
    ]
    if parts.scheme == "https":
        steps.append((f"tls:{host}", lambda: check_tls(host, port, timeout)))
    steps.append((f"registry:{url}", lambda: check_registry(url, timeout, image)))
    results: list[CheckResult] = []
    cause: str | None = None
    for name, step in steps:
        if cause is not None:
            results.append(skipped(name, f"{cause} failed"))
            continue
        results.append(step())
        cause = None if results[-1].ok else name
    return results


def check_clock(results: list[CheckResult], now: datetime | None = None) -> CheckResult:
    """Local clock against the Date header of the registries that answered."""
    dates = [r.data.get("server_date") for r in results if r.name.startswith("registry:")]
    parsed = [d for d in (_parse_date(x) for x in dates if x) if d is not None]
    if not parsed:
        return CheckResult("clock", True, INFO, "no registry answered with a Date header", 0.0)
    now = now or datetime.now(timezone.utc)
    skew = (
        max((now - d).total_seconds() for d in parsed),
        min((now - d).total_seconds() for d in parsed),
    )
    worst = skew[0] if abs(skew[0]) >= abs(skew[1]) else skew[1]
    detail = (
        f"local clock is {abs(worst):.0f}s {'ahead of' if worst > 0 else 'behind'} the registry"
    )
    if abs(worst) > CLOCK_ERROR_S:
        return failed(
            "clock",
            detail + ": tokens and TLS certificates will be refused",
            0.0,
            data={"skew_s": worst},
        )
    if abs(worst) > CLOCK_WARNING_S:
        return failed("clock", detail, 0.0, WARNING, data={"skew_s": worst})
    return passed(
        "clock",
        f"within {CLOCK_WARNING_S:g}s of the registries ({worst:+.0f}s)",
        0.0,
        data={"skew_s": worst},
    )


def _parse_date(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None


def check_daemon(
    endpoint: DaemonEndpoint, timeout: float, client: Callable[[], Any] | None = None
) -> CheckResult:
    """Ping and info through the docker SDK: version, storage driver, mirrors, live-restore."""
    start = time.monotonic()
    try:
        handle = client() if client is not None else _sdk_client(endpoint, timeout)
        try:
            handle.ping()
            info: dict[str, Any] = handle.info()
        finally:
            handle.close()
    except Exception as exc:  # the SDK raises many types; any means "unreachable"
        why = f"daemon at {endpoint.url} ({endpoint.source}) does not answer: {_short(exc)}"
        return failed("daemon", why, _since(start), data={"endpoint": endpoint.url})
    data = daemon_facts(info, endpoint)
    mirrors = ", ".join(data["mirrors"]) or "none"
    detail = (
        f"Docker {data['server_version']}, storage {data['storage_driver']}, mirrors: {mirrors}, "
        f"live-restore {'on' if data['live_restore'] else 'off'}"
    )
    return passed("daemon", detail, _since(start), data=data)


def _sdk_client(endpoint: DaemonEndpoint, timeout: float) -> Any:
    from ci_guard.docker.sdk import open_client  # the SDK only for doctor

    return open_client(endpoint.url, timeout=max(1.0, timeout))


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


def check_daemon_json(path: Path, process: DaemonProcess | None) -> CheckResult:
    start = time.monotonic()
    try:
        current = dj.read_daemon_json(path)
    except CiGuardError as exc:
        return failed("daemon.json", exc.message, _since(start), data={"path": str(path)})
    if not current.exists:
        return passed(
            "daemon.json",
            f"{path}: absent (dockerd defaults)",
            _since(start),
            data={"path": str(path)},
        )
    problems = dj.validate(current.data, running_flags=process.flags if process else ())
    data = {"path": str(path), "problems": [p.__dict__ for p in problems]}
    errors = dj.errors(problems)
    if errors:
        return failed("daemon.json", "; ".join(p.message for p in errors), _since(start), data=data)
    if problems:
        return failed(
            "daemon.json", "; ".join(p.message for p in problems), _since(start), WARNING, data=data
        )
    return passed(
        "daemon.json",
        f"{path}: {len(current.data)} keys, no problem found",
        _since(start),
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
            "disk", f"{path}: {exc.strerror}", _since(start), WARNING, data={"path": str(path)}
        )
    gib = usage.free / (1 << 30)
    data = {"path": str(path), "free_bytes": usage.free, "total_bytes": usage.total}
    detail = f"{gib:.1f} GiB free on {probe}"
    if usage.free < LOW_DISK_ERROR:
        return failed(
            "disk",
            f"{detail}: builds will fail with 'no space left on device'",
            _since(start),
            data=data,
        )
    if usage.free < LOW_DISK_WARNING:
        return failed("disk", detail, _since(start), WARNING, data=data)
    return passed("disk", detail, _since(start), data=data)


def check_buildx(docker_host: str) -> CheckResult:
    """Builders whose driver ignores daemon.json's mirrors (they read buildkitd.toml)."""
    start = time.monotonic()
    try:
        builders = _buildx_builders(docker_host)
    except Exception as exc:  # no docker CLI, no buildx plugin, daemon down...
        return CheckResult(
            "buildx", True, INFO, f"buildx not checked: {_short(exc)}", _since(start)
        )
    ignoring = [
        f"{name} ({driver})" for name, driver in builders if driver in IGNORES_DAEMON_MIRRORS
    ]
    data = {"builders": [{"name": n, "driver": d} for n, d in builders]}
    if ignoring:
        why = (
            f"builder {', '.join(ignoring)} ignores daemon.json mirrors; write them for BuildKit "
            "with `ci-guard mirrors apply --buildkitd-toml PATH`"
        )
        return failed("buildx", why, _since(start), WARNING, data=data)
    return passed(
        "buildx",
        f"{len(builders)} builder(s), all use the daemon's mirrors",
        _since(start),
        data=data,
    )


def _buildx_builders(docker_host: str) -> list[tuple[str, str]]:
    from python_on_whales import DockerClient  # spawns the CLI: doctor only

    client = DockerClient(host=docker_host)
    return [(str(b.name), str(b.driver)) for b in client.buildx.list()]


__all__ = [
    "ERROR",
    "check_buildx",
    "check_clock",
    "check_daemon",
    "check_daemon_json",
    "check_disk",
]
