"""Engine and CI families in their producers' words: the runtime's CRI endpoint, dind
start scripts, JVM clients of the engine socket, authorization plugins, mount specs the
engine or runc refuse, a host clock that is behind, and processes killed for no memory.

Each case is written from the producer's own error strings (cri-tools, kubeadm, moby's
authorization middleware and volume parser, runc's config validation, junixsocket,
Testcontainers, apt, gpg, the docker CLI's pull progress), laid out as a log prints it.
"""
# ruff: noqa: E501  (log lines are kept verbatim, unwrapped)

from __future__ import annotations

from ci_guard.classify import classify_text
from ci_guard.failure import FailureClass
from tests.family_cases import family_tests

F = FailureClass

CASES: list[tuple[str, str, FailureClass, str]] = [
    # --- a CRI runtime that does not answer on its endpoint (crictl, kubeadm preflight)
    (
        "crictl-old-connect",
        'time="2021-03-02T10:11:12Z" level=fatal msg="failed to connect: failed to connect, make sure you are running as root and the runtime has been started: context deadline exceeded"',
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "crictl-endpoint-connect",
        "FATA[0002] connect: connect endpoint 'unix:///run/containerd/containerd.sock', make sure you are running as root and the runtime has been started: context deadline exceeded",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "kubeadm-cri-preflight",
        'error execution phase preflight: [preflight] Some fatal errors occurred:\n\t[ERROR CRI]: container runtime is not running: output: time="2023-01-05T08:00:00Z" level=fatal msg="getting status of runtime: rpc error: code = Unavailable desc = connection closed"\n, error: exit status 1',
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    # --- a dind start script that waited for dockerd in vain
    (
        "dind-start-script-gave-up",
        "Waiting for dockerd to start (attempt 30/30)...\nERROR: dockerd was not ready after 30 seconds",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "dind-wait-timed-out",
        "+ timeout 60 sh -c 'until docker info >/dev/null 2>&1; do sleep 1; done'\nTimed out waiting for the Docker daemon",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    # --- JVM clients of the engine socket
    (
        "junixsocket-refused",
        "Caused by: org.newsclub.net.unix.AFUNIXSocketException: Connection refused (socket: /var/run/docker.sock)\n\tat org.newsclub.net.unix.NativeUnixSocket.connect(Native Method)",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "testcontainers-no-docker",
        "java.lang.IllegalStateException: Could not find a valid Docker environment. Please see logs and check configuration\n\tat org.testcontainers.dockerclient.DockerClientProviderStrategy.getFirstValidStrategy(DockerClientProviderStrategy.java:232)",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    # --- an authorization plugin's refusal, even under buildx's boot header
    (
        "authz-plugin-refused-run",
        "docker: Error response from daemon: authorization denied by plugin opa-docker-authz: request rejected by administrative policy.\nSee 'docker run --help'.",
        F.UNKNOWN,
        "daemon-authz-denied",
    ),
    (
        "authz-plugin-refused-buildx-boot",
        "#1 [internal] booting buildkit\n#1 creating container buildx_buildkit_ci0 0.1s done\n#1 ERROR: Error response from daemon: authorization denied by plugin casbin-authz-plugin: the request is not allowed\n------\n > [internal] booting buildkit:\n------",
        F.UNKNOWN,
        "daemon-authz-denied",
    ),
    # --- a volume spec the engine or runc refuses: the compose file's (or -v's) fault
    (
        "engine-invalid-volume-spec",
        "docker: Error response from daemon: invalid volume specification: 'C:\\\\work\\\\app:app:rw'.\nSee 'docker run --help'.",
        F.DOCKERFILE_ERROR,
        "compose-file-invalid",
    ),
    (
        "engine-mount-path-relative",
        "Error response from daemon: invalid mount config for type \"volume\": invalid mount path: 'data' mount path must be absolute",
        F.DOCKERFILE_ERROR,
        "compose-file-invalid",
    ),
    (
        "runc-mount-destination-relative",
        "Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: invalid mount &{Source:/srv/cache Destination:cache Device:bind Flags:20480}: mount destination cache not absolute: unknown",
        F.DOCKERFILE_ERROR,
        "compose-file-invalid",
    ),
    # --- a host clock that is behind: no build bug, no network fault
    (
        "apt-release-not-valid-yet",
        "Step 3/7 : RUN apt-get update\n ---> Running in 0d9f1c2b3a4e\nGet:1 http://deb.debian.org/debian bookworm InRelease [151 kB]\nE: Release file for http://deb.debian.org/debian/dists/bookworm/InRelease is not valid yet (invalid for another 6h 1min 22s). Updates for this repository will not be applied.\nThe command '/bin/sh -c apt-get update' returned a non-zero code: 100",
        F.UNKNOWN,
        "host-clock-skew",
    ),
    (
        "gpg-key-from-the-future",
        "gpg: key 7EA0A9C3F273FCD8: key 7EA0A9C3F273FCD8 was created 3604 seconds in the future (time warp or clock problem)\ngpg: Total number processed: 1",
        F.UNKNOWN,
        "host-clock-skew",
    ),
    # --- a pull cut short while a layer was still extracting
    (
        "pull-cut-mid-extract",
        "latest: Pulling from library/postgres\n7a6db449b51b: Pull complete\n1b3e2a5d6c7f: Extracting [=========>                                         ]  12.2MB/64.1MB\nunexpected EOF",
        F.CONNECTION_FAILURE,
        "pull-download-unfinished",
    ),
    # --- runc's own process setup (an SELinux label written under /proc/.../attr/exec)
    (
        "runc-set-process-label",
        "container_linux.go:380: starting container process caused: set process label: write /proc/thread-self/attr/exec: invalid argument",
        F.DAEMON_ERROR,
        "oci-runtime-create",
    ),
    # --- the user namespace's ID map refused (newuidmap/newgidmap, rootlesskit)
    (
        "newgidmap-range-refused",
        "newgidmap: gid range [1-65537) -> [100000-165536) not allowed",
        F.DAEMON_ERROR,
        "daemon-runtime-setup",
    ),
    (
        "rootlesskit-id-map",
        "[rootlesskit:parent] error: failed to setup UID/GID map: newuidmap 4242 [0 1000 1 1 100000 65536] failed: newuidmap: write to uid_map failed: Operation not permitted",
        F.DAEMON_ERROR,
        "daemon-runtime-setup",
    ),
    (
        "podman-no-subuid-range",
        'Error: cannot find UID/GID for user runner: no subuid ranges found for user "runner" in /etc/subuid',
        F.DAEMON_ERROR,
        "daemon-runtime-setup",
    ),
    # --- systemd could not start the engine's unit; dockerd's own reason wins when shown
    (
        "systemd-unit-entered-failed-state",
        "Jun 05 08:00:01 build-7 systemd[1]: Unit docker.service entered failed state.",
        F.DAEMON_UNREACHABLE,
        "daemon-unit-failed",
    ),
    (
        "systemd-docker-job-failed",
        'Job for docker.service failed because the control process exited with error code.\nSee "systemctl status docker.service" and "journalctl -xe" for details.',
        F.DAEMON_UNREACHABLE,
        "daemon-unit-failed",
    ),
    (
        "systemd-docker-start-limit",
        "Mar 02 10:11:12 ci-01 systemd[1]: docker.service: Start request repeated too quickly.\nMar 02 10:11:12 ci-01 systemd[1]: docker.service: Failed with result 'exit-code'.",
        F.DAEMON_UNREACHABLE,
        "daemon-unit-failed",
    ),
    (
        "systemd-docker-with-its-reason",
        "Mar 02 10:11:12 ci-01 dockerd[812]: failed to start daemon: error initializing graphdriver: driver not supported\nMar 02 10:11:12 ci-01 systemd[1]: Failed to start Docker Application Container Engine.",
        F.DAEMON_ERROR,
        "dockerd-start-failed",
    ),
    # --- the engine answering with nothing but an OS error
    (
        "daemon-bare-busy",
        "docker: Error response from daemon: Device or resource busy.",
        F.DAEMON_ERROR,
        "daemon-bare-errno",
    ),
    (
        "daemon-rust-os-error",
        "Error response from daemon: Input/output error (os error 5)",
        F.DAEMON_ERROR,
        "daemon-bare-errno",
    ),
    # --- BuildKit's client session missing: its deadline is no registry's
    (
        "buildkit-no-session",
        "failed to solve: failed to read dockerfile: no active session for 7lq2m0x9c1: context deadline exceeded",
        F.UNKNOWN,
        "buildkit-session-missing",
    ),
    # --- an engine's seccomp profile refusing clone3 to a newer glibc
    (
        "seccomp-curl-resolver-thread",
        "curl: (6) getaddrinfo() thread failed to start",
        F.UNKNOWN,
        "seccomp-blocks-threads",
    ),
    (
        "seccomp-openblas-threads",
        "OpenBLAS blas_thread_init: pthread_create failed for thread 1 of 4: Operation not permitted",
        F.UNKNOWN,
        "seccomp-blocks-threads",
    ),
    # --- buildx's booting vertex in plain progress, and Jenkins' docker client deadline
    (
        "buildx-boot-plain-exit",
        "#1 [internal] booting buildkit\n#1 creating container buildx_buildkit_ci0 9.8s done\n#1 ERROR: exit code 1",
        F.DAEMON_ERROR,
        "buildx-boot-failed",
    ),
    (
        "jenkins-docker-client-timeout",
        "$ docker inspect -f . maven:3-eclipse-temurin-17\nERROR: Timeout after 180 seconds",
        F.TIMEOUT,
        "ci-step-deadline",
    ),
]


test_family_is_named_by_its_cause, test_case_ids_are_distinct = family_tests(CASES)


def test_a_finished_extraction_leaves_a_bare_eof_to_the_daemon() -> None:
    """A full bar ("[=====>]") is a layer that extracted; only a cut-short one blames the pull."""
    text = "a1b2c3d4e5f6: Extracting [==================================================>]  64.1MB/64.1MB\nunexpected EOF"
    assert classify_text(text).failure_class is F.DAEMON_UNREACHABLE


def test_a_credential_helper_killed_is_not_out_of_memory() -> None:
    """A credential helper killed by its caller's deadline is no process the OOM killer chose."""
    text = "Error: failed to refresh docker credentials: signal: killed"
    assert classify_text(text).failure_class is not F.OOM_KILLED


def test_a_compiler_killed_is_still_out_of_memory() -> None:
    text = "go build example.com/app/internal/db: /usr/local/go/pkg/tool/linux_amd64/compile: signal: killed"
    assert classify_text(text).failure_class is F.OOM_KILLED
