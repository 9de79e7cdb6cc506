"""Debian's docker-registry (CNCF distribution 2.8) as upstream, mirror or auth registry.

The registry reads YAML; JSON is YAML, so the config is written with the json module.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.testbed.procs import Background, TestbedError, free_port, http_status, wait_until

REGISTRY = "docker-registry"
START_TIMEOUT_S = 30.0
# bcrypt cost for test passwords: the registry checks the hash on every request.
HTPASSWD_COST = 5


@dataclass
class Registry:
    name: str
    root: Path
    port: int
    proc: Background | None = None
    user: str | None = None
    password: str | None = None
    remote_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.alive() else None

    def log_text(self) -> str:
        return self.proc.log_text() if self.proc is not None else ""

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(grace=5)
            self.proc = None


def registry_config(
    storage: Path, port: int, remote_url: str | None = None, htpasswd: Path | None = None
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": False}},
        "storage": {
            "filesystem": {"rootdirectory": str(storage)},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": "ci-guard-test-bed"},
    }
    if remote_url:
        config["proxy"] = {"remoteurl": remote_url}
    if htpasswd is not None:
        config["auth"] = {"htpasswd": {"realm": "ci-guard-test-bed", "path": str(htpasswd)}}
    return config


def start_registry(
    root: Path,
    name: str,
    *,
    remote_url: str | None = None,
    auth: tuple[str, str] | None = None,
    port: int | None = None,
) -> Registry:
    """Start a registry and wait until /v2/ answers (200, or 401 with auth)."""
    if remote_url is not None and http_status(remote_url, "/v2/") != 200:
        # distribution panics at start when its proxy upstream does not answer.
        raise TestbedError(f"{name}: upstream {remote_url} does not answer /v2/ with 200")
    home = root / name
    home.mkdir(parents=True, exist_ok=True)
    htpasswd = None
    if auth is not None:
        htpasswd = home / "htpasswd"
        htpasswd.write_text(htpasswd_line(*auth) + "\n")
    port = port or free_port()
    config_path = home / "config.yml"
    config = registry_config(home / "storage", port, remote_url, htpasswd)
    config_path.write_text(json.dumps(config, indent=2))
    binary = shutil.which(REGISTRY) or f"/usr/bin/{REGISTRY}"
    proc = Background([binary, "serve", str(config_path)], home / "registry.log")
    registry = Registry(name, home, port, proc, remote_url=remote_url)
    if auth is not None:
        registry.user, registry.password = auth
    want = {401} if auth is not None else {200}
    try:
        wait_until(
            lambda: http_status(registry.url, "/v2/") in want or not proc.alive(),
            START_TIMEOUT_S,
            f"registry {name} on {registry.address}",
        )
    except TestbedError:
        registry.stop()
        raise
    if not proc.alive():
        raise TestbedError(f"registry {name} exited at start:\n{proc.log_text()[-2000:]}")
    return registry


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd entry: with the bcrypt package, else Apache's `htpasswd -B`."""
    try:
        import bcrypt
    except ImportError:
        return _htpasswd_tool(user, password)
    salt = bcrypt.gensalt(rounds=HTPASSWD_COST)
    digest: bytes = bcrypt.hashpw(password.encode(), salt)
    return f"{user}:{digest.decode()}"


def _htpasswd_tool(user: str, password: str) -> str:
    tool = shutil.which("htpasswd")
    if tool is None:
        raise TestbedError("htpasswd auth registry needs the bcrypt package or apache2-utils")
    done = subprocess.run(
        [tool, "-niBC", str(HTPASSWD_COST), user],
        input=password,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()
