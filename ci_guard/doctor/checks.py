"""The checks: each a small function returning a CheckResult, never raising (the daemon's
own are in daemon_checks.py).

Network checks for one registry go in order (DNS, TCP, TLS, registry API) so that a
failure early in the chain is reported once, as the cause, and the later steps say
"skipped". Daemon checks talk to the endpoint the docker CLI uses.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from ci_guard.doctor.daemon_checks import (
    check_buildx,
    check_daemon,
    check_daemon_json,
    check_disk,
)
from ci_guard.doctor.result import (
    ERROR,
    INFO,
    WARNING,
    CheckResult,
    failed,
    passed,
    since,
    skipped,
)
from ci_guard.registry.http import describe_error
from ci_guard.registry.probe import DEAD, SLOW, RegistryProbe, probe_registry

CLOCK_WARNING_S = 60.0
CLOCK_ERROR_S = 300.0
LOW_PULLS = 10


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
        return failed(f"dns:{host}", describe_error(exc, timeout), since(start))
    return passed(
        f"dns:{host}", ", ".join(addresses[:4]), since(start), data={"addresses": addresses}
    )


def check_tcp(host: str, port: int, timeout: float) -> CheckResult:
    start = time.monotonic()
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return failed(f"tcp:{host}:{port}", describe_error(exc, timeout), since(start))
    return passed(f"tcp:{host}:{port}", f"connected in {since(start) * 1000:.0f} ms", since(start))


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
        return failed(f"tls:{host}", describe_error(exc, timeout), since(start))
    return passed(
        f"tls:{host}",
        f"{version} handshake, certificate trusted",
        since(start),
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


__all__ = [
    "ERROR",
    "check_buildx",
    "check_clock",
    "check_daemon",
    "check_daemon_json",
    "check_disk",
]
