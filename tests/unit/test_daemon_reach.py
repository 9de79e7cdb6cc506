"""The pure decision whether ci-guard may configure the daemon, or only use it; and the
mirror refresh it gates (a remote daemon: probed, never written)."""

from __future__ import annotations

import json
import signal
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ci_guard.docker.endpoint import DaemonEndpoint, DaemonProcess
from ci_guard.docker.reach import (
    DOWN,
    LOCAL,
    NOT_ON_HOST,
    OTHER_HOST,
    SSH,
    UNKNOWN_SCHEME,
    DaemonReach,
    decide_reach,
)
from ci_guard.mirrors.refresh import RefreshRequest, refresh_mirrors
from ci_guard.registry.probe import DEAD, HEALTHY, RegistryProbe
from tests.unit.test_daemon_json_apply import FakeDaemon

DIND = DaemonEndpoint("tcp://docker:2376", "DOCKER_HOST")
DEFAULT = DaemonEndpoint("unix:///var/run/docker.sock", "default")
SOCKET_ACTIVATED = DaemonProcess(700, ("/usr/bin/dockerd", "-H", "fd://"))


def _dockerd(pid: int, *hosts: str) -> DaemonProcess:
    argv = ["/usr/bin/dockerd", "--config-file", "/nonexistent/daemon.json"]
    for host in hosts:
        argv += ["-H", host]
    return DaemonProcess(pid, tuple(argv))


def _decide(url: str, processes: list[DaemonProcess], record: DaemonProcess | None,
            answers: bool | None = True, **kw: Any) -> DaemonReach:  # fmt: skip
    endpoint = DaemonEndpoint(url, "DOCKER_HOST")
    return decide_reach(endpoint, processes, record, answers=answers, **kw)


def test_dind_service_host_is_remote_even_when_a_local_dockerd_holds_that_port() -> None:
    # A local dockerd on 2376 matches by port alone: it is not the service "docker".
    local = _dockerd(100, "tcp://0.0.0.0:2376")
    reach = decide_reach(DIND, [local], local, answers=True)
    assert reach.remote
    assert reach.kind == OTHER_HOST
    assert "tcp://docker:2376 names another host" in reach.reason


def test_ssh_is_remote_whatever_runs_here() -> None:
    local = _dockerd(100, "unix:///var/run/docker.sock")
    reach = _decide("ssh://ci@build-host", [local], None)
    assert (reach.local, reach.kind) == (False, SSH)


def test_loopback_tcp_served_by_a_dockerd_here_is_local() -> None:
    daemon = _dockerd(321, "tcp://127.0.0.1:2375")
    for url in ("tcp://127.0.0.1:2375", "tcp://localhost:2375", "tcp://[::1]:2375"):
        reach = _decide(url, [daemon], daemon)
        assert (reach.local, reach.kind) == (True, LOCAL), url
        assert "pid 321" in reach.reason


def test_this_hosts_own_address_counts_as_local() -> None:
    daemon = _dockerd(5, "tcp://10.1.2.3:2375")
    assert _decide("tcp://10.1.2.3:2375", [daemon], daemon, local_names={"10.1.2.3"}).local
    assert _decide("tcp://10.1.2.3:2375", [daemon], daemon).kind == OTHER_HOST


def test_loopback_port_no_dockerd_here_serves_is_not_this_hosts() -> None:
    # The pod of a Kubernetes runner: dind shares the network, not the process table.
    reach = _decide("tcp://localhost:2375", [], None)
    assert (reach.local, reach.kind) == (False, NOT_ON_HOST)
    assert "not on this host's process table (no dockerd serves it" in reach.reason
    forwarded = _decide("tcp://127.0.0.1:2999", [_dockerd(9, "unix:///run/a.sock")], None)
    assert forwarded.kind == NOT_ON_HOST
    assert "none of the 1 dockerd processes here" in forwarded.reason


def test_a_mounted_socket_whose_daemon_is_elsewhere_is_not_this_hosts() -> None:
    reach = decide_reach(DEFAULT, [], None, answers=True)
    assert (reach.local, reach.kind) == (False, NOT_ON_HOST)


