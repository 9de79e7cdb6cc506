"""Must-shows through `ci-guard run`: the ladder's Docker remedies rescue real builds."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ci_guard.docker import control as daemon_control
from ci_guard.docker.api import ping
from tests.testbed.bed import TestBed, base_daemon_config
from tests.testbed.client import DOCKER, client_env
from tests.testbed.context import build_argv, write_build_context
from tests.testbed.dockerd import Dockerd
from tests.testbed.procs import free_port, kill_pids, pids_mentioning, unmount_under

pytestmark = pytest.mark.docker

DOCKERFILE = "FROM busybox:latest\nRUN echo built > /built.txt\n"


@pytest.fixture
def own_daemon(bed: TestBed) -> Iterator[Dockerd]:
    """A dockerd of this test alone (pulling through the bed's mirror), torn down after."""
    root = Path(tempfile.mkdtemp(prefix="cig-run-"))
    daemon = Dockerd(root / "dockerd", base_daemon_config([bed.mirror.url])).start()
    yield daemon
    daemon_control.forget(daemon.docker_host)
    for state in daemon_control.state_dir().glob("dockerd-*.json"):
        with contextlib.suppress(OSError, ValueError):
            if json.loads(state.read_text())["host"] == daemon.docker_host:
                state.unlink()
                state.with_suffix(".log").unlink(missing_ok=True)
    leftovers = pids_mentioning(str(root))
    kill_pids(leftovers, grace=15)
    Dockerd(root / "dockerd").clean_stale()
    unmount_under(root)  # dockerd makes its data root a mount point of its own
    shutil.rmtree(root)
    assert not pids_mentioning(str(root))


def _run(env: dict[str, str], log: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ci_guard", "run", "--no-preflight", "--backoff-initial", "0",
         "--backoff-max", "0", "--log-file", str(log), "--", *argv],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def _events(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_dockerd_killed_mid_run_is_brought_back_and_the_build_succeeds(
    own_daemon: Dockerd, tmp_path: Path
) -> None:
    # The daemon is recorded while healthy (a previous ci-guard run does this).
    assert daemon_control.snapshot(own_daemon.docker_host) is not None
    daemon_control.forget(own_daemon.docker_host)  # the run is a fresh process
    context = write_build_context(tmp_path / "ctx", DOCKERFILE)
    env = client_env(own_daemon.docker_host, tmp_path / "docker-config")
    (tmp_path / "docker-config").mkdir()
    build = " ".join([DOCKER, *build_argv(context, "killed-mid-run:1")])
    # Attempt 1 kills dockerd and then builds: "Cannot connect to the Docker daemon".
    script = f'[ "$CI_GUARD_ATTEMPT" = 1 ] && kill -9 {own_daemon.pid} && sleep 0.3; exec {build}'
    log = tmp_path / "run.jsonl"

    done = _run(
        {**env, "CI_GUARD_LADDER": "restart-daemon", "CI_GUARD_MAX_ATTEMPTS": "3"},
        log, "sh", "-c", script,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-3000:]
    events = _events(log)
    finished = [e for e in events if e["event"] == "attempt.finished"]
    assert finished[0]["failure_class"] == "daemon_unreachable"
    remedy = next(e for e in events if e["event"] == "remedy.finished")
    assert remedy["remedy"] == "restart-daemon"
    assert remedy["ok"] is True
    actions = remedy["actions"]
    assert isinstance(actions, list)
    assert any("relaunched dockerd" in a for a in actions)
    assert len(finished) == 2
    assert ping(own_daemon.docker_host)
    inspect = subprocess.run([DOCKER, "image", "inspect", "killed-mid-run:1"], env=env,
                             capture_output=True, check=False)  # fmt: skip
    assert inspect.returncode == 0


def test_only_dead_mirrors_then_repair_network_applies_a_healthy_one(
    own_daemon: Dockerd, bed: TestBed, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    config = own_daemon.config
    config["registry-mirrors"] = [dead]
    own_daemon.write_config(config)
    own_daemon.reload()
    context = write_build_context(tmp_path / "ctx", DOCKERFILE)
    (tmp_path / "docker-config").mkdir()
    # The legacy builder: dockerd 20.10's BuildKit keeps the mirror list the daemon
    # started with, so a SIGHUP-reloaded list (what this test is about) reaches only it.
    env = client_env(own_daemon.docker_host, tmp_path / "docker-config", buildkit=False)
    log = tmp_path / "run.jsonl"

    done = _run(
        {
            **env,
            "CI_GUARD_LADDER": "repair-network",
            "CI_GUARD_MAX_ATTEMPTS": "2",
            "CI_GUARD_MIRRORS": bed.mirror.url,
            "CI_GUARD_DAEMON_CONFIG": str(own_daemon.config_path),
            "CI_GUARD_PROBE_TIMEOUT": "3",
        },
        log, DOCKER, *build_argv(context, "after-repair:1"),
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-3000:]
    events = _events(log)
    finished = [e for e in events if e["event"] == "attempt.finished"]
    assert len(finished) == 2
    assert finished[0]["retryable"] is True
    remedy = next(e for e in events if e["event"] == "remedy.finished")
    assert remedy["remedy"] == "repair-network"
    assert remedy["mirrors_after"] == [bed.mirror.url]
    assert own_daemon.config["registry-mirrors"] == [bed.mirror.url]
    assert os.environ.get("DOCKER_HOST") != own_daemon.docker_host  # the test's env untouched
