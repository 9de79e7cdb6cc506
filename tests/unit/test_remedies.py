"""Remedy plans, dry runs and reports with fakes (no Docker daemon needed)."""

from __future__ import annotations

import dataclasses
import http.server
import json
import os
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ci_guard.config import Config, resolve
from ci_guard.docker import control as daemon_control
from ci_guard.docker import daemon_state
from ci_guard.records import HostChange
from ci_guard.remedies import load_remedy, sysctl_tuning
from ci_guard.remedies.base import RemedyContext
from ci_guard.remedies.free_disk import FreeDisk, human_bytes
from ci_guard.remedies.repair_network import RepairNetwork
from ci_guard.remedies.restart_daemon import RestartDaemon


def _config(**changes: Any) -> Config:
    return dataclasses.replace(resolve({}, env={}).config, **changes)


# -- a stand-in Engine API on a unix socket (answers /_ping and /info) ---------------------


class _Api(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"OK" if self.path == "/_ping" else json.dumps({"LiveRestoreEnabled": True}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self) -> tuple[Any, Any]:
        request, _ = super().get_request()
        return request, ("local", 0)


@pytest.fixture
def fake_api(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "api.sock"
    server = _UnixServer(str(path), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"unix://{path}"
    server.shutdown()
    server.server_close()


# -- registry --------------------------------------------------------------------------------


def test_registry_loads_every_docker_remedy() -> None:
    for name, cls in [
        ("restart-daemon", RestartDaemon),
        ("repair-network", RepairNetwork),
        ("free-disk", FreeDisk),
    ]:
        remedy = load_remedy(name)
        assert isinstance(remedy, cls)
        assert getattr(remedy, "name", None) == name


# -- restart-daemon ----------------------------------------------------------------------------


def test_restart_command_plan_dry_run_and_apply(tmp_path: Path, fake_api: str) -> None:
    marker = tmp_path / "restarted"
    config = _config(restart_command=f"touch '{marker}'")
    ctx = RemedyContext(config=config, docker_host=fake_api)
    remedy = RestartDaemon(lock_path=tmp_path / "lock", state_folder=tmp_path / "state")

    plan = remedy.plan(ctx)
    assert plan[0] == f"run the restart command: touch {marker}"
    assert any("wait up to" in step for step in plan)

    dry = remedy.apply(dataclasses.replace(ctx, dry_run=True))
    assert dry.ok
    assert not dry.changed
    assert dry.changes == ()
    assert not marker.exists()

    done = remedy.apply(ctx)
    assert done.ok, done
    assert done.changed
    assert done.changes == (HostChange("daemon", f"restarted (by command) at {fake_api}"),)
    assert done.as_log_fields()["host_changes"] == [c.as_dict() for c in done.changes]
    assert marker.exists()
    assert done.extra["method"] == "command"
    assert f"daemon answers /_ping on {fake_api}" in done.actions


def test_failing_restart_command_is_reported_not_raised(tmp_path: Path, fake_api: str) -> None:
    ctx = RemedyContext(config=_config(restart_command="false"), docker_host=fake_api)
    result = RestartDaemon(lock_path=tmp_path / "lock").apply(ctx)
    assert not result.ok
    assert "false failed" in result.detail
    assert result.changes == ()  # the failure is told as the remedy's, not as a change


def test_unknown_daemon_is_skipped_with_what_it_would_need(tmp_path: Path) -> None:
    host = f"unix://{tmp_path / 'none.sock'}"
    remedy = RestartDaemon(lock_path=tmp_path / "lock", state_folder=tmp_path / "state")
    result = remedy.apply(RemedyContext(config=_config(), docker_host=host))
    assert not result.ok
    assert not result.changed
    assert result.changes == ()
    assert result.skipped is not None
    assert "set restart-command" in result.skipped


def test_without_root_a_recorded_root_daemon_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = f"unix://{tmp_path / 'gone.sock'}"
    recorded = daemon_control.DaemonProcess(
        pid=999_999_999, argv=("/usr/bin/dockerd", "-H", host), env={}, cwd="/",
        uid=0, netns_inode=None,
    )  # fmt: skip
    daemon_state.save(host, recorded, tmp_path / "state")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    remedy = RestartDaemon(lock_path=tmp_path / "lock", state_folder=tmp_path / "state")

    result = remedy.apply(RemedyContext(config=_config(), docker_host=host))

    assert result.skipped is not None
    assert "needs root" in result.skipped
    assert not result.changed
    assert any("relaunch /usr/bin/dockerd" in step for step in result.actions)


def test_state_file_round_trip(tmp_path: Path) -> None:
    recorded = daemon_control.DaemonProcess(
        pid=42, argv=("dockerd", "--debug"), env={"HTTP_PROXY": "x"}, cwd="/srv", uid=0,
        netns_inode=1234, unit=None,
    )  # fmt: skip
    daemon_state.save("unix:///x.sock", recorded, tmp_path)
    assert daemon_control.load_snapshot("unix:///x.sock", tmp_path) == recorded
    assert daemon_control.load_snapshot("unix:///other.sock", tmp_path) is None


# -- free-disk ---------------------------------------------------------------------------------


class FakeDockerClient:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.api = self
        self.images = self
        self.networks = self

    def prune_builds(self) -> dict[str, Any]:
        self.calls.append("prune_builds")
        return {"CachesDeleted": ["a", "b"], "SpaceReclaimed": 3000}

    def prune(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        if filters is not None:
            self.calls.append(f"images.prune {filters}")
            return {"ImagesDeleted": [{"Deleted": "sha256:x"}], "SpaceReclaimed": 2_000_000}
        self.calls.append("networks.prune")
        return {"NetworksDeleted": ["stale_net"]}


def test_free_disk_is_opt_in(tmp_path: Path) -> None:
    client = FakeDockerClient()
    remedy = FreeDisk(client_factory=lambda host: client, lock_path=tmp_path / "lock")
    result = remedy.apply(RemedyContext(config=_config()))
    assert result.skipped is not None
    assert "free-disk is off" in result.skipped
    assert client.calls == []
    assert remedy.plan(RemedyContext(config=_config())) == []


def test_free_disk_dry_run_then_prune_reports_bytes(tmp_path: Path) -> None:
    client = FakeDockerClient()
    remedy = FreeDisk(client_factory=lambda host: client, lock_path=tmp_path / "lock")
    ctx = RemedyContext(config=_config(free_disk=True))

    dry = remedy.apply(dataclasses.replace(ctx, dry_run=True))
    assert dry.actions == ("prune the build cache", "remove dangling images")
    assert dry.changes == ()
    assert client.calls == []

    done = remedy.apply(ctx)
    assert done.ok
    assert done.changed
    assert done.extra == {
        "bytes_freed": 2_003_000,
        "build_cache_bytes": 3000,
        "images_bytes": 2_000_000,
    }
    assert client.calls == ["prune_builds", "images.prune {'dangling': True}"]
    assert done.detail == "freed 1.9 MiB"
    (change,) = done.changes
    assert (change.what, change.detail) == ("disk", "freed 1.9 MiB: " + "; ".join(done.actions))


def test_free_disk_daemon_error_is_a_result(tmp_path: Path) -> None:
    def broken(host: str | None) -> Any:
        raise ConnectionRefusedError("connection refused")

    result = FreeDisk(client_factory=broken, lock_path=tmp_path / "lock").apply(
        RemedyContext(config=_config(free_disk=True))
    )
    assert not result.ok
    assert "prune failed: connection refused" in result.detail


def test_human_bytes() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(5 * 1024**3) == "5.0 GiB"


# -- sysctl tuning -----------------------------------------------------------------------------


def _fake_proc(root: Path, values: dict[str, str]) -> Path:
    for key, value in values.items():
        path = root / key.replace(".", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    return root


def test_sysctl_plan_raises_only_and_skips_what_the_kernel_lacks(tmp_path: Path) -> None:
    root = _fake_proc(
        tmp_path,
        {
            "net.core.rmem_max": "212992",
            "net.core.wmem_max": "67108864",  # already above: left alone
            "net.ipv4.tcp_congestion_control": "cubic",
            "net.ipv4.tcp_available_congestion_control": "reno cubic",  # no bbr
        },
    )
    plan = sysctl_tuning.plan(root=root)
    assert [c.describe() for c in plan.changes] == ["set net.core.rmem_max from 212992 to 26214400"]
    assert "net.ipv4.tcp_congestion_control: bbr not offered by this kernel" in plan.skipped
    assert "net.ipv4.tcp_window_scaling: not in this kernel" in plan.skipped

    done, failed = sysctl_tuning.apply(plan.changes, root=root)
    assert done == ["set net.core.rmem_max from 212992 to 26214400"]
    assert failed == []
    assert (root / "net/core/rmem_max").read_text().strip() == "26214400"
    assert sysctl_tuning.plan(root=root).changes == ()


def test_sysctl_bbr_when_offered(tmp_path: Path) -> None:
    root = _fake_proc(
        tmp_path,
        {
            "net.ipv4.tcp_congestion_control": "cubic",
            "net.ipv4.tcp_available_congestion_control": "reno cubic bbr",
        },
    )
    changes = sysctl_tuning.plan(root=root).changes
    assert [(c.key, c.wanted) for c in changes] == [("net.ipv4.tcp_congestion_control", "bbr")]


# -- repair-network ----------------------------------------------------------------------------


def test_repair_network_plan_and_dry_run_change_nothing(tmp_path: Path) -> None:
    root = _fake_proc(tmp_path / "proc", {"net.core.rmem_max": "1000"})
    daemon_json = tmp_path / "daemon.json"
    original = json.dumps({"registry-mirrors": ["http://127.0.0.1:9"], "debug": True})
    daemon_json.write_text(original)
    client = FakeDockerClient()
    remedy = RepairNetwork(
        lock_path=tmp_path / "lock",
        client_factory=lambda host: client,
        sysctl_root=root,
        which=lambda name: f"/usr/bin/{name}" if name == "resolvectl" else None,
        restart=RestartDaemon(lock_path=tmp_path / "lock", state_folder=tmp_path / "state"),
    )
    config = _config(daemon_config=daemon_json, tune_sysctl=True, probe_timeout=1.0)
    ctx = RemedyContext(config=config, docker_host=f"unix://{tmp_path / 'none.sock'}")

    plan = remedy.plan(ctx)
    assert plan[0].startswith("re-probe the mirror candidates (0 configured, and those the")
    assert "flush the resolver cache: resolvectl flush-caches" in plan
    assert "set net.core.rmem_max from 1000 to 26214400" in plan

    result = remedy.apply(dataclasses.replace(ctx, dry_run=True))

    assert not result.changed
    assert result.changes == ()
    assert "would run resolvectl flush-caches" in result.actions
    assert "would set net.core.rmem_max from 1000 to 26214400" in result.actions
    assert "would prune unused Docker networks" in result.actions
    assert any(a.startswith("would restart the daemon") for a in result.actions)
    assert result.extra["mirrors_ranked"] == [{"url": "http://127.0.0.1:9", "verdict": "dead"}]
    assert daemon_json.read_text() == original
    assert (root / "net/core/rmem_max").read_text().strip() == "1000"
    assert client.calls == []


def test_repair_network_reports_what_it_changed_as_host_changes(tmp_path: Path) -> None:
    root = _fake_proc(tmp_path / "proc", {"net.core.rmem_max": "1000"})
    client = FakeDockerClient()
    remedy = RepairNetwork(
        lock_path=tmp_path / "lock",
        client_factory=lambda host: client,
        sysctl_root=root,
        which=lambda name: None,
        is_root=lambda: True,
        restart=RestartDaemon(lock_path=tmp_path / "lock", state_folder=tmp_path / "state"),
    )
    config = _config(daemon_config=tmp_path / "absent.json", tune_sysctl=True)
    ctx = RemedyContext(config=config, docker_host=f"unix://{tmp_path / 'none.sock'}")

    result = remedy.apply(ctx)

    assert [(c.what, c.detail) for c in result.changes] == [
        ("networks", "removed 1 unused network(s): stale_net"),
        ("sysctl", "set net.core.rmem_max from 1000 to 26214400"),
    ]  # no daemon.json to change, and a daemon it could not restart: no change claimed
    assert not result.ok
    assert (root / "net/core/rmem_max").read_text().strip() == "26214400"


def test_repair_network_without_tune_sysctl_leaves_sysctl_alone(tmp_path: Path) -> None:
    root = _fake_proc(tmp_path / "proc", {"net.core.rmem_max": "1000"})
    remedy = RepairNetwork(
        lock_path=tmp_path / "lock",
        client_factory=lambda host: FakeDockerClient(),
        sysctl_root=root,
        which=lambda name: None,
    )
    ctx = RemedyContext(config=_config(daemon_config=tmp_path / "absent.json"), dry_run=True)
    assert not any("sysctl" in step or "rmem" in step for step in remedy.plan(ctx))
    result = remedy.apply(ctx)
    assert not any("rmem" in action for action in result.actions)
    assert "no candidate mirrors: registry-mirrors left as they are" in result.actions


# -- ci-guard repair ---------------------------------------------------------------------------


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from ci_guard.cli.main import main

    with pytest.raises(SystemExit) as caught:
        main(argv)
    out, err = capsys.readouterr()
    return int(caught.value.code or 0), out, err


def test_repair_command_dry_run_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'none.sock'}")
    monkeypatch.setattr("ci_guard.hostlock.default_lock_path", lambda: tmp_path / "lock")
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text('{"registry-mirrors": []}')
    code, out, _err = _cli(
        ["repair", "--dry-run", "--json", "--daemon-config", str(daemon_json),
         "--mirror", "http://127.0.0.1:9", "--probe-timeout", "1"],
        capsys,
    )  # fmt: skip
    report = json.loads(out)
    assert code == 0
    assert report["remedy"] == "repair-network"
    assert report["changed"] is False
    assert report["mirrors_ranked"] == [{"url": "http://127.0.0.1:9", "verdict": "dead"}]
    assert "would prune unused Docker networks" in report["actions"]
    assert daemon_json.read_text() == '{"registry-mirrors": []}'


def test_repair_command_bad_mirror_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _cli(["repair", "--dry-run", "--mirror", "ftp://nope"], capsys)
    assert code == 2
    assert err.startswith("ci-guard: error: bad mirror URL 'ftp://nope'")
    assert err.count("\n") == 1


def test_dry_run_of_free_disk_lists_its_steps_and_changes_nothing(tmp_path: Path) -> None:
    """docs/remedies.md: dry-run lists the steps as actions, detail 'dry run: nothing changed'."""
    from ci_guard.remedies.free_disk import FreeDisk

    ctx = RemedyContext(config=_config(free_disk=True), dry_run=True)
    result = FreeDisk(lock_path=tmp_path / "lock").apply(ctx)
    assert (result.ok, result.changed, result.detail) == (True, False, "dry run: nothing changed")
    assert result.actions
