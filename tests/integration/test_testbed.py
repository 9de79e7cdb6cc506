"""The test bed itself: real dockerd, registries, mirror and fault proxy do what they claim."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.testbed.bed import TestBed, TinyDaemon, start_testbed
from tests.testbed.check import netns_interfaces
from tests.testbed.client import docker
from tests.testbed.context import build_argv, write_compose_project
from tests.testbed.faultproxy import Fault, FaultError, FaultProxy, get_remote, set_remote_fault
from tests.testbed.images import COMMON_IMAGES
from tests.testbed.procs import http_status, pids_mentioning
from tests.testbed.registry import Registry

pytestmark = pytest.mark.docker

ProxyFactory = Callable[..., FaultProxy]
# `python -m tests.testbed...` children must start from the repository root.
REPO_ROOT = Path(__file__).resolve().parents[2]


def _get_v2(address: str, timeout: float = 5.0, path: str = "/v2/") -> socket.socket:
    """A raw socket that has sent `GET path` to address (host:port)."""
    host, port = address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n".encode())
    return sock


def _read_all(sock: socket.socket) -> tuple[bytes, int]:
    """Everything until EOF, and how many recv calls it took."""
    data, calls = b"", 0
    with sock:
        while chunk := sock.recv(65536):
            data += chunk
            calls += 1
    return data, calls


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


# -- the bed ------------------------------------------------------------------------------
def test_runs_in_loopback_only_namespace() -> None:
    assert netns_interfaces() == ["lo"]


def test_bed_starts_with_daemon_registries_and_images(bed: TestBed) -> None:
    info = bed.docker("info", "--format", "{{json .}}")
    facts = json.loads(info.stdout)
    assert facts["ServerVersion"].startswith("20.10")
    assert facts["DockerRootDir"] == str(bed.dockerd.data_root)
    assert facts["RegistryConfig"]["Mirrors"] == [bed.mirror.url + "/"]
    assert bed.dockerd.config["registry-mirrors"] == [bed.mirror.url]
    with _get_v2(bed.upstream.address, path="/v2/_catalog") as sock:
        body = _read_all(sock)[0].split(b"\r\n\r\n", 1)[1]
    served = set(json.loads(body)["repositories"])
    assert {name.split(":")[0] for name in COMMON_IMAGES} <= served
    # Other tests may leave images behind; remove_images() brings the daemon back to none.
    bed.remove_images()
    assert bed.docker("image", "ls", "--all", "--quiet").stdout.strip() == ""


def test_hub_style_pull_goes_through_mirror(bed: TestBed) -> None:
    bed.remove_images()
    done = bed.pull("alpine")
    assert done.returncode == 0, done.stderr
    assert "Downloaded newer image for alpine:latest" in done.stdout
    assert "/v2/library/alpine/manifests/latest" in bed.mirror.log_text()
    run = bed.docker("run", "--rm", "--network", "none", "alpine", "sh", "-c", "echo $((6*7))")
    assert run.stdout.strip() == "42"
    bed.remove_images()
    assert bed.docker("image", "ls", "--quiet").stdout.strip() == ""


def test_hub_fallback_fails_at_once_without_internet(bed: TestBed) -> None:
    bed.remove_images()
    done = bed.pull("ci-guard-no-such-image")
    assert done.returncode != 0
    # The mirror has no such repository; the fallback to Docker Hub cannot leave loopback.
    assert "registry-1.docker.io" in done.stderr or "not found" in done.stderr


def test_blackholed_mirror_first_still_pulls_through_next_mirror(
    bed: TestBed, fault_proxy: ProxyFactory
) -> None:
    dead = fault_proxy(("127.0.0.1", bed.mirror.port), Fault("blackhole"))
    bed.set_mirrors([dead.url, bed.mirror.url])
    bed.remove_images()
    done = bed.pull("busybox")
    assert done.returncode == 0, done.stderr
    assert dead.stats["blackhole"] >= 1
    bed.reset()
    assert bed.dockerd.config["registry-mirrors"] == [bed.mirror.url]


def test_builds_legacy_buildkit_and_compose_v1(bed: TestBed, tmp_path: Path) -> None:
    from tests.testbed.context import write_build_context

    context = write_build_context(
        tmp_path / "ctx",
        "FROM busybox\nCOPY hello.txt /\n"
        f"RUN wget -q -O- {bed.upstream.url}/v2/ && cat /hello.txt\n",
        {"hello.txt": "hello from the context\n"},
    )
    for buildkit in (False, True):
        done = bed.docker(*build_argv(context, "ci-guard-test/ctx"), buildkit=buildkit)
        assert "hello from the context" in done.stdout + done.stderr
    compose_file = write_compose_project(tmp_path / "proj", {"app": "FROM alpine\nRUN echo ok\n"})
    done = subprocess.run(
        ["docker-compose", "-f", str(compose_file), "build"],
        env=bed.env(buildkit=False),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Successfully tagged ci-guard-test/app:latest" in done.stdout
    bed.remove_images()


def test_compose_v2_builds_services_with_buildkit(
    bed: TestBed, compose_v2: list[str], tmp_path: Path
) -> None:
    services = {
        "web": "FROM busybox\nRUN echo web-built\n",
        "worker": "FROM alpine\nRUN echo worker-built\n",
    }
    compose_file = write_compose_project(tmp_path / "proj", services, v2=True)
    bed.remove_images()
    done = subprocess.run(
        [*compose_v2, "--progress", "plain", "build"],
        cwd=compose_file.parent,
        env=bed.env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # BuildKit's plain progress, not the legacy builder's "Step 1/2".
    assert "load metadata for docker.io/library/busybox:latest" in output
    assert "Step 1/" not in output
    for name in services:
        assert (
            bed.docker("image", "inspect", f"ci-guard-test/{name}:latest", check=False).returncode
            == 0
        )
    version = subprocess.run(
        [*compose_v2, "version", "--short"],
        env=bed.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip().lstrip("v") == "2.40.3"
    bed.remove_images()


def test_auth_registry_needs_login(bed: TestBed, auth_registry: Registry) -> None:
    image = f"{auth_registry.address}/library/busybox:latest"
    denied = bed.pull(image)
    assert denied.returncode != 0
    assert "no basic auth credentials" in denied.stderr
    assert auth_registry.user is not None
    assert auth_registry.password is not None
    login = docker(
        bed.env(), "login", "-u", auth_registry.user, "--password-stdin", auth_registry.address,
        input_text=auth_registry.password,
    )  # fmt: skip
    assert "Login Succeeded" in login.stdout
    assert bed.pull(image).returncode == 0
    bed.remove_images([image])


def test_tiny_data_root_fills_up(bed: TestBed, tiny_daemon: TinyDaemon, tmp_path: Path) -> None:
    from tests.testbed.context import write_build_context

    context = write_build_context(
        tmp_path / "big", "FROM busybox\nRUN dd if=/dev/zero of=/big bs=1M count=200\n"
    )
    done = docker(tiny_daemon.env(), *build_argv(context), check=False)
    assert done.returncode != 0
    assert "No space left on device" in done.stdout + done.stderr


def _run_sleeper(bed: TestBed) -> None:
    image = f"{bed.upstream.address}/library/busybox"
    # sleep as PID 1 ignores SIGTERM: a short stop timeout keeps the daemon stop quick.
    bed.docker("run", "--detach", "--network", "none", "--stop-timeout", "1", image, "sleep", "300")


def test_daemon_kill_restart_and_teardown_leave_nothing() -> None:
    bed = start_testbed(Path(tempfile.mkdtemp(prefix="cig-bed2-")), ("library/busybox:latest",))
    try:
        _run_sleeper(bed)
        assert pids_mentioning(str(bed.root))
        bed.dockerd.kill()
        assert not bed.dockerd.ping()
        down = bed.docker("version", check=False)
        assert "Cannot connect to the Docker daemon" in down.stderr
        bed.dockerd.start()
        assert bed.dockerd.ping()
        _run_sleeper(bed)
        bed.dockerd.reload()
        assert "Reloaded configuration" in bed.dockerd.log_text()
    finally:
        bed.stop()
    assert bed.leftovers() == ([], [])
    assert not bed.root.exists()


# -- the fault proxy, measured with a real socket client -----------------------------------
@pytest.fixture
def upstream(testbed: TestBed) -> tuple[str, int]:
    return ("127.0.0.1", testbed.upstream.port)


def test_proxy_pass_forwards(fault_proxy: ProxyFactory, upstream: tuple[str, int]) -> None:
    proxy = fault_proxy(upstream)
    response, _ = _read_all(_get_v2(proxy.address))
    assert _status(response) == 200
    assert b"Docker-Distribution-Api-Version: registry/2.0" in response


def test_proxy_blackhole_accepts_and_never_answers(
    fault_proxy: ProxyFactory, upstream: tuple[str, int]
) -> None:
    proxy = fault_proxy(upstream, Fault("blackhole"))
    sock = _get_v2(proxy.address, timeout=1.0)
    with sock, pytest.raises(TimeoutError):
        sock.recv(1)
    assert proxy.stats["blackhole"] == 1


def test_proxy_refuse_closes_and_reopens_port(
    fault_proxy: ProxyFactory, upstream: tuple[str, int]
) -> None:
    proxy = fault_proxy(upstream, Fault("refuse"))
    with pytest.raises(ConnectionRefusedError):
        _get_v2(proxy.address)
    proxy.set_fault("pass")
    _wait_listening(proxy.port)
    assert _status(_read_all(_get_v2(proxy.address))[0]) == 200


def _wait_listening(port: int) -> None:
    from tests.testbed.procs import wait_until

    def listening() -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return True
        return False

    wait_until(listening, 10, f"port {port} to listen")


def test_proxy_reset_sends_rst(fault_proxy: ProxyFactory, upstream: tuple[str, int]) -> None:
    proxy = fault_proxy(upstream, Fault("reset"))
    sock = _get_v2(proxy.address)
    with sock, pytest.raises(ConnectionResetError):
        sock.recv(1)


def test_proxy_delay_holds_the_answer(fault_proxy: ProxyFactory, upstream: tuple[str, int]) -> None:
    proxy = fault_proxy(upstream, Fault("delay", delay_s=2.0))
    sock = _get_v2(proxy.address, timeout=0.3)
    with sock:
        with pytest.raises(TimeoutError):
            sock.recv(1)
        sock.settimeout(30)
        first = sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200")


def test_proxy_slow_trickles_bytes(fault_proxy: ProxyFactory, upstream: tuple[str, int]) -> None:
    direct, _ = _read_all(_get_v2(f"127.0.0.1:{upstream[1]}", path="/v2/_catalog"))
    proxy = fault_proxy(upstream, Fault("slow", bytes_per_s=2000))
    slow, calls = _read_all(_get_v2(proxy.address, timeout=30, path="/v2/_catalog"))
    assert _status(slow) == 200
    assert slow.split(b"\r\n\r\n", 1)[1] == direct.split(b"\r\n\r\n", 1)[1]
    # 200-byte slices every 0.1 s: the answer cannot come in one piece.
    assert calls >= len(slow) // 400


def test_proxy_truncate_cuts_after_n_bytes(
    fault_proxy: ProxyFactory, upstream: tuple[str, int]
) -> None:
    proxy = fault_proxy(upstream, Fault("truncate", truncate_after=60))
    data, _ = _read_all(_get_v2(proxy.address, path="/v2/_catalog"))
    assert len(data) == 60
    assert data.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(("mode", "status"), [("http429", 429), ("http503", 503)])
def test_proxy_http_answers(
    fault_proxy: ProxyFactory, upstream: tuple[str, int], mode: str, status: int
) -> None:
    proxy = fault_proxy(upstream, Fault(mode, retry_after_s=7))
    response, _ = _read_all(_get_v2(proxy.address))
    assert _status(response) == status
    assert b"Retry-After: 7" in response
    assert (b"RateLimit-Remaining: 0;w=21600" in response) == (status == 429)
    assert http_status(proxy.url, "/v2/") == status


def test_proxy_fail_next_then_pass(fault_proxy: ProxyFactory, upstream: tuple[str, int]) -> None:
    proxy = fault_proxy(upstream, Fault("reset", fail_next=2))
    for _ in range(2):
        sock = _get_v2(proxy.address)
        with sock, pytest.raises(ConnectionResetError):
            sock.recv(1)
    assert _status(_read_all(_get_v2(proxy.address))[0]) == 200
    assert proxy.fault == Fault()
    assert proxy.stats["reset"] == 2


def test_proxy_controlled_from_another_process(
    fault_proxy: ProxyFactory, upstream: tuple[str, int]
) -> None:
    proxy = fault_proxy(upstream)
    assert proxy.control_url is not None
    cli = [sys.executable, "-m", "tests.testbed.faultproxy"]
    subprocess.run(
        [*cli, "set", proxy.control_url, "--mode", "http503"], check=True, timeout=30, cwd=REPO_ROOT
    )
    assert proxy.fault.mode == "http503"
    assert http_status(proxy.url, "/v2/") == 503
    assert set_remote_fault(proxy.control_url, Fault()).mode == "pass"
    assert get_remote(proxy.control_url, "stats")["http503"] == 1
    bad = subprocess.run(
        [*cli, "set", proxy.control_url, "--mode", "refuse", "--fail-next", "2"],
        capture_output=True, text=True, timeout=30, check=False, cwd=REPO_ROOT,
    )  # fmt: skip
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1
    with pytest.raises(FaultError):
        Fault("teleport")


@pytest.fixture
def proxy_process(
    upstream: tuple[str, int],
) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.testbed.faultproxy", "serve", "--target",
         f"127.0.0.1:{upstream[1]}", "--mode", "http429"],
        stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    ports = json.loads(proc.stdout.readline())
    try:
        yield proc, ports
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_proxy_serve_command(proxy_process: tuple[subprocess.Popen[str], dict[str, str]]) -> None:
    proc, ports = proxy_process
    assert http_status(f"http://{ports['listen']}", "/v2/") == 429
    set_remote_fault(ports["control"], Fault())
    assert http_status(f"http://{ports['listen']}", "/v2/") == 200
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
