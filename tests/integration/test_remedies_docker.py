"""The Docker remedies against real daemons of the test bed (root, private netns)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ci_guard.config import Config, resolve
from ci_guard.docker import control as daemon_control
from ci_guard.docker import restarter
from ci_guard.docker.api import get_json, ping
from ci_guard.remedies.base import RemedyContext
from ci_guard.remedies.free_disk import FreeDisk
from ci_guard.remedies.repair_network import RepairNetwork
from ci_guard.remedies.restart_daemon import RestartDaemon
from tests.testbed.bed import TestBed
from tests.testbed.dockerd import Dockerd
from tests.testbed.procs import (
    free_port,
    kill_pids,
    pids_mentioning,
    unmount_under,
    wait_until,
)

pytestmark = pytest.mark.docker


class UnsharedDockerd(Dockerd):
    """A dockerd in a network namespace of its own, which dies with its last process."""

    def argv(self) -> list[str]:
        return ["unshare", "--net", "--", *super().argv()]


def _config(**changes: Any) -> Config:
    return dataclasses.replace(resolve({}, env={}).config, **changes)


def _netns(pid: int) -> int:
    return os.stat(f"/proc/{pid}/ns/net").st_ino


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


@pytest.fixture
def own_root() -> Iterator[Path]:
    # A short path: a unix socket path must stay under 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="cig-rd-"))
    yield root
    daemon_control.forget(f"unix://{root / 'dockerd' / 'docker.sock'}")
    leftovers = pids_mentioning(str(root))
    kill_pids(leftovers, grace=15)
    for pid in leftovers:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # relaunched daemons are this process's children
    Dockerd(root / "dockerd").clean_stale()
    unmount_under(root)  # dockerd makes its data root a mount point of its own
    shutil.rmtree(root)
    assert not pids_mentioning(str(root))


def _remedy(root: Path) -> RestartDaemon:
    return RestartDaemon(lock_path=root / "lock", state_folder=root / "state")


def test_restart_daemon_brings_back_a_sigkilled_dockerd_in_its_own_netns(own_root: Path) -> None:
    daemon = UnsharedDockerd(own_root / "dockerd").start()
    old_pid = daemon.pid
    assert old_pid is not None
    old_argv, old_ns = _cmdline(old_pid), _netns(old_pid)
    assert old_ns != _netns(os.getpid())
    assert daemon_control.snapshot(daemon.docker_host, folder=own_root / "state") is not None

    daemon.kill()
    assert not ping(daemon.docker_host)
    ctx = RemedyContext(config=_config(), docker_host=daemon.docker_host)
    result = _remedy(own_root).apply(ctx)

    assert result.ok, result
    assert result.changed
    new_pid = result.extra["pid"]
    assert isinstance(new_pid, int)
    assert new_pid != old_pid
    assert ping(daemon.docker_host)
    assert _cmdline(new_pid) == old_argv
    assert _netns(new_pid) == old_ns
    assert any("relaunched dockerd" in action for action in result.actions)


def test_restart_daemon_relaunches_from_the_state_file_alone(own_root: Path) -> None:
    daemon = Dockerd(own_root / "dockerd").start()
    assert daemon.pid is not None
    old_argv = _cmdline(daemon.pid)
    daemon_control.snapshot(daemon.docker_host, folder=own_root / "state")
    daemon_control.forget(daemon.docker_host)  # as a fresh ci-guard process would start
    state_files = list((own_root / "state").glob("dockerd-*.json"))
    assert len(state_files) == 1
    assert state_files[0].stat().st_mode & 0o077 == 0  # it holds dockerd's environment

    daemon.kill()
    result = _remedy(own_root).apply(
        RemedyContext(config=_config(), docker_host=daemon.docker_host)
    )

    assert result.ok, result
    assert ping(daemon.docker_host)
    assert _cmdline(result.extra["pid"]) == old_argv


def test_restart_daemon_restarts_a_running_dockerd_and_dry_run_changes_nothing(
    own_root: Path,
) -> None:
    daemon = Dockerd(own_root / "dockerd").start()
    old_pid = daemon.pid
    ctx = RemedyContext(config=_config(), docker_host=daemon.docker_host)
    remedy = _remedy(own_root)

    dry = remedy.apply(dataclasses.replace(ctx, dry_run=True))
    assert dry.ok
    assert not dry.changed
    assert any(f"stop dockerd pid {old_pid}" in step for step in dry.actions)
    assert daemon.pid == old_pid
    assert ping(daemon.docker_host)

    result = remedy.apply(ctx)
    assert result.ok, result
    assert f"sent TERM to dockerd {old_pid}" in result.actions
    assert result.extra["pid"] != old_pid
    assert ping(daemon.docker_host)


def test_restart_daemon_without_a_known_daemon_is_skipped_with_the_reason(own_root: Path) -> None:
    host = f"unix://{own_root / 'nothing.sock'}"
    result = _remedy(own_root).apply(RemedyContext(config=_config(), docker_host=host))
    assert not result.ok
    assert not result.changed
    assert result.skipped is not None
    assert "restart-command" in result.skipped


def test_free_disk_prunes_dangling_images_and_reports_bytes(bed: TestBed, tmp_path: Path) -> None:
    blob = tmp_path / "rootfs.tar"
    with tarfile.open(blob, mode="w") as tar:
        data = os.urandom(2 * 1024 * 1024)
        info = tarfile.TarInfo("blob.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    image_id = bed.docker("import", str(blob)).stdout.strip()
    assert image_id.startswith("sha256:")

    off = FreeDisk(lock_path=tmp_path / "lock").apply(
        RemedyContext(config=_config(), docker_host=bed.docker_host)
    )
    assert off.skipped is not None
    assert not off.changed
    ctx = RemedyContext(config=_config(free_disk=True), docker_host=bed.docker_host)
    dry = FreeDisk(lock_path=tmp_path / "lock").apply(dataclasses.replace(ctx, dry_run=True))
    assert not dry.changed
    assert bed.docker("image", "inspect", image_id, check=False).returncode == 0

    result = FreeDisk(lock_path=tmp_path / "lock").apply(ctx)

    assert result.ok, result
    assert result.changed
    assert result.extra["images_bytes"] >= 2 * 1024 * 1024
    assert result.extra["bytes_freed"] >= result.extra["images_bytes"]
    assert bed.docker("image", "inspect", image_id, check=False).returncode != 0


def test_repair_network_replaces_a_dead_mirror_with_a_healthy_candidate(
    bed: TestBed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: refused at once
    bed.set_mirrors([dead])
    bed.remove_images(["busybox:latest"])
    assert bed.pull("busybox:latest").returncode != 0  # only the dead mirror: the pull fails
    monkeypatch.setenv("DOCKER_HOST", bed.docker_host)
    config = _config(
        mirrors=(bed.mirror.url,),
        daemon_config=bed.dockerd.config_path,
        probe_timeout=3.0,
    )
    ctx = RemedyContext(config=config, docker_host=bed.docker_host)
    remedy = RepairNetwork(lock_path=tmp_path / "lock")

    dry = remedy.apply(dataclasses.replace(ctx, dry_run=True))
    assert not dry.changed
    assert bed.dockerd.config["registry-mirrors"] == [dead]

    result = remedy.apply(ctx)

    assert result.ok, result
    assert result.changed
    assert result.extra["mirrors_before"] == [dead]
    assert result.extra["mirrors_after"] == [bed.mirror.url]
    assert bed.dockerd.config["registry-mirrors"] == [bed.mirror.url]
    info = get_json(bed.docker_host, "/info")
    assert [m.rstrip("/") for m in info["RegistryConfig"]["Mirrors"]] == [bed.mirror.url]
    assert bed.pull("busybox:latest").returncode == 0  # and the pull now succeeds


def test_repair_network_changes_the_daemon_json_dockerd_was_started_with(
    bed: TestBed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --daemon-config given: the refresh follows dockerd's own --config-file, as
    preflight and `mirrors apply` do, and never writes the default path."""
    default = Path("/etc/docker/daemon.json")
    default_before = default.read_bytes() if default.exists() else None
    assert bed.dockerd.config_path != default
    dead = f"http://127.0.0.1:{free_port()}"
    bed.set_mirrors([dead])
    monkeypatch.setenv("DOCKER_HOST", bed.docker_host)
    config = _config(mirrors=(bed.mirror.url,), probe_timeout=3.0)
    assert config.daemon_config == default
    ctx = RemedyContext(config=config, docker_host=bed.docker_host)

    result = RepairNetwork(lock_path=tmp_path / "lock").apply(ctx)

    assert result.ok, result
    assert result.extra["mirrors_after"] == [bed.mirror.url]
    assert bed.dockerd.config["registry-mirrors"] == [bed.mirror.url]
    info = get_json(bed.docker_host, "/info")
    assert [m.rstrip("/") for m in info["RegistryConfig"]["Mirrors"]] == [bed.mirror.url]
    assert (default.read_bytes() if default.exists() else None) == default_before


