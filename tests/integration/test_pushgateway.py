"""Push run metrics to a real Prometheus Pushgateway and read them back over HTTP.

The gateway (Debian package prometheus-pushgateway) runs on 127.0.0.1 with a free
port and its own persistence file. Without the binary the tests are skipped, except
under CI=true, where they fail: CI must run them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ci_guard.errors import CiGuardError
from ci_guard.run.metrics_push import push_metrics
from tests.testbed.procs import free_port, stop_process
from tests.unit.test_metrics import make_run

BINARY = "prometheus-pushgateway"


def _binary() -> str:
    path = shutil.which(BINARY) or shutil.which("pushgateway")
    if path:
        return path
    reason = f"{BINARY} not installed (Debian package prometheus-pushgateway)"
    if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode("utf-8")


def _wait_ready(url: str, proc: subprocess.Popen[bytes], limit: float = 20) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if _get(f"{url}/-/ready")[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[str]:
    binary = _binary()
    for _ in range(3):  # the free port may be taken between probe and bind
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = (tmp_path / "pushgateway.log").open("wb")
        proc = subprocess.Popen(
            [
                binary,
                f"--web.listen-address=127.0.0.1:{port}",
                f"--persistence.file={tmp_path / 'metrics.store'}",
                "--persistence.interval=1s",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            if _wait_ready(url, proc):
                yield url
                return
        finally:
            stop_process(proc)
            log.close()
    pytest.fail("pushgateway did not start: " + (tmp_path / "pushgateway.log").read_text())


def _scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, text = _get(f"{url}/metrics")
    assert status == 200
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("ci_guard_"):
                samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    found = [v for (n, lab), v in samples.items() if n == name and set(labels.items()) <= lab]
    assert len(found) == 1, (name, labels, found)
    return found[0]


def test_push_then_scrape_finds_the_values(gateway: str) -> None:
    group = {"instance": "runner-7", "pipeline": "acme/app/build"}  # '/' goes base64 in the URL
    push_metrics(make_run(), gateway, grouping=group, timeout=5)
    samples = _scrape(gateway)
    where = {"job": "ci_guard", **group}
    assert _value(samples, "ci_guard_run_success", **where) == 1
    assert _value(samples, "ci_guard_run_duration_seconds", **where) == 170.5
    assert _value(samples, "ci_guard_run_attempts", **where) == 4
    assert _value(samples, "ci_guard_retry_wait_seconds_total", **where) == 14.5
    assert (
        _value(samples, "ci_guard_attempt_failures_total", **where, **{"class": "registry_timeout"})
        == 2
    )
    assert _value(samples, "ci_guard_run_info", **where, run_id="run-42", status="succeeded") == 1


def test_a_new_push_replaces_the_group_and_groups_stay_apart(gateway: str) -> None:
    first = {"instance": "runner-1", "pipeline": "app"}
    other = {"instance": "runner-2", "pipeline": "app"}
    push_metrics(make_run(), gateway, grouping=first)
    push_metrics(make_run(), gateway, grouping=other)
    failed = make_run(run_id="run-43", status="failed", exit_code=17, attempts=[], retries=[])
    push_metrics(failed, gateway, grouping=first)
    samples = _scrape(gateway)
    assert _value(samples, "ci_guard_run_success", **first) == 0
    assert _value(samples, "ci_guard_run_exit_code", **first) == 17
    assert _value(samples, "ci_guard_run_success", **other) == 1
    # The failed run had no failure classes: the first push's series are gone, not stale.
    stale = [
        n
        for (n, lab), _ in samples.items()
        if n.startswith("ci_guard_attempt_failures") and set(first.items()) <= lab
    ]
    assert stale == []


def test_push_to_a_stopped_gateway_is_one_line(tmp_path: Path) -> None:
    _binary()
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CiGuardError, match="cannot push metrics") as caught:
        push_metrics(make_run(), url, grouping={"instance": "x"}, timeout=3)
    assert "\n" not in caught.value.message
