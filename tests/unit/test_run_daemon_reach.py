"""The run says once that its daemon is not this host's: from the preflight's fields,
or, without a preflight, from a background decision before the first remedy."""

from __future__ import annotations

import dataclasses
from typing import Any

from ci_guard.config import resolve
from ci_guard.docker import REACH_FIELD
from ci_guard.docker.endpoint import DaemonEndpoint
from ci_guard.docker.reach import decide_reach
from ci_guard.records import RunRecord
from ci_guard.run.daemon_reach import EVENT, DaemonFacts
from ci_guard.run.deps import RunDeps

DIND = decide_reach(
    DaemonEndpoint("tcp://docker:2376", "DOCKER_HOST"), [], None, answers=True
).as_log_fields()
LOCAL = {"endpoint": "unix:///run/d.sock", "local": True, "kind": "local", "reason": "pid 1"}


class Log:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.events.append(("warning", event, fields))


def _run(preflight: dict[str, Any] | None = None) -> RunRecord:
    return RunRecord("r1", ("docker", "build", "."), "2026-12-03T00:00:00Z", 3, preflight=preflight)


def _facts(
    *, preflight: bool, reach: Any = None, ladder: tuple[str, ...] = ("restart-daemon",)
) -> DaemonFacts:
    config = dataclasses.replace(resolve({}, env={}).config, preflight=preflight, ladder=ladder)
    deps = RunDeps(snapshot=None, reach=reach, preflight=(lambda c: {}) if preflight else None)
    return DaemonFacts(config, deps, "tcp://docker:2376")


def test_the_preflights_verdict_is_logged_once_and_kept_in_the_run_record() -> None:
    facts = _facts(preflight=True)
    facts.start()
    run, log = _run({REACH_FIELD: DIND, "healthy": True}), Log()
    for _ in range(3):  # after the preflight, before a remedy, at the end
        facts.note(run, log)
    assert [(level, event) for level, event, _ in log.events] == [("warning", EVENT)]
    fields = log.events[0][2]
    assert fields["kind"] == "other-host"
    assert "--registry-mirror=https://mirror.example" in fields["advice"]
    assert "no daemon.json write, SIGHUP or daemon restart" in fields["detail"]
    assert run.daemon_remote == DIND


def test_a_local_daemon_is_no_event() -> None:
    facts = _facts(preflight=True)
    facts.start()
    run, log = _run({REACH_FIELD: LOCAL}), Log()
    facts.note(run, log)
    assert log.events == []
    assert run.daemon_remote is None


def test_without_preflight_the_background_answer_comes_before_the_first_remedy() -> None:
    asked: list[str | None] = []

    def reach(host: str | None) -> dict[str, Any]:
        asked.append(host)
        return DIND

    facts = _facts(preflight=False, reach=reach)
    facts.start()
    run, log = _run(), Log()
    facts.note(run, log, wait=5.0)
    facts.note(run, log, wait=5.0)
    assert asked == ["tcp://docker:2376"]
    assert [event for _, event, _ in log.events] == [EVENT]
    assert run.daemon_remote == DIND


def test_a_run_that_cannot_change_the_host_does_not_ask() -> None:
    def reach(host: str | None) -> dict[str, Any]:
        raise AssertionError("not asked for a plain-retry ladder")

    facts = _facts(preflight=False, reach=reach, ladder=("retry",))
    facts.start()
    run, log = _run(), Log()
    facts.note(run, log, wait=1.0)
    assert log.events == []
