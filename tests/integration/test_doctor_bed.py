"""doctor and preflight against the real test bed (loopback-only network namespace)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from ci_guard.config import resolve
from ci_guard.doctor.preflight import Restarters, run_preflight
from ci_guard.remedies import restart_via_remedy
from tests.testbed.bed import TestBed
from tests.testbed.faultproxy import Fault
from tests.unit.test_registry_servers import blackhole, closed_port_url

pytestmark = pytest.mark.docker


def _doctor(bed: TestBed, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ci_guard", "doctor", *args],
        env=bed.env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _checks(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in json.loads(done.stdout)["checks"]}


def test_doctor_is_healthy_against_local_registries(bed: TestBed) -> None:
    done = _doctor(bed, "--json", "--probe-timeout", "3", "--registry", bed.upstream.url,
                   "--registry", bed.mirror.url)  # fmt: skip
    checks = _checks(done)
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout)["healthy"] is True
    assert checks[f"registry:{bed.mirror.url}"]["data"]["manifest_status"] == 200
    assert checks[f"tcp:127.0.0.1:{bed.mirror.port}"]["ok"]
    daemon = checks["daemon"]["data"]
    assert daemon["mirrors"] == [bed.mirror.url]
    assert daemon["server_version"].startswith("20.10")
    assert checks["daemon.json"]["data"]["path"] == str(bed.dockerd.config_path)
    assert checks["disk"]["ok"]
    assert checks["clock"]["ok"]


def test_doctor_reports_docker_hub_unresolvable_cleanly(bed: TestBed) -> None:
    done = _doctor(bed, "--probe-timeout", "2")
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("FAIL")
    assert "dns:registry-1.docker.io" in first
    assert "skip" in done.stdout
    assert "unhealthy" in done.stdout


def test_doctor_flags_a_blackholed_registry_and_a_429(bed: TestBed, fault_proxy: Any) -> None:
    host, port = bed.mirror.address.split(":")
    limited = fault_proxy((host, int(port)), Fault(mode="http429"))
    with blackhole() as hole:
        done = _doctor(bed, "--json", "--probe-timeout", "1", "--registry", hole,
                       "--registry", limited.url)  # fmt: skip
    checks = _checks(done)
    assert done.returncode == 1
    assert checks[f"registry:{hole}"]["detail"] == "dead: no answer within 1s"
    assert "429" in checks[f"registry:{limited.url}"]["detail"]


def test_preflight_prunes_a_dead_mirror_and_reports(
    bed: TestBed, monkeypatch: pytest.MonkeyPatch
) -> None:
    with blackhole() as hole:
        bed.set_mirrors([hole, bed.mirror.url])
        monkeypatch.setenv("DOCKER_HOST", bed.docker_host)
        config = resolve(
            {"daemon-config": str(bed.dockerd.config_path), "probe-timeout": 1}, env={}
        ).config
        result = run_preflight(config, restarters=Restarters(daemon=restart_via_remedy))
    fields = result.as_log_fields()
    assert fields["mirrors"]["mirrors_after"] == [bed.mirror.url]
    assert fields["mirrors"]["verified"] is True
    assert bed.dockerd.config["registry-mirrors"] == [bed.mirror.url]
    names = [c["name"] for c in fields["checks"]]
    assert "dns:registry-1.docker.io" in names
    assert "daemon" in names
    assert fields["healthy"] is False  # Docker Hub does not resolve in the namespace


def test_doctor_fails_on_each_dead_mirror_daemon_json_lists(bed: TestBed) -> None:
    # Five dead mirrors in front of the live one, as a user found them: each is a failed
    # check with its reason, and doctor is unhealthy (exit 1), not "healthy".
    with blackhole() as hole_a, blackhole() as hole_b:
        dead = [closed_port_url(), hole_a, closed_port_url(), hole_b, closed_port_url()]
        bed.set_mirrors([*dead, bed.mirror.url])
        done = _doctor(bed, "--json", "--probe-timeout", "1", "--registry", bed.mirror.url)
    report = json.loads(done.stdout)
    checks = _checks(done)
    assert done.returncode == 1, done.stdout + done.stderr
    assert report["healthy"] is False
    mirror_checks = [c for c in report["checks"] if c["name"].startswith("mirror:")]
    assert [c["name"] for c in mirror_checks] == [f"mirror:{u}" for u in [*dead, bed.mirror.url]]
    for url in dead:
        check = checks[f"mirror:{url}"]
        assert (check["ok"], check["severity"]) == (False, "error"), check
        assert check["detail"].startswith("dead: ")
        assert check["data"]["sources"] == ["daemon.json", "docker info"]
    assert "no answer within 1s" in checks[f"mirror:{hole_a}"]["detail"]
    assert checks[f"mirror:{bed.mirror.url}"]["ok"]
    failing = [c["name"] for c in report["checks"] if c["severity"] == "error" and not c["ok"]]
    assert sorted(failing) == sorted(f"mirror:{u}" for u in dead)
    assert checks["daemon.reach"]["ok"]


def test_doctor_table_names_the_dead_mirror_and_its_source(bed: TestBed) -> None:
    dead = closed_port_url()
    bed.set_mirrors([dead, bed.mirror.url])
    done = _doctor(bed, "--probe-timeout", "1", "--registry", bed.mirror.url)
    assert done.returncode == 1
    line = next(row for row in done.stdout.splitlines() if f"mirror:{dead}" in row)
    assert line.startswith("FAIL")
    assert "listed in daemon.json and docker info" in line
    assert done.stdout.splitlines()[-1] == "unhealthy"
