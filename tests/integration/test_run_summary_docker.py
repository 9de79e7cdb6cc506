"""The summary of `ci-guard run` names what it changed on a real Docker host: the dead
mirrors preflight or repair-network removed from daemon.json, the file, its backup and
the reload, as the JSON log's `host_changes` say."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.testbed.bed import TestBed
from tests.testbed.client import DOCKER
from tests.testbed.context import build_argv
from tests.testbed.procs import free_port
from tests.testbed.runlog import ci_guard_argv, events_named, forget_daemon_state, read_events

pytestmark = pytest.mark.docker


def dead_mirrors(count: int) -> list[str]:
    """Mirrors on closed loopback ports: they refuse at once."""
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return [f"http://127.0.0.1:{port}" for port in sorted(ports)]


def guard(bed: TestBed, tmp_path: Path, options: list[str], argv: list[str], **env: str) -> tuple[
    subprocess.CompletedProcess[str], list[dict[str, object]]
]:  # fmt: skip
    log = tmp_path / "run.jsonl"
    command = [
        *ci_guard_argv(), "run", "--probe-timeout", "3",
        "--artifacts-dir", str(tmp_path / "artifacts"), "--log-file", str(log),
        *options, "--", *argv,
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, env={**bed.env(buildkit=False), **env}, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
    finally:
        forget_daemon_state(bed.docker_host)
    return done, read_events(log)


def summary(stderr: str) -> list[str]:
    lines = [line for line in stderr.splitlines() if not line.startswith("{")]
    heads = [i for i, line in enumerate(lines) if line.startswith("ci-guard: ")]
    assert heads, stderr
    return lines[heads[-1] :]


def test_summary_names_the_dead_mirrors_preflight_removed_and_the_daemon_json(
    bed: TestBed, tmp_path: Path
) -> None:
    dead = dead_mirrors(6)
    bed.set_mirrors([*dead, bed.mirror.url])
    path = bed.dockerd.config_path

    done, events = guard(bed, tmp_path, [], ["true"])

    assert done.returncode == 0, done.stderr
    assert bed.dockerd.config["registry-mirrors"] == [bed.mirror.url]
    lines = summary(done.stderr)
    (changed,) = [line for line in lines if line.startswith("    daemon.json (preflight): ")]
    assert changed.startswith(f"    daemon.json (preflight): {path}: registry-mirrors removed ")
    assert f"removed {', '.join(dead)}; backup " in changed
    backup = Path(changed.split("; backup ", 1)[1].split(";", 1)[0])
    assert backup.parent == path.parent
    assert backup.exists()  # the backup the summary names holds the old list
    assert all(url in backup.read_text() for url in dead)
    assert "    daemon (preflight): reloaded with SIGHUP to read the new registry-mirrors" in lines
    (finished,) = events_named(events, "run.finished")
    (preflight,) = events_named(events, "preflight.finished")
    assert finished["host_changes"] == preflight["host_changes"]
    assert [c["what"] for c in finished["host_changes"]][:2] == ["daemon.json", "daemon"]


def test_summary_names_the_mirrors_repair_network_removed_after_a_failed_attempt(
    bed: TestBed, build_context: Callable[..., Path], tmp_path: Path
) -> None:
    dead = dead_mirrors(2)
    bed.set_mirrors(dead)
    bed.remove_images(["busybox:latest"])
    context = build_context("FROM busybox:latest\nRUN echo summary > /s.txt\n")
    options = [
        "--no-preflight", "--backoff-initial", "0.2", "--backoff-max", "0.5",
        "--max-attempts", "2", "--ladder", "repair-network", "--mirrors", bed.mirror.url,
        "--daemon-config", str(bed.dockerd.config_path),
    ]  # fmt: skip

    done, events = guard(bed, tmp_path, options, [DOCKER, *build_argv(context, "summary:1")])

    assert done.returncode == 0, done.stderr
    lines = summary(done.stderr)
    source = "repair-network after attempt 1"
    (changed,) = [line for line in lines if line.startswith(f"    daemon.json ({source}): ")]
    assert f"registry-mirrors removed {', '.join(dead)}; added {bed.mirror.url}; backup " in changed
    assert f"    daemon ({source}): reloaded with SIGHUP to read the new registry-mirrors" in lines
    assert any(line.startswith("  time lost to retries: ") for line in lines)
    (remedy,) = events_named(events, "remedy.finished")
    assert remedy["ok"] is True
    (finished,) = events_named(events, "run.finished")
    assert finished["lost_attempts_s"] > 0  # the failed attempt 1 was followed by attempt 2
    assert finished["lost_remedies_s"] > 0
