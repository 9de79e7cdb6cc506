"""`make demo`: ci-guard rescues a real build from a registry fault, in a sandbox.

The story, on a private dockerd inside a loopback-only network namespace:
1. the daemon is configured the way the original practice did it: two dead mirrors
   first (TCP proxies that accept and never answer), then a healthy pull-through
   mirror (behind a fault proxy), and registry-1.docker.io listed as a mirror;
2. `ci-guard run` wraps `docker build` of a Dockerfile FROM busybox (not on the daemon);
3. its preflight prunes the dead mirrors and Docker Hub's name from daemon.json;
4. the moment the preflight is logged, the healthy mirror's proxy starts resetting
   connections, so attempt 1 fails; the failure is classified with its evidence;
5. once attempt 1 is logged the fault clears; the ladder's repair-network remedy
   re-probes and re-applies the mirrors, and attempt 2 builds the image.
Exit 0 only when exactly that happened; 1 with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.testbed.bed import TestBed, check_leftovers, start_testbed
from tests.testbed.client import DOCKER
from tests.testbed.context import build_argv, write_build_context
from tests.testbed.faultproxy import Fault, FaultProxy
from tests.testbed.runlog import (
    Event,
    LogFollower,
    ci_guard_argv,
    events_named,
    forget_daemon_state,
    read_events,
)

HUB = "https://registry-1.docker.io"
IMAGE = "library/busybox:latest"
TAG = "ci-guard-demo:latest"
FAULT_MODE = "reset"
RUN_TIMEOUT_S = 150.0
DOCKERFILE = """\
FROM busybox:latest
RUN echo "built by ci-guard make demo" > /demo.txt && cat /demo.txt
"""
_T0 = time.monotonic()


# -- narration -------------------------------------------------------------------------------


def say(text: str = "") -> None:
    print(text, flush=True)


def head(number: int, title: str) -> None:
    say()
    say(f"== {number}. {title}")


def at(text: str) -> None:
    say(f"  [{time.monotonic() - _T0:6.1f}s] {text}")


def indent(lines: list[str], prefix: str = "      ") -> None:
    for line in lines:
        say(prefix + line)


# -- the sandbox -----------------------------------------------------------------------------


@dataclass
class Sandbox:
    bed: TestBed
    dead: list[FaultProxy]
    healthy: FaultProxy
    work: Path
    proxies: list[FaultProxy] = field(default_factory=list)

    def stop(self) -> None:
        for proxy in self.proxies:
            proxy.stop()
        forget_daemon_state(self.bed.docker_host)
        self.bed.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def build_sandbox() -> Sandbox:
    head(1, "Sandbox: a private dockerd, registries and fault proxies (loopback only)")
    bed = start_testbed(images=(IMAGE,))
    work = Path(tempfile.mkdtemp(prefix="cig-demo-"))
    box = Sandbox(bed, [], FaultProxy(("127.0.0.1", bed.mirror.port)), work)
    try:
        box.proxies.append(box.healthy.start())
        for _ in range(2):
            # A blackhole never forwards: the target does not matter.
            dead = FaultProxy(("127.0.0.1", bed.mirror.port), fault=Fault("blackhole"))
            box.proxies.append(dead.start())
            box.dead.append(dead)
    except BaseException:
        box.stop()
        raise
    at(f"dockerd {bed.docker_host} (data under {bed.root})")
    at(f"upstream registry {bed.upstream.url} holding {IMAGE}")
    at(f"pull-through mirror {bed.mirror.url}, reached through fault proxy {box.healthy.url}")
    at(f"dead mirrors {box.dead[0].url} and {box.dead[1].url} (accept TCP, never answer)")
    return box


def seed_config(box: Sandbox) -> list[str]:
    head(2, "Daemon configured like the original practice")
    mirrors = [box.dead[0].url, box.dead[1].url, box.healthy.url, HUB]
    box.bed.set_mirrors(mirrors)
    notes = ["dead (blackhole)", "dead (blackhole)", "healthy mirror via fault proxy", "Docker Hub"]
    at(f"{box.bed.dockerd.config_path} registry-mirrors (reloaded with SIGHUP):")
    indent(
        [
            f"{i}. {url:<28} {note}"
            for i, (url, note) in enumerate(zip(mirrors, notes, strict=True), 1)
        ]
    )
    box.bed.docker("image", "rm", "--force", "busybox:latest", TAG, check=False)
    box.bed.prune_build_cache()
    gone = box.bed.docker("image", "inspect", "busybox:latest", check=False).returncode != 0
    at(f"busybox removed from the daemon, so the build must pull it: {gone}")
    return mirrors


# -- the run ---------------------------------------------------------------------------------


@dataclass
class Story:
    """What the log said, as it happened, and the fault switches made."""

    box: Sandbox
    fault_on_at: float | None = None
    fault_off_at: float | None = None
    daemon_log_offset: int = 0
    notes: list[str] = field(default_factory=list)

    def on_event(self, event: Event) -> None:
        name = event.get("event")
        handler = _HANDLERS.get(str(name))
        if handler is not None:
            handler(self, event)

    # Fault switches first in each handler: they race the run's next network step.
    def preflight(self, event: Event) -> None:
        self.box.healthy.set_fault(FAULT_MODE)
        self.fault_on_at = time.monotonic()
        self.daemon_log_offset = len(self.box.bed.dockerd.log_text())
        show_preflight(event)
        at(f"FAULT: the healthy mirror's proxy now answers every connection with {FAULT_MODE}")

    def attempt_finished(self, event: Event) -> None:
        if event.get("attempt") == 1 and self.fault_off_at is None:
            self.box.healthy.set_fault("pass")
            self.fault_off_at = time.monotonic()
        show_attempt(event)
        if self.fault_off_at is not None and event.get("attempt") == 1:
            self.show_daemon_side()
            at("FAULT CLEARED: the healthy mirror's proxy forwards again")

    def show_daemon_side(self) -> None:
        """dockerd's own account of the failed pull: the mirror first, then Docker Hub."""
        text = self.box.bed.dockerd.log_text()[self.daemon_log_offset :]
        lines = [_daemon_msg(line) for line in text.splitlines() if _DAEMON_MARK in line]
        if lines:
            say("      dockerd's log meanwhile:")
            indent([f"dockerd> {line}" for line in lines[:3]])


