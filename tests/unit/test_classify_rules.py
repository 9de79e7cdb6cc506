"""rules.toml: validation, coverage of the classes, and one example line per rule."""
# ruff: noqa: E501  (build-output lines are kept verbatim, unwrapped)

from __future__ import annotations

import re
from importlib import resources

import pytest

from ci_guard.classify import RulesError, classify_text, load_rules
from ci_guard.classify.classifier import scan
from ci_guard.classify.rules import TIERS, parse_rules_text
from ci_guard.failure import FailureClass

# One typical line per rule (tool output as printed); the corpus holds cited ones.
EXAMPLES: dict[str, str] = {
    "qemu-emulation-crash": "qemu: uncaught target signal 4 (Illegal instruction) - core dumped",
    "buildkit-session-missing": "ERROR: failed to solve: no active session for q8w1e2r3t4: context deadline exceeded",
    "seccomp-blocks-threads": "fatal: unable to access 'https://github.com/acme/app.git/': getaddrinfo() thread failed to start",
    "plain-http-answer": 'Get "https://registry.lan:5000/v2/": http: server gave HTTP response to HTTPS client',
    "daemon-bare-errno": "docker: Error response from daemon: File exists (os error 17).",
    "daemon-unit-failed": "systemd[1]: Failed to start Docker Application Container Engine.",
    "oom-exit-137": 'ERROR: process "/bin/sh -c make -j8" did not complete successfully: exit code: 137',
    "oom-killed-line": "Killed",
    "out-of-memory": "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
    "x509-untrusted": "x509: certificate signed by unknown authority",
    "pull-access-denied": "Error response from daemon: pull access denied for nope, repository does "
    "not exist or may require 'docker login'",
    "manifest-unknown": "manifest for alpine:9.99 not found: manifest unknown: manifest unknown",
    "proxy-upstream-timeout": "[ERROR] [/pkg/reg/adapter/native/adapter.go:126]: failed to ping "
    "registry https://registry-1.docker.io: Get https://registry-1.docker.io/v2/: dial tcp "
    "34.205.13.154:443: i/o timeout",
    "proxy-upstream-unhealthy": "[ERROR] [/server/middleware/repoproxy/proxy.go:240]: current "
    "registry is unhealthy, regID:2, Name:Docker Hub, Status: unhealthy",
    "registry-unauthorized": "unauthorized: authentication required",
    "short-name-unresolved": "Error: short-name resolution enforced but cannot prompt without a TTY",
    "kaniko-unpack-conflict": "error building image: error building stage: failed to get filesystem "
    "from image: mkdir /usr/lib/terminfo: file exists",
    "apt-package-gone": "E: Failed to fetch http://security.ubuntu.com/ubuntu/pool/main/c/curl/"
    "libcurl3-gnutls_7.68.0-1ubuntu2.2_amd64.deb  404  Not Found [IP: 91.189.88.152 80]",
    "step-download-refused": "2018-10-30 01:49:41 ERROR 403: Forbidden.",
    "step-command-missing": "sh: 1: webpack: not found",
    "pip-no-matching-distribution": "ERROR: No matching distribution found for cloud-init==20.4",
    "gpg-keyserver-network": "gpg: keyserver receive failed: Cannot assign requested address",
    "push-stream-eof": "5e868bdcb028: Layer already exists",
    "registry-blob-unknown": "error from registry: blob unknown to registry - sha256:ddf74a63f7d8",
    "composer-network": "curl error 28 while downloading https://repo.packagist.org/packages.json: "
    "Operation timed out after 10004 milliseconds",
    "dockerfile-parse": "dockerfile parse error on line 3: unknown instruction: RUNN",
    "compose-file-invalid": "yaml: line 7: did not find expected key",
    "copy-source-missing": 'failed to compute cache key: "/app.jar" not found: not found',
    "dockerfile-missing": "unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
    "lstat /src/Dockerfile: no such file or directory",
    "step-exec-missing": "OCI runtime create failed: runc create failed: unable to start container "
    'process: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown',
    "no-space-left": "write /var/lib/docker/tmp/GetImageBlob1: no space left on device",
    "compose-http-timeout": "ERROR: An HTTP request took too long to complete. Retry with --verbose.",
    "daemon-socket-permission": "permission denied while trying to connect to the Docker daemon socket "
    "at unix:///var/run/docker.sock",
    "daemon-not-running": "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
    "Is the docker daemon running?",
    "daemon-authz-denied": "docker: Error response from daemon: authorization denied by plugin "
    "opa-docker-authz: request rejected by administrative policy.",
    "host-clock-skew": "E: Release file for http://deb.debian.org/debian/dists/bookworm/InRelease is "
    "not valid yet (invalid for another 3h 12min 5s). Updates for this repository will not be applied.",
    "engine-ssh-network": 'Get "http://docker.example.com/v1.47/version": command [ssh -T -- build1 '
    "docker system dial-stdio] has exited with exit status 255, make sure the URL is valid, and "
    "Docker 18.09 or later is installed on the remote host: stderr=ssh: connect to host build1 "
    "port 22: No route to host",
    "dockerd-start-failed": "failed to start daemon: pid file found, ensure docker is not running "
    "or delete /var/run/docker.pid",
    "daemon-stream-eof": "unexpected EOF",
    "ecr-token-endpoint-timeout": 'Read timeout on endpoint URL: "https://api.ecr.eu-west-1.amazonaws.com/"',
    "ecr-token-endpoint-connection": 'Could not connect to the endpoint URL: "https://api.ecr.eu-west-1.amazonaws.com/"',
    "jvm-build-network": "> Could not GET 'https://repo.maven.apache.org/maven2/a/b/1/b-1.pom'. "
    "Received status code 504 from server: Gateway Time-out",
    "apt-dns": "Temporary failure resolving 'deb.debian.org'",
    "go-dns-lookup": "dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: no such host",
    "node-dns": "npm ERR! request to https://registry.npmjs.org/x failed, reason: getaddrinfo "
    "EAI_AGAIN registry.npmjs.org",
    "rate-limited": "toomanyrequests: You have reached your pull rate limit.",
    "pip-network": "pip._vendor.urllib3.exceptions.ReadTimeoutError: HTTPSConnectionPool("
    "host='files.pythonhosted.org', port=443): Read timed out.",
    "npm-network": "npm ERR! code ECONNRESET",
    "node-network": "Error: connect ETIMEDOUT 104.16.24.35:443",
    "yarn-network": "info There appears to be trouble with your network connection. Retrying...",
    "apk-network": "ERROR: http://dl-cdn.alpinelinux.org/alpine/v3.19/main: temporary error "
    "(try again later)",
    "apt-network": "E: Failed to fetch http://deb.debian.org/debian/pool/main/c/curl/curl.deb  "
    "Connection timed out [IP: 151.101.2.132 80]",
    "go-module-network": 'go: example.com/m@v1.0.0: Get "https://proxy.golang.org/example.com/m/@v/'
    'v1.0.0.mod": dial tcp 142.250.1.1:443: i/o timeout',
    "curl-wget-network": "curl: (28) Failed to connect to example.com port 443 after 130000 ms: "
    "Timeout was reached",
    "git-network": "fatal: unable to access 'https://github.com/o/r.git/': Failed to connect to "
    "github.com port 443: Connection timed out",
    "cargo-network": "warning: spurious network error (2 tries remaining): [7] Couldn't connect to server",
    "yum-release-gone": "YumRepo Error: All mirror URLs are not using ftp, http[s] or file.",
    "yum-network": "Error: Failed to download metadata for repo 'appstream': Cannot download "
    "repomd.xml",
    "registry-5xx": "received unexpected HTTP status: 502 Bad Gateway",
    "tls-handshake-timeout": 'Get "https://registry-1.docker.io/v2/": net/http: TLS handshake timeout',
    "client-timeout": 'Get "https://registry-1.docker.io/v2/": net/http: request canceled while '
    "waiting for connection (Client.Timeout exceeded while awaiting headers)",
    "oci-runtime-create": "docker: Error response from daemon: failed to create task for container: "
    "failed to create shim task: OCI runtime create failed: runc create failed: unable to apply "
    "cgroup configuration: unknown.",
    "daemon-shim": 'failed to start shim: exec: "containerd-shim": executable file not found in $PATH',
    "runtime-host-path": "Error: crun: write `/sys/fs/cgroup/cgroup.subtree_control`: "
    "Operation not permitted",
    "layer-download-network": 'level=error msg="Download failed, retrying: unexpected EOF"',
    "daemon-storage": "failed to register layer: error creating overlay mount to /var/lib/docker/"
    "overlay2/abc/merged: invalid argument",
    "buildkit-crashed": "ERROR: rpc error: code = Unavailable desc = error reading from server: EOF",
    "ci-platform-deadline": "The job running on runner GitHub Actions 3 has exceeded the maximum "
    "execution time of 360 minutes.",
    "io-timeout": 'failed to do request: Head "https://ghcr.io/v2/o/i/manifests/1": dial tcp '
    "140.82.1.1:443: i/o timeout",
    "connection-reset": "read tcp 172.17.0.2:40602->54.231.120.227:443: read: connection reset by peer",
    "connection-refused": 'Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: '
    "connection refused",
    "compose-pull-warning": " ! web Warning pull access denied for app-web, repository does not exist",
    "local-image-missing": "Error response from daemon: No such image: app-web:latest",
    "container-vanished": "Error response from daemon: No such container: 1cfc32f626eb",
    "buildkit-load-metadata": "=> ERROR [internal] load metadata for docker.io/library/node:20   30.0s",
    "failed-to-do-request": 'failed to do request: Head "https://example.invalid/v2/x/manifests/1"',
    "step-nonzero-exit": "The command '/bin/sh -c make' returned a non-zero code: 2",
    "ci-operation-canceled": "Error: The operation was canceled.",
    "context-canceled": "failed to solve: Canceled: context canceled",
    "compose-service-failed": "ERROR: Service 'api' failed to build : Build failed",
    "gem-nuget-network": "error NU1301: Unable to load the service index for source "
    "https://api.nuget.org/v3/index.json.",
    "daemon-runtime-setup": "Error response from daemon: failed to create endpoint web on network "
    "bridge: failed to add the host (veth1a2b3c4) <=> sandbox (veth5d6e7f8) pair interfaces: "
    "operation not supported.",
    "step-package-unavailable": "ERROR: unable to select packages:",
    "add-url-network": "ADD failed: failed to GET https://example.com/tool.tgz with status 503 "
    "Service Unavailable",
    "ci-step-deadline": "Cancelling nested steps due to timeout",
    "ci-timeout-line": "TIMEOUT",
    "dockerfile-parse-failed": "Error response from daemon: failed to parse Dockerfile: a bad line",
    "dockerfile-structure": "Error response from daemon: the Dockerfile (Dockerfile) cannot be empty",
    "dockerfile-empty-run": "STEP 2/3: RUN",
    "docker-cli-usage": "docker: unknown command: docker compse",
    "go-compile-error": "./cmd/server/main.go:27:2: undefined: config",
    "hex-network": "Request failed (:timeout)",
    "other-fetch-network": "error: could not download file from 'https://static.rust-lang.org/dist/"
    "channel-rust-stable.toml.sha256' to '/root/.rustup/tmp/a1b2_file'",
    "step-build-tool-failed": "src/main.c:12:10: fatal error: openssl/ssl.h: No such file or directory",
    "step-repository-unusable": "W: GPG error: http://repo.example.org/debian bookworm InRelease: The "
    "following signatures couldn't be verified because the public key is not available: "
    "NO_PUBKEY 3B4FE6ACC0B21F32",
    "ci-runner-system-failure": "ERROR: Job failed (system failure): unable to upgrade connection: "
    'container not found ("build")',
    "registry-access-refused": "unauthorized: unauthorized to access repository: library/app, "
    "action: push: unauthorized to access repository: library/app, action: push",
    "git-remote-refused": "git@github.com: Permission denied (publickey).",
    "containerd-content-missing": "ctr: content digest sha256:"
    "0692f38991d53a0c28679148f99de26a44d630fda984b41f63c5e19f839d15a6: not found",
    "layer-transfer-retrying": "a3ed95caeb02: Retrying in 10 seconds",
    "builder-panic": "github.com/containers/buildah.(*Executor).Build(0xc000488000, 0x2)",
    "desktop-engine-lost": "Resyncer volumes: while watching docker events: unexpected EOF",
    "ci-dind-service-down": "Cannot link to a non running container: "
    "/runner-1a2b3c4d-project-7-concurrent-0-docker-0 AS /runner-1a2b3c4d-project-7-concurrent-0-"
    "docker-0-wait-for-service/service",
    "buildkit-run-step-error": "ERROR [stage-1 4/9] RUN make install",
    "registry-bare-denied": "denied",
    "local-image-pulled": "Error: initializing source docker://localhost/app:latest: pinging container "
    'registry localhost: Get "https://localhost/v2/": dial tcp 127.0.0.1:443: connect: connection refused',
    "gem-fetch-refused": "bad response Not Found 404 (https://rubygems.org/gems/gone-0.1.gem)",
    "libcurl-timeout": "Operation timed out after 30001 milliseconds with 0 out of 0 bytes received",
    "ci-runner-shutdown": "##[error]The agent has received a shutdown signal. This can happen when "
    "the agent service is stopped, or a manually started agent is canceled.",
    "registry-endpoints-unreachable": "Could not reach any registry endpoint",
    "go-toolchain-error": "/src/go.mod:3: invalid go version '1.22.1': must match format 1.23",
    "build-tool-fatal": "make: *** No rule to make target 'install'.  Stop.",
    "toolchain-refused": "Error: error:0308010C:digital envelope routines::unsupported",
    "npm-internal-crash": "npm ERR! Exit handler never called!",
    "ci-runner-lost": "The self-hosted runner: build-07 lost communication with the server. Verify "
    "the machine is running and has a healthy network connection.",
    "pull-download-unfinished": "0258593a9987: Downloading [=====>      ]  98.1MB/1.354GB",
    "tcp-connection-dropped": "write tcp 172.17.0.2:41234->104.18.124.25:443: write: connection timed out",
    "buildx-boot-failed": "=> ERROR [internal] booting buildkit                                  3.2s",
    "jib-registry-refused": "> com.google.cloud.tools.jib.plugins.common.BuildStepsExecutionException: "
    "Build image failed, perhaps you should make sure your credentials for 'registry.example.com/app' "
    "are set up correctly.",
    "jib-registry-timeout": "[ERROR] Failed to execute goal com.google.cloud.tools:jib-maven-plugin:"
    "3.4.0:build (default-cli) on project app: Connect to registry-1.docker.io:443 "
    "[registry-1.docker.io/54.227.20.253] failed: connect timed out -> [Help 1]",
    "jib-registry-connection": "> com.google.cloud.tools.jib.plugins.common.BuildStepsExecutionException: "
    "Build image failed, perhaps you should make sure your Internet is up and that the registry you "
    "are pushing to exists",
    "layer-transfer-timeout": "error pulling image configuration: download failed after attempts=6: "
    "dial tcp 104.18.125.25:443: i/o timeout",
    "registry-body-too-large": "error parsing HTTP 413 response body: invalid character '<' looking "
    'for beginning of value: "<html><head><title>413 Request Entity Too Large</title></head>"',
}


