"""The whole test bed: a private dockerd, an upstream registry with base images, a mirror.

`start_testbed()` gives a running `TestBed`; `TestBed.stop()` ends every process it
started and removes its mounts and directory. Its client configuration (DOCKER_CONFIG)
holds Compose v2 as a CLI plugin once `python -m tests.tools compose` has installed it.
Hub-style names (`docker pull alpine`) resolve through the mirror in daemon.json's
registry-mirrors; the Hub itself is unreachable inside the private namespace and fails
at once.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.testbed.client import client_env, docker
from tests.testbed.dockerd import Dockerd
from tests.testbed.images import COMMON_IMAGES, remove_images, seed_registry, write_rootfs_tar
from tests.testbed.procs import TestbedError, kill_pids, mounts_under, pids_mentioning
from tests.testbed.registry import Registry, start_registry
from tests.testbed.tinyfs import DEFAULT_SIZE_MIB, TinyFs, mount_tiny_fs
from tests.tools import link_compose_plugin

ROOT_PREFIX = "cig-bed-"


def base_daemon_config(mirrors: Sequence[str]) -> dict[str, Any]:
    # A short shutdown-timeout: test containers (sleep as PID 1) ignore SIGTERM.
    return {
        "registry-mirrors": list(mirrors),
        "max-concurrent-downloads": 3,
        "shutdown-timeout": 2,
        "debug": False,
    }


@dataclass
class TestBed:
    __test__ = False  # not a pytest test class

    root: Path
    dockerd: Dockerd
    upstream: Registry
    mirror: Registry
    rootfs: Path
    timings: dict[str, float] = field(default_factory=dict)
    extra_registries: list[Registry] = field(default_factory=list)

    # -- environment for subprocesses -------------------------------------------------
    @property
    def docker_host(self) -> str:
        return self.dockerd.docker_host

    @property
    def docker_config(self) -> Path:
        path = self.root / "docker-config"
        path.mkdir(exist_ok=True)
        return path

    def env(self, buildkit: bool = True) -> dict[str, str]:
        return client_env(self.docker_host, self.docker_config, buildkit=buildkit)

    @property
    def compose_v2(self) -> bool:
        """`docker compose` (v2) is a plugin of this bed's client configuration."""
        return (self.docker_config / "cli-plugins" / "docker-compose").exists()

    def docker(
        self, *args: str, check: bool = True, timeout: float = 300.0, buildkit: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return docker(self.env(buildkit), *args, check=check, timeout=timeout)

    # -- state between tests ------------------------------------------------------------
    def baseline_config(self) -> dict[str, Any]:
        return base_daemon_config([self.mirror.url])

    def set_mirrors(self, mirrors: Sequence[str]) -> None:
        """Rewrite registry-mirrors in daemon.json and reload dockerd (SIGHUP)."""
        config = self.dockerd.config
        config["registry-mirrors"] = list(mirrors)
        self.dockerd.write_config(config)
        self.dockerd.reload()

    def reset(self) -> None:
        """Back to the start state: daemon running with the baseline daemon.json."""
        if not self.dockerd.ping():
            self.dockerd.stop()
            self.dockerd.write_config(self.baseline_config())
            self.dockerd.start()
        elif self.dockerd.config != self.baseline_config():
            self.dockerd.write_config(self.baseline_config())
            self.dockerd.reload()
        (self.docker_config / "config.json").unlink(missing_ok=True)

    def remove_images(self, refs: Iterable[str] | None = None) -> None:
        remove_images(self.env(), refs)

    def prune_build_cache(self) -> None:
        self.docker("builder", "prune", "--all", "--force", check=False)

    def pull(self, image: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
        return self.docker("pull", image, check=False, timeout=timeout)

    # -- life cycle ---------------------------------------------------------------------
    def stop(self) -> None:
        for registry in (*self.extra_registries, self.mirror, self.upstream):
            registry.stop()
        self.dockerd.stop()
        leftovers = pids_mentioning(str(self.root))
        if leftovers:
            kill_pids(leftovers)
        if not mounts_under(self.root):
            shutil.rmtree(self.root, ignore_errors=True)

    def leftovers(self) -> tuple[list[int], list[str]]:
        """Processes and mounts of this bed still present (both empty after stop())."""
        return pids_mentioning(str(self.root)), mounts_under(self.root)


def start_testbed(
    root: Path | None = None,
    images: Sequence[str] = COMMON_IMAGES,
    ports: tuple[int, int] | None = None,
) -> TestBed:
    """Upstream registry, pull-through mirror, dockerd using the mirror, seeded images.

    ports: fixed (upstream, mirror) ports; any free ones by default.
    """
    root = root or Path(tempfile.mkdtemp(prefix=ROOT_PREFIX))
    timings: dict[str, float] = {}
    started = time.monotonic()
    upstream_port, mirror_port = ports or (None, None)
    upstream = start_registry(root, "upstream", port=upstream_port)
    mirror: Registry | None = None
    daemon: Dockerd | None = None
    try:
        mirror = start_registry(root, "mirror", remote_url=upstream.url, port=mirror_port)
        timings["registries_s"] = time.monotonic() - started
        daemon = Dockerd(root / "dockerd", base_daemon_config([mirror.url])).start()
        timings["dockerd_s"] = time.monotonic() - started - timings["registries_s"]
        bed = TestBed(root, daemon, upstream, mirror, root / "rootfs.tar", timings)
        link_compose_plugin(bed.docker_config)
        seeded = time.monotonic()
        write_rootfs_tar(bed.rootfs)
        seed_registry(bed.env(), upstream.address, bed.rootfs, images)
        timings["seed_images_s"] = time.monotonic() - seeded
    except BaseException:
        for part in (mirror, upstream, daemon):
            if part is not None:
                part.stop()
        raise
    timings["total_s"] = time.monotonic() - started
    return bed


def check_leftovers(bed: TestBed) -> None:
    pids, mounts = bed.leftovers()
    if pids or mounts:
        raise TestbedError(f"test bed left processes {pids} and mounts {mounts}")


AUTH_USER = "ci-guard"
AUTH_PASSWORD = "test-bed-secret"


def start_auth_registry(
    bed: TestBed, image: str = "library/busybox:latest", port: int | None = None
) -> Registry:
    """A registry with htpasswd auth holding `image`; the bed's client is left logged out."""
    registry = start_registry(bed.root, "auth", auth=(AUTH_USER, AUTH_PASSWORD), port=port)
    bed.extra_registries.append(registry)
    seed_env = client_env(bed.docker_host, bed.root / "auth-seed-config")
    (bed.root / "auth-seed-config").mkdir(exist_ok=True)
    docker(
        seed_env, "login", "--username", AUTH_USER, "--password-stdin", registry.address,
        input_text=AUTH_PASSWORD,
    )  # fmt: skip
    source = f"{bed.upstream.address}/{image}"
    target = f"{registry.address}/{image}"
    docker(seed_env, "pull", source)
    docker(seed_env, "tag", source, target)
    docker(seed_env, "push", target)
    remove_images(seed_env, [source, target])
    shutil.rmtree(bed.root / "auth-seed-config", ignore_errors=True)
    return registry


@dataclass
class TinyDaemon:
    """A second dockerd whose data root is a tiny file system (disk-full tests)."""

    dockerd: Dockerd
    fs: TinyFs
    docker_config: Path

    def env(self, buildkit: bool = True) -> dict[str, str]:
        return client_env(self.dockerd.docker_host, self.docker_config, buildkit=buildkit)

    def stop(self) -> None:
        self.dockerd.stop()
        self.fs.unmount()


def start_tiny_daemon(
    bed: TestBed, size_mib: int = DEFAULT_SIZE_MIB, kind: str = "ext4", name: str = "tiny"
) -> TinyDaemon:
    """dockerd on a size_mib file system, using the bed's mirror; stop() unmounts it."""
    home = bed.root / name
    home.mkdir(parents=True, exist_ok=True)
    fs = mount_tiny_fs(home, size_mib, kind)
    try:
        daemon = Dockerd(home / "dockerd", bed.baseline_config(), data_root=fs.path).start()
    except BaseException:
        fs.unmount()
        raise
    config = home / "docker-config"
    config.mkdir(exist_ok=True)
    link_compose_plugin(config)
    return TinyDaemon(daemon, fs, config)
