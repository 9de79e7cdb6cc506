"""Provoke real failures on the test bed and save their exact output for the classifier.

`python -m tests.testbed.netns_exec python -m tests.testbed.capture [--only NAME...]`
starts a test bed (fixed loopback ports, so the texts stay readable across runs),
runs each case (a pull, a build with either builder, a Compose v1 build, a Compose v2
build: tests/testbed/capture_compose.py) against a real fault and writes
tests/corpus/captured/<name>.toml: one `[[message]]` entry with the keys of
tests/corpus/messages.toml (class, source, exit_code, text). The text is the command's
stdout and stderr as one stream, exactly as printed. `--check` also runs ci-guard's
classifier on each text and lists the cases it names differently.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.testbed.bed import (
    TestBed,
    TinyDaemon,
    start_auth_registry,
    start_testbed,
    start_tiny_daemon,
)
from tests.testbed.check import bed_unavailable_reason
from tests.testbed.client import DOCKER
from tests.testbed.context import build_argv, write_build_context, write_compose_project
from tests.testbed.faultproxy import Fault, FaultProxy
from tests.testbed.kill_mid import output_across_a_daemon_kill
from tests.testbed.procs import TestbedError
from tests.testbed.tomlout import message_toml

OUT_DIR = Path(__file__).resolve().parents[1] / "corpus" / "captured"
CAPTURE_ROOT = Path("/tmp/ci-guard-capture")
UPSTREAM_PORT, MIRROR_PORT, AUTH_PORT = 5000, 5001, 5002
# One fault proxy per mode in front of the upstream registry, on fixed ports.
PROXY_PORTS = {
    "blackhole": 5101,
    "refuse": 5102,
    "reset": 5103,
    "http503": 5104,
    "http429": 5105,
    "truncate": 5106,
}
CLOSED_PORT = 5199
COMMAND_TIMEOUT_S = 240.0
# BuildKit 20.10 waits on a registry that never answers with no deadline of its own:
# such a build ends only by the caller's deadline, which is what this case records.
CASE_TIMEOUTS = {"build_from_registry_blackholed_buildkit": 60.0}
EXIT_TIMED_OUT = 124


@dataclass(frozen=True)
class Captured:
    name: str
    failure_class: str
    how: str
    text: str
    exit_code: int
    timed_out: bool = False


@dataclass
class Bench:
    """Everything a case needs: the bed, a tiny-disk daemon, proxies, a work directory."""

    bed: TestBed
    tiny: TinyDaemon
    proxies: dict[str, FaultProxy]
    work: Path
    versions: str
    results: list[Captured] = field(default_factory=list)

    def proxy(self, mode: str) -> str:
        return self.proxies[mode].address

    def context(self, name: str, dockerfile: str, files: dict[str, str] | None = None) -> Path:
        return write_build_context(self.work / name, dockerfile, files)

    def fresh(self) -> None:
        """No image, no build cache, baseline daemon: the next pull is a real one."""
        self.bed.reset()
        self.bed.remove_images()
        self.bed.prune_build_cache()


def run_merged(
    argv: Sequence[str], env: dict[str, str], timeout: float = COMMAND_TIMEOUT_S
) -> tuple[str, int, bool]:
    """Run argv with stdout and stderr as one stream; (text, exit code, timed out).

    At the deadline the command is killed and its output so far kept, exit code 124.
    """
    try:
        done = subprocess.run(
            list(argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or ""
        return out.decode(errors="replace") if isinstance(out, bytes) else out, EXIT_TIMED_OUT, True
    return done.stdout, done.returncode, False


CaseFn = Callable[[Bench], Iterator[tuple[str, str, str, Sequence[str], dict[str, str]]]]
CASES: dict[str, CaseFn] = {}


def case(fn: CaseFn) -> CaseFn:
    CASES[fn.__name__] = fn
    return fn


def _kinds(bench: Bench) -> Iterator[tuple[str, bool, dict[str, str]]]:
    for suffix, buildkit in (("legacy", False), ("buildkit", True)):
        yield suffix, buildkit, bench.bed.env(buildkit)


# -- pulls ----------------------------------------------------------------------------------
# Each case yields (name, class, how, argv, env); argv runs after bench.fresh().
@case
def pulls(b: Bench) -> Iterator[tuple[str, str, str, Sequence[str], dict[str, str]]]:
    env = b.bed.env()
    image = "library/busybox:latest"
    yield ("pull_blackholed_registry", "registry_timeout",
           "docker pull from a registry behind a proxy that accepts and never answers",
           [DOCKER, "pull", f"{b.proxy('blackhole')}/{image}"], env)  # fmt: skip
    yield ("pull_connection_refused", "connection_failure",
           "docker pull from a closed port",
           [DOCKER, "pull", f"127.0.0.1:{CLOSED_PORT}/{image}"], env)  # fmt: skip
    yield ("pull_connection_reset", "connection_failure",
           "docker pull through a proxy that answers every request with a TCP RST",
           [DOCKER, "pull", f"{b.proxy('reset')}/{image}"], env)  # fmt: skip
    yield ("pull_truncated", "connection_failure",
           "docker pull through a proxy that closes each connection after 300 bytes",
           [DOCKER, "pull", f"{b.proxy('truncate')}/{image}"], env)  # fmt: skip
    yield ("pull_http_503", "registry_unavailable",
           "docker pull through a proxy answering 503 Service Unavailable",
           [DOCKER, "pull", f"{b.proxy('http503')}/{image}"], env)  # fmt: skip
    yield ("pull_http_429", "rate_limited",
           "docker pull through a proxy answering 429 with Retry-After and RateLimit headers",
           [DOCKER, "pull", f"{b.proxy('http429')}/{image}"], env)  # fmt: skip
    yield ("pull_manifest_unknown", "image_not_found",
           "docker pull of a repository the registry does not have",
           [DOCKER, "pull", f"{b.bed.upstream.address}/library/no-such-image:1"], env)  # fmt: skip
    yield ("pull_tag_unknown", "image_not_found",
           "docker pull of a tag the registry does not have",
           [DOCKER, "pull", f"{b.bed.upstream.address}/library/busybox:9.9.9"], env)  # fmt: skip
    yield ("pull_auth_no_credentials", "auth_denied",
           "docker pull from an htpasswd registry without docker login",
           [DOCKER, "pull", f"127.0.0.1:{AUTH_PORT}/{image}"], env)  # fmt: skip
    yield ("run_unknown_image_hub_unreachable", "dns_failure",
           "docker run of a Hub name that the pull-through mirror does not have; the "
           "fallback to Docker Hub then fails to resolve it",
           [DOCKER, "run", "--rm", "--network", "none", "no-such-image-ci-guard"], env)  # fmt: skip


@case
def login(b: Bench) -> Iterator[tuple[str, str, str, Sequence[str], dict[str, str]]]:
    yield ("login_wrong_password", "auth_denied",
           "docker login to an htpasswd registry with a wrong password",
           [DOCKER, "login", "-u", "ci-guard", "-p", "wrong-password", f"127.0.0.1:{AUTH_PORT}"],
           b.bed.env())  # fmt: skip


@case
def hub_fallback(b: Bench) -> Iterator[tuple[str, str, str, Sequence[str], dict[str, str]]]:
    env = b.bed.env()
    b.bed.set_mirrors([])
    yield ("pull_hub_unreachable", "dns_failure",
           "docker pull busybox with no mirror: Docker Hub cannot be resolved or reached",
           [DOCKER, "pull", "busybox"], env)  # fmt: skip
    b.bed.set_mirrors([f"http://{b.proxy('blackhole')}"])
    yield ("pull_blackholed_mirror", "dns_failure",
           "docker pull busybox with a blackholed mirror as the only mirror: 15 s on the "
           "mirror, then the Hub fallback fails",
           [DOCKER, "pull", "busybox"], env)  # fmt: skip


# -- builds ----------------------------------------------------------------------------------
@case
def builds(b: Bench) -> Iterator[tuple[str, str, str, Sequence[str], dict[str, str]]]:
    up = b.bed.upstream.address
    contexts = {
        "run_step_fails": ("build_step_failure", "a RUN step exits 3",
                           "FROM busybox\nRUN echo compiling && exit 3\n", None),
        "dockerfile_syntax": ("dockerfile_error", "a Dockerfile with an unknown instruction",
                              "FROMM busybox\nRUN true\n", None),
        "copy_missing": ("build_context_error", "COPY of a file not in the build context",
                         "FROM busybox\nCOPY missing.txt /missing.txt\n", None),
        "from_unknown_image": ("image_not_found", "FROM an image the registry does not have",
                               f"FROM {up}/library/no-such-image:1.0\nRUN true\n", None),
        "from_registry_503": ("registry_unavailable", "FROM a registry behind a 503 proxy",
                              f"FROM {b.proxy('http503')}/library/busybox\nRUN true\n", None),
        "from_registry_429": ("rate_limited", "FROM a registry behind a 429 proxy",
                              f"FROM {b.proxy('http429')}/library/busybox\nRUN true\n", None),
        "from_registry_blackholed": ("registry_timeout",
                                     "FROM a registry behind a proxy that never answers",
                                     f"FROM {b.proxy('blackhole')}/library/busybox\n", None),
        "from_registry_refused": ("connection_failure", "FROM a registry on a closed port",
                                  f"FROM 127.0.0.1:{CLOSED_PORT}/library/busybox\n", None),
        "step_wget_refused": ("step_network_failure",
                              "a RUN step downloads from a closed port with wget",
                              f"FROM busybox\nRUN wget -O /pkg.tgz http://127.0.0.1:{CLOSED_PORT}/pkg.tgz\n",
                              None),
        "step_wget_dns": ("dns_failure", "a RUN step downloads from a host it cannot resolve",
                          "FROM busybox\nRUN wget -O /pkg.tgz http://deb.debian.org/pkg.tgz\n",
                          None),
    }  # fmt: skip
    for stem, (klass, how, dockerfile, files) in contexts.items():
        path = b.context(stem, dockerfile, files)
        for suffix, buildkit, env in _kinds(b):
            builder = "BuildKit (DOCKER_BUILDKIT=1)" if buildkit else "the legacy builder"
            yield (f"build_{stem}_{suffix}", klass, f"docker build with {builder}: {how}",
                   [DOCKER, *build_argv(path)], env)  # fmt: skip


@case
def disk_full(b: Bench) -> Iterator[tuple[str, str, str, Sequence[str], dict[str, str]]]:
    path = b.context("disk_full", "FROM busybox\nRUN dd if=/dev/zero of=/big bs=1M count=200\n")
    for suffix, buildkit in (("legacy", False), ("buildkit", True)):
        env = b.tiny.env(buildkit)
        for cleanup in (["container", "prune", "-f"], ["builder", "prune", "-af"]):
            subprocess.run([DOCKER, *cleanup], env=env, capture_output=True, check=False)
        subprocess.run([DOCKER, "pull", "busybox"], env=env, capture_output=True, check=True)
        builder = "BuildKit" if buildkit else "the legacy builder"
        yield (f"build_disk_full_{suffix}", "disk_full",
               f"docker build with {builder} on a daemon whose data root is an "
               f"{b.tiny.fs.size_mib} MiB ext4 file system: a RUN step writes 200 MiB",
               [DOCKER, *build_argv(path)], env)  # fmt: skip


@case
def compose(b: Bench) -> Iterator[tuple[str, str, str, Sequence[str], dict[str, str]]]:
    env = b.bed.env()
    up = b.bed.upstream.address
    projects = {
        "step_fails": ("build_step_failure", "a service's RUN step exits 2",
                       {"web": "FROM busybox\nRUN echo ok\n",
                        "worker": "FROM busybox\nRUN echo building && exit 2\n"}),
        "unknown_image": ("image_not_found", "FROM an image the registry does not have",
                          {"app": f"FROM {up}/library/no-such-image:1.0\n"}),
        "registry_503": ("registry_unavailable", "FROM a registry behind a 503 proxy",
                         {"app": f"FROM {b.proxy('http503')}/library/busybox\n"}),
    }  # fmt: skip
    for stem, (klass, how, services) in projects.items():
        compose_file = write_compose_project(b.work / f"compose_{stem}", services)
        yield (f"compose_v1_{stem}", klass, f"docker-compose 1.29 build: {how}",
               ["docker-compose", "-f", str(compose_file), "build"], env)  # fmt: skip


@case
def daemon_down(b: Bench) -> Iterator[tuple[str, str, str, Sequence[str], dict[str, str]]]:
    path = b.context("daemon_down", "FROM busybox\nRUN true\n")
    compose_file = write_compose_project(b.work / "compose_daemon_down", {"app": "FROM busybox\n"})
    b.bed.dockerd.stop()
    for suffix, _buildkit, env in _kinds(b):
        yield (f"build_daemon_stopped_{suffix}", "daemon_unreachable",
               "docker build while dockerd is stopped",
               [DOCKER, *build_argv(path)], env)  # fmt: skip
    yield ("compose_v1_daemon_stopped", "daemon_unreachable",
           "docker-compose build while dockerd is stopped",
           ["docker-compose", "-f", str(compose_file), "build"], b.bed.env())  # fmt: skip


def kill_mid_build(b: Bench, buildkit: bool) -> Captured:
    """SIGKILL dockerd while a RUN step sleeps, as a daemon crash would."""
    path = b.context("killed", "FROM busybox\nRUN echo step-started && sleep 60\n")
    text, code = output_across_a_daemon_kill(
        b.bed, [DOCKER, *build_argv(path)], b.bed.env(buildkit), "the RUN step to start"
    )
    builder = "BuildKit" if buildkit else "the legacy builder"
    return Captured(
        f"build_daemon_killed_{'buildkit' if buildkit else 'legacy'}",
        "daemon_unreachable",
        f"docker build with {builder}: dockerd killed with SIGKILL while a RUN step runs",
        text,
        code,
    )


# -- running and writing ----------------------------------------------------------------------
def start_bench() -> Bench:
    shutil.rmtree(CAPTURE_ROOT, ignore_errors=True)
    CAPTURE_ROOT.mkdir(parents=True)
    bed = start_testbed(CAPTURE_ROOT / "bed", ports=(UPSTREAM_PORT, MIRROR_PORT))
    proxies: dict[str, FaultProxy] = {}
    tiny: TinyDaemon | None = None
    try:
        start_auth_registry(bed, port=AUTH_PORT)
        target = ("127.0.0.1", bed.upstream.port)
        for mode, port in PROXY_PORTS.items():
            fault = Fault(mode, truncate_after=300) if mode == "truncate" else Fault(mode)
            proxies[mode] = FaultProxy(target, port=port, fault=fault).start()
        tiny = start_tiny_daemon(bed)
    except BaseException:
        for proxy in proxies.values():
            proxy.stop()
        bed.stop()
        raise
    return Bench(bed, tiny, proxies, CAPTURE_ROOT / "work", _versions(bed))


def stop_bench(bench: Bench) -> None:
    for proxy in bench.proxies.values():
        proxy.stop()
    bench.tiny.stop()
    bench.bed.stop()
    shutil.rmtree(CAPTURE_ROOT, ignore_errors=True)


def _versions(bed: TestBed) -> str:
    server = bed.docker("version", "--format", "{{.Server.Version}}").stdout.strip()
    return f"dockerd {server}, docker-registry 2.8, docker-compose 1.29"


def _run_case(
    name: str, klass: str, how: str, argv: Sequence[str], env: dict[str, str]
) -> Captured:
    from tests.testbed.capture_compose import TIMEOUTS

    limit = {**CASE_TIMEOUTS, **TIMEOUTS}.get(name, COMMAND_TIMEOUT_S)
    started = time.monotonic()
    text, code, timed_out = run_merged(argv, env, limit)
    print(f"{name}: exit {code} in {time.monotonic() - started:.1f}s", file=sys.stderr)
    if timed_out:
        return Captured(
            name, "timeout", f"{how}; killed at a {limit:g} s deadline", text, code, True
        )
    return Captured(name, klass, how, text, code)


def capture(bench: Bench, names: Sequence[str]) -> list[Captured]:
    from tests.testbed import capture_compose

    results = []
    for group in (*CASES.values(), *capture_compose.CASES.values()):
        bench.fresh()
        for name, klass, how, argv, env in group(bench):
            if names and name not in names:
                continue
            if bench.bed.dockerd.ping():
                bench.bed.remove_images()
            results.append(_run_case(name, klass, how, argv, env))
        bench.bed.reset()
    for buildkit in (False, True):
        name = f"build_daemon_killed_{'buildkit' if buildkit else 'legacy'}"
        if not names or name in names:
            bench.fresh()
            results.append(kill_mid_build(bench, buildkit))
            print(f"{name}: exit {results[-1].exit_code}", file=sys.stderr)
    if not names or "compose_v2_daemon_killed" in names:
        bench.fresh()
        results.append(capture_compose.kill_mid_build(bench, Captured))
        print(f"compose_v2_daemon_killed: exit {results[-1].exit_code}", file=sys.stderr)
    return results


_RESOLVER = re.compile(r"(?<=lookup )(\S+) on [0-9a-f.:]+:53: dial udp [0-9a-f.:]+:53")


def anonymise(text: str) -> str:
    """The capturing machine's resolver address becomes a documentation address."""
    return _RESOLVER.sub(r"\1 on 192.0.2.53:53: dial udp 192.0.2.53:53", text)


