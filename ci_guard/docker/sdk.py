"""The docker SDK client, imported only when a command needs it.

`ci-guard run --no-preflight` must not pay for importing the SDK (requests, urllib3),
so every user goes through `open_client`, which imports it on first call.
"""

from __future__ import annotations

from typing import Any

from ci_guard.docker.api import resolve_host

API_TIMEOUT_S = 300.0


def open_client(host: str | None = None, timeout: float = API_TIMEOUT_S) -> Any:
    """A docker.DockerClient for `host` (DOCKER_HOST, else the default socket).

    With no explicit host the SDK reads the environment itself, so DOCKER_TLS_VERIFY and
    DOCKER_CERT_PATH apply as they do for the docker CLI.
    """
    import docker  # heavy (requests, urllib3): only when a client is needed

    if host is None:
        return docker.from_env(timeout=int(timeout))
    return docker.DockerClient(base_url=resolve_host(host), timeout=int(timeout))


def docker_errors() -> tuple[type[BaseException], ...]:
    """The exceptions an SDK call raises for a daemon or network problem."""
    import docker.errors
    import requests

    return (docker.errors.DockerException, requests.RequestException, OSError)
