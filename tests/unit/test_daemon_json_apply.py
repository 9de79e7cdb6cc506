"""apply_mirrors step by step with a stand-in daemon (the real one: tests/integration)."""

from __future__ import annotations

import contextlib
import json
import signal
from pathlib import Path
from typing import Any

import pytest

from ci_guard.docker.endpoint import DaemonEndpoint, DaemonProcess
from ci_guard.docker.mirror_files import MARKER
from ci_guard.errors import UsageError
from ci_guard.mirrors.apply import DaemonHandle, apply_mirrors
from ci_guard.mirrors.result import MirrorApplyResult


class FakeDaemon:
    """Reads daemon.json on SIGHUP/restart like dockerd does, optionally refusing it."""

    def __init__(
        self, path: Path, *, reload_works: bool = True, argv: tuple[str, ...] = ()
    ) -> None:
        self.path = path
        self.reload_works = reload_works
        self.signals: list[int] = []
        self.restarts = 0
        self.mirrors = self._read()
        self.argv = argv or ("dockerd", "--config-file", str(path))

    def _read(self) -> list[str]:
        try:
            return list(json.loads(self.path.read_text()).get("registry-mirrors", []))
        except (FileNotFoundError, ValueError):
            return []

    def kill(self, pid: int, sig: int) -> None:
        self.signals.append(sig)
        if self.reload_works:
            self.mirrors = self._read()

    def restart(self) -> bool:
        self.restarts += 1
        self.mirrors = self._read()
        return True

    def info(self) -> dict[str, Any]:
        return {"RegistryConfig": {"Mirrors": [f"{m}/" for m in self.mirrors]}}

    def handle(self, *, with_process: bool = True, can_restart: bool = False) -> DaemonHandle:
        process = DaemonProcess(4242, self.argv) if with_process else None
        return DaemonHandle(
            endpoint=DaemonEndpoint("unix:///fake.sock", "DOCKER_HOST"),
            process=process,
            info=self.info,
            restart=self.restart if can_restart else None,
            kill=self.kill,
            verify_timeout=0.5,
        )


def _apply(path: Path, daemon: DaemonHandle, mirrors: list[str], **kw: Any) -> MirrorApplyResult:
    return apply_mirrors(
        mirrors, daemon_config=path, dry_run=kw.pop("dry_run", False), daemon=daemon,
        lock=contextlib.nullcontext(), **kw,
    )  # fmt: skip


@pytest.fixture
def daemon_json(tmp_path: Path) -> Path:
    path = tmp_path / "daemon.json"
    path.write_text(
        json.dumps(
            {"registry-mirrors": ["http://dead:5000"], "x-vendor": {"keep": True}, "debug": False}
        )
    )
    return path


def test_apply_merges_backs_up_reloads_and_verifies(daemon_json: Path) -> None:
    original = daemon_json.read_text()
    fake = FakeDaemon(daemon_json)
    result = _apply(
        daemon_json,
        fake.handle(),
        ["http://a:5000/", "https://registry-1.docker.io", "http://b:5000"],
    )
    assert result.ok
    assert result.verified
    assert result.changed
    assert result.action == "sighup"
    assert fake.signals == [signal.SIGHUP]
    assert result.after == ("http://a:5000", "http://b:5000")
    assert result.diff == ("+ http://a:5000", "+ http://b:5000", "- http://dead:5000")
    data = json.loads(daemon_json.read_text())
    assert data == {
        "registry-mirrors": ["http://a:5000", "http://b:5000"],
        "x-vendor": {"keep": True},
        "debug": False,
    }
    assert result.backup is not None
    assert result.backup.read_text() == original
    assert any("doubles timeouts" in m for m in result.messages)
    fields = result.as_log_fields()
    assert fields["mirrors_after"] == ["http://a:5000", "http://b:5000"]
    assert fields["verified"] is True


def test_same_mirrors_change_nothing(daemon_json: Path) -> None:
    fake = FakeDaemon(daemon_json)
    before = daemon_json.read_text()
    result = _apply(daemon_json, fake.handle(), ["http://dead:5000"])
    assert (result.ok, result.changed, result.action) == (True, False, "none")
    assert daemon_json.read_text() == before
    assert fake.signals == []
    assert not list(daemon_json.parent.glob("*.bak"))


def test_dry_run_says_what_it_would_do_and_touches_nothing(daemon_json: Path) -> None:
    fake = FakeDaemon(daemon_json)
    before = daemon_json.read_text()
    result = _apply(daemon_json, fake.handle(), ["http://a:5000"], dry_run=True)
    assert result.ok
    assert result.dry_run
    assert result.changed
    assert result.diff == ("+ http://a:5000", "- http://dead:5000")
    assert any(m.startswith("would write") for m in result.messages)
    assert daemon_json.read_text() == before
    assert fake.signals == []


