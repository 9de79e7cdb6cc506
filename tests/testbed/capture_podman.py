"""Provoke real podman and buildah failures and save their exact output for the classifier.

`python -m tests.testbed.netns_exec .venv/bin/python -m tests.testbed.capture_podman`
starts two local registries (one plain, one behind htpasswd) and a blackholing fault
proxy on fixed loopback ports, seeds a busybox image with podman, then runs each case
and writes every result to tests/corpus/unseen/b-podman-captured.toml (the file's
rows are split into train and holdout by source like any other unseen row). podman
and buildah keep their images in a private vfs store under a scratch directory, so the
machine's own container storage is never touched. Run by hand, like
`tests.testbed.capture`; `make test` does not run it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.testbed.capture import EXIT_TIMED_OUT, anonymise, run_merged
from tests.testbed.check import netns_interfaces
from tests.testbed.faultproxy import Fault, FaultProxy
from tests.testbed.images import write_rootfs_tar
from tests.testbed.procs import TestbedError
from tests.testbed.registry import Registry, start_registry
from tests.testbed.tomlout import message_toml

OUT_FILE = Path(__file__).resolve().parents[1] / "corpus" / "unseen" / "b-podman-captured.toml"
PLAIN_PORT, BLACKHOLE_PORT, AUTH_PORT = 5300, 5301, 5302
CLOSED_PORT, STEP_CLOSED_PORT = 5399, 5398
AUTH = ("ci", "right-password")
COMMAND_TIMEOUT_S = 120.0
# podman waits on a registry that accepts and never answers with no deadline of its own.
BLACKHOLE_TIMEOUT_S = 150.0
# Context directories are scratch paths of this machine; the corpus shows one fixed path.
SHOWN_CONTEXT = "/tmp/build-ctx"
HEADER = (
    "# Real podman and buildah failure output captured on the ci-guard test bed "
    "(loopback-only network namespace, local docker-registry instances, a blackholing "
    "fault proxy).\n# Written by `python -m tests.testbed.capture_podman`; regenerate, "
    "do not edit.\n"
)
BASE = f"127.0.0.1:{PLAIN_PORT}/library/busybox:latest"


@dataclass(frozen=True)
class Case:
    name: str
    failure_class: str
    how: str
    tool: str  # "podman" or "buildah"
    args: tuple[str, ...] = ()
    containerfile: str | None = None  # a build of this Containerfile, when set
    timeout: float = COMMAND_TIMEOUT_S


def _pull(name: str, klass: str, how: str, ref: str, tool: str = "podman") -> Case:
    return Case(name, klass, how, tool, ("pull", "--tls-verify=false", ref))


def _build(name: str, klass: str, how: str, containerfile: str, tool: str = "podman") -> Case:
    return Case(name, klass, how, tool, containerfile=containerfile)


FROM = f"FROM {BASE}\n"
CASES: tuple[Case, ...] = (
    _pull("pull_unknown_image", "image_not_found",
          "podman pull of a repository the registry does not have",
          f"127.0.0.1:{PLAIN_PORT}/library/nosuchimage:latest"),
    _pull("pull_unknown_tag", "image_not_found", "podman pull of a tag the registry does not have",
          f"127.0.0.1:{PLAIN_PORT}/library/busybox:nosuchtag"),
    _pull("pull_closed_port", "connection_failure",
          "podman pull from a registry port where nothing listens",
          f"127.0.0.1:{CLOSED_PORT}/library/busybox:latest"),
    Case("pull_blackholed", "timeout",
         "podman pull from a registry behind a proxy that accepts and never answers; podman "
         f"printed nothing more and was stopped by the caller's {BLACKHOLE_TIMEOUT_S:g} s deadline",
         "podman", ("pull", "--tls-verify=false",
                    f"127.0.0.1:{BLACKHOLE_PORT}/library/busybox:latest"),
         timeout=BLACKHOLE_TIMEOUT_S),
    Case("pull_hub_no_dns", "dns_failure",
         "podman pull from Docker Hub in a network namespace with no route to any name server",
         "podman", ("pull", "docker.io/library/alpine:3.19")),
    _pull("pull_auth_no_credentials", "auth_denied",
          "podman pull from an htpasswd registry without credentials",
          f"127.0.0.1:{AUTH_PORT}/library/busybox:latest"),
    Case("login_wrong_password", "auth_denied",
         "podman login to an htpasswd registry with a wrong password", "podman",
         ("login", "--tls-verify=false", "-u", AUTH[0], "-p", "wrong-password",
          f"127.0.0.1:{AUTH_PORT}")),
    Case("push_auth_no_credentials", "auth_denied",
         "podman push to an htpasswd registry without credentials", "podman",
         ("push", "--tls-verify=false", BASE, f"127.0.0.1:{AUTH_PORT}/library/pushed:latest")),
    Case("buildah_push_closed_port", "connection_failure",
         "buildah push to a registry port where nothing listens", "buildah",
         ("push", "--tls-verify=false", BASE,
          f"docker://127.0.0.1:{CLOSED_PORT}/library/pushed:latest")),
    _build("build_run_fails", "build_step_failure", "podman build: a RUN step exits 1",
           FROM + "RUN echo building && false"),
    _build("build_command_not_found", "build_step_failure",
           "podman build: a RUN step calls a command the image lacks",
           FROM + "RUN nosuchcommand --version"),
    _build("build_syntax_error", "dockerfile_error",
           "podman build: a Containerfile with an unknown instruction (RUNN)",
           FROM + "RUNN echo hello"),
    _build("buildah_bud_syntax_error", "dockerfile_error",
           "buildah bud: a Containerfile with a COPY without arguments", FROM + "COPY", "buildah"),
    _build("buildah_bud_copy_missing", "build_context_error",
           "buildah bud: COPY of a file not in the build context",
           FROM + "COPY no-such-file.txt /", "buildah"),
    _build("build_from_unknown_image", "image_not_found",
           "podman build FROM a repository the registry does not have",
           f"FROM 127.0.0.1:{PLAIN_PORT}/library/nosuchimage:latest\nRUN true"),
    _build("build_from_closed_port", "connection_failure",
           "podman build FROM a registry port where nothing listens",
           f"FROM 127.0.0.1:{CLOSED_PORT}/library/busybox:latest\nRUN true"),
    _build("build_step_wget_refused", "step_network_failure",
           "podman build: a RUN step downloads from a closed port with busybox wget",
           FROM + f"RUN wget -O /tmp/x http://127.0.0.1:{STEP_CLOSED_PORT}/file.tar.gz"),
    _build("build_step_wget_dns", "dns_failure",
           "podman build: a RUN step downloads from a host it cannot resolve (busybox wget)",
           FROM + "RUN wget -O /tmp/x http://deb.debian.org/debian/dists/bookworm/InRelease"),
)  # fmt: skip


@dataclass
class Bed:
    """Scratch store, registries and the blackhole proxy the cases run against."""

    work: Path
    registries: list[Registry]
    proxy: FaultProxy

    def tool(self, name: str) -> list[str]:
        store = ["--root", str(self.work / "storage"), "--runroot", str(self.work / "run"),
                 "--storage-driver", "vfs"]  # fmt: skip
        if name == "podman":
            return ["podman", *store, "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
        return ["buildah", *store]

    def env(self) -> dict[str, str]:
        # A private auth file: no credential of this machine is read or written.
        return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(self.work),
                "REGISTRY_AUTH_FILE": str(self.work / "auth.json")}  # fmt: skip

    def run(self, *args: str, tool: str = "podman") -> None:
        done = subprocess.run([*self.tool(tool), *args], env=self.env(), capture_output=True,
                              text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            raise TestbedError(f"{tool} {' '.join(args)}: {done.stderr.strip()[-500:]}")

    def stop(self) -> None:
        self.proxy.stop()
        for registry in self.registries:
            registry.stop()


def start_bed(work: Path) -> Bed:
    (work / "auth.json").write_text("{}")
    plain = start_registry(work / "reg", "plain", port=PLAIN_PORT)
    registries = [plain]
    proxy = FaultProxy(("127.0.0.1", PLAIN_PORT), port=BLACKHOLE_PORT, fault=Fault("blackhole"))
    bed = Bed(work, registries, proxy)
    try:
        registries.append(start_registry(work / "reg", "auth", port=AUTH_PORT, auth=AUTH))
        proxy.start()
        _seed(bed)
    except BaseException:
        bed.stop()
        raise
    return bed


def _seed(bed: Bed) -> None:
    """busybox on both registries, then no local image and no credential left."""
    tarball = write_rootfs_tar(bed.work / "rootfs.tar")
    bed.run("import", "--change", 'CMD ["sh"]', "--change", "ENV PATH=/bin:/usr/bin",
            str(tarball), "localhost/base:latest")  # fmt: skip
    bed.run("push", "--tls-verify=false", "localhost/base:latest", BASE)
    auth = f"127.0.0.1:{AUTH_PORT}"
    bed.run("login", "--tls-verify=false", "-u", AUTH[0], "-p", AUTH[1], auth)
    bed.run("push", "--tls-verify=false", "localhost/base:latest", f"{auth}/library/busybox:latest")
    bed.run("logout", auth)
    bed.run("rmi", "-af")
    # Pushes and builds start from the image in the local store, as after a pull.
    bed.run("pull", "--tls-verify=false", BASE)


def argv_of(bed: Bed, case: Case) -> list[str]:
    if case.containerfile is None:
        return [*bed.tool(case.tool), *case.args]
    context = bed.work / "ctx" / case.name
    context.mkdir(parents=True, exist_ok=True)
    (context / "Containerfile").write_text(case.containerfile + "\n")
    verb = "build" if case.tool == "podman" else "bud"
    return [*bed.tool(case.tool), verb, "--tls-verify=false", "--network", "host",
            "-t", f"ci-guard-{case.name.replace('_', '-')}", str(context)]  # fmt: skip


def clean(text: str, bed: Bed) -> str:
    """No path or resolver address of this machine in the corpus."""
    text = anonymise(text)
    for case in CASES:
        text = text.replace(str(bed.work / "ctx" / case.name), SHOWN_CONTEXT)
    return text.replace(str(bed.work), "/tmp/podman-capture")


def versions() -> str:
    def first_version(tool: str) -> str:
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
        words = out.stdout.split()
        return words[2] if len(words) > 2 else "unknown"

    return f"podman {first_version('podman')}, buildah {first_version('buildah')}"


def capture(bed: Bed, cases: Sequence[Case]) -> list[str]:
    tag = f"captured on the ci-guard test bed ({versions()}): "
    entries = []
    for case in cases:
        started = time.monotonic()
        text, code, timed_out = run_merged(argv_of(bed, case), bed.env(), case.timeout)
        print(f"{case.name}: exit {code} in {time.monotonic() - started:.1f}s", file=sys.stderr)
        klass = "timeout" if timed_out else case.failure_class
        timed_out = timed_out or code == EXIT_TIMED_OUT
        entries.append(message_toml(klass, tag + case.how, code, clean(text, bed), timed_out))
    return entries


def unavailable_reason() -> str | None:
    missing = [tool for tool in ("podman", "buildah", "docker-registry") if not shutil.which(tool)]
    if missing:
        return f"needs {', '.join(missing)} (apt-get install -y podman buildah docker-registry)"
    if netns_interfaces() != ["lo"]:
        return "run inside the loopback-only namespace: python -m tests.testbed.netns_exec ..."
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.testbed.capture_podman")
    parser.add_argument("--only", nargs="*", default=[], help="case names to capture")
    parser.add_argument("--out", type=Path, default=OUT_FILE)
    ns = parser.parse_args(argv)
    reason = unavailable_reason()
    if reason is not None:
        print(f"capture_podman: {reason}", file=sys.stderr)
        return 1
    cases = [case for case in CASES if not ns.only or case.name in ns.only]
    with tempfile.TemporaryDirectory(prefix="ci-guard-podman-") as scratch:
        try:
            bed = start_bed(Path(scratch))
        except (TestbedError, OSError, subprocess.SubprocessError) as exc:
            print(f"capture_podman: {exc}", file=sys.stderr)
            return 1
        try:
            entries = capture(bed, cases)
        finally:
            bed.stop()
            # vfs layers may carry read-only directories that TemporaryDirectory cannot drop.
            subprocess.run(["chmod", "-R", "u+w", scratch], check=False)
    ns.out.write_text(HEADER + "\n" + "\n".join(entries))
    print(f"capture_podman: wrote {len(entries)} rows to {ns.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
