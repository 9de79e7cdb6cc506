"""Run metrics: the text parses back with prometheus_client, the file is written atomically,
pushes fail with one line."""

from __future__ import annotations

import base64
import http.server
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ci_guard.errors import CiGuardError
from ci_guard.failure import Failure, FailureClass
from ci_guard.records import (
    STOP_SUCCEEDED,
    AttemptRecord,
    RemedyResult,
    RetryRecord,
    RunRecord,
    StopReason,
)
from ci_guard.run.metrics import run_metric_families, run_metrics_text, write_metrics_file
from ci_guard.run.metrics_push import default_grouping, push_metrics
from tests.testbed.procs import free_port


def _failure(cls: FailureClass) -> Failure:
    return Failure(cls, True, f"{cls.value}.test")


def _attempt(n: int, cls: FailureClass | None, duration: float) -> AttemptRecord:
    failure = None if cls is None else _failure(cls)
    return AttemptRecord(n, 0 if cls is None else 1, None, False, duration, "", failure)


def make_run(**overrides: object) -> RunRecord:
    run = RunRecord(
        run_id="run-42",
        command=("docker", "build", "."),
        started_at="2026-11-27T23:40:01.000000Z",
        max_attempts=5,
        attempts=[
            _attempt(1, FailureClass.REGISTRY_TIMEOUT, 30.0),
            _attempt(2, FailureClass.REGISTRY_TIMEOUT, 20.0),
            _attempt(3, FailureClass.DAEMON_UNREACHABLE, 5.0),
            _attempt(4, None, 100.0),
        ],
        retries=[
            RetryRecord(1, 2.0, "retry", "retry", waited_s=2.0),
            RetryRecord(2, 4.5, "retry", "retry", waited_s=4.5),
            RetryRecord(
                3,
                8.0,
                "restart-daemon",
                "restart-daemon",
                RemedyResult("restart-daemon", ok=False, changed=False),
                remedy_s=3.0,
                waited_s=8.0,
            ),
        ],
        preflight={"healthy": True, "checks": []},
        status="succeeded",
        stop=StopReason(STOP_SUCCEEDED, "attempt 4 succeeded"),
        exit_code=0,
        duration_s=170.5,
        ci_platform="gitlab",
    )
    for key, value in overrides.items():
        setattr(run, key, value)
    return run


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_text_parses_back_with_every_value() -> None:
    text = run_metrics_text(make_run())
    samples = _samples(text)
    assert samples[("ci_guard_run_success", ())] == 1
    assert samples[("ci_guard_run_duration_seconds", ())] == 170.5
    assert samples[("ci_guard_run_attempts", ())] == 4
    assert samples[("ci_guard_run_max_attempts", ())] == 5
    assert samples[("ci_guard_run_exit_code", ())] == 0
    assert samples[("ci_guard_attempt_failures_total", (("class", "registry_timeout"),))] == 2
    assert samples[("ci_guard_attempt_failures_total", (("class", "daemon_unreachable"),))] == 1
    assert samples[("ci_guard_retries_total", (("remedy", "retry"),))] == 2
    assert samples[("ci_guard_remedy_failures_total", (("remedy", "restart-daemon"),))] == 1
    assert samples[("ci_guard_retry_wait_seconds_total", ())] == 14.5
    # failed attempts another attempt followed, waits really slept, the remedy's run time
    assert samples[("ci_guard_run_time_lost_seconds", ())] == 55 + 14.5 + 3.0
    assert samples[("ci_guard_preflight_healthy", ())] == 1
    # 2026-11-27T23:40:01Z is 1795822801 s after the epoch; the run lasted 170.5 s.
    assert samples[("ci_guard_last_run_timestamp_seconds", ())] == 1795822801 + 170.5
    info = (
        ("ci_platform", "gitlab"),
        ("failure_class", ""),
        ("run_id", "run-42"),
        ("status", "succeeded"),
        ("stop_reason", "succeeded"),
    )
    assert samples[("ci_guard_run_info", info)] == 1


def test_types_are_declared() -> None:
    kinds = {f.name: f.type for f in text_string_to_metric_families(run_metrics_text(make_run()))}
    assert kinds["ci_guard_run_success"] == "gauge"
    assert kinds["ci_guard_attempt_failures"] == "counter"
    assert kinds["ci_guard_retry_wait_seconds"] == "counter"
    assert all(name.startswith("ci_guard_") for name in kinds)