def test_packaged_rules_load_in_tier_order() -> None:
    rules = load_rules()
    ranks = [TIERS.index(rule.tier) for rule in rules.rules]
    assert ranks == sorted(ranks)
    assert len({rule.name for rule in rules.rules}) == len(rules.rules)


def test_every_class_has_a_rule() -> None:
    """timeout also comes from text: a CI platform's own deadline, printed by the platform."""
    covered = {rule.failure_class for rule in load_rules().rules}
    assert covered == set(FailureClass)


def test_every_rule_has_an_example() -> None:
    assert set(EXAMPLES) == {rule.name for rule in load_rules().rules}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_matches_its_rule_through_the_keyword_index(name: str) -> None:
    rules = load_rules()
    rule = rules.by_name(name)
    line = EXAMPLES[name]
    assert rule.regex.search(line.strip()), "the pattern matches the example"
    hits = scan([f"#7 12.34 {line}\n"], rules)  # with a BuildKit prefix, as in real logs
    assert name in hits.lines, "the keyword index lets the line reach the rule"


RULE = """
[[rule]]
name = "{name}"
class = "{cls}"
tier = "{tier}"
pattern = '{pattern}'
keywords = {keywords}
why = "x"
{extra}
"""


def _one(**kw: str) -> str:
    values = {
        "name": "r",
        "cls": "dns_failure",
        "tier": "cause",
        "pattern": "no such host",
        "keywords": '["host"]',
        "extra": "",
    }
    values.update(kw)
    return RULE.format(**values)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_one(cls="nope"), "unknown class"),
        (_one(tier="high"), "tier must be one of"),
        (_one(pattern="(unclosed"), "bad pattern"),
        (_one(pattern="x*"), "matches the empty string"),
        (_one(keywords="[]"), "'keywords' must be a non-empty list"),
        (_one(keywords='["Host"]'), "lower-case letters only"),
        (_one(keywords='["i/o"]'), "lower-case letters only"),
        (_one(name="Bad Name"), "kebab-case"),
        (_one(extra="retryable = 1"), "'retryable' must be true or false"),
        (_one(extra='colour = "red"'), "unknown keys"),
        (_one() + _one(), "defined twice"),
        ("x = 1", "no [[rule]] tables"),
        ("[[rule]\n", "not valid TOML"),
    ],
)
def test_bad_rules_are_rejected_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(RulesError, match=re.escape(message)):
        parse_rules_text(text)