_DAEMON_MARK = "Attempting next endpoint"


def _daemon_msg(line: str) -> str:
    start = line.find('msg="')
    return line[start + 5 : -1].replace('\\"', '"') if start >= 0 else line


def show_preflight(event: Event) -> None:
    at(f"preflight.finished (healthy={event.get('healthy')})")
    for check in event.get("checks") or []:
        detail = str(check.get("detail"))
        if not check.get("ok") and not detail.startswith("skipped"):
            say(f"      check {check.get('name')}: {detail}")
    mirrors = event.get("mirrors") or {}
    for ranked in mirrors.get("ranked") or []:
        say(
            f"      probe {ranked.get('url'):<24} {ranked.get('verdict'):<8} {ranked.get('reason')}"
        )
    for message in mirrors.get("messages") or []:
        say(f"      {message}")
    before, after = mirrors.get("mirrors_before") or [], mirrors.get("mirrors_after") or []
    pruned = [url for url in before if url not in after]
    at(f"preflight pruned {pruned}; registry-mirrors now {after} ({mirrors.get('action')})")


def show_attempt(event: Event) -> None:
    number = event.get("attempt")
    if event.get("failure_class") is None:
        at(f"attempt {number} SUCCEEDED in {event.get('duration_s')}s (exit {event['exit_code']})")
        return
    retry = "retryable" if event.get("retryable") else "not retryable"
    at(
        f"attempt {number} FAILED in {event.get('duration_s')}s: exit {event.get('exit_code')}, "
        f"class {event.get('failure_class')} ({retry}, rule {event.get('rule')})"
    )
    indent([f"evidence> {line}" for line in (event.get("evidence") or [])[:3]])


