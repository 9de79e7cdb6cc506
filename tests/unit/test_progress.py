"""The progress lines, rendered from the events the real run loop logs (tests/logsynth.py
plays runs through it) and from the real preflight result."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from ci_guard import progress
from ci_guard.docker.builder_probe import BuilderProbe
from ci_guard.docker.builder_use import BuilderUse
from ci_guard.doctor.preflight import PreflightResult
from ci_guard.doctor.result import CheckResult, DoctorReport
from ci_guard.mirrors.builder import BuilderResult
from ci_guard.mirrors.rank import RankedMirror
from ci_guard.mirrors.result import MirrorApplyResult
from ci_guard.progress import NORMAL, QUIET, VERBOSE, ProgressRenderer
from ci_guard.records import RemedyResult
from ci_guard.registry.probe import RegistryProbe
from tests.logsynth import simple_run

MIRRORS = [
    {"url": "http://a", "verdict": "healthy", "latency_s": 0.1, "reason": "manifest served"},
    {"url": "http://b", "verdict": "dead", "latency_s": 3.0, "reason": "refused"},
]


def _run_events() -> list[dict[str, Any]]:
    text = simple_run("r1", "2026-11-01", ["daemon_unreachable", "dns_failure", None],
                      remedies=["restart-daemon", "retry"], mirrors=MIRRORS)  # fmt: skip
    return [json.loads(line) for line in text.splitlines()]


def render(events: list[dict[str, Any]], level: int, colour: bool = False) -> list[str]:
    renderer = ProgressRenderer(level, colour=colour)
    return [line for event in events for line in renderer.lines(event)]


def test_a_run_reads_as_one_line_a_step() -> None:
    assert render(_run_events(), NORMAL) == [
        "ci-guard: preflight started (daemon, mirrors of daemon.json, registry-1.docker.io)",
        "ci-guard: preflight finished in 0.0s: removed 1 dead mirror from"
        " /etc/docker/daemon.json, daemon reloaded; checks ok",
        "ci-guard: attempt 1/3 started: docker build .",
        "ci-guard: attempt 1 failed after 10.0s, exit 1: daemon_unreachable (retryable)",
        "ci-guard: waiting 1.0s before attempt 2 (remedy: restart-daemon)",
        "ci-guard: remedy restart-daemon started",
        "ci-guard: remedy restart-daemon ok in 0.0s",
        "ci-guard: attempt 2/3 started: docker build .",
        "ci-guard: attempt 2 failed after 10.0s, exit 1: dns_failure (retryable)",
        "ci-guard: waiting 1.0s before attempt 3 (plain retry)",
        "ci-guard: attempt 3/3 started: docker build .",
        "ci-guard: attempt 3 succeeded in 10.0s",
    ]


def test_verbose_adds_probes_evidence_plans_and_actions() -> None:
    normal = render(_run_events(), NORMAL)
    verbose = render(_run_events(), VERBOSE)
    added = [line for line in verbose if line not in normal]
    assert added == [
        "ci-guard: run r1: up to 3 attempts, ladder retry,restart-daemon,retry",
        "ci-guard:   check dns: ok",
        "ci-guard:   mirror http://a: healthy in 0.10s (manifest served)",
        "ci-guard:   mirror http://b: dead in 3.00s (refused)",
        "ci-guard:   > ERROR: daemon_unreachable seen",
        "ci-guard:   rule: daemon_unreachable.scripted",
        "ci-guard:   plan: restart-daemon: scripted",
        "ci-guard:   done: restart-daemon: done",
        "ci-guard:   > ERROR: dns_failure seen",
        "ci-guard:   rule: dns_failure.scripted",
    ]


def test_quiet_shows_nothing_of_a_run_without_warnings() -> None:
    assert render(_run_events(), QUIET) == []


def _preflight(result: MirrorApplyResult, *, dns_ok: bool = True) -> dict[str, Any]:
    detail = "" if dns_ok else "registry-1.docker.io does not resolve"
    check = CheckResult("dns", ok=dns_ok, severity="error", detail=detail, duration_s=0.01)
    fields = PreflightResult(DoctorReport((check,)), result).as_log_fields()
    level = "info" if fields["healthy"] else "warning"
    return {"event": "preflight.finished", "level": level, **fields}


def _pruned(**changes: Any) -> MirrorApplyResult:
    probes = [RegistryProbe("https://m1", "healthy", "manifest served", 0.1),
              RegistryProbe("http://m2", "dead", "connect: refused", 3.0),
              RegistryProbe("http://m3", "dead", "connect: refused", 3.0)]  # fmt: skip
    ranked = tuple(RankedMirror(n, p.url, p) for n, p in enumerate(probes, 1))
    values: dict[str, Any] = {
        "daemon_config": Path("/etc/docker/daemon.json"),
        "before": ("http://m2", "https://m1", "http://m3"),
        "after": ("https://m1",),
        "changed": True,
        "dry_run": False,
        "ok": True,
        "action": "sighup",
        "ranked": ranked,
        **changes,
    }
    return MirrorApplyResult(**values)


def _restarted_for_buildkit() -> BuilderResult:
    image = "docker.io/library/busybox:latest"
    return BuilderResult(
        "restarted",
        "BuildKit did not resolve the probe image; after the restart it did",
        BuilderUse(True, "Compose v2 builds with BuildKit"),
        probe=BuilderProbe("stalled", image, 6.0),
        restart=RemedyResult("restart-daemon", ok=True, changed=True),
        verify=BuilderProbe("resolved", image, 0.2),
    )


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({}, ": removed 2 dead mirrors from /etc/docker/daemon.json, daemon reloaded; checks ok"),
        ({"action": "restart", "rolled_back": True}, "daemon restarted, rolled back"),
        ({"dry_run": True, "action": "none"}, "would have removed 2 dead mirrors from "),
        # Docker Hub is dropped unprobed: not counted as dead.
        (
            {"before": ("http://m2", "https://m1", "http://m3", "https://registry-1.docker.io")},
            ": removed 2 dead mirrors and Docker Hub from /etc/docker/daemon.json,",
        ),
        # A removed mirror that was not probed leaves the verdict unsaid.
        ({"before": ("http://m2", "https://m1", "http://m9")}, ": removed 2 mirrors from "),
        ({"ok": False, "action": "skipped", "messages": ("no rights",)}, "as they were: no rights"),
        (
            {"builder": _restarted_for_buildkit()},
            "daemon reloaded, then restarted (its BuildKit kept the old mirrors); checks ok",
        ),
    ],
)
def test_preflight_says_what_the_mirror_refresh_did(changes: dict[str, Any], says: str) -> None:
    lines = render([_preflight(_pruned(**changes))], NORMAL)
    assert len(lines) == 1
    assert lines[0].startswith("ci-guard: preflight finished: ")
    assert says in lines[0]


def test_an_unhealthy_preflight_shows_even_when_quiet_and_in_colour() -> None:
    lines = render([_preflight(_pruned(), dns_ok=False)], QUIET, colour=True)
    assert lines == [
        "\x1b[33mci-guard: preflight finished: removed 2 dead mirrors from /etc/docker/daemon.json,"
        " daemon reloaded; unhealthy: dns: registry-1.docker.io does not resolve\x1b[0m"
    ]


def test_a_long_field_is_cut_to_one_short_line() -> None:
    event = {"event": "retry.stopped", "level": "info", "reason": "x" * 500 + "\n" + "y" * 50}
    (line,) = render([event], NORMAL)
    assert len(line) == progress.MAX_LINE - 2
    assert line.endswith("…")
    assert "\n" not in line


def test_unknown_events_and_run_finished_print_nothing() -> None:
    events = [{"event": "run.finished", "level": "error"}, {"event": "new.thing", "level": "info"}]
    assert render(events, VERBOSE) == []


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "colour"),
    [({}, True), ({"NO_COLOR": "1"}, False), ({"NO_COLOR": ""}, True), ({"TERM": "dumb"}, False)],
)
def test_colour_only_on_a_terminal_without_no_color_or_term_dumb(
    env: dict[str, str], colour: bool
) -> None:
    assert progress.wants_colour(_Terminal(), env) is colour
    assert progress.wants_colour(io.StringIO(), env) is False


def test_verbose_lists_each_check_and_mirror_probe_of_the_preflight() -> None:
    lines = render([_preflight(_pruned(), dns_ok=False)], VERBOSE)
    assert lines[1:] == [
        "ci-guard:   check dns: FAILED, registry-1.docker.io does not resolve",
        "ci-guard:   mirror https://m1: healthy in 0.10s (manifest served)",
        "ci-guard:   mirror http://m2: dead in 3.00s (connect: refused)",
        "ci-guard:   mirror http://m3: dead in 3.00s (connect: refused)",
    ]
