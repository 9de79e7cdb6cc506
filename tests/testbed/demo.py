"""`make demo`: `ci-guard run -- docker compose build` rescues a real build, in a sandbox.

The story, on a private dockerd inside a loopback-only network namespace:
1. the daemon booted with daemon.json as the original practice wrote it: two dead
   mirrors first (TCP proxies that accept and never answer), then a healthy
   pull-through mirror (behind a fault proxy), then registry-1.docker.io;
2. `ci-guard run --daemon-config daemon.json -- docker compose build` builds a
   two-service project with Compose v2 on the daemon's BuildKit; the base images are
   not on the daemon;
3. the preflight prunes the dead mirrors and Docker Hub's name, and brings the new list
   to the builder (BuildKit in dockerd 20.10 reads it only at daemon start);
4. the moment the preflight is logged, the healthy mirror's proxy starts resetting
   connections, so attempt 1 fails on that fault; its class and evidence are shown;
5. once attempt 1 is logged the fault clears; the ladder retries and attempt 2 builds
   both services.
Exit 0 only when exactly that happened; 1 with the reason otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.testbed.bed import TestBed, check_leftovers, start_testbed
from tests.testbed.context import write_compose_project
from tests.testbed.demo_narrate import (
    at,
    digest,
    elapsed,
    head,
    indent,
    say,
    show_attempt,
    show_attempt_started,
    show_builder,
    show_finished,
    show_preflight,
    show_remedy,
    show_retry,
    summary,
)
from tests.testbed.faultproxy import Fault, FaultProxy
from tests.testbed.runlog import (
    Event,
    LogFollower,
    ci_guard_argv,
    events_named,
    forget_daemon_state,
)

HUB = "https://registry-1.docker.io"
IMAGES = ("library/busybox:latest", "library/alpine:3.19")
SERVICES = {
    "web": 'FROM busybox:latest\nRUN echo "web built by ci-guard make demo" > /demo.txt\n',
    "worker": 'FROM alpine:3.19\nRUN echo "worker built by ci-guard make demo" > /demo.txt\n',
}
FAULT_MODE = "reset"
ATTEMPT_TIMEOUT_S = 60
MAX_ATTEMPTS = 3
# Three attempts at their deadline, the waits between them and the preflight.
RUN_TIMEOUT_S = MAX_ATTEMPTS * ATTEMPT_TIMEOUT_S + 60.0


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
    bed = start_testbed(images=IMAGES)
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
    at(f"upstream registry {bed.upstream.url} holding {', '.join(IMAGES)}")
    at(f"pull-through mirror {bed.mirror.url}, reached through fault proxy {box.healthy.url}")
    at(f"dead mirrors {box.dead[0].url} and {box.dead[1].url} (accept TCP, never answer)")
    if not bed.compose_v2:
        raise RuntimeError("Compose v2 is not installed: run `python -m tests.tools compose`")
    return box


def seed_config(box: Sandbox) -> list[str]:
    head(2, "The daemon booted with daemon.json as the original practice wrote it")
    mirrors = [box.dead[0].url, box.dead[1].url, box.healthy.url, HUB]
    daemon = box.bed.dockerd
    daemon.stop()
    daemon.write_config({**daemon.config, "registry-mirrors": mirrors})
    daemon.start()
    notes = ["dead (blackhole)", "dead (blackhole)", "healthy mirror via fault proxy", "Docker Hub"]
    at(f"{daemon.config_path} registry-mirrors (dockerd restarted, so BuildKit has them too):")
    indent(
        [
            f"{i}. {url:<28} {note}"
            for i, (url, note) in enumerate(zip(mirrors, notes, strict=True), 1)
        ]
    )
    box.bed.remove_images()
    box.bed.prune_build_cache()
    at("no image and no build cache on the daemon: the build must pull busybox and alpine")
    return mirrors


@dataclass
class Story:
    """What the log said, as it happened, and the fault switches made."""

    box: Sandbox
    fault_on: bool = False
    fault_off: bool = False
    notes: list[str] = field(default_factory=list)

    def on_event(self, event: Event) -> None:
        handler = _HANDLERS.get(str(event.get("event")))
        if handler is not None:
            handler(self, event)

    # Fault switches first in each handler: they race the run's next network step.
    def preflight(self, event: Event) -> None:
        self.box.healthy.set_fault(FAULT_MODE)
        self.fault_on = True
        show_preflight(event)
        at(f"FAULT: the healthy mirror's proxy now answers every connection with {FAULT_MODE}")

    def attempt_finished(self, event: Event) -> None:
        if event.get("attempt") == 1 and not self.fault_off:
            self.box.healthy.set_fault("pass")
            self.fault_off = True
        show_attempt(event)
        if event.get("attempt") == 1:
            at("FAULT CLEARED: the healthy mirror's proxy forwards again")


def _only(show: Callable[[Event], None]) -> Callable[[Story, Event], None]:
    return lambda _story, event: show(event)


_HANDLERS: dict[str, Callable[[Story, Event], None]] = {
    "preflight.finished": Story.preflight,
    "builder.mirrors": _only(show_builder),
    "attempt.started": _only(show_attempt_started),
    "attempt.finished": Story.attempt_finished,
    "retry.scheduled": _only(show_retry),
    "remedy.finished": _only(show_remedy),
    "run.finished": _only(show_finished),
}


def run_argv(box: Sandbox, log: Path) -> list[str]:
    """The design card's command; the other options only pace the demo and keep records."""
    return [
        *ci_guard_argv(), "run",
        "--daemon-config", str(box.bed.dockerd.config_path),
        "--timeout", str(ATTEMPT_TIMEOUT_S),
        "--max-attempts", str(MAX_ATTEMPTS),
        "--backoff-initial", "2",
        "--probe-timeout", "3",
        "--log-file", str(log),
        "--artifacts-dir", str(box.work / "artifacts"),
        "--", "docker", "compose", "build",
    ]  # fmt: skip


