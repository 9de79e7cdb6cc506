"""daemon.json: reading, validation, merge, backup, atomic replace, reload decisions."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ci_guard.docker import daemon_json as dj
from ci_guard.docker import reload as rl
from ci_guard.docker.endpoint import DaemonProcess, flag_values, parse_flags
from ci_guard.errors import UsageError

TESTBED_ARGV = (
    "/usr/sbin/dockerd", "--data-root", "/d", "--pidfile", "/p", "-H", "unix:///s.sock",
    "--bridge=none", "--iptables=false", "--config-file", "/c/daemon.json",
)  # fmt: skip


def test_absent_and_blank_files_are_empty_objects(tmp_path: Path) -> None:
    absent = dj.read_daemon_json(tmp_path / "daemon.json")
    assert (absent.data, absent.exists) == ({}, False)
    (tmp_path / "daemon.json").write_text("  \n")
    assert dj.read_daemon_json(tmp_path / "daemon.json").data == {}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"registry-mirrors": [', "not valid JSON (line 1"),
        ('["https://m.example"]', "must hold a JSON object, found an array"),
        ("42", "found a number"),
    ],
)
def test_invalid_file_is_refused_in_one_line(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "daemon.json"
    path.write_text(text)
    with pytest.raises(UsageError) as info:
        dj.read_daemon_json(path)
    assert why in info.value.message
    assert "left untouched" in info.value.message
    assert "\n" not in info.value.message
    assert path.read_text() == text


def _messages(data: dict[str, object], flags: tuple[str, ...] = ()) -> dict[str, str]:
    return {p.message: p.severity for p in dj.validate(data, running_flags=flags)}


def test_seed_daemon_json_problems_are_all_found() -> None:
    seed = {
        "registry-mirrors": ["https://registry-1.docker.io", "https://docker.mirrors.ustc.edu.cn"],
        "max-concurrent-downloads": 10,
        "log-driver": "json-file",
        "storage-driver": "overlay2",
        "storage-opts": ["overlay2.override_kernel_check=true"],
        "dns": ["8.8.8.8"],
        "live-restore": True,
    }
    found = _messages(seed)
    assert any("override_kernel_check" in m and "24.0" in m for m in found)
    assert any("registry-1.docker.io is Docker Hub itself" in m for m in found)
    assert len(found) == 2
    assert sorted(found.values()) == ["error", "warning"]


def test_wrong_types_removed_and_unknown_keys() -> None:
    found = _messages(
        {"debug": "yes", "max-concurrent-downloads": True, "dns": "8.8.8.8", "graph": "/x",
         "no-such-key": 1, "log-opts": {"max-size": "10m"}}
    )  # fmt: skip
    assert found["debug: expected a boolean, found a string; dockerd would not start"] == "error"
    wrong_int = "max-concurrent-downloads: expected a whole number, found a boolean"
    assert any(m.startswith(wrong_int) for m in found)
    assert "dns: expected an array of strings, found a string; dockerd would not start" in found
    assert any(m.startswith("graph: removed in Docker 23.0") and "'data-root'" in m for m in found)
    unknown = [m for m in found if m.startswith("no-such-key: not a daemon.json key ci-guard")]
    assert [found[m] for m in unknown] == ["warning"]
    assert not any(m.startswith("log-opts") for m in found)


def test_bad_mirror_url_in_the_file_is_an_error() -> None:
    found = _messages({"registry-mirrors": ["https://m.example/v2/"]})
    assert list(found.values()) == ["error"]
    assert "no path" in next(iter(found))


def test_key_also_given_as_a_flag_is_refused() -> None:
    flags = parse_flags(TESTBED_ARGV)
    found = _messages({"bridge": "none", "hosts": ["unix:///x"], "debug": True}, flags)
    bridge = "bridge: also given as --bridge on the running dockerd's command line; dockerd"
    assert any(m.startswith(bridge) and m.endswith("when both set it") for m in found)
    assert any(m.startswith("hosts: also given as -H") for m in found)
    assert not any(m.startswith("debug") for m in found)


def test_parse_flags_and_values() -> None:
    argv = (
        "dockerd",
        "-D",
        "-Hunix:///a.sock",
        "--registry-mirror=http://m:5000",
        "--host",
        "tcp://0:2375",
    )
    assert parse_flags(argv) == ("-D", "-H", "--registry-mirror", "--host")
    assert flag_values(argv, ("-H", "--host")) == ["unix:///a.sock", "tcp://0:2375"]
    proc = DaemonProcess(1, TESTBED_ARGV)
    assert proc.config_file == Path("/c/daemon.json")
    assert proc.hosts == ["unix:///s.sock"]
    assert DaemonProcess(1, ("dockerd",)).hosts == ["unix:///var/run/docker.sock"]


def test_merge_keeps_every_other_key_in_place() -> None:
    old = {
        "debug": False,
        "x-unknown": {"a": 1},
        "registry-mirrors": ["http://a"],
        "dns": ["1.1.1.1"],
    }
    new = dj.merge_mirrors(old, ["http://b", "http://a"])
    assert list(new) == list(old)
    assert new["x-unknown"] == {"a": 1}
    assert new["registry-mirrors"] == ["http://b", "http://a"]
    assert old["registry-mirrors"] == ["http://a"]
    assert dj.changed_keys(old, new) == {"registry-mirrors"}
    assert dj.changed_keys({}, {"debug": False}) == {"debug"}
    assert dj.mirror_diff(["http://a", "http://c"], ["http://b", "http://a"]) == [
        "+ http://b", "  http://a", "- http://c",
    ]  # fmt: skip


def test_backup_atomic_write_and_restore(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    original = '{"debug": true, "x-unknown": 1}\n'
    path.write_text(original)
    os.chmod(path, 0o600)
    when = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    saved = dj.backup(path, now=when)
    again = dj.backup(path, now=when)
    assert saved is not None
    assert again is not None
    assert saved.name == "daemon.json.20240501T120000Z.ci-guard.bak"
    assert again.name == "daemon.json.20240501T120000Z-1.ci-guard.bak"
    dj.write(path, dj.merge_mirrors(json.loads(original), ["http://m:5000"]))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {
        "debug": True,
        "x-unknown": 1,
        "registry-mirrors": ["http://m:5000"],
    }
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    dj.restore(path, saved)
    assert path.read_text() == original
    dj.restore(path, None)
    assert not path.exists()
    assert dj.backup(path) is None


@pytest.mark.parametrize(
    ("changed", "action"),
    [
        (set(), rl.NOTHING),
        ({"registry-mirrors"}, rl.SIGHUP),
        ({"registry-mirrors", "debug", "live-restore", "max-concurrent-downloads"}, rl.SIGHUP),
        ({"registry-mirrors", "dns"}, rl.RESTART),
        ({"log-driver"}, rl.RESTART),
        ({"no-such-key"}, rl.RESTART),
    ],
)
def test_reload_action(changed: set[str], action: str) -> None:
    assert rl.reload_action(changed) == action


def test_wait_for_mirrors_polls_until_info_shows_them() -> None:
    answers = iter(
        [
            {"RegistryConfig": {"Mirrors": ["http://old/"]}},
            {},
            {"RegistryConfig": {"Mirrors": ["http://new/"]}},
        ]
    )
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    verified = rl.wait_for_mirrors(
        lambda: next(answers), ["http://new"], timeout=5, sleep=sleep, clock=lambda: now[0]
    )
    assert verified.ok
    assert verified.seen == ("http://new",)


def test_wait_for_mirrors_gives_up_and_says_why() -> None:
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    def info() -> dict[str, object]:
        raise ConnectionError("socket gone")

    verified = rl.wait_for_mirrors(
        info, ["http://new"], timeout=1, sleep=sleep, clock=lambda: now[0]
    )
    assert not verified.ok
    assert "socket gone" in verified.message


def test_send_sighup_reports_missing_rights_and_gone_process() -> None:
    def denied(pid: int, sig: int) -> None:
        raise PermissionError

    def gone(pid: int, sig: int) -> None:
        raise ProcessLookupError

    assert "no right to signal" in rl.send_sighup(5, kill=denied).message
    assert "is gone" in rl.send_sighup(5, kill=gone).message
