"""The preflight's progress lines from a real run on the test bed's dockerd: one line
when it starts, one saying what it did to the mirrors, each probe with --verbose."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.testbed.bed import TestBed
from tests.testbed.procs import free_port
from tests.testbed.runlog import ci_guard_argv, events_named, forget_daemon_state, read_events

pytestmark = pytest.mark.docker


def test_preflight_lines_say_what_it_did_and_the_log_is_where_the_summary_says(
    bed: TestBed, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    bed.set_mirrors([dead, bed.mirror.url])
    argv = [
        *ci_guard_argv(), "run", "--verbose", "--probe-timeout", "3",
        "--artifacts-dir", str(tmp_path / "artifacts"), "--", "true",
    ]  # fmt: skip
    try:
        done = subprocess.run(argv, env=bed.env(), capture_output=True, text=True, check=False)
    finally:
        forget_daemon_state(bed.docker_host)
        bed.set_mirrors([bed.mirror.url])
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert not [line for line in lines if line.startswith("{")]
    assert max(len(line) for line in lines) <= 200
    assert (
        "ci-guard: preflight started (daemon, mirrors of daemon.json, registry-1.docker.io)"
        in lines
    )
    (finished,) = [line for line in lines if line.startswith("ci-guard: preflight finished in ")]
    config = bed.dockerd.config_path
    assert f"removed 1 dead mirror from {config}, daemon reloaded" in finished, finished
    assert any(re.match(rf"ci-guard:   mirror {dead}: dead in ", line) for line in lines), lines
    healthy = f"ci-guard:   mirror {bed.mirror.url}: healthy in "
    assert any(line.startswith(healthy) for line in lines), lines
    (named,) = [line.split("log: ", 1)[1] for line in lines if line.startswith("  log: ")]
    events = read_events(Path(named))
    (preflight,) = events_named(events, "preflight.finished")
    assert preflight["mirrors"]["mirrors_after"] == [bed.mirror.url]
    assert events_named(events, "preflight.started")[0]["registries"]
    report = subprocess.run(
        [*ci_guard_argv(), "report", "--json", str(tmp_path / "artifacts")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["runs"] == 1
