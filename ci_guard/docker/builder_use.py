"""Which builder a wrapped command will use: the daemon's BuildKit, or the legacy one.

Only BuildKit keeps the registry-mirrors dockerd started with; the legacy builder pulls
like `docker pull` and sees a SIGHUP reload. The answer is True, False or None (the
command hides its docker call, e.g. in a script): callers treat None as "maybe".
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ci_guard import process

VersionFn = Callable[[str, Mapping[str, str]], "int | None"]
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ash"})
# docker's global options that take a value (the subcommand comes after them).
GLOBAL_WITH_VALUE = frozenset(
    {"-H", "--host", "-c", "--context", "--config", "-l", "--log-level",
     "--tlscacert", "--tlscert", "--tlskey"}
)  # fmt: skip
BUILD_SUBCOMMANDS = (("build",), ("image", "build"), ("builder", "build"))
FIRST_BUILDKIT_DEFAULT = 23
"""The docker CLI builds with BuildKit by default from 23.0 (on Linux)."""
_VERSION = re.compile(r"version v?(\d+)\.", re.IGNORECASE)


@dataclass(frozen=True)
class BuilderUse:
    buildkit: bool | None
    why: str


def uses_buildkit(
    argv: Sequence[str], env: Mapping[str, str], version: VersionFn | None = None
) -> BuilderUse:
    """Whether argv (run with env) builds with BuildKit; see the module docstring."""
    version = version or client_major
    words = _words(argv)
    for index, word in enumerate(words):
        name = os.path.basename(word)
        if name == "docker":
            return _docker(word, words[index + 1 :], env, version)
        if name == "docker-compose":
            return _compose_v1_or_v2(word, env, version)
    return BuilderUse(None, "no docker or docker-compose call seen in the command")


def _words(argv: Sequence[str]) -> list[str]:
    """argv, with a `sh -c SCRIPT` script split into its words."""
    words = list(argv)
    if len(words) >= 3 and os.path.basename(words[0]) in SHELLS and words[1] == "-c":
        try:
            return shlex.split(words[2])
        except ValueError:
            return words[2].split()
    return words


def _buildkit_env(env: Mapping[str, str]) -> bool | None:
    value = env.get("DOCKER_BUILDKIT", "").strip().lower()
    if value in ("1", "true"):
        return True
    if value in ("0", "false"):
        return False
    return None


def _subcommand(args: Sequence[str]) -> list[str]:
    rest = list(args)
    while rest and rest[0].startswith("-"):
        flag = rest.pop(0)
        if flag in GLOBAL_WITH_VALUE and rest:
            rest.pop(0)
    return rest


def _docker(
    binary: str, args: Sequence[str], env: Mapping[str, str], version: VersionFn
) -> BuilderUse:
    rest = _subcommand(args)
    chosen = _buildkit_env(env)
    if rest[:1] == ["buildx"]:
        return BuilderUse(True, "docker buildx always builds with BuildKit")
    if rest[:1] == ["compose"]:
        return _compose_v2(chosen)
    if not any(tuple(rest[: len(sub)]) == sub for sub in BUILD_SUBCOMMANDS):
        return BuilderUse(False, f"docker {' '.join(rest[:1]) or '(nothing)'} does not build")
    if chosen is not None:
        return BuilderUse(chosen, f"DOCKER_BUILDKIT={env['DOCKER_BUILDKIT']}")
    major = version(binary, env)
    if major is None:
        return BuilderUse(None, "DOCKER_BUILDKIT unset and the client's version is unknown")
    default = major >= FIRST_BUILDKIT_DEFAULT
    return BuilderUse(default, f"DOCKER_BUILDKIT unset, docker client {major}.x")


def _compose_v1_or_v2(binary: str, env: Mapping[str, str], version: VersionFn) -> BuilderUse:
    major = version(binary, env)
    chosen = _buildkit_env(env)
    if major is None:
        return BuilderUse(None, "docker-compose of unknown version")
    if major >= 2:
        return _compose_v2(chosen)
    cli_build = env.get("COMPOSE_DOCKER_CLI_BUILD", "").strip().lower() in ("1", "true")
    if cli_build and chosen:
        return BuilderUse(True, "Compose v1 with COMPOSE_DOCKER_CLI_BUILD=1 and DOCKER_BUILDKIT=1")
    return BuilderUse(False, "Compose v1 builds with the legacy builder")


def _compose_v2(chosen: bool | None) -> BuilderUse:
    if chosen is False:
        return BuilderUse(False, "Compose v2 with DOCKER_BUILDKIT=0 uses the legacy builder")
    return BuilderUse(True, "Compose v2 builds with BuildKit")


def client_major(binary: str, env: Mapping[str, str]) -> int | None:
    """The major version `BINARY --version` prints (asks no daemon), None if unknown."""
    path = binary if "/" in binary else shutil.which(binary, path=env.get("PATH"))
    if path is None:
        return None
    done = process.run_capture([path, "--version"], timeout=10.0, env=env)
    found = _VERSION.search(done.stdout) if done.ok else None
    return int(found.group(1)) if found else None
