"""The capture cases through `docker compose build` (Compose v2 on the daemon's BuildKit).

Each failure the legacy path provokes is provoked again through Compose v2, in a
two-service project where a sibling matters: the healthy service is still busy when
the faulty one fails, so its step shows CANCELED and compose reports the failed target.
Hang-type faults (a registry or mirror that accepts TCP and never answers) never end
under BuildKit 20.10: those cases run under a deadline, recorded as a timeout.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tests.testbed.client import DOCKER
from tests.testbed.context import write_compose_project
from tests.testbed.faultproxy import Fault, FaultProxy
from tests.testbed.kill_mid import output_across_a_daemon_kill

if TYPE_CHECKING:
    from tests.testbed.capture import Bench, Captured

Case = tuple[str, str, str, Sequence[str], dict[str, str]]

HANG_DEADLINE_S = 45.0
CLOSED_PORT = 5199
SECOND_DEAD_PORT = 5107
# A sibling long enough to be cut short by the failing service.
SIBLING = "FROM busybox\nRUN echo sibling-started && sleep 8 && echo sibling-done\n"
HANGS = ("compose_v2_from_registry_blackholed", "compose_v2_dead_mirrors_first")
TIMEOUTS = dict.fromkeys(HANGS, HANG_DEADLINE_S)
NOTE = (
    "Compose v2 {version} `docker compose build` on the daemon's BuildKit, two services "
    "(web, a healthy sibling, and app): "
)


def compose_argv(compose_file: Path) -> list[str]:
    """What a CI job runs: no progress flag (plain progress without a terminal)."""
    return [DOCKER, "compose", "--file", str(compose_file), "build"]


def _project(bench: Bench, stem: str, app: str, files: Mapping[str, str] | None = None) -> Path:
    services = {"web": SIBLING, "app": app}
    return write_compose_project(bench.work / f"compose_v2_{stem}", services, files, v2=True)


def version(env: Mapping[str, str]) -> str:
    done = subprocess.run(
        [DOCKER, "compose", "version", "--short"], env=dict(env),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return done.stdout.strip() or "(unknown version)"


def builds(b: Bench) -> Iterator[Case]:
    env = b.bed.env()
    note = NOTE.format(version=version(env))
    up, closed = b.bed.upstream.address, f"127.0.0.1:{CLOSED_PORT}"
    auth = next(r.address for r in b.bed.extra_registries if r.name == "auth")
    projects = {
        "run_step_fails": ("build_step_failure", "app's RUN step exits 3",
                           "FROM busybox\nRUN echo compiling && exit 3\n"),
        "dockerfile_syntax": ("dockerfile_error", "app's Dockerfile has an unknown instruction",
                              "FROMM busybox\nRUN true\n"),
        "copy_missing": ("build_context_error", "app COPYs a file not in its context",
                         "FROM busybox\nCOPY missing.txt /missing.txt\n"),
        "from_unknown_image": ("image_not_found", "app is FROM an image the registry lacks",
                               f"FROM {up}/library/no-such-image:1.0\nRUN true\n"),
        "from_registry_503": ("registry_unavailable", "app is FROM a registry behind a 503 proxy",
                              f"FROM {b.proxy('http503')}/library/busybox\nRUN true\n"),
        "from_registry_429": ("rate_limited", "app is FROM a registry behind a 429 proxy",
                              f"FROM {b.proxy('http429')}/library/busybox\nRUN true\n"),
        "from_registry_refused": ("connection_failure", "app is FROM a registry on a closed port",
                                  f"FROM {closed}/library/busybox\nRUN true\n"),
        "from_registry_auth": ("auth_denied",
                               "app is FROM a registry with htpasswd auth, no docker login",
                               f"FROM {auth}/library/busybox\nRUN true\n"),
        "from_registry_blackholed": ("registry_timeout",
                                     "app is FROM a registry behind a proxy that never answers "
                                     "(BuildKit sets no deadline of its own: the build hangs "
                                     "at load metadata until killed)",
                                     f"FROM {b.proxy('blackhole')}/library/busybox\n"),
        "step_wget_refused": ("step_network_failure",
                              "app's RUN step downloads from a closed port with wget",
                              f"FROM busybox\nRUN wget -O /pkg.tgz http://{closed}/pkg.tgz\n"),
        "step_wget_dns": ("dns_failure", "app's RUN step downloads from a host it cannot resolve",
                          "FROM busybox\nRUN wget -O /pkg.tgz http://deb.debian.org/pkg.tgz\n"),
    }  # fmt: skip
    for stem, (klass, how, dockerfile) in projects.items():
        compose_file = _project(b, stem, dockerfile)
        yield (f"compose_v2_{stem}", klass, note + how, compose_argv(compose_file), env)


def dead_mirrors(b: Bench) -> Iterator[Case]:
    """The old practice's daemon.json: two dead mirrors first, then the healthy mirror.

    dockerd 20.10's BuildKit reads registry-mirrors only at daemon start, so the list
    is put in place with a restart, and the baseline restored with another.
    """
    env = b.bed.env()
    second = FaultProxy(("127.0.0.1", b.bed.mirror.port), port=SECOND_DEAD_PORT,
                        fault=Fault("blackhole")).start()  # fmt: skip
    mirrors = [f"http://{b.proxy('blackhole')}", second.url, b.bed.mirror.url]
    compose_file = _project(b, "dead_mirrors", "FROM alpine:3.19\nRUN true\n")
    b.bed.dockerd.stop()
    b.bed.dockerd.write_config({**b.bed.baseline_config(), "registry-mirrors": mirrors})
    b.bed.dockerd.start()
    try:
        yield ("compose_v2_dead_mirrors_first", "registry_timeout",
               NOTE.format(version=version(env)) + "daemon started with registry-mirrors listing "
               "two mirrors that accept TCP and never answer before a healthy pull-through "
               "mirror; BuildKit tries the first and never moves on, hanging at load metadata "
               "until killed", compose_argv(compose_file), env)  # fmt: skip
    finally:
        second.stop()
        b.bed.dockerd.stop()
        b.bed.dockerd.write_config(b.bed.baseline_config())
        b.bed.dockerd.start()


def disk_full(b: Bench) -> Iterator[Case]:
    env = b.tiny.env()
    for cleanup in (["container", "prune", "-f"], ["builder", "prune", "-af"]):
        subprocess.run([DOCKER, *cleanup], env=env, capture_output=True, check=False)
    subprocess.run([DOCKER, "pull", "busybox"], env=env, capture_output=True, check=True)
    compose_file = _project(
        b, "disk_full", "FROM busybox\nRUN dd if=/dev/zero of=/big bs=1M count=200\n"
    )
    yield ("compose_v2_disk_full", "disk_full",
           NOTE.format(version=version(env)) + f"on a daemon whose data root is an "
           f"{b.tiny.fs.size_mib} MiB ext4 file system, app's RUN step writes 200 MiB",
           compose_argv(compose_file), env)  # fmt: skip


def daemon_stopped(b: Bench) -> Iterator[Case]:
    env = b.bed.env()
    note = NOTE.format(version=version(env))
    compose_file = _project(b, "daemon_stopped", "FROM busybox\n")
    b.bed.dockerd.stop()
    yield ("compose_v2_daemon_stopped", "daemon_unreachable",
           note + "while dockerd is stopped", compose_argv(compose_file), env)  # fmt: skip


CASES = {
    "compose_v2_builds": builds,
    "compose_v2_dead_mirrors": dead_mirrors,
    "compose_v2_disk_full": disk_full,
    "compose_v2_daemon_down": daemon_stopped,
}


def kill_mid_build(b: Bench, make: type[Captured]) -> Captured:
    """SIGKILL dockerd while app's RUN step sleeps and the sibling builds beside it."""
    env = b.bed.env()
    note = NOTE.format(version=version(env))
    compose_file = _project(b, "killed", "FROM busybox\nRUN echo step-started && sleep 60\n")
    text, code = output_across_a_daemon_kill(
        b.bed, compose_argv(compose_file), env, "app's RUN step to start"
    )
    # The client sees only its BuildKit status stream break ("failed to receive status:
    # ... error reading from server: EOF"), the same words a crashed builder gives: the
    # text names a daemon error, whose remedies are those of an unreachable daemon.
    return make(
        "compose_v2_daemon_killed", "daemon_error",
        note + "dockerd killed with SIGKILL while app's RUN step runs (the client reports "
        "the lost BuildKit stream, as for a crashed builder)",
        text, code,
    )  # fmt: skip