def show_retry(_story: Story, event: Event) -> None:
    at(
        f"retry scheduled after attempt {event.get('attempt')}: stage {event.get('stage')}, "
        f"remedy {event.get('remedy')}, wait {event.get('delay_s')}s"
    )


def show_remedy(_story: Story, event: Event) -> None:
    ok = "ok" if event.get("ok") else f"NOT ok: {event.get('detail')}"
    at(f"remedy {event.get('remedy')} finished ({ok}, changed={event.get('changed')}):")
    indent([f"- {action}" for action in event.get("actions") or []])


def show_attempt_started(_story: Story, event: Event) -> None:
    at(f"attempt {event.get('attempt')}/{event.get('max_attempts')} started")


def show_finished(_story: Story, event: Event) -> None:
    at(
        f"run.finished: {event.get('status')} after {event.get('attempts')} attempt(s), "
        f"exit {event.get('exit_code')}, {event.get('duration_s')}s"
    )


_HANDLERS: dict[str, Callable[[Story, Event], None]] = {
    "preflight.finished": Story.preflight,
    "attempt.started": show_attempt_started,
    "attempt.finished": Story.attempt_finished,
    "retry.scheduled": show_retry,
    "remedy.finished": show_remedy,
    "run.finished": show_finished,
}


def run_argv(box: Sandbox, log: Path, context: Path) -> list[str]:
    return [
        *ci_guard_argv(), "run",
        "--mirrors", box.healthy.url,
        "--daemon-config", str(box.bed.dockerd.config_path),
        "--ladder", "retry,repair-network,repair-network",
        "--backoff-initial", "2",
        "--probe-timeout", "3",
        "--log-file", str(log),
        "--artifacts-dir", str(box.work / "artifacts"),
        "--", DOCKER, *build_argv(context, TAG),
    ]  # fmt: skip


def run_guarded(box: Sandbox) -> tuple[int, Path, Path, Story]:
    head(3, "ci-guard run wraps docker build; a registry fault strikes after the preflight")
    context = write_build_context(box.work / "context", DOCKERFILE)
    log = box.work / "run.jsonl"
    argv = run_argv(box, log, context)
    say("  $ ci-guard " + " ".join(argv[len(ci_guard_argv()) :]))
    say(f"    (ci-guard run, DOCKER_HOST={box.bed.docker_host}, {DOCKER} first on PATH)")
    story = Story(box)
    follower = LogFollower(log, story.on_event).start()
    stdout, stderr = box.work / "stdout.txt", box.work / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(argv, env=box.bed.env(), stdout=out, stderr=err)
        try:
            code = proc.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
            story.notes.append(f"ci-guard run did not end within {RUN_TIMEOUT_S:g}s")
    follower.stop()
    box.healthy.set_fault("pass")
    story.notes += follower.errors
    at(f"ci-guard exited {code}")
    return code, log, stderr, story


# -- digest, summary, verdict -------------------------------------------------------------------

_DIGEST_KEYS = {
    "run.started": ("command", "ladder", "max_attempts"),
    "preflight.finished": ("healthy",),
    "attempt.finished": ("attempt", "exit_code", "failure_class", "retryable", "evidence"),
    "retry.scheduled": ("attempt", "delay_s", "stage", "remedy"),
    "remedy.finished": ("remedy", "ok", "changed", "actions", "mirrors_after"),
    "run.finished": ("status", "attempts", "exit_code", "duration_s"),
}


_WRAP: dict[str, Any] = {"break_on_hyphens": False, "break_long_words": False}


def digest(log: Path) -> list[Event]:
    head(4, f"Digest of the JSON log ({log.name}, key fields of key events)")
    events = read_events(log)
    for event in events:
        keys = _DIGEST_KEYS.get(str(event.get("event")))
        if keys is None:
            continue
        fields: dict[str, Any] = {"event": event["event"]}
        fields.update({k: event[k] for k in keys if k in event})
        if event["event"] == "preflight.finished":
            mirrors = event.get("mirrors") or {}
            fields["mirrors_before"] = mirrors.get("mirrors_before")
            fields["mirrors_after"] = mirrors.get("mirrors_after")
        if isinstance(fields.get("evidence"), list):
            fields["evidence"] = [line[:110] for line in fields["evidence"][:2]]
        text = json.dumps(fields, ensure_ascii=False)
        say(textwrap.fill(text, 100, initial_indent="  ", subsequent_indent="      ", **_WRAP))
    say(f"  ({len(events)} lines in all: {', '.join(_event_counts(events))})")
    return events