def test_case_sensitive_rules_stay_case_sensitive() -> None:
    rules = parse_rules_text(
        _one(pattern="Killed", keywords='["killed"]', extra="case_sensitive = true")
    )
    rule = rules.by_name("r")
    assert rule.regex.search("Killed")
    assert not rule.regex.search("killed")


# Whole outputs (tool wording as printed) where the order of tiers and rules decides.
ORDER_CASES: list[tuple[str, FailureClass]] = [
    # an index that could not be fetched also ends in "unable to select packages"
    (
        "WARNING: fetching https://dl-cdn.alpinelinux.org/alpine/v3.20/main: could not connect "
        "to server (check repositories file)\nERROR: unable to select packages:\n  curl (no such "
        "package):\n    required by: world[curl]",
        FailureClass.STEP_NETWORK_FAILURE,
    ),
    (
        "WARNING: fetching https://dl-cdn.alpinelinux.org/alpine/v3.20/community: operation timed "
        "out\nERROR: unable to select packages:\n  curl (no such package):",
        FailureClass.STEP_NETWORK_FAILURE,
    ),
    (
        "ERROR: unable to select packages:\n  py3-nope (no such package):\n    required by: world[py3-nope]",
        FailureClass.BUILD_STEP_FAILURE,
    ),
    (
        "Err:1 http://deb.debian.org/debian bookworm InRelease\n  Temporary failure resolving "
        "'deb.debian.org'\nE: Unable to locate package curl",
        FailureClass.DNS_FAILURE,
    ),
    # an ssh connection that timed out is the network, not a refusal
    (
        "ssh: connect to host github.com port 22: Connection timed out\nfatal: Could not read "
        "from remote repository.",
        FailureClass.STEP_NETWORK_FAILURE,
    ),
    (
        "git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.",
        FailureClass.BUILD_STEP_FAILURE,
    ),
    # kaniko's push check that lost the network is not a refusal
    (
        "error checking push permissions -- make sure you entered the correct tag name, and that "
        'you are authenticated correctly, and try again: checking push permission for "r.example/a:1": '
        'creating push check transport for r.example failed: Get "https://r.example/v2/": dial tcp '
        "10.0.0.9:443: i/o timeout",
        FailureClass.REGISTRY_TIMEOUT,
    ),
    (
        "error checking push permissions -- make sure you entered the correct tag name, and that "
        'you are authenticated correctly, and try again: checking push permission for "r.example/a:1": '
        "POST https://r.example/v2/a/blobs/uploads/: UNAUTHORIZED: authentication required",
        FailureClass.AUTH_DENIED,
    ),
    # podman lists each search registry's answer to a short name on its own line
    (
        "Trying to pull quay.io/app:latest...\n  manifest unknown: manifest unknown\nError: "
        'writing blob: adding layer with blob "sha256:43c4": Error processing tar file(exit status 1): '
        "operation not permitted",
        FailureClass.DAEMON_ERROR,
    ),
    (
        "Error: initializing source docker://quay.io/app:9: reading manifest 9 in quay.io/app: "
        "manifest unknown: manifest unknown",
        FailureClass.IMAGE_NOT_FOUND,
    ),
    # Go names no address when the dial deadline ran out while resolving
    ('Get "https://registry-1.docker.io/v2/": dial tcp: i/o timeout', FailureClass.DNS_FAILURE),
    (
        'Get "https://registry-1.docker.io/v2/": dial tcp 10.0.0.9:443: i/o timeout',
        FailureClass.REGISTRY_TIMEOUT,
    ),
    # a compiler killed by the OOM killer is not a compiler bug
    (
        "cc1plus: internal compiler error: Killed (program cc1plus)\nmake: *** [all] Error 4",
        FailureClass.OOM_KILLED,
    ),
    (
        "cc: internal compiler error: Segmentation fault signal terminated program cc1\n"
        "make[2]: *** [src/x.o] Error 4",
        FailureClass.BUILD_STEP_FAILURE,
    ),
    # a socket that is not a container engine's names no daemon; the job's deadline does
    (
        "Error: Failed to start kubernetes client: error connecting to kubernetes runner: dial unix "
        "/workspace/buildkite.sock: connect: no such file or directory\n"
        "  Warning  DeadlineExceeded  3m28s  job-controller  Job was active longer than specified deadline",
        FailureClass.TIMEOUT,
    ),
    # BuildKit's bare deadline names no request; one naming a registry request is its timeout
    ("ERROR: failed to solve: DeadlineExceeded: context deadline exceeded", FailureClass.UNKNOWN),
    (
        'ERROR: failed to solve: DeadlineExceeded: failed to do request: Head "https://ghcr.io/v2/o/'
        'a/manifests/1": dial tcp 140.82.1.1:443: i/o timeout',
        FailureClass.REGISTRY_TIMEOUT,
    ),
    # mount(2)'s ENOSPC is the mount table's limit; a write's is a full disk
    (
        "docker: Error response from daemon: mounting / to /tmp/docker-desktop/shadowing-mounts/"
        "abac646b: no space left on device.",
        FailureClass.DAEMON_ERROR,
    ),
    (
        "failed to compute cache key: mount callback failed on /tmp/containerd-mount1: write "
        "/tmp/containerd-mount1/usr/bin/x: no space left on device",
        FailureClass.DISK_FULL,
    ),
    # BuildKit's old runc executor: a RUN step's own exit, or the runtime failing outside one
    (
        "failed to solve with frontend dockerfile.v0: failed to build LLB: executor failed running "
        "[/bin/sh -c make]: runc did not terminate sucessfully",
        FailureClass.BUILD_STEP_FAILURE,
    ),
    (
        "failed to solve with frontend dockerfile.v0: failed to solve with frontend gateway.v0: runc "
        "did not terminate sucessfully",
        FailureClass.DAEMON_ERROR,
    ),
    # a registry's v1 ping is not the Docker API's /_ping
    (
        "v1 ping attempt failed with error: Get https://10.1.1.1:30000/v1/_ping: dial tcp "
        "10.1.1.1:30000: i/o timeout",
        FailureClass.REGISTRY_TIMEOUT,
    ),
    (
        'ERROR: Get "http://192.168.76.3:2375/_ping": dial tcp 192.168.76.3:2375: i/o timeout',
        FailureClass.DAEMON_UNREACHABLE,
    ),
    # a 404 from a push check's ping is not a missing image; from a manifest it is
    (
        "error checking push permissions -- make sure you entered the correct tag name, and that "
        'you are authenticated correctly, and try again: checking push permission for "r.example/a:1": '
        "creating push check transport for r.example failed: GET https://r.example/v2/: unexpected "
        "status code 404 Not Found: <html>",
        FailureClass.AUTH_DENIED,
    ),
    (
        "Error: HEAD https://r.example/v2/a/manifests/1: unexpected status code 404 Not Found (HEAD "
        "responses have no body, use GET for details)",
        FailureClass.IMAGE_NOT_FOUND,
    ),
    # containerd's NotFound from its own content store is the daemon's, not the registry's
    (
        'PullImage failed: rpc error: code = NotFound desc = failed to pull and unpack image "r/a:1": '
        "failed to extract layer sha256:7da9: failed to get reader from content store: blob "
        "sha256:9e2f expected at /var/lib/containerd/blobs/sha256/9e2f: blob not found: not found",
        FailureClass.DAEMON_ERROR,
    ),
    # a pull whose layers were retried and then timed out: the timeout, not the broken connection
    (
        "v1: Pulling from o/app\naa11c7d3aa8c: Retrying in 1 second\nerror pulling image configuration: "
        "download failed after attempts=6: dial tcp 31.13.1.1:443: i/o timeout",
        FailureClass.REGISTRY_TIMEOUT,
    ),
    # Maven Central's name did not resolve under Gradle's "Could not GET": a DNS failure
    (
        "   > Could not GET 'https://repo.maven.apache.org/maven2/o/a/1/a-1.pom'.\n"
        "      > repo.maven.apache.org: Temporary failure in name resolution",
        FailureClass.DNS_FAILURE,
    ),
    # an emulated step that crashed before its exit status: QEMU's, not the daemon's nor the network's
    (
        "#7 99.79 qemu: uncaught target signal 11 (Segmentation fault) - core dumped\n"
        "#7 99.97  installed libc-bin package post-installation script subprocess returned error exit status 139\n"
        "#7 100.1 E: Sub-process /usr/bin/dpkg returned an error code (1)",
        FailureClass.BUILD_STEP_FAILURE,
    ),
    # a runner's system failure on a Docker API call that timed out: the daemon, not a registry's TLS
    (
        "ERROR: Job failed (system failure): Get https://10.0.0.5:2376/v1.41/containers/4f2a/json: net/http: TLS handshake timeout",
        FailureClass.DAEMON_UNREACHABLE,
    ),
    # a containerd shim whose socket was reset: the engine's, not a connection to a registry
    (
        "docker: Error response from daemon: read unix @->@/containerd-shim/moby/4f2a/shim.sock: read: connection reset by peer: unknown.",
        FailureClass.DAEMON_ERROR,
    ),
    # a Jenkins agent's channel closed under an EOF: the runner was lost, not the registry
    (
        "java.io.IOException: Unexpected EOF\n"
        'Caused: hudson.remoting.ChannelClosedException: Channel "unknown": Remote call on agent-7 failed. The channel is closing down or has closed down',
        FailureClass.UNKNOWN,
    ),
    # ECR's API gave no token, so docker login got no password: the timeout, not a refusal
    (
        'Read timeout on endpoint URL: "https://api.ecr.eu-west-1.amazonaws.com/"\n'
        "Error: Cannot perform an interactive login from a non TTY device",
        FailureClass.REGISTRY_TIMEOUT,
    ),
    (
        'Connection was closed before we received a valid response from endpoint URL: "https://api.ecr.eu-west-1.amazonaws.com/".\n'
        "Error: Cannot perform an interactive login from a non TTY device",
        FailureClass.CONNECTION_FAILURE,
    ),
    # GitHub's API answers a used-up rate limit with 403: the limit, not a refusal
    (
        'ADD failed: failed to GET https://api.github.com/repos/o/r/releases/latest with status 403 Forbidden: {"message":"API rate limit exceeded for 203.0.113.7."}',
        FailureClass.RATE_LIMITED,
    ),
    # libcurl could not start its resolver thread (seccomp refused clone3): not DNS, not the mirror
    (
        "Errors during downloading metadata for repository 'fedora':\n"
        "  - Curl error (6): Couldn't resolve host name for https://mirrors.fedoraproject.org/metalink?repo=fedora-39 [getaddrinfo() thread failed to start]\n"
        "Error: Failed to download metadata for repo 'fedora'",
        FailureClass.UNKNOWN,
    ),
    # npm's registry refused the step's token: the credentials, not a missing package
    (
        'npm error code E401\nnpm error Unable to authenticate, need: Basic realm="GitHub Package Registry"',
        FailureClass.AUTH_DENIED,
    ),
    # the runtime could not exec the container's own program: no runtime fault to restart away
    (
        "docker: Error response from daemon: failed to create task for container: failed to create shim task: "
        "OCI runtime create failed: runc create failed: unable to start container process: exec /app/run: no such file or directory: unknown.",
        FailureClass.UNKNOWN,
    ),
]


