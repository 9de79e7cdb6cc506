"""A few Engine API reads over the daemon socket with the standard library alone.

`/_ping` and `/info` are all the restart and repair remedies need, and waiting for a
daemon to come back is a tight loop of pings: a raw HTTP GET over the unix socket is
cheaper than importing the docker SDK for it.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ci_guard.docker.endpoint import DaemonEndpoint, find_endpoint


def endpoint(host: str | None = None) -> DaemonEndpoint:
    """The given endpoint, else the one the docker CLI would use (DOCKER_HOST, context)."""
    return DaemonEndpoint(host, "given") if host else find_endpoint()


def resolve_host(host: str | None = None) -> str:
    return endpoint(host).url


def unix_socket_path(host: str) -> str | None:
    if host.startswith("unix://"):
        return host[len("unix://") :] or None
    return host if host.startswith("/") else None


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _tls_context() -> ssl.SSLContext | None:
    if not os.environ.get("DOCKER_TLS_VERIFY"):
        return None
    certs = Path(os.environ.get("DOCKER_CERT_PATH") or Path.home() / ".docker")
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.load_cert_chain(str(certs / "cert.pem"), str(certs / "key.pem"))
    return context


def connection(host: str, timeout: float) -> http.client.HTTPConnection | None:
    """An unopened HTTP connection to the daemon; None for schemes this module cannot reach."""
    path = unix_socket_path(host)
    if path is not None:
        return _UnixConnection(path, timeout)
    parts = urlsplit(host)
    if parts.scheme not in ("tcp", "http", "https") or not parts.hostname:
        return None  # ssh:// and npipe:// need the docker CLI or SDK
    try:
        context = _tls_context()
    except (OSError, ssl.SSLError):
        return None
    port = parts.port or (2376 if context else 2375)
    if context is not None or parts.scheme == "https":
        return http.client.HTTPSConnection(parts.hostname, port, timeout=timeout, context=context)
    return http.client.HTTPConnection(parts.hostname, port, timeout=timeout)


def get(host: str, path: str, timeout: float = 5.0) -> tuple[int, bytes] | None:
    """(status, body) of GET path on the daemon, or None when it does not answer."""
    conn = connection(host, timeout)
    if conn is None:
        return None
    try:
        conn.request("GET", path, headers={"Host": "docker"})
        answer = conn.getresponse()
        return answer.status, answer.read(1 << 20)
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def ping(host: str, timeout: float = 2.0) -> bool:
    answer = get(host, "/_ping", timeout)
    return answer is not None and answer[0] == 200


def get_json(host: str, path: str, timeout: float = 5.0) -> Any:
    answer = get(host, path, timeout)
    if answer is None or answer[0] != 200:
        return None
    try:
        return json.loads(answer[1])
    except ValueError:
        return None


class NoAnswer(OSError):
    """The daemon did not answer a request (down, wrong socket, no rights, HTTP error)."""


def info(host: str, timeout: float = 5.0) -> dict[str, Any]:
    """The daemon's `/info`: the one reader of it (doctor, mirror verification, restarts).

    Raw HTTP, not the SDK: it costs no import of requests and answers just as well.
    """
    answer = get(host, "/info", timeout)
    if answer is None:
        raise NoAnswer(f"no answer on {host}")
    status, body = answer
    if status != 200:
        raise NoAnswer(f"/info answered HTTP {status}")
    try:
        data = json.loads(body)
    except ValueError:
        raise NoAnswer("/info answered something that is not JSON") from None
    if not isinstance(data, dict):
        raise NoAnswer("/info answered something that is not an object")
    return data
