"""BuildKit and registry mirrors for real: the builder takes a mirrors change, and a
registry phase that stalls ends the attempt early (docs/mirrors.md, docs/failure-classes.md).

The client is Debian's docker 20.10 with DOCKER_BUILDKIT=1: the daemon's built-in
BuildKit, as Compose v2 uses it. Each test has a dockerd of its own (it gets restarted).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ci_guard.docker.builder_probe import RESOLVED, STALLED, probe_builder
from tests.testbed.bed import TestBed, base_daemon_config
from tests.testbed.client import DOCKER, client_env
from tests.testbed.context import build_argv
from tests.testbed.dockerd import Dockerd
from tests.testbed.faultproxy import Fault, FaultProxy
from tests.testbed.procs import kill_pids, pids_mentioning, unmount_under
from tests.testbed.runlog import (
    Event,
    ci_guard_argv,
    events_named,
    forget_daemon_state,
    read_events,
)

pytestmark = pytest.mark.docker

DaemonFactory = Callable[[list[str]], Dockerd]


@pytest.fixture
def own_daemon() -> Iterator[DaemonFactory]:
    """Factory: a dockerd of this test alone, started with the given registry-mirrors."""
    started: list[tuple[Path, Dockerd]] = []

    def make(mirrors: list[str]) -> Dockerd:
        root = Path(tempfile.mkdtemp(prefix="cig-bk-"))
        daemon = Dockerd(root / "dockerd", base_daemon_config(mirrors)).start()
        started.append((root, daemon))
        return daemon

    yield make
    for root, daemon in started:
        forget_daemon_state(daemon.docker_host)
        kill_pids(pids_mentioning(str(root)), grace=15)  # a relaunched dockerd too
        Dockerd(root / "dockerd").clean_stale()
        unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)


def blackholes(make: Callable[..., FaultProxy], count: int) -> list[str]:
    """Mirrors that accept TCP and never answer."""
    return [make(("127.0.0.1", 9), fault=Fault("blackhole")).url for _ in range(count)]


def guard(
    daemon: Dockerd, tmp: Path, argv: list[str], *options: str
) -> tuple[int, list[Event], str]:
    env = client_env(daemon.docker_host, tmp / "docker-config", buildkit=True)
    (tmp / "docker-config").mkdir(exist_ok=True)
    log = tmp / "run.jsonl"
    command = [
        *ci_guard_argv(), "run", "--backoff-initial", "0.2", "--backoff-max", "0.5",
        "--kill-grace", "3", "--artifacts-dir", str(tmp / "artifacts"),
        "--log-file", str(log), *options, "--", *argv,
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=900, check=False
        )
    finally:
        forget_daemon_state(daemon.docker_host)
    return done.returncode, read_events(log), done.stderr


def one(events: list[Event], name: str) -> Event:
    (found,) = events_named(events, name)
    return found


def test_probe_tells_a_builder_with_the_old_list_from_a_restarted_one(
    bed: TestBed, own_daemon: DaemonFactory, fault_proxy: Callable[..., FaultProxy]
) -> None:
    daemon = own_daemon([*blackholes(fault_proxy, 2), bed.mirror.url])
    assert probe_builder(daemon.docker_host, "library/busybox", timeout=4).outcome == STALLED
    config = daemon.config
    config["registry-mirrors"] = [bed.mirror.url]
    daemon.write_config(config)
    daemon.reload()  # SIGHUP: docker info shows the new list, BuildKit keeps the old one
    assert probe_builder(daemon.docker_host, "library/busybox", timeout=4).outcome == STALLED
    daemon.stop()
    daemon.start()
    healthy = probe_builder(daemon.docker_host, "library/busybox", timeout=10)
    assert healthy.outcome == RESOLVED, healthy
    images = subprocess.run(
        [DOCKER, "images", "--all", "--quiet"],
        env=client_env(daemon.docker_host, bed.docker_config), capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert images.stdout.strip() == ""  # the probe leaves no image behind


def test_dead_mirrors_under_buildkit_preflight_restarts_and_the_first_attempt_succeeds(
    bed: TestBed,
    own_daemon: DaemonFactory,
    fault_proxy: Callable[..., FaultProxy],
    build_context: Callable[..., Path],
    tmp_path: Path,
) -> None:
    dead = blackholes(fault_proxy, 2)
    daemon = own_daemon([*dead, bed.mirror.url])
    context = build_context("FROM busybox:latest\nRUN echo built > /built.txt\n")
    code, events, stderr = guard(
        daemon, tmp_path, [DOCKER, *build_argv(context, "bk-mirrors:1")],
        "--daemon-config", str(daemon.config_path), "--probe-timeout", "2", "--timeout", "300",
    )  # fmt: skip
    assert code == 0, stderr[-3000:]
    mirrors = one(events, "preflight.finished")["mirrors"]
    assert mirrors["mirrors_after"] == [bed.mirror.url]
    assert mirrors["action"] == "sighup"
    builder = one(events, "builder.mirrors")
    assert builder["source"] == "preflight"
    assert builder["buildkit"] is True
    assert builder["probe"]["outcome"] == STALLED
    assert builder["decision"] == "restarted"
    assert builder["verify"]["outcome"] == RESOLVED
    assert builder["verified"] is True
    assert [a["failure_class"] for a in events_named(events, "attempt.finished")] == [None]
    finished = one(events, "run.finished")
    print(f"dead mirrors under BuildKit: success after {finished['duration_s']}s")
    assert daemon.config["registry-mirrors"] == [bed.mirror.url]


def test_a_healthy_builder_after_a_reload_is_left_running(
    bed: TestBed,
    own_daemon: DaemonFactory,
    fault_proxy: Callable[..., FaultProxy],
    build_context: Callable[..., Path],
    tmp_path: Path,
) -> None:
    # The dead mirror comes last: BuildKit never reaches it, so the old list works.
    daemon = own_daemon([bed.mirror.url, *blackholes(fault_proxy, 1)])
    pid = daemon.pid
    context = build_context("FROM busybox:latest\nRUN echo built > /built.txt\n")
    code, events, stderr = guard(
        daemon, tmp_path, [DOCKER, *build_argv(context, "bk-healthy:1")],
        "--daemon-config", str(daemon.config_path), "--probe-timeout", "2",
    )  # fmt: skip
    assert code == 0, stderr[-3000:]
    builder = one(events, "builder.mirrors")
    assert builder["decision"] == "builder-current"
    assert builder["probe"]["outcome"] == RESOLVED
    assert builder["restart"] is None
    assert daemon.pid == pid


def test_a_blackholed_registry_under_buildkit_stalls_and_the_ladder_restarts_the_daemon(
    bed: TestBed,
    own_daemon: DaemonFactory,
    fault_proxy: Callable[..., FaultProxy],
    build_context: Callable[..., Path],
    tmp_path: Path,
) -> None:
    proxy = fault_proxy(("127.0.0.1", bed.mirror.port), fault=Fault("blackhole"))
    daemon = own_daemon([proxy.url])
    context = build_context("FROM busybox:latest\nRUN echo built > /built.txt\n")
    argv = [
        "sh", "-c",
        # the registry comes back once attempt 1 has stalled
        f'[ "$CI_GUARD_ATTEMPT" = 1 ] || {sys.executable} -m tests.testbed.faultproxy set '
        f"{proxy.control_url} --mode pass >/dev/null; exec {DOCKER} "
        + " ".join(build_argv(context, "bk-stall:1")),
    ]  # fmt: skip
    code, events, stderr = guard(
        daemon, tmp_path, argv, "--no-preflight", "--registry-stall-timeout", "5",
        "--timeout", "600", "--max-attempts", "3", "--ladder", "restart-daemon",
    )  # fmt: skip
    attempts = events_named(events, "attempt.finished")
    first = attempts[0]
    assert first["failure_class"] == "registry_timeout", stderr[-3000:]
    assert first["rule"] == "registry-stall"
    assert first["stalled"] is True
    assert first["exit_code"] == 124
    assert any("load metadata for docker.io/library/busybox" in e for e in first["evidence"])
    assert first["duration_s"] < 600  # ended by the stall, not by the attempt deadline
    print(f"blackholed registry under BuildKit: attempt 1 ended after {first['duration_s']}s")
    (retry,) = events_named(events, "retry.scheduled")[:1]
    assert retry["remedy"] == "restart-daemon"
    remedy = events_named(events, "remedy.finished")[0]
    assert remedy["ok"] is True
    assert code == 0, stderr[-3000:]
    assert attempts[-1]["failure_class"] is None


@pytest.mark.parametrize("buildkit", [True, False], ids=["buildkit", "classic"])
def test_a_long_silent_run_step_is_not_cut(
    bed: TestBed, build_context: Callable[..., Path], tmp_path: Path, buildkit: bool
) -> None:
    context = build_context("FROM busybox:latest\nRUN sleep 40\n")
    env = client_env(bed.docker_host, bed.docker_config, buildkit=buildkit)
    log = tmp_path / "run.jsonl"
    done = subprocess.run(
        [*ci_guard_argv(), "run", "--no-preflight", "--registry-stall-timeout", "4",
         "--max-attempts", "1", "--log-file", str(log),
         "--artifacts-dir", str(tmp_path / "artifacts"), "--",
         DOCKER, *build_argv(context, None, "--no-cache")],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (attempt,) = events_named(read_events(log), "attempt.finished")
    assert attempt["failure_class"] is None
    assert attempt["stalled"] is False
    assert attempt["duration_s"] >= 40  # the step really ran its 40 s


def test_a_stall_on_a_dead_mirror_is_repaired_and_the_builder_restarted(
    bed: TestBed,
    own_daemon: DaemonFactory,
    fault_proxy: Callable[..., FaultProxy],
    build_context: Callable[..., Path],
    tmp_path: Path,
) -> None:
    dead = blackholes(fault_proxy, 1)
    daemon = own_daemon([*dead, bed.mirror.url])
    context = build_context("FROM busybox:latest\nRUN echo built > /built.txt\n")
    code, events, stderr = guard(
        daemon, tmp_path, [DOCKER, *build_argv(context, "bk-repair:1")],
        "--no-preflight", "--registry-stall-timeout", "5", "--max-attempts", "2",
        "--ladder", "repair-network", "--daemon-config", str(daemon.config_path),
        "--probe-timeout", "2",
    )  # fmt: skip
    assert code == 0, stderr[-3000:]
    first, second = events_named(events, "attempt.finished")
    assert (first["failure_class"], first["rule"]) == ("registry_timeout", "registry-stall")
    assert second["failure_class"] is None
    (repair,) = events_named(events, "remedy.finished")
    assert repair["remedy"] == "repair-network"
    assert repair["mirrors_after"] == [bed.mirror.url]
    assert repair["builder"]["decision"] == "restarted"
    builder = one(events, "builder.mirrors")
    assert builder["source"] == "repair-network"
    assert builder["verified"] is True
