"""The Docker client the tests run: Debian's 20.10 CLI, pointed at the private daemon.

BuildKit is the default builder, as in current Docker: `docker build` and Compose v2
(`docker compose build`, a CLI plugin in the bed's DOCKER_CONFIG) build with the
daemon's BuildKit. The legacy builder is the second path, asked for explicitly with
`buildkit=False`; Compose v1 (`docker-compose` 1.29) always builds with it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

# /usr/local/bin/docker (28.x, no buildx, no compose plugin) may come first on PATH;
# Debian's client in /usr/bin has the built-in BuildKit path (DOCKER_BUILDKIT=1).
CLIENT_DIR = "/usr/bin"
DOCKER = f"{CLIENT_DIR}/docker"


def client_env(
    docker_host: str,
    docker_config: Path,
    *,
    buildkit: bool = True,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment for `docker`, `docker-compose` and `ci-guard` against the private daemon."""
    env = dict(os.environ if base is None else base)
    path = [
        CLIENT_DIR,
        *(p for p in env.get("PATH", "").split(os.pathsep) if p and p != CLIENT_DIR),
    ]
    env.update(
        PATH=os.pathsep.join(path),
        DOCKER_HOST=docker_host,
        DOCKER_CONFIG=str(docker_config),
        DOCKER_BUILDKIT="1" if buildkit else "0",
        # Compose v1 builds with its own client (the legacy builder), whatever the above.
        COMPOSE_DOCKER_CLI_BUILD="0",
    )
    env.pop("DOCKER_CONTEXT", None)
    env.pop("DOCKER_TLS_VERIFY", None)
    env.pop("DOCKER_CERT_PATH", None)
    return env


def docker(
    env: Mapping[str, str],
    *args: str,
    check: bool = True,
    timeout: float = 300.0,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the docker client; output captured (stdout and stderr apart)."""
    done = subprocess.run(
        [DOCKER, *args],
        env=dict(env),
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        input=input_text,
        stdin=None if input_text is not None else subprocess.DEVNULL,
        check=False,
    )
    if check and done.returncode != 0:
        raise subprocess.CalledProcessError(
            done.returncode, done.args, output=done.stdout, stderr=done.stderr
        )
    return done