@pytest.mark.parametrize(("text", "expected"), ORDER_CASES)
def test_order_between_related_rules(text: str, expected: FailureClass) -> None:
    assert classify_text(text).failure_class is expected


def test_packaged_rules_compile_on_first_use_and_each_pattern_is_valid() -> None:
    # Loading leaves compiling to the first line that reaches a rule, so the checks a
    # given rules file gets at load time are made here for the packaged ones.
    rules = parse_rules_text(
        resources.files("ci_guard.data").joinpath("rules.toml").read_text("utf-8"), check=False
    )
    assert all("regex" not in vars(rule) for rule in rules.rules)
    for rule in rules.rules:
        flags = 0 if rule.case_sensitive else re.IGNORECASE
        assert rule.regex is re.compile(rule.pattern, flags), rule.name
        assert "regex" in vars(rule), "compiled once, then kept"
        assert not rule.regex.search(""), f"{rule.name} matches the empty string"


def test_lazily_compiled_rules_match_the_same_lines_as_checked_ones() -> None:
    text = resources.files("ci_guard.data").joinpath("rules.toml").read_text("utf-8")
    lazy, checked = parse_rules_text(text, check=False), parse_rules_text(text)
    lines = [line for example in EXAMPLES.values() for line in example.splitlines()]
    for lazy_rule, checked_rule in zip(lazy.rules, checked.rules, strict=True):
        assert [bool(lazy_rule.regex.search(x)) for x in lines] == [
            bool(checked_rule.regex.search(x)) for x in lines
        ], lazy_rule.name
    assert any(rule.regex.search(x) for rule in lazy.rules for x in lines)