def test_failed_run_without_failures_or_preflight() -> None:
    run = make_run(
        attempts=[],
        retries=[],
        preflight=None,
        status="timed_out",
        exit_code=124,
        started_at="not a time",
    )
    text = run_metrics_text(run)
    samples = _samples(text)
    assert samples[("ci_guard_run_success", ())] == 0
    assert samples[("ci_guard_run_exit_code", ())] == 124
    assert "ci_guard_attempt_failures" not in text  # no empty families
    assert "ci_guard_preflight_healthy" not in text
    assert samples[("ci_guard_last_run_timestamp_seconds", ())] > 1.7e9


def test_families_are_plain_values() -> None:
    names = [f.name for f in run_metric_families(make_run())]
    assert len(names) == len(set(names))
    assert "run_duration_seconds" in names


def test_label_values_are_escaped() -> None:
    run = make_run(run_id='we"ird\\id\nx', ci_platform="")
    samples = _samples(run_metrics_text(run))
    ids = [dict(labels).get("run_id") for name, labels in samples if name == "ci_guard_run_info"]
    assert ids == ['we"ird\\id\nx']


def test_metrics_file_is_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "ci_guard.prom"
    target.write_text("old\n", "utf-8")
    write_metrics_file(make_run(), target)
    text = target.read_text("utf-8")
    assert _samples(text)[("ci_guard_run_success", ())] == 1
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["ci_guard.prom"]


def test_metrics_file_in_missing_directory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CiGuardError, match="cannot write metrics file") as caught:
        write_metrics_file(make_run(), tmp_path / "nope" / "x.prom")
    assert "\n" not in caught.value.message


def test_default_grouping_from_ci_environment() -> None:
    github = {"RUNNER_NAME": "runner-7", "GITHUB_REPOSITORY": "acme/app", "GITHUB_JOB": "build"}
    assert default_grouping(github) == {"instance": "runner-7", "pipeline": "acme/app/build"}
    gitlab = {"CI_PROJECT_PATH": "grp/app", "CI_JOB_NAME": "docker", "CI_RUNNER_DESCRIPTION": "r"}
    assert default_grouping(gitlab) == {"instance": "r", "pipeline": "grp/app/docker"}
    jenkins = {"JOB_NAME": "app-main", "NODE_NAME": "agent-1"}
    assert default_grouping(jenkins) == {"instance": "agent-1", "pipeline": "app-main"}
    assert default_grouping({}, hostname="box") == {"instance": "box", "pipeline": "local"}


def test_push_to_closed_port_is_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CiGuardError, match="cannot push metrics to") as caught:
        push_metrics(make_run(), url, grouping={"instance": "t"}, timeout=5)
    assert url in caught.value.message
    assert "\n" not in caught.value.message


class _Refuser(http.server.BaseHTTPRequestHandler):
    bodies: list[bytes] = []  # noqa: RUF012 - shared with the test on purpose
    auth: list[str | None] = []  # noqa: RUF012

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.bodies.append(self.rfile.read(length))
        self.auth.append(self.headers.get("Authorization"))
        self.send_response(400)
        self.end_headers()
        self.wfile.write(b"pushed metrics are invalid or inconsistent\n")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def refusing_gateway() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refuser)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_push_refused_by_gateway_is_one_line(refusing_gateway: str) -> None:
    with pytest.raises(
        CiGuardError, match="HTTP 400 Bad Request: pushed metrics are invalid"
    ) as caught:
        push_metrics(make_run(), refusing_gateway, grouping={"instance": "t"})
    assert "\n" not in caught.value.message
    assert b"ci_guard_run_success" in _Refuser.bodies[-1]


def test_credentials_in_the_url_become_basic_auth_and_stay_out_of_errors(
    refusing_gateway: str,
) -> None:
    url = refusing_gateway.replace("http://", "http://ci:s3cr%40t@")
    with pytest.raises(CiGuardError) as caught:
        push_metrics(make_run(), url, grouping={"instance": "t"})
    assert "s3cr" not in caught.value.message
    assert refusing_gateway in caught.value.message
    expected = "Basic " + base64.b64encode(b"ci:s3cr@t").decode()
    assert _Refuser.auth[-1] == expected


def test_empty_job_is_refused() -> None:
    with pytest.raises(CiGuardError, match="job"):
        push_metrics(make_run(), "http://127.0.0.1:9", job="")


def test_missing_client_library_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(CiGuardError, match="prometheus-client"):
        run_metrics_text(make_run())


def test_importing_metrics_does_not_load_the_client() -> None:
    code = "import sys, ci_guard.run.metrics; print('prometheus_client' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"
