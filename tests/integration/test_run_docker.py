"""`ci-guard run` against real failures on the Docker test bed.

Each test provokes one failure for real (a blackholed, closed, 503 or 429 registry
behind a fault proxy, a missing image, an htpasswd registry, a killed dockerd, dead
mirrors, a full data root, a failing step, a syntax error) under `ci-guard run --
docker build | docker pull | docker-compose build`, then reads the run's JSON log:
the failure class, how many attempts were made, which remedy ran, how it ended.
Transient faults are cleared when attempt 1 is logged, so the retry must succeed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.testbed.bed import TestBed, TinyDaemon, base_daemon_config
from tests.testbed.client import DOCKER, client_env
from tests.testbed.context import build_argv, write_compose_project
from tests.testbed.dockerd import Dockerd
from tests.testbed.faultproxy import Fault, FaultProxy
from tests.testbed.procs import free_port, kill_pids, pids_mentioning
from tests.testbed.registry import Registry
from tests.testbed.runlog import (
    Event,
    LogFollower,
    ci_guard_argv,
    events_named,
    forget_daemon_state,
    read_events,
)

pytestmark = pytest.mark.docker

BUSYBOX = "library/busybox:latest"
FAST = (
    "--no-preflight",
    "--backoff-initial", "0.2",
    "--backoff-max", "0.5",
    "--kill-grace", "2",
)  # fmt: skip


@dataclass
class Outcome:
    code: int
    events: list[Event]
    stderr: str

    def attempts(self) -> list[Event]:
        return events_named(self.events, "attempt.finished")

    def classes(self) -> list[str | None]:
        return [a["failure_class"] for a in self.attempts()]

    def remedies(self) -> list[Event]:
        return events_named(self.events, "remedy.finished")

    def retries(self) -> list[Event]:
        return events_named(self.events, "retry.scheduled")

    def finished(self) -> Event:
        (last,) = events_named(self.events, "run.finished")
        return last

    def explain(self) -> str:
        return f"exit {self.code}; classes {self.classes()}\n{self.stderr[-3000:]}"


def guard(
    env: Mapping[str, str],
    tmp: Path,
    argv: list[str],
    options: tuple[str, ...] = (),
    on_event: Callable[[Event], None] | None = None,
) -> Outcome:
    """`ci-guard run FAST OPTIONS -- ARGV`, its JSON log read back; on_event sees each line."""
    log = tmp / f"run-{len(list(tmp.glob('run-*.jsonl')))}.jsonl"
    command = [
        *ci_guard_argv(), "run", *FAST, *options,
        "--artifacts-dir", str(tmp / "artifacts"), "--log-file", str(log), "--", *argv,
    ]  # fmt: skip
    follower = LogFollower(log, on_event or (lambda _e: None)).start()
    try:
        done = subprocess.run(
            command, env=dict(env), capture_output=True, text=True, timeout=600, check=False
        )
    finally:
        follower.stop()
        # The run recorded the sandbox daemon for restart-daemon; it is gone after the test.
        forget_daemon_state(env["DOCKER_HOST"])
    assert not follower.errors, follower.errors
    return Outcome(done.returncode, read_events(log), done.stderr)


def clear_after_attempt_1(proxy: FaultProxy) -> Callable[[Event], None]:
    """A transient fault: the proxy passes again once attempt 1 is logged."""

    def on_event(event: Event) -> None:
        if event.get("event") == "attempt.finished" and event.get("attempt") == 1:
            proxy.set_fault("pass")

    return on_event


def upstream_proxy(bed: TestBed, make: Callable[..., FaultProxy], mode: str) -> FaultProxy:
    return make(("127.0.0.1", bed.upstream.port), fault=Fault(mode, retry_after_s=1))


# -- network and registry faults, transient: retried, then the pull succeeds --------------------


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("blackhole", "registry_timeout"),
        ("refuse", "connection_failure"),
        ("http503", "registry_unavailable"),
    ],
)
def test_transient_registry_fault_is_retried_and_the_pull_succeeds(
    bed: TestBed,
    fault_proxy: Callable[..., FaultProxy],
    tmp_path: Path,
    mode: str,
    expected: str,
) -> None:
    proxy = upstream_proxy(bed, fault_proxy, mode)
    image = f"{proxy.address}/{BUSYBOX}"
    try:
        out = guard(
            bed.env(), tmp_path, [DOCKER, "pull", image],
            ("--max-attempts", "3", "--ladder", "retry"), clear_after_attempt_1(proxy),
        )  # fmt: skip
    finally:
        bed.remove_images([image])
    assert out.code == 0, out.explain()
    assert out.classes() == [expected, None]
    (retry,) = out.retries()
    assert retry["remedy"] == "retry"
    assert out.finished()["status"] == "succeeded"
    assert proxy.stats[mode if mode != "refuse" else "pass"] >= 1


def test_http_429_is_rate_limited_and_waits_the_long_backoff(
    bed: TestBed, fault_proxy: Callable[..., FaultProxy], tmp_path: Path
) -> None:
    proxy = upstream_proxy(bed, fault_proxy, "http429")
    image = f"{proxy.address}/{BUSYBOX}"
    try:
        out = guard(
            bed.env(), tmp_path, [DOCKER, "pull", image],
            ("--max-attempts", "2", "--ladder", "retry", "--rate-limit-backoff", "3"),
            clear_after_attempt_1(proxy),
        )  # fmt: skip
    finally:
        bed.remove_images([image])
    assert out.code == 0, out.explain()
    assert out.classes() == ["rate_limited", None]
    (retry,) = out.retries()
    # The exponential backoff is at most 0.5 s here; rate_limited waits the long one.
    assert retry["delay_s"] >= 3
    assert "docker login" in retry["hint"]
    assert any("toomanyrequests" in line for line in out.attempts()[0]["evidence"])


def test_persistent_503_is_retried_until_attempts_run_out(
    bed: TestBed, fault_proxy: Callable[..., FaultProxy], tmp_path: Path
) -> None:
    proxy = upstream_proxy(bed, fault_proxy, "http503")
    out = guard(
        bed.env(), tmp_path, [DOCKER, "pull", f"{proxy.address}/{BUSYBOX}"],
        ("--max-attempts", "2", "--ladder", "retry", "--tempfail-exit-code", "75"),
    )  # fmt: skip
    assert out.classes() == ["registry_unavailable", "registry_unavailable"]
    assert out.code == 75  # attempts exhausted on a transient class
    stopped = events_named(out.events, "retry.stopped")
    assert "attempts exhausted" in stopped[-1]["reason"]


# -- permanent failures: exactly one attempt ---------------------------------------------------


def test_missing_image_is_one_attempt(bed: TestBed, tmp_path: Path) -> None:
    out = guard(bed.env(), tmp_path, [DOCKER, "pull", f"{bed.upstream.address}/library/nope:1"])
    assert out.classes() == ["image_not_found"]
    assert out.code == 1
    assert out.retries() == []
    assert "not retryable" in events_named(out.events, "retry.stopped")[0]["reason"]


def test_missing_image_in_a_compose_build_is_one_attempt(bed: TestBed, tmp_path: Path) -> None:
    compose = write_compose_project(
        tmp_path / "project", {"web": f"FROM {bed.upstream.address}/library/absent:2\n"}
    )
    out = guard(
        bed.env(), tmp_path, ["docker-compose", "--file", str(compose), "build"],
    )  # fmt: skip
    assert out.classes() == ["image_not_found"], out.explain()
    assert out.code != 0
    assert out.retries() == []


# What each builder says: the legacy builder relays the daemon's pull error, BuildKit
# its resolver's; the RUN step's exit code is the client's with the legacy builder,
# while BuildKit's client exits 1 and prints the step's code.
BUILDERS = {
    "legacy": {"buildkit": False, "auth": "no basic auth credentials", "step_exit": 3},
    "buildkit": {"buildkit": True, "auth": "401 Unauthorized", "step_exit": 1},
}


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_registry_with_htpasswd_auth_is_one_attempt(
    bed: TestBed,
    auth_registry: Registry,
    build_context: Callable[..., Path],
    tmp_path: Path,
    builder: str,
) -> None:
    kind = BUILDERS[builder]
    context = build_context(f"FROM {auth_registry.address}/{BUSYBOX}\nRUN true\n")
    env = bed.env(buildkit=bool(kind["buildkit"]))
    out = guard(env, tmp_path, [DOCKER, *build_argv(context, "auth-test:1")])
    assert out.classes() == ["auth_denied"], out.explain()
    assert out.retries() == []
    evidence = out.attempts()[0]["evidence"]
    assert any(str(kind["auth"]) in line for line in evidence), evidence


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_failing_run_step_is_one_attempt(
    bed: TestBed, build_context: Callable[..., Path], tmp_path: Path, builder: str
) -> None:
    kind = BUILDERS[builder]
    context = build_context("FROM busybox:latest\nRUN echo compiling && exit 3\n")
    env = bed.env(buildkit=bool(kind["buildkit"]))
    out = guard(env, tmp_path, [DOCKER, *build_argv(context, "step-fails:1")])
    assert out.classes() == ["build_step_failure"], out.explain()
    assert out.code == kind["step_exit"]  # ci-guard passes on the client's exit code
    assert out.retries() == []
    if kind["buildkit"]:
        assert any("exit code: 3" in line for line in out.attempts()[0]["evidence"])


def test_dockerfile_syntax_error_is_one_attempt(
    bed: TestBed, build_context: Callable[..., Path], tmp_path: Path
) -> None:
    context = build_context("FROM busybox:latest\nRUNN echo typo\n")
    out = guard(bed.env(), tmp_path, [DOCKER, *build_argv(context, "syntax:1")])
    assert out.classes() == ["dockerfile_error"], out.explain()
    assert out.retries() == []


def test_full_data_root_is_disk_full_and_one_attempt(
    tiny_daemon: TinyDaemon, build_context: Callable[..., Path], tmp_path: Path
) -> None:
    context = build_context("FROM busybox:latest\nRUN dd if=/dev/zero of=/fill bs=1M count=300\n")
    out = guard(tiny_daemon.env(), tmp_path, [DOCKER, *build_argv(context, "fill:1")])
    assert out.classes() == ["disk_full"], out.explain()
    assert out.retries() == []
    assert any("no space left on device" in line.lower() for line in out.attempts()[0]["evidence"])


# -- remedies on the ladder rescue the build ---------------------------------------------------


@pytest.fixture
def own_daemon(bed: TestBed) -> Iterator[Dockerd]:
    """A dockerd of this test alone (pulling through the bed's mirror): it gets killed."""
    root = Path(tempfile.mkdtemp(prefix="cig-rd-"))
    daemon = Dockerd(root / "dockerd", base_daemon_config([bed.mirror.url])).start()
    yield daemon
    forget_daemon_state(daemon.docker_host)
    kill_pids(pids_mentioning(str(root)), grace=15)  # the relaunched dockerd too
    Dockerd(root / "dockerd").clean_stale()
    shutil.rmtree(root, ignore_errors=True)


def test_dockerd_killed_mid_build_is_restarted_and_the_build_succeeds(
    own_daemon: Dockerd, build_context: Callable[..., Path], tmp_path: Path
) -> None:
    context = build_context("FROM busybox:latest\nRUN sleep 5 && echo slow > /slow.txt\n")
    (tmp_path / "docker-config").mkdir()
    env = client_env(own_daemon.docker_host, tmp_path / "docker-config")
    killed = threading.Event()

    def kill() -> None:
        own_daemon.kill()
        killed.set()

    def kill_during_attempt_1(event: Event) -> None:
        # Started from the log line, the kill lands while the RUN step sleeps.
        if event.get("event") == "attempt.started" and event.get("attempt") == 1:
            threading.Timer(2.0, kill).start()

    out = guard(
        env, tmp_path, [DOCKER, *build_argv(context, "survived-kill:1")],
        ("--max-attempts", "4", "--ladder", "retry,restart-daemon"), kill_during_attempt_1,
    )  # fmt: skip
    assert killed.is_set()
    assert out.code == 0, out.explain()
    assert out.classes()[0] is not None
    assert "daemon_unreachable" in out.classes()
    restarts = [r for r in out.remedies() if r["remedy"] == "restart-daemon"]
    assert restarts
    assert restarts[0]["ok"] is True
    assert any("relaunched dockerd" in action for action in restarts[0]["actions"])
    inspect = subprocess.run(
        [DOCKER, "image", "inspect", "survived-kill:1"], env=env, capture_output=True, check=False
    )
    assert inspect.returncode == 0


def test_only_dead_mirrors_then_repair_network_applies_a_healthy_candidate(
    bed: TestBed,
    fault_proxy: Callable[..., FaultProxy],
    build_context: Callable[..., Path],
    tmp_path: Path,
) -> None:
    refused = f"http://127.0.0.1:{free_port()}"
    reset = fault_proxy(("127.0.0.1", bed.mirror.port), fault=Fault("reset")).url
    bed.set_mirrors([refused, reset])
    bed.remove_images(["busybox:latest"])
    context = build_context("FROM busybox:latest\nRUN echo repaired > /r.txt\n")
    options = (
        "--max-attempts", "3", "--ladder", "retry,repair-network",
        "--mirrors", bed.mirror.url, "--daemon-config", str(bed.dockerd.config_path),
        "--probe-timeout", "3",
    )  # fmt: skip
    # The legacy builder: dockerd 20.10's BuildKit keeps the mirror list the daemon
    # started with, so a SIGHUP-reloaded list (what this test is about) reaches only it.
    env = bed.env(buildkit=False)
    out = guard(env, tmp_path, [DOCKER, *build_argv(context, "repaired:1")], options)
    assert out.code == 0, out.explain()
    assert out.classes()[0] is not None
    assert out.classes()[-1] is None
    (repair,) = out.remedies()
    assert repair["remedy"] == "repair-network"
    assert repair["ok"] is True
    assert repair["mirrors_before"] == [refused, reset]
    assert repair["mirrors_after"] == [bed.mirror.url]
    assert bed.dockerd.config["registry-mirrors"] == [bed.mirror.url]


def test_report_reads_the_mirror_health_a_real_preflight_logged(
    bed: TestBed, tmp_path: Path
) -> None:
    """The writer/reader contract of `preflight.finished`'s mirrors: a real run, a real report."""
    import json

    dead = f"http://127.0.0.1:{free_port()}"
    bed.set_mirrors([bed.mirror.url])
    log = tmp_path / "run.jsonl"
    run = [
        *ci_guard_argv(), "run", "--mirrors", f"{bed.mirror.url},{dead}", "--probe-timeout", "3",
        "--artifacts-dir", str(tmp_path / "artifacts"), "--log-file", str(log), "--", "true",
    ]  # fmt: skip
    try:
        done = subprocess.run(run, env=bed.env(), capture_output=True, text=True, check=False)
    finally:
        forget_daemon_state(bed.docker_host)
    assert done.returncode == 0, done.stderr
    (preflight,) = events_named(read_events(log), "preflight.finished")
    assert preflight["mirrors"]["mirrors_after"] == [bed.mirror.url]  # the dead one left
    report = subprocess.run(
        [*ci_guard_argv(), "report", "--json", str(log)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    mirrors = {m["url"]: m for m in json.loads(report.stdout)["mirrors"]}
    assert set(mirrors) == {bed.mirror.url, dead}
    assert mirrors[bed.mirror.url]["healthy_share"] == 1.0
    assert mirrors[dead]["healthy_share"] == 0.0
    assert json.loads(report.stdout)["by_stop_reason"] == {"succeeded": 1}