def run_guarded(box: Sandbox) -> tuple[int, Path, Path, Story]:
    head(3, "ci-guard run -- docker compose build; a registry fault strikes after the preflight")
    project = write_compose_project(box.work / "shop", SERVICES, v2=True).parent
    log = box.work / "run.jsonl"
    argv = run_argv(box, log)
    say(f"  {project.name}/compose.yaml: services {', '.join(SERVICES)} (Compose v2, BuildKit)")
    say("  $ cd shop && ci-guard " + " ".join(argv[len(ci_guard_argv()) :]))
    story = Story(box)
    follower = LogFollower(log, story.on_event).start()
    stdout, stderr = box.work / "stdout.txt", box.work / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(argv, cwd=project, env=box.bed.env(), stdout=out, stderr=err)
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


def proof(box: Sandbox) -> list[str]:
    """Both images are there and run: the builds really happened."""
    head(6, "The images the run built")
    problems = []
    for name in SERVICES:
        tag = f"ci-guard-test/{name}:latest"
        done = box.bed.docker("run", "--rm", "--network", "none", tag, "cat", "/demo.txt",
                              check=False)  # fmt: skip
        at(f"docker run --rm {tag} cat /demo.txt -> exit {done.returncode}: {done.stdout.strip()}")
        if done.returncode != 0:
            problems.append(f"the image of {name} does not run: {done.stderr.strip()}")
    return problems


def verdict(code: int, events: list[Event], mirrors: list[str], story: Story) -> list[str]:
    """Why the story did not happen as told (empty when it did)."""
    why = list(story.notes)
    finished = events_named(events, "run.finished")
    attempts = events_named(events, "attempt.finished")
    if code != 0 or not finished or finished[-1].get("status") != "succeeded":
        why.append(f"the run did not succeed (exit {code})")
    first = attempts[0].get("failure_class") if attempts else None
    if len(attempts) < 2 or first is None:
        why.append(f"no failed attempt before success ({len(attempts)} attempt(s))")
    elif first == "timeout" or attempts[0].get("timed_out"):
        why.append(
            "attempt 1 hung until its deadline instead of failing on the injected fault: "
            "the builder still used the dead mirrors"
        )
    preflight = events_named(events, "preflight.finished")
    after = ((preflight[0].get("mirrors") or {}).get("mirrors_after") or []) if preflight else []
    left = [url for url in (mirrors[0], mirrors[1], HUB) if url in after]
    if not preflight or left:
        why.append(f"the preflight did not prune the dead mirrors and Docker Hub (kept {left})")
    if not story.fault_on:
        why.append("the fault was never injected (no preflight.finished event)")
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
    say("ci-guard demo: `ci-guard run -- docker compose build` survives dead mirrors and a fault")
    if os.geteuid() != 0:
        say("demo: needs root (it starts a private dockerd)")
        return 1
    box: Sandbox | None = None
    problems: list[str] = []
    try:
        box = build_sandbox()
        mirrors = seed_config(box)
        code, log, stderr, story = run_guarded(box)
        events = digest(4, log)
        summary(5, stderr)
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
    say(f"== Verdict: OK - dead mirrors pruned, fault survived, both services built "
        f"({elapsed():.0f}s in all)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