def write_case(result: Captured, versions: str, out_dir: Path) -> Path:
    source = f"captured on the ci-guard test bed ({versions}): {result.how}"
    path = out_dir / f"{result.name}.toml"
    path.write_text(
        "# Real output captured by `python -m tests.testbed.capture`; regenerate, do not edit.\n"
        + message_toml(
            result.failure_class, source, result.exit_code, anonymise(result.text), result.timed_out
        )
    )
    return path


def check(results: Sequence[Captured]) -> list[str]:
    """Cases that ci-guard's classifier names differently from the expected class."""
    from ci_guard.classify.classifier import classify_text

    wrong = []
    for result in results:
        got = classify_text(result.text, result.exit_code, timed_out=result.timed_out)
        if got.failure_class.value != result.failure_class:
            wrong.append(
                f"{result.name}: expected {result.failure_class}, got {got.failure_class.value}"
            )
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.testbed.capture")
    parser.add_argument("--only", nargs="*", default=[], help="case names to capture")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--check", action="store_true", help="run the classifier on each text")
    ns = parser.parse_args(argv)
    reason = bed_unavailable_reason()
    if reason is not None:
        print(f"capture: {reason}", file=sys.stderr)
        return 1
    ns.out.mkdir(parents=True, exist_ok=True)
    bench = start_bench()
    try:
        results = capture(bench, ns.only)
    except (TestbedError, subprocess.SubprocessError) as exc:
        print(f"capture: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_bench(bench)
    for result in results:
        write_case(result, bench.versions, ns.out)
    print(f"capture: wrote {len(results)} cases to {ns.out}", file=sys.stderr)
    if ns.check:
        wrong = check(results)
        for line in wrong:
            print(f"classifier disagrees: {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