def test_a_silent_endpoint_stays_local_so_a_crashed_daemon_can_be_started_again() -> None:
    reach = decide_reach(DEFAULT, [], None, answers=False)
    assert (reach.local, reach.kind) == (True, DOWN)


def test_socket_activated_dockerd_serves_the_default_socket() -> None:
    reach = decide_reach(DEFAULT, [SOCKET_ACTIVATED], None, answers=True)
    assert (reach.local, reach.kind) == (True, LOCAL)
    other = DaemonEndpoint("unix:///run/other/docker.sock", "DOCKER_HOST")
    assert decide_reach(other, [SOCKET_ACTIVATED], None, answers=True).remote


def test_a_record_of_the_daemon_makes_a_unix_socket_local() -> None:
    daemon = _dockerd(77, "unix:///tmp/x.sock")
    reach = _decide("unix:///tmp/x.sock", [], daemon, answers=None)
    assert reach.local


def test_unknown_scheme_is_never_configured() -> None:
    reach = _decide("npipe:////./pipe/docker_engine", [], None)
    assert (reach.local, reach.kind) == (False, UNKNOWN_SCHEME)


def test_log_fields_carry_the_way_that_works_for_a_remote_daemon_only() -> None:
    remote = decide_reach(DIND, [], None, answers=True).as_log_fields()
    assert remote["local"] is False
    assert "--registry-mirror=https://mirror.example" in remote["advice"]
    local = _decide("tcp://127.0.0.1:1", [], _dockerd(1)).as_log_fields()
    assert "advice" not in local
    why = decide_reach(DIND, [], None, answers=True).skip_reason("restarting the daemon")
    assert why.startswith("restarting the daemon skipped: tcp://docker:2376 names another host")


# -- the refresh it gates ------------------------------------------------------------------


def _probe(verdicts: dict[str, str]) -> Any:
    def probe(url: str, **_kw: Any) -> RegistryProbe:
        return RegistryProbe(url, verdicts[url], "stand-in", 0.01)

    return probe


@pytest.fixture
def daemon_json(tmp_path: Path) -> Path:
    path = tmp_path / "daemon.json"
    path.write_text(json.dumps({"registry-mirrors": ["http://a.example"], "debug": False}))
    return path


def test_a_remote_daemon_is_probed_and_never_written(daemon_json: Path) -> None:
    fake = FakeDaemon(daemon_json)
    fake.mirrors = ["http://dead.example", "http://live.example"]  # what its /info says
    before = daemon_json.read_text()
    remote = decide_reach(DIND, [], None, answers=True)
    handle = replace(fake.handle(), endpoint=DIND, reach=remote)
    request = RefreshRequest(
        candidates=("http://given.example",), daemon_config=daemon_json,
        explicit_config=True, dry_run=False, timeout=1.0,
    )  # fmt: skip
    probe = _probe({"http://given.example": HEALTHY, "http://dead.example": DEAD,
                    "http://live.example": HEALTHY})  # fmt: skip
    result = refresh_mirrors(request, daemon=handle, probe=probe)
    assert daemon_json.read_text() == before
    assert fake.signals == []
    assert fake.restarts == 0
    assert result.action == "skipped"
    assert not result.changed
    assert result.before == ("http://dead.example", "http://live.example")
    assert {m.url: m.verdict for m in result.ranked}["http://dead.example"] == DEAD
    assert len(result.ranked) == 3
    assert result.remote == remote.reason
    assert "--registry-mirror" in result.messages[-1]
    assert result.as_log_fields()["remote"] == remote.reason


def test_no_probe_applies_the_given_list_as_it_stands(daemon_json: Path) -> None:
    fake = FakeDaemon(daemon_json)
    request = RefreshRequest(
        candidates=("http://z.example", "http://b.example"), daemon_config=daemon_json,
        explicit_config=True, dry_run=False, timeout=1.0, probe=False,
    )  # fmt: skip
    result = refresh_mirrors(request, daemon=fake.handle(), probe=_probe({}))
    written = json.loads(daemon_json.read_text())
    assert written["registry-mirrors"] == ["http://z.example", "http://b.example"]
    assert written["debug"] is False
    assert result.after == ("http://z.example", "http://b.example")
    assert fake.signals == [signal.SIGHUP]
