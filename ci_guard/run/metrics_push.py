"""Pushing a run's metrics to a Prometheus Pushgateway: grouping key, handler, errors."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from ci_guard.errors import CiGuardError
from ci_guard.records import RunRecord
from ci_guard.run.metrics import (
    DEFAULT_JOB,
    INSTANCE_VARS,
    PIPELINE_VARS,
    collector_registry,
    load_client,
)


def default_grouping(
    env: Mapping[str, str] | None = None, hostname: str | None = None
) -> dict[str, str]:
    """Pushgateway grouping key from the CI environment: instance (runner) and pipeline (job)."""
    env = os.environ if env is None else env
    instance = next((env[v] for v in INSTANCE_VARS if env.get(v)), None)
    pipeline = "local"
    for project_var, job_var in PIPELINE_VARS:
        if env.get(project_var):
            job = env.get(job_var, "") if job_var else ""
            pipeline = f"{env[project_var]}/{job}" if job else env[project_var]
            break
    return {"instance": instance or hostname or socket.gethostname(), "pipeline": pipeline}


def push_metrics(
    run: RunRecord,
    url: str,
    *,
    job: str = DEFAULT_JOB,
    grouping: dict[str, str] | None = None,
    timeout: float = 10,
) -> None:
    """Push the run's metrics to a Pushgateway (replacing the group's previous run).

    Raises CiGuardError with one line when the gateway cannot be reached or refuses.
    """
    if not job:
        raise CiGuardError("metrics push: the job name is empty")
    client = load_client()
    registry = collector_registry(run)
    key = default_grouping() if grouping is None else grouping
    gateway, handler = _gateway_and_handler(client, url)
    try:
        client.push_to_gateway(
            gateway, job=job, registry=registry, grouping_key=key, timeout=timeout, handler=handler
        )
    except (OSError, ValueError) as exc:
        raise CiGuardError(f"cannot push metrics to {gateway}: {_reason(exc)}") from None


def _gateway_and_handler(client: Any, url: str) -> tuple[str, Any]:
    """Credentials in the URL (https://user:token@gw) become basic auth, and leave the URL:
    they must reach neither the request line nor an error message."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, client.exposition.default_handler
    user, password = unquote(parts.username), unquote(parts.password or "")
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    bare = urlunsplit(parts._replace(netloc=netloc))

    def handler(
        url: str, method: str, timeout: float | None, headers: list[Any], data: bytes
    ) -> Any:
        return client.exposition.basic_auth_handler(
            url, method, timeout, headers, data, user, password
        )

    return bare, handler


def _reason(exc: BaseException) -> str:
    """One line: `HTTP 400 Bad Request: <the gateway's first line>`, or the socket error."""
    code = getattr(exc, "code", None)
    reason = getattr(exc, "reason", None)
    text = str(reason if reason is not None else exc) or type(exc).__name__
    if isinstance(code, int):
        text = f"HTTP {code} {text}"
        body = _error_body(exc)
        if body:
            text += f": {body}"
    return " ".join(text.split())


def _error_body(exc: BaseException) -> str:
    read = getattr(exc, "read", None)
    try:
        raw = read() if callable(read) else b""
    except OSError:
        return ""
    lines = raw.decode("utf-8", "replace").strip().splitlines() if isinstance(raw, bytes) else []
    return lines[0][:200] if lines else ""
