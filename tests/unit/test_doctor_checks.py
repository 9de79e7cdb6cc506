"""Doctor checks and runner: real local servers where they can run, values everywhere."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from ci_guard.docker.endpoint import DaemonEndpoint, DaemonProcess
from ci_guard.doctor import checks, daemon_checks
from ci_guard.doctor.result import ERROR, INFO, WARNING, CheckResult, DoctorReport
from ci_guard.doctor.runner import Task, run_tasks
from tests.unit.test_registry_servers import closed_port_url, needs_registry, push_image, registry


def test_report_is_healthy_unless_an_error_check_failed() -> None:
    ok = CheckResult("a", True, INFO, "", 0.0)
    warn = CheckResult("b", False, WARNING, "", 0.0)
    skip = CheckResult("c", False, INFO, "skipped", 0.0)
    bad = CheckResult("d", False, ERROR, "", 0.0)
    assert DoctorReport((ok, warn, skip)).healthy
    report = DoctorReport((ok, bad))
    assert not report.healthy
    assert report.as_log_fields()["checks"][1]["name"] == "d"


def test_runner_reports_a_hanging_task_and_keeps_the_others() -> None:
    release = threading.Event()

    def hang() -> list[CheckResult]:
        release.wait(10)
        return []

    def crash() -> list[CheckResult]:
        raise RuntimeError("boom")

    tasks = [
        Task("hang", hang),
        Task("fine", lambda: [CheckResult("fine", True, INFO, "", 0.0)]),
        Task("crash", crash),
    ]
    try:
        results = run_tasks(tasks, deadline_s=0.2)
    finally:
        release.set()
    by_name = {r.name: r for r in results}
    assert by_name["hang"].detail == "no result within 0.2s"
    assert by_name["hang"].is_failure
    assert by_name["fine"].ok
    assert "RuntimeError: boom" in by_name["crash"].detail


def test_runner_runs_tasks_at_once() -> None:
    barrier = threading.Barrier(3, timeout=5)

    def task(name: str) -> Task:
        return Task(name, lambda: [CheckResult(name, barrier.wait() >= 0, INFO, "", 0.0)])

    results = run_tasks([task("a"), task("b"), task("c")], deadline_s=5)
    assert [r.ok for r in results] == [True, True, True]


def _dated(offset_s: float) -> CheckResult:
    date = format_datetime(datetime.now(timezone.utc) - timedelta(seconds=offset_s), usegmt=True)
    return CheckResult("registry:x", True, INFO, "", 0.0, {"server_date": date})


def test_clock_against_registry_dates() -> None:
    assert checks.check_clock([_dated(0)]).ok
    warn = checks.check_clock([_dated(120)])
    assert (warn.ok, warn.severity) == (False, WARNING)
    bad = checks.check_clock([_dated(-900)])
    assert bad.is_failure
    assert "behind" in bad.detail
    assert checks.check_clock([]).ok


def test_daemon_json_check(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    assert checks.check_daemon_json(path, None).ok
    path.write_text(
        json.dumps({"registry-mirrors": ["https://registry-1.docker.io"], "debug": True})
    )
    warn = checks.check_daemon_json(path, None)
    assert warn.severity == WARNING
    assert "doubles timeouts" in warn.detail
    argv = ("dockerd", "-D")
    conflict = checks.check_daemon_json(path, DaemonProcess(1, argv))
    assert conflict.is_failure
    assert "debug: also given as -D" in conflict.detail
    path.write_text("{oops")
    assert "not valid JSON" in checks.check_daemon_json(path, None).detail


def test_disk_check_reports_free_space(tmp_path: Path) -> None:
    result = checks.check_disk(tmp_path / "not" / "yet")
    assert result.data["free_bytes"] > 0
    assert str(tmp_path) in result.detail


DAEMON_INFO = {
    "ServerVersion": "20.10.24",
    "Driver": "overlay2",
    "LiveRestoreEnabled": True,
    "RegistryConfig": {"Mirrors": ["http://m:5000/"]},
    "DockerRootDir": "/var/lib/docker",
}


def test_daemon_check_reads_facts_from_info() -> None:
    endpoint = DaemonEndpoint("unix:///x.sock", "DOCKER_HOST")
    result = checks.check_daemon(endpoint, 1, read_info=lambda host, timeout: DAEMON_INFO)
    assert result.ok
    assert result.data["mirrors"] == ["http://m:5000"]
    assert "live-restore on" in result.detail


def test_unreachable_daemon_is_one_clear_line(tmp_path: Path) -> None:
    endpoint = DaemonEndpoint(f"unix://{tmp_path}/none.sock", "DOCKER_HOST")
    result = checks.check_daemon(endpoint, 1)
    assert result.is_failure
    assert "does not answer" in result.detail
    assert "\n" not in result.detail


def test_chain_stops_at_the_first_failure() -> None:
    url = closed_port_url()
    results = checks.registry_chain(url, 1, "library/busybox")
    assert [r.ok for r in results] == [True, False, False]
    assert results[1].detail == "connection refused"
    assert results[2].detail.startswith("skipped:")


@needs_registry
def test_chain_against_a_real_registry(tmp_path: Path) -> None:
    with registry(tmp_path) as reg:
        push_image(reg.url)
        results = checks.registry_chain(reg.url, 3, "busybox")
    assert all(r.ok for r in results), [r.detail for r in results]
    assert results[-1].data["manifest_status"] == 200
    assert results[-1].data["server_date"]
    assert checks.check_clock(results).ok


def test_doctor_cli_exit_codes(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DOCKER_HOST": f"unix://{tmp_path}/none.sock",
        "HOME": str(tmp_path),
    }
    daemon_json = str(tmp_path / "daemon.json")
    run = [sys.executable, "-m", "ci_guard", "doctor", "--probe-timeout", "1", "--json",
           "--daemon-config", daemon_json, "--registry", closed_port_url()]  # fmt: skip
    done = subprocess.run(run, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert doc["healthy"] is False
    bad = subprocess.run([*run[:4], "--registry", "nope"], capture_output=True, text=True, env=env,
                         timeout=60, check=False)  # fmt: skip
    assert bad.returncode == 2
    assert "bad mirror URL" in bad.stderr


@pytest.mark.parametrize("driver", ["docker-container", "kubernetes", "remote"])
def test_buildx_drivers_that_ignore_daemon_mirrors(
    monkeypatch: pytest.MonkeyPatch, driver: str
) -> None:
    monkeypatch.setattr(
        daemon_checks, "_buildx_builders", lambda host: [("default", "docker"), ("ci", driver)]
    )
    result = checks.check_buildx("unix:///x.sock")
    assert result.severity == WARNING
    assert f"ci ({driver})" in result.detail
    monkeypatch.setattr(daemon_checks, "_buildx_builders", lambda host: [("default", "docker")])
    assert checks.check_buildx("unix:///x.sock").ok


def test_buildx_missing_says_so_rather_than_a_bare_cli_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from python_on_whales.exceptions import DockerException

    def no_plugin(host: str) -> list[tuple[str, str]]:
        # What docker 20.10 and 28.x print for `buildx ls --format json` with no plugin.
        argv = ["docker", "buildx", "ls", "--format", "json"]
        raise DockerException(argv, 125, b"", b"unknown flag: --format\nSee 'docker --help'.\n")

    monkeypatch.setattr(daemon_checks, "_buildx_builders", no_plugin)
    result = checks.check_buildx("unix:///x.sock")
    assert (result.ok, result.severity) == (True, INFO)
    assert result.detail.startswith("buildx not checked: the docker CLI has no buildx plugin")
    assert result.detail.endswith("(unknown flag: --format)")
