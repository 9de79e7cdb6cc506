"""Base images without internet: a busybox rootfs, imported, pushed under common names."""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.testbed.client import docker
from tests.testbed.procs import TestbedError

BUSYBOX = Path("/bin/busybox")
# Served by the upstream registry (and so, through the mirror, to Hub-style pulls).
COMMON_IMAGES = (
    "library/busybox:latest",
    "library/alpine:latest",
    "library/alpine:3.19",
    "library/hello-world:latest",
    "library/debian:bookworm-slim",
    "library/ubuntu:22.04",
    "library/python:3.11-slim",
    "library/node:18-alpine",
    "library/nginx:alpine",
)
_ETC = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    "etc/group": "root:x:0:\nnogroup:x:65534:\n",
    "etc/hosts": "127.0.0.1 localhost\n",
}


def busybox_applets(busybox: Path = BUSYBOX) -> list[str]:
    done = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True)
    return sorted({name for name in done.stdout.split() if name and "/" not in name})


def write_rootfs_tar(target: Path, busybox: Path = BUSYBOX) -> Path:
    """A rootfs tarball: /bin/busybox, a symlink per applet, /tmp, a minimal /etc."""
    with tarfile.open(target, "w") as tar:
        for name in ("bin", "etc", "root", "tmp", "usr", "usr/bin", "var"):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if name == "tmp" else 0o755
            tar.addfile(info)
        tar.add(str(busybox), arcname="bin/busybox")
        for applet in busybox_applets(busybox):
            if applet == "busybox":
                continue
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
        env_link = tarfile.TarInfo("usr/bin/env")
        env_link.type = tarfile.SYMTYPE
        env_link.linkname = "../../bin/busybox"
        tar.addfile(env_link)
        for name, text in _ETC.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return target


def import_base(env: Mapping[str, str], tarball: Path, tag: str) -> str:
    """`docker import` the rootfs as tag; returns the image id."""
    done = docker(
        env, "import", "--change", 'CMD ["sh"]', "--change", "ENV PATH=/bin:/usr/bin",
        str(tarball), tag,
    )  # fmt: skip
    return done.stdout.strip()


def seed_registry(
    env: Mapping[str, str],
    registry_address: str,
    tarball: Path,
    names: Iterable[str] = COMMON_IMAGES,
) -> list[str]:
    """Push the busybox image to registry_address under each name; leaves no local image."""
    local = "ci-guard-testbed/base:latest"
    import_base(env, tarball, local)
    pushed = []
    for name in names:
        ref = f"{registry_address}/{name}"
        docker(env, "tag", local, ref)
        done = docker(env, "push", ref, check=False)
        if done.returncode != 0:
            raise TestbedError(f"push {ref} failed:\n{done.stdout}{done.stderr}")
        pushed.append(ref)
    remove_images(env)
    return pushed


def remove_images(env: Mapping[str, str], refs: Iterable[str] | None = None) -> None:
    """Remove the given images (all images when refs is None) so the next pull is real."""
    if refs is not None:
        docker(env, "image", "rm", "--force", *refs, check=False)
        return
    # a container (a legacy build's failed step leaves one) pins its image
    containers = docker(env, "container", "ls", "--all", "--quiet").stdout.split()
    if containers:
        docker(env, "container", "rm", "--force", *containers, check=False)
    # An image with dependent child images (a legacy build's layers) cannot go before
    # them, whatever the order given: repeat until each round has removed its leaves.
    for _ in range(5):
        targets = _all_images(env)
        if not targets:
            return
        docker(env, "image", "rm", "--force", *targets, check=False)


def _all_images(env: Mapping[str, str]) -> list[str]:
    done = docker(env, "image", "ls", "--all", "--quiet", "--no-trunc")
    return sorted(set(done.stdout.split()))