def test_repair_network_restarts_a_daemon_that_does_not_answer(own_root: Path) -> None:
    daemon = Dockerd(own_root / "dockerd").start()
    daemon_control.snapshot(daemon.docker_host, folder=own_root / "state")
    daemon.kill()
    config = _config(daemon_config=daemon.config_path)
    remedy = RepairNetwork(lock_path=own_root / "lock", restart=_remedy(own_root))

    result = remedy.apply(RemedyContext(config=config, docker_host=daemon.docker_host))

    assert ping(daemon.docker_host)
    assert result.extra["restart"]["ok"] is True
    assert any("relaunched dockerd" in action for action in result.actions)


def test_stale_pid_files_of_a_killed_dockerd_are_cleared(own_root: Path) -> None:
    """dockerd takes a pid file naming an unreaped process for a running daemon."""
    daemon = Dockerd(own_root / "dockerd").start()
    daemon.kill()
    containerd_pid = daemon.exec_root / "containerd" / "containerd.pid"
    assert daemon.pidfile.exists()
    # containerd follows its killed dockerd a moment later: its file is stale only then
    if containerd_pid.exists():
        stale = int(containerd_pid.read_text().strip())
        wait_until(lambda: not restarter._alive(stale), 15, "containerd to exit")

    removed = restarter.clear_stale_pidfiles(tuple(daemon.argv()))

    assert any(str(daemon.pidfile) in sentence for sentence in removed)
    assert not daemon.pidfile.exists()
    assert not containerd_pid.exists()
