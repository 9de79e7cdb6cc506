"""Doctor's mirror checks: the daemon's configured list (daemon.json and /info) merged in
order with its sources, one check per mirror (probes stand in; the real ones:
tests/integration/test_doctor_bed.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ci_guard.doctor.mirror_checks import check_mirrors, configured_mirrors
from ci_guard.registry.probe import DEAD, HEALTHY, SLOW, RegistryProbe


def _info(mirrors: list[str]) -> Any:
    def read(host: str, timeout: float) -> dict[str, Any]:
        assert host == "unix:///run/d.sock"
        return {"RegistryConfig": {"Mirrors": mirrors}}

    return read


def _silent(host: str, timeout: float) -> dict[str, Any]:
    raise ConnectionRefusedError("no daemon")


def test_file_and_info_lists_merge_in_order_with_their_sources(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    path.write_text(json.dumps({"registry-mirrors": ["https://A.example/", "http://b.example"]}))
    info = _info(["https://a.example/", "https://flag.example/"])
    found = configured_mirrors(path, "unix:///run/d.sock", 1.0, read_info=info)
    assert found == {
        "https://a.example": ["daemon.json", "docker info"],
        "http://b.example": ["daemon.json"],
        "https://flag.example": ["docker info"],
    }


def test_a_silent_daemon_or_a_broken_file_leaves_the_other_source(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    path.write_text('{"registry-mirrors": ["http://b.example", "not a url"]}')
    assert configured_mirrors(path, "unix:///run/d.sock", 1.0, read_info=_silent) == {
        "http://b.example": ["daemon.json"]
    }
    path.write_text("{broken")
    assert configured_mirrors(path, None, 1.0) == {}


def test_each_mirror_is_one_check_dead_is_an_error_slow_a_warning() -> None:
    verdicts = {"http://dead.example": DEAD, "http://slow.example": SLOW,
                "http://ok.example": HEALTHY}  # fmt: skip

    def probe(url: str, **_kw: Any) -> RegistryProbe:
        return RegistryProbe(url, verdicts[url], f"{verdicts[url]} stand-in", 0.01)

    listed = {url: ["daemon.json"] for url in verdicts}
    listed["https://registry-1.docker.io"] = ["daemon.json"]  # the daemon.json check's job
    checks = check_mirrors(listed, 1.0, "library/busybox", probe=probe)
    assert [c.name for c in checks] == [f"mirror:{u}" for u in verdicts]
    dead, slow, ok = checks
    assert (dead.ok, dead.severity, dead.is_failure) == (False, "error", True)
    assert dead.detail.startswith("dead: dead stand-in (listed in daemon.json;")
    assert "ci-guard mirrors apply" in dead.detail
    assert (slow.ok, slow.severity, slow.is_failure) == (False, "warning", False)
    assert ok.ok
    assert dead.data["sources"] == ["daemon.json"]
    assert dead.data["verdict"] == DEAD


def test_no_mirror_configured_is_no_check() -> None:
    assert check_mirrors({}, 1.0, "library/busybox") == []
