"""Which dockerd serves the endpoint the docker CLI would use: by proof, never by guess."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ci_guard.docker.endpoint import (
    DEFAULT_HOST,
    DaemonEndpoint,
    DaemonProcess,
    find_daemon_process,
    find_endpoint,
)


def _proc(pid: int, *args: str) -> DaemonProcess:
    argv = ("dockerd", *args)
    return DaemonProcess(pid, argv)


DEFAULT = DaemonEndpoint(DEFAULT_HOST, "default")


def _nobody(_endpoint: DaemonEndpoint) -> set[int]:
    return set()


def test_the_only_dockerd_on_another_socket_is_not_adopted() -> None:
    other = _proc(10, "-H", "unix:///tmp/other-job/docker.sock")
    assert find_daemon_process(DEFAULT, processes=lambda: [other], listeners=_nobody) is None


def test_a_socket_activated_dockerd_is_taken_only_when_it_holds_the_socket() -> None:
    activated = _proc(11, "-H", "fd://")
    found = find_daemon_process(DEFAULT, processes=lambda: [activated], listeners=lambda _e: {11})
    assert found == activated
    alone = find_daemon_process(DEFAULT, processes=lambda: [activated], listeners=_nobody)
    assert alone is None


def test_flags_then_daemon_json_hosts_then_the_default_socket(tmp_path: Path) -> None:
    config = tmp_path / "daemon.json"
    config.write_text(json.dumps({"hosts": ["unix:///tmp/elsewhere.sock"]}))
    by_file = _proc(12, "--config-file", str(config))
    plain = _proc(13)
    assert by_file.hosts == ["unix:///tmp/elsewhere.sock"]
    procs = [by_file, plain]
    assert find_daemon_process(DEFAULT, processes=lambda: procs, listeners=_nobody) == plain
    elsewhere = DaemonEndpoint("unix:///tmp/elsewhere.sock", "DOCKER_HOST")
    assert find_daemon_process(elsewhere, processes=lambda: procs, listeners=_nobody) == by_file


def test_a_tcp_endpoint_is_served_by_its_listener() -> None:
    remote = DaemonEndpoint("tcp://127.0.0.1:2375", "DOCKER_HOST")
    daemon = _proc(14, "-H", "fd://")
    assert find_daemon_process(remote, processes=lambda: [daemon], listeners=lambda _e: {14})
    assert find_daemon_process(remote, processes=lambda: [daemon], listeners=_nobody) is None


def _write_context(config_dir: Path, name: str, host: str) -> None:
    digest = hashlib.sha256(name.encode()).hexdigest()
    folder = config_dir / "contexts" / "meta" / digest
    folder.mkdir(parents=True)
    meta = {"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host}}}
    (folder / "meta.json").write_text(json.dumps(meta))


def test_the_current_context_is_read_from_the_cli_store(tmp_path: Path) -> None:
    _write_context(tmp_path, "ci", "unix:///tmp/ci.sock")
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "ci"}))

    def no_cli(_name: str) -> str | None:
        raise AssertionError("the CLI must not be spawned when the store answers")

    env = {"DOCKER_CONFIG": str(tmp_path)}
    assert find_endpoint(env, context_host=no_cli) == DaemonEndpoint(
        "unix:///tmp/ci.sock", "context:ci"
    )
    by_env = find_endpoint({**env, "DOCKER_CONTEXT": "default"}, context_host=no_cli)
    assert by_env == DaemonEndpoint(DEFAULT_HOST, "default")
    with_host = find_endpoint({**env, "DOCKER_HOST": "tcp://h:1"}, context_host=no_cli)
    assert with_host.source == "DOCKER_HOST"
