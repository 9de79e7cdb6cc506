"""A daemon ci-guard can use but not configure: a real dockerd listening on
tcp://127.0.0.1:PORT, reached from a PID namespace of its own where that dockerd is not
on the process table, as a Kubernetes runner's job reaches its docker-in-docker service
(same network, other containers). The run probes mirrors and builds; it writes no
daemon.json, sends no SIGHUP, restarts nothing, and says so once."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ci_guard.docker import control as daemon_control
from ci_guard.docker.endpoint import DaemonEndpoint
from ci_guard.docker.reach import LOCAL, NOT_ON_HOST, observe_reach
from tests.testbed.bed import TestBed, base_daemon_config
from tests.testbed.client import client_env
from tests.testbed.dockerd import Dockerd
from tests.testbed.procs import free_port, kill_pids, pids_mentioning, unmount_under
from tests.testbed.runlog import events_named, read_events
from tests.unit.test_registry_servers import closed_port_url

pytestmark = pytest.mark.docker

UNABLE = "Cannot connect to the Docker daemon at {url}. Is the docker daemon running?"


@pytest.fixture
def tcp_daemon(bed: TestBed) -> Iterator[Dockerd]:
    """A dockerd of this test on a unix socket and tcp://127.0.0.1:PORT, using the bed's
    mirror; torn down after."""
    root = Path(tempfile.mkdtemp(prefix="cig-tcp-"))
    port = free_port()
    daemon = Dockerd(
        root / "dockerd",
        base_daemon_config([bed.mirror.url]),
        extra_hosts=[f"tcp://127.0.0.1:{port}"],
    ).start()
    yield daemon
    for host in (daemon.docker_host, daemon.extra_hosts[0]):
        daemon_control.forget(host)
    kill_pids(pids_mentioning(str(root)), grace=15)
    Dockerd(root / "dockerd").clean_stale()
    unmount_under(root)
    shutil.rmtree(root, ignore_errors=True)


def _elsewhere(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """ci-guard in a PID namespace (and /proc) of its own: same network, no dockerd seen."""
    argv = ["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", '"$@"; exit $?', "sh",
            sys.executable, "-m", "ci_guard", *args]  # fmt: skip
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)


def _setup(daemon: Dockerd, tmp_path: Path) -> tuple[dict[str, str], Path, str]:
    url = daemon.extra_hosts[0]
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    local_json = tmp_path / "etc" / "daemon.json"  # this host's daemon.json
    local_json.parent.mkdir()
    local_json.write_text(daemon.config_path.read_text())
    return client_env(url, config_dir), local_json, url


def test_the_same_tcp_daemon_is_local_where_its_process_is_seen(tcp_daemon: Dockerd) -> None:
    reach = observe_reach(DaemonEndpoint(tcp_daemon.extra_hosts[0], "DOCKER_HOST"))
    assert (reach.local, reach.kind) == (True, LOCAL)
    assert f"pid {tcp_daemon.pid}" in reach.reason


def test_run_with_mirrors_on_a_daemon_not_on_the_process_table_changes_nothing_on_the_host(
    tcp_daemon: Dockerd, bed: TestBed, tmp_path: Path
) -> None:
    env, local_json, url = _setup(tcp_daemon, tmp_path)
    before, served = local_json.read_text(), tcp_daemon.config_path.read_text()
    reloads = tcp_daemon.log_text().count("Reloaded configuration")
    dead = closed_port_url()
    log = tmp_path / "run.jsonl"
    env.update(CI_GUARD_MIRRORS=f"{dead},{bed.mirror.url}", CI_GUARD_PROBE_TIMEOUT="1")
    done = _elsewhere(env, "run", "--daemon-config", str(local_json), "--log-file", str(log),
                      "--", "/usr/bin/docker", "pull", "busybox:latest")  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    assert "ci-guard: succeeded on attempt 1/" in done.stderr
    events = read_events(log)
    remote = events_named(events, "daemon.remote")
    assert len(remote) == 1
    assert remote[0]["level"] == "warning"
    assert remote[0]["kind"] == NOT_ON_HOST
    assert remote[0]["endpoint"] == url
    assert "--registry-mirror=" in remote[0]["advice"]
    mirrors = events_named(events, "preflight.finished")[0]["mirrors"]
    assert mirrors["action"] == "skipped"
    assert mirrors["remote"] == remote[0]["reason"]
    assert mirrors["mirrors_before"] == [bed.mirror.url]  # read from the daemon's /info
    verdicts = {m["url"]: m["verdict"] for m in mirrors["ranked"]}
    assert verdicts == {dead: "dead", bed.mirror.url: "healthy"}
    assert events_named(events, "preflight.finished")[0]["daemon_reach"]["local"] is False
    # Nothing host-side was tried: no write, no backup, no reload.
    assert local_json.read_text() == before
    assert sorted(p.name for p in local_json.parent.iterdir()) == ["daemon.json"]
    assert tcp_daemon.config_path.read_text() == served
    assert tcp_daemon.log_text().count("Reloaded configuration") == reloads
    assert events_named(events, "run.finished")[0]["status"] == "succeeded"


def test_restart_daemon_is_skipped_with_the_reason_and_the_retry_still_runs(
    tcp_daemon: Dockerd, tmp_path: Path
) -> None:
    env, local_json, url = _setup(tcp_daemon, tmp_path)
    pid, before = tcp_daemon.pid, local_json.read_text()
    log = tmp_path / "run.jsonl"
    unable = UNABLE.format(url=url)
    script = (f'[ "$CI_GUARD_ATTEMPT" = 1 ] && {{ echo "{unable}" >&2; exit 1; }}; '
              "exec /usr/bin/docker pull busybox:latest")  # fmt: skip
    env.update(CI_GUARD_LADDER="restart-daemon", CI_GUARD_MAX_ATTEMPTS="2")
    done = _elsewhere(env, "run", "--no-preflight", "--backoff-initial", "0",
                      "--backoff-max", "0", "--daemon-config", str(local_json),
                      "--log-file", str(log), "--", "sh", "-c", script)  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    events = read_events(log)
    assert len(events_named(events, "daemon.remote")) == 1
    finished = events_named(events, "remedy.finished")
    assert [e["remedy"] for e in finished] == ["restart-daemon"]
    assert finished[0]["skipped"].startswith("restarting the daemon skipped: the daemon at")
    assert finished[0]["level"] == "info"
    assert finished[0]["changed"] is False
    assert tcp_daemon.pid == pid
    assert tcp_daemon.ping()
    assert [e["exit_code"] for e in events_named(events, "attempt.finished")] == [1, 0]
    assert local_json.read_text() == before


def test_doctor_reads_a_remote_daemons_mirrors_from_its_info_not_a_local_file(
    tcp_daemon: Dockerd, bed: TestBed, tmp_path: Path
) -> None:
    env, _local_json, url = _setup(tcp_daemon, tmp_path)
    dead = closed_port_url()
    config = tcp_daemon.config
    config["registry-mirrors"] = [dead, bed.mirror.url]
    tcp_daemon.write_config(config)
    tcp_daemon.reload()
    done = _elsewhere(env, "doctor", "--json", "--probe-timeout", "1", "--registry", bed.mirror.url)

    assert done.returncode == 1, done.stdout + done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["daemon.reach"]["severity"] == "warning"
    assert checks["daemon.reach"]["data"]["kind"] == NOT_ON_HOST
    assert "--registry-mirror=" in checks["daemon.reach"]["detail"]
    assert url in checks["daemon.reach"]["detail"]
    assert (
        checks["daemon.json"]["detail"]
        == "skipped: the daemon is not this host's (see daemon.reach)"
    )
    assert "path" not in checks["daemon.json"]["data"]
    assert checks["disk"]["data"] == {"skipped": True}
    assert checks["daemon"]["data"]["mirrors"] == [dead, bed.mirror.url]
    assert checks[f"mirror:{dead}"]["severity"] == "error"
    assert checks[f"mirror:{dead}"]["data"]["sources"] == ["docker info"]
    assert checks[f"mirror:{bed.mirror.url}"]["ok"]
