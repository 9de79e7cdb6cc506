"""ci-guard acts only on the daemon the build's docker CLI talks to: a real second
dockerd on a socket of its own (another job's, on a shared host) is never adopted."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ci_guard.docker.endpoint import (
    DEFAULT_HOST,
    find_daemon_process,
    find_endpoint,
    running_dockerds,
)
from tests.testbed.dockerd import Dockerd
from tests.testbed.procs import unmount_under

pytestmark = pytest.mark.docker


@pytest.fixture
def other_job() -> Iterator[Dockerd]:
    """A dockerd on a non-default socket, as another CI job on the host would run it."""
    root = Path(tempfile.mkdtemp(prefix="cig-oj-"))
    daemon = Dockerd(root / "dockerd", {"registry-mirrors": [], "shutdown-timeout": 2}).start()
    try:
        yield daemon
    finally:
        daemon.stop()
        unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)


def _client_env(config_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    env["DOCKER_CONFIG"] = str(config_dir)
    return env


def _apply_dry_run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ci_guard", "mirrors", "apply", "--dry-run", "--no-probe",
         "--mirror", "http://127.0.0.1:1"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_only_dockerd_running_on_another_socket_is_not_adopted(
    other_job: Dockerd, tmp_path: Path
) -> None:
    assert not os.path.exists(DEFAULT_HOST.removeprefix("unix://"))
    env = _client_env(tmp_path)
    endpoint = find_endpoint(env)
    assert endpoint.source == "default"
    # The host as the defect needs it: this dockerd is the only one running.
    only = [p for p in running_dockerds() if p.pid == other_job.pid]
    assert len(only) == 1
    assert find_daemon_process(endpoint, processes=lambda: only) is None
    found = find_daemon_process(endpoint)
    assert found is None or found.pid != other_job.pid

    before = other_job.config_path.read_text()
    done = _apply_dry_run(env)
    assert str(other_job.config_path) not in done.stdout + done.stderr
    assert other_job.config_path.read_text() == before


def test_restart_plan_without_docker_host_leaves_the_other_dockerd_alone(
    other_job: Dockerd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ci_guard.config import resolve
    from ci_guard.docker import control

    for name in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    plan = control.plan_restart(resolve({}, env={}).config, folder=tmp_path / "state")
    assert plan.daemon is None or plan.daemon.pid != other_job.pid
    assert all(str(other_job.pid) not in step for step in plan.steps)


def test_the_current_docker_context_selects_that_daemon(other_job: Dockerd, tmp_path: Path) -> None:
    name = "other-job"
    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    endpoints = {"docker": {"Host": other_job.docker_host, "SkipTLSVerify": False}}
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": endpoints}))
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": name}))
    env = _client_env(tmp_path)

    endpoint = find_endpoint(env)
    assert endpoint.url == other_job.docker_host
    found = find_daemon_process(endpoint)
    assert found is not None
    assert found.pid == other_job.pid
    done = _apply_dry_run(env)
    assert done.returncode == 0, done.stderr
    assert f"{other_job.config_path}: registry-mirrors (dry run)" in done.stdout