def test_reload_that_does_not_take_is_rolled_back(daemon_json: Path) -> None:
    original = daemon_json.read_text()
    fake = FakeDaemon(daemon_json, reload_works=False)
    result = _apply(daemon_json, fake.handle(), ["http://a:5000"])
    assert not result.ok
    assert result.rolled_back
    assert result.verified is False
    assert daemon_json.read_text() == original
    assert fake.signals == [signal.SIGHUP, signal.SIGHUP]


def test_invalid_daemon_json_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    path.write_text("{ not json")
    with pytest.raises(UsageError, match="not valid JSON"):
        _apply(path, FakeDaemon(path).handle(), ["http://a:5000"])
    assert path.read_text() == "{ not json"
    assert list(tmp_path.iterdir()) == [path]


def test_flag_conflict_is_refused_before_writing(daemon_json: Path) -> None:
    argv = ("dockerd", "--registry-mirror", "http://x:1", "--config-file", str(daemon_json))
    fake = FakeDaemon(daemon_json, argv=argv)
    before = daemon_json.read_text()
    with pytest.raises(UsageError) as info:
        _apply(daemon_json, fake.handle(), ["http://a:5000"])
    assert "registry-mirrors: also given as --registry-mirror" in info.value.message
    assert daemon_json.read_text() == before
    assert fake.signals == []


def test_removed_option_in_the_file_is_refused(daemon_json: Path) -> None:
    daemon_json.write_text(json.dumps({"storage-opts": ["overlay2.override_kernel_check=true"]}))
    with pytest.raises(UsageError, match="override_kernel_check"):
        _apply(daemon_json, FakeDaemon(daemon_json).handle(), ["http://a:5000"])


def test_a_file_the_daemon_does_not_read_is_refused(daemon_json: Path, tmp_path: Path) -> None:
    fake = FakeDaemon(daemon_json, argv=("dockerd", "--config-file", str(tmp_path / "other.json")))
    with pytest.raises(UsageError, match="pass --daemon-config"):
        _apply(daemon_json, fake.handle(), ["http://a:5000"])


def test_bad_mirror_url_is_a_usage_error(daemon_json: Path) -> None:
    with pytest.raises(UsageError, match="bad mirror URL"):
        _apply(daemon_json, FakeDaemon(daemon_json).handle(), ["http://a:5000/path"])


def test_without_process_or_restart_the_file_is_written_and_the_user_told(
    daemon_json: Path,
) -> None:
    fake = FakeDaemon(daemon_json)
    result = _apply(daemon_json, fake.handle(with_process=False), ["http://a:5000"])
    assert not result.ok
    assert result.action == "written"
    assert any("restart it yourself" in m for m in result.messages)
    assert json.loads(daemon_json.read_text())["registry-mirrors"] == ["http://a:5000"]


def test_restart_callable_is_used_when_no_pid_is_known(daemon_json: Path) -> None:
    fake = FakeDaemon(daemon_json)
    result = _apply(
        daemon_json, fake.handle(with_process=False, can_restart=True), ["http://a:5000"]
    )
    assert result.ok
    assert result.verified
    assert result.action == "restart"
    assert fake.restarts == 1


def test_new_file_is_created_and_rollback_removes_it(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    fake = FakeDaemon(path, reload_works=False)
    result = _apply(path, fake.handle(), ["http://a:5000"])
    assert result.rolled_back
    assert result.backup is None
    assert not path.exists()


def test_buildkit_and_containerd_files(daemon_json: Path, tmp_path: Path) -> None:
    fake = FakeDaemon(daemon_json)
    buildkitd = tmp_path / "buildkitd.toml"
    hosts = tmp_path / "certs.d"
    result = _apply(
        daemon_json, fake.handle(), ["https://m.example", "http://127.0.0.1:5000"],
        buildkitd_toml=buildkitd, containerd_hosts_dir=hosts,
    )  # fmt: skip
    assert result.ok
    from ci_guard.tomlcompat import tomllib

    kit = tomllib.loads(buildkitd.read_text())
    assert kit["registry"]["docker.io"]["mirrors"] == ["m.example", "127.0.0.1:5000"]
    assert kit["registry"]["127.0.0.1:5000"]["http"] is True
    doc = tomllib.loads((hosts / "docker.io" / "hosts.toml").read_text())
    assert doc["server"] == "https://registry-1.docker.io"
    assert list(doc["host"]) == ["https://m.example", "http://127.0.0.1:5000"]
    assert buildkitd.read_text().startswith(MARKER)


def test_foreign_buildkitd_toml_is_not_replaced(daemon_json: Path, tmp_path: Path) -> None:
    buildkitd = tmp_path / "buildkitd.toml"
    buildkitd.write_text("debug = true\n")
    before = daemon_json.read_text()
    with pytest.raises(UsageError, match="not written by ci-guard"):
        _apply(
            daemon_json,
            FakeDaemon(daemon_json).handle(),
            ["http://a:5000"],
            buildkitd_toml=buildkitd,
        )
    assert buildkitd.read_text() == "debug = true\n"
    assert daemon_json.read_text() == before