def _event_counts(events: list[Event]) -> list[str]:
    counts: dict[str, int] = {}
    for event in events:
        counts[str(event.get("event"))] = counts.get(str(event.get("event")), 0) + 1
    return [f"{name} x{count}" for name, count in counts.items()]


def summary(stderr: Path) -> None:
    head(5, "ci-guard's own summary (end of its stderr)")
    lines = stderr.read_text(errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("ci-guard: ")]
    indent(lines[starts[-1] :] if starts else lines[-6:], "  ")


def proof(box: Sandbox) -> list[str]:
    """The image is there and runs: the build really happened."""
    head(6, "The image the run built")
    done = box.bed.docker("run", "--rm", "--network", "none", TAG, "cat", "/demo.txt", check=False)
    at(f"docker run --rm {TAG} cat /demo.txt -> exit {done.returncode}: {done.stdout.strip()}")
    return [] if done.returncode == 0 else [f"the built image does not run: {done.stderr}"]


def verdict(code: int, events: list[Event], mirrors: list[str], story: Story) -> list[str]:
    """Why the story did not happen as told (empty when it did)."""
    why = list(story.notes)
    finished = events_named(events, "run.finished")
    attempts = events_named(events, "attempt.finished")
    if code != 0 or not finished or finished[-1].get("status") != "succeeded":
        why.append(f"the run did not succeed (exit {code})")
    if len(attempts) < 2:
        why.append(f"the run succeeded on attempt {len(attempts)}, not after a failed one")
    elif attempts[0].get("failure_class") is None:
        why.append("attempt 1 did not fail: the fault was not injected in time")
    preflight = events_named(events, "preflight.finished")
    after = ((preflight[0].get("mirrors") or {}).get("mirrors_after") or []) if preflight else []
    left = [url for url in (mirrors[0], mirrors[1], HUB) if url in after]
    if not preflight or left:
        why.append(f"the preflight did not prune the dead mirrors and Docker Hub (kept {left})")
    remedies = [e.get("remedy") for e in events_named(events, "remedy.finished")]
    if "repair-network" not in remedies:
        why.append(f"repair-network did not run (remedies: {remedies})")
    return why


def cleanup(box: Sandbox) -> list[str]:
    head(7, "Cleanup")
    box.stop()
    try:
        check_leftovers(box.bed)
    except Exception as exc:
        return [str(exc)]
    at(f"no process or mount of {box.bed.root} left; directory removed")
    return []


def main() -> int:
    say("ci-guard demo: a build that survives dead mirrors and a registry fault")
    if os.geteuid() != 0:
        say("demo: needs root (it starts a private dockerd)")
        return 1
    box: Sandbox | None = None
    problems: list[str] = []
    try:
        box = build_sandbox()
        mirrors = seed_config(box)
        code, log, stderr, story = run_guarded(box)
        events = digest(log)
        summary(stderr)
        problems = verdict(code, events, mirrors, story)
        if code == 0:
            problems += proof(box)
    except Exception as exc:
        problems.append(f"the demo broke: {type(exc).__name__}: {exc}")
    finally:
        if box is not None:
            problems += cleanup(box)
    say()
    if problems:
        say("== Verdict: the story did NOT happen as told:")
        indent([f"- {p}" for p in problems], "  ")
        return 1
    say(f"== Verdict: OK - dead mirrors pruned, fault survived, image built ({_elapsed()})")
    return 0


def _elapsed() -> str:
    return f"{time.monotonic() - _T0:.0f}s in all"


if __name__ == "__main__":
    sys.exit(main())
