"""Build contexts and compose projects written to disk for real builds.

The daemon runs with --bridge=none, so builds need host networking:
`docker build --network host` and compose `build: {network: host}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

BUILD_NETWORK = ("--network", "host")


def write_build_context(
    directory: Path, dockerfile: str, files: Mapping[str, str] | None = None
) -> Path:
    """directory/Dockerfile plus extra files (relative path -> text); returns directory."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Dockerfile").write_text(dockerfile)
    for name, text in (files or {}).items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return directory


def build_argv(context: Path, tag: str | None = None, *extra: str) -> list[str]:
    """`docker build` arguments for context with host networking (client binary excluded)."""
    argv = ["build", *BUILD_NETWORK]
    if tag:
        argv += ["--tag", tag]
    return [*argv, *extra, str(context)]


def write_compose_project(
    directory: Path,
    services: Mapping[str, str],
    files: Mapping[str, str] | None = None,
    *,
    v2: bool = False,
) -> Path:
    """A compose project: one build context per service (name -> Dockerfile text).

    Returns the compose file. JSON is YAML, so docker-compose reads it as written.
    v2: written as Compose v2 users write it today (compose.yaml, no `version:`, which
    v2 calls obsolete); otherwise docker-compose.yml with version 3.4 for Compose v1.
    """
    directory.mkdir(parents=True, exist_ok=True)
    spec: dict[str, object] = {"services": {}} if v2 else {"version": "3.4", "services": {}}
    for name, dockerfile in services.items():
        write_build_context(directory / name, dockerfile, files)
        spec["services"][name] = {  # type: ignore[index]
            "build": {"context": f"./{name}", "network": "host"},
            "image": f"ci-guard-test/{name}:latest",
            "network_mode": "none",
        }
    compose_file = directory / ("compose.yaml" if v2 else "docker-compose.yml")
    compose_file.write_text(json.dumps(spec, indent=2) + "\n")
    return compose_file
