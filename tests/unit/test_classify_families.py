"""Failure families in the words of each producer, root cause before the builder's summary.

Each case is written from the producer's own error strings (BuildKit, the legacy
builder, buildah/podman, kaniko, containerd, the GitLab runner, GitHub Actions,
Jenkins, Windows, and the package managers apt, apk, dnf, pip, uv, npm, pnpm, yarn,
go, cargo, Maven, Gradle, Composer, Bundler, NuGet), laid out as a build prints it:
the cause in a step's output, then the generic "returned a non-zero code" or "did not
complete successfully" the builder adds. The cited corpus (tests/corpus/) checks real
posts; these check that each family is named whatever tool wraps it.
"""
# ruff: noqa: E501  (build-output lines are kept verbatim, unwrapped)

from __future__ import annotations

import pytest

from ci_guard.classify import classify_text
from ci_guard.failure import FailureClass
from tests.family_cases import family_tests

F = FailureClass

BUILDKIT_TAIL = (
    "------\n"
    'ERROR: failed to solve: process "/bin/sh -c {cmd}" did not complete successfully: exit code: {code}\n'
)
LEGACY_TAIL = "The command '/bin/sh -c {cmd}' returned a non-zero code: {code}\n"


def buildkit(step: str, output: str, cmd: str = "make", code: int = 1) -> str:
    lines = "".join(
        f"#9 {1.5 + i * 0.1:.3f} {line}\n" for i, line in enumerate(output.splitlines())
    )
    return (
        f'#9 [{step}] RUN {cmd}\n{lines}#9 ERROR: process "/bin/sh -c {cmd}" did not complete successfully: exit code: {code}\n'
        + BUILDKIT_TAIL.format(cmd=cmd, code=code)
    )


def legacy(output: str, cmd: str = "make", code: int = 1) -> str:
    return f"Step 4/9 : RUN {cmd}\n ---> Running in 3f2a1b0c9d8e\n{output}\n" + LEGACY_TAIL.format(
        cmd=cmd, code=code
    )


CASES: list[tuple[str, str, FailureClass, str]] = [
    # --- a RUN step that fails with no known cause: build_step_failure, not unknown
    (
        "kaniko-run-step",
        "INFO[0012] RUN ./configure && make\nINFO[0012] cmd: /bin/sh\nerror building image: error building stage: failed to execute command: waiting for process to exit: exit status 2",
        F.BUILD_STEP_FAILURE,
        "step-nonzero-exit",
    ),
    (
        "buildkit-old-runc",
        "failed to solve with frontend dockerfile.v0: failed to build LLB: executor failed running [/bin/sh -c ./build.sh]: runc did not terminate sucessfully",
        F.BUILD_STEP_FAILURE,
        "step-nonzero-exit",
    ),
    (
        "buildah-chroot",
        'STEP 3/5: RUN ./build.sh\nsubprocess exited with status 2\nError: building at STEP "RUN ./build.sh": exit status 2',
        F.BUILD_STEP_FAILURE,
        "step-nonzero-exit",
    ),
    (
        "gcc-error",
        buildkit(
            "builder 4/6",
            "src/net.c:41:10: fatal error: openssl/ssl.h: No such file or directory\ncompilation terminated.\nmake: *** [Makefile:23: src/net.o] Error 1",
        ),
        F.BUILD_STEP_FAILURE,
        "step-nonzero-exit",
    ),
    (
        "gcc-error-no-builder-line",
        "src/net.c:41:10: fatal error: openssl/ssl.h: No such file or directory\ncompilation terminated.\nmake: *** [Makefile:23: src/net.o] Error 1",
        F.BUILD_STEP_FAILURE,
        "step-build-tool-failed",
    ),
    (
        "tsc-error",
        "src/app.ts(3,21): error TS2307: Cannot find module './config' or its corresponding type declarations.\nnpm error Lifecycle script `build` failed with error:\nnpm error code 2",
        F.BUILD_STEP_FAILURE,
        "step-build-tool-failed",
    ),
    (
        "rust-error",
        'error[E0425]: cannot find value `cfg` in this scope\nerror: could not compile `server` (bin "server") due to 1 previous error',
        F.BUILD_STEP_FAILURE,
        "step-build-tool-failed",
    ),
    (
        "maven-compile",
        "[ERROR] COMPILATION ERROR : \n[ERROR] /app/src/main/java/App.java:[12,8] cannot find symbol\n[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.11.0:compile (default-compile) on project app: Compilation failure",
        F.BUILD_STEP_FAILURE,
        "step-build-tool-failed",
    ),
    (
        "gradle-task",
        "FAILURE: Build failed with an exception.\n\n* What went wrong:\nExecution failed for task ':app:compileKotlin'.",
        F.BUILD_STEP_FAILURE,
        "step-build-tool-failed",
    ),
    (
        "pip-wheel",
        "  error: subprocess-exited-with-error\n  \u00d7 Building wheel for psycopg2 (pyproject.toml) did not run successfully.\n  Failed building wheel for psycopg2\nERROR: Could not build wheels for psycopg2, which is required to install pyproject.toml-based projects",
        F.BUILD_STEP_FAILURE,
        "step-build-tool-failed",
    ),
    (
        "apt-package-missing",
        legacy(
            "Reading package lists...\nE: Unable to locate package libssl1.0-dev",
            "apt-get install -y libssl1.0-dev",
            100,
        ),
        F.BUILD_STEP_FAILURE,
        "step-nonzero-exit",
    ),
    (
        "apk-unsatisfiable",
        "ERROR: unable to select packages:\n  python2 (no such package):\n    required by: world[python2]",
        F.BUILD_STEP_FAILURE,
        "step-package-unavailable",
    ),
    (
        "dnf-no-match",
        "No match for argument: python2\nError: Unable to find a match: python2",
        F.BUILD_STEP_FAILURE,
        "step-package-unavailable",
    ),
    (
        "npm-404",
        "npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/@acme%2fnope - Not found",
        F.BUILD_STEP_FAILURE,
        "step-package-unavailable",
    ),
    (
        "apt-no-pubkey",
        "W: GPG error: https://packages.example.com/apt stable InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 4EB27DB2A3B88B8B\nE: The repository 'https://packages.example.com/apt stable InRelease' is not signed.",
        F.BUILD_STEP_FAILURE,
        "step-repository-unusable",
    ),
    (
        "command-not-found-bash",
        legacy("/bin/bash: line 1: yarn: command not found", "yarn build", 127),
        F.BUILD_STEP_FAILURE,
        "step-nonzero-exit",
    ),
    (
        "command-not-found-alone",
        "/bin/bash: line 1: yarn: command not found",
        F.BUILD_STEP_FAILURE,
        "step-command-missing",
    ),
    (
        "command-not-found-windows",
        "'msbuild' is not recognized as an internal or external command,\noperable program or batch file.",
        F.BUILD_STEP_FAILURE,
        "step-command-missing",
    ),
    (
        "env-missing-interpreter",
        "/usr/bin/env: 'python': No such file or directory",
        F.BUILD_STEP_FAILURE,
        "step-command-missing",
    ),
    # --- a package manager's network failure inside a RUN step: the cause, not the exit
    (
        "pip-new-connection",
        buildkit(
            "app 3/5",
            "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno 101] Network is unreachable')': /simple/flask/\nERROR: Could not find a version that satisfies the requirement flask (from versions: none)\nERROR: No matching distribution found for flask",
            "pip install flask",
        ),
        F.STEP_NETWORK_FAILURE,
        "pip-network",
    ),
    (
        "uv-request",
        "error: Failed to fetch: `https://pypi.org/simple/django/`\n  Caused by: Request failed after 3 retries\n  Caused by: error sending request for url (https://pypi.org/simple/django/)\n  Caused by: operation timed out",
        F.STEP_NETWORK_FAILURE,
        "pip-network",
    ),
    (
        "npm-request-failed",
        legacy(
            "npm error code ECONNRESET\nnpm error network request to https://registry.npmjs.org/react failed, reason: read ECONNRESET",
            "npm ci",
        ),
        F.STEP_NETWORK_FAILURE,
        "npm-network",
    ),
    (
        "pnpm-fetch",
        " WARN  GET https://registry.npmjs.org/lodash error (ERR_SOCKET_TIMEOUT). Will retry in 10 seconds. 2 retries left.\n ERR_PNPM_META_FETCH_FAIL  GET https://registry.npmjs.org/lodash: request to https://registry.npmjs.org/lodash failed, reason: socket hang up",
        F.STEP_NETWORK_FAILURE,
        "npm-network",
    ),
    (
        "yarn-berry",
        "\u27a4 YN0001: \u2502 RequestError: connect ETIMEDOUT 104.16.1.35:443\n\u27a4 YN0000: \u2514 Completed in 2m 10s",
        F.STEP_NETWORK_FAILURE,
        "yarn-network",
    ),
    (
        "apk-connect",
        "fetch https://dl-cdn.alpinelinux.org/alpine/v3.20/main/x86_64/APKINDEX.tar.gz\nERROR: https://dl-cdn.alpinelinux.org/alpine/v3.20/main: could not connect to server (check repositories file)\nERROR: unable to select packages:\n  curl (no such package):",
        F.STEP_NETWORK_FAILURE,
        "apk-network",
    ),
    (
        "apt-mirror-sync",
        "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/main/binary-amd64/by-hash/SHA256/0a1b  File has unexpected size (8788 != 8789). Mirror sync in progress? [IP: 151.101.2.132 80]",
        F.STEP_NETWORK_FAILURE,
        "apt-network",
    ),
    (
        "dnf-mirrors",
        "Errors during downloading metadata for repository 'baseos':\n  - Curl error (28): Timeout was reached for https://mirrors.rockylinux.org/mirrorlist?arch=x86_64&repo=BaseOS-9 [Operation timed out after 30000 milliseconds with 0 out of 0 bytes received]\nError: Failed to download metadata for repo 'baseos': Cannot download repomd.xml: Curl error (28): Timeout was reached",
        F.STEP_NETWORK_FAILURE,
        "curl-wget-network",
    ),
    (
        "zypper-download",
        "Download (curl) error for 'https://download.opensuse.org/update/leap/15.5/oss/repodata/repomd.xml':\nError code: Connection failed\nError message: Timeout was reached",
        F.STEP_NETWORK_FAILURE,
        "yum-network",
    ),
    (
        "go-proxy-502",
        "go: downloading github.com/spf13/cobra v1.8.0\ngo: github.com/spf13/cobra@v1.8.0: reading https://proxy.golang.org/github.com/spf13/cobra/@v/v1.8.0.zip: 502 Bad Gateway",
        F.STEP_NETWORK_FAILURE,
        "go-module-network",
    ),
    (
        "cargo-curl",
        "error: failed to download from `https://static.crates.io/crates/serde/1.0.200/download`\n\nCaused by:\n  [28] Timeout was reached (Operation timed out after 30000 milliseconds with 0 bytes received)",
        F.STEP_NETWORK_FAILURE,
        "cargo-network",
    ),
    (
        "maven-handshake",
        "[ERROR] Failed to execute goal on project api: Could not resolve dependencies for project com.acme:api:jar:1.0: Failed to collect dependencies at org.slf4j:slf4j-api:jar:2.0.9: Failed to read artifact descriptor for org.slf4j:slf4j-api:jar:2.0.9: Could not transfer artifact org.slf4j:slf4j-api:pom:2.0.9 from/to central (https://repo.maven.apache.org/maven2): Remote host terminated the handshake",
        F.STEP_NETWORK_FAILURE,
        "jvm-build-network",
    ),
    (
        "bundler-timeout",
        "Fetching source index from https://rubygems.org/\nRetrying fetcher due to error (2/4): Bundler::HTTPError Could not fetch specs from https://rubygems.org/ due to underlying error <Net::OpenTimeout: Failed to open TCP connection to rubygems.org:443 (execution expired)>",
        F.STEP_NETWORK_FAILURE,
        "gem-nuget-network",
    ),
    (
        "nuget-service-index",
        "/src/App.csproj : error NU1301: Unable to load the service index for source https://api.nuget.org/v3/index.json.\nBuild FAILED.",
        F.STEP_NETWORK_FAILURE,
        "gem-nuget-network",
    ),
    (
        "wget-5xx",
        legacy(
            "--2024-03-01 10:00:00--  https://downloads.example.org/tool.tar.gz\nHTTP request sent, awaiting response... 503 Service Unavailable\n2024-03-01 10:00:01 ERROR 503: Service Unavailable.",
            "wget https://downloads.example.org/tool.tar.gz",
            8,
        ),
        F.STEP_NETWORK_FAILURE,
        "curl-wget-network",
    ),
    (
        "git-hung-up",
        "error: RPC failed; curl 56 GnuTLS recv error (-9): Error decoding the received TLS packet.\nfatal: the remote end hung up unexpectedly",
        F.STEP_NETWORK_FAILURE,
        "git-network",
    ),
    (
        "windows-dns-in-step",
        "Invoke-WebRequest : The remote name could not be resolved: 'aka.ms'",
        F.DNS_FAILURE,
        "apt-dns",
    ),
    (
        "musl-dns",
        "wget: bad address 'github.com'\ncurl: (6) Could not resolve host: github.com\ngetaddrinfo: Name does not resolve",
        F.DNS_FAILURE,
        "apt-dns",
    ),
    (
        "earthly-exit",
        "+build | --> RUN go build ./...\nError: build target: build main: failed to solve: the command go build ./... did not complete successfully. Exit code 1",
        F.BUILD_STEP_FAILURE,
        "step-nonzero-exit",
    ),
    (
        "pip-oserror-reset",
        "ERROR: Could not install packages due to an OSError: [Errno 104] Connection reset by peer",
        F.STEP_NETWORK_FAILURE,
        "pip-network",
    ),
    (
        "apt-proxy-connect",
        "Err:1 http://deb.debian.org/debian bookworm InRelease\n  Received HTTP code 403 from proxy after CONNECT\nE: Unable to locate package git",
        F.STEP_NETWORK_FAILURE,
        "apt-network",
    ),
    (
        "bazel-download",
        "ERROR: An error occurred during the fetch of repository 'rules_python':\nError downloading [https://github.com/bazelbuild/rules_python/releases/download/0.31.0/rules_python-0.31.0.tar.gz] to /root/.cache/bazel/x/rules_python/temp/rules_python.tar.gz: connect timed out",
        F.STEP_NETWORK_FAILURE,
        "other-fetch-network",
    ),
    (
        "npm-rate",
        "npm error code E429\nnpm error 429 Too Many Requests - GET https://registry.npmjs.org/react",
        F.RATE_LIMITED,
        "rate-limited",
    ),
    (
        "apt-disk",
        "E: You don't have enough free space in /var/cache/apt/archives/.",
        F.DISK_FULL,
        "no-space-left",
    ),
    (
        "login-no-tty",
        "Error: Cannot perform an interactive login from a non TTY device",
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "sh-permission",
        "#7 0.312 /bin/sh: 1: ./gradlew: Permission denied",
        F.BUILD_STEP_FAILURE,
        "step-command-missing",
    ),
    (
        "sh-pipefail",
        "/bin/sh: 1: set: Illegal option -o pipefail",
        F.BUILD_STEP_FAILURE,
        "step-command-missing",
    ),
    (
        "node-spawn",
        "npm error code ENOENT\nnpm error syscall spawn git\nnpm error enoent spawn git ENOENT",
        F.BUILD_STEP_FAILURE,
        "step-command-missing",
    ),
    (
        "maven-artifact-missing",
        "[ERROR] Failed to execute goal on project web: Could not resolve dependencies for project com.acme:web:war:1.0: Could not find artifact com.acme:lib:jar:9.9 in central (https://repo.maven.apache.org/maven2)",
        F.BUILD_STEP_FAILURE,
        "step-package-unavailable",
    ),
    (
        "poetry-solver",
        "Because app depends on requests (99.0) which doesn't match any versions, version solving failed.",
        F.BUILD_STEP_FAILURE,
        "step-package-unavailable",
    ),
    (
        "gitlab-prepare-environment",
        'ERROR: Job failed: prepare environment: unable to upgrade connection: container not found ("helper"). Check https://docs.gitlab.com/runner/shells/index.html#shell-profile-loading for more information',
        F.DAEMON_ERROR,
        "ci-runner-system-failure",
    ),
    (
        # the prepare stage's own script exited (GitLab points at shell profile loading): the
        # job's shell, not the executor, so nothing is named
        "gitlab-prepare-script-exit",
        "ERROR: Job failed: prepare environment: exit code 1. Check https://docs.gitlab.com/runner/shells/index.html#shell-profile-loading for more information",
        F.UNKNOWN,
        "no-match",
    ),
    (
        "bitbucket-limit",
        "Exceeded build time limit of 120 minutes",
        F.TIMEOUT,
        "ci-step-deadline",
    ),
    (
        "add-url-5xx-legacy",
        "Step 3/6 : ADD https://downloads.example.org/tool.tar.gz /opt/\nADD failed: failed to GET https://downloads.example.org/tool.tar.gz with status 502 Bad Gateway: <html>",
        F.STEP_NETWORK_FAILURE,
        "add-url-network",
    ),
    (
        "add-url-timeout-buildkit",
        '#6 [3/6] ADD https://downloads.example.org/tool.tar.gz /opt/\n#6 ERROR: Get "https://downloads.example.org/tool.tar.gz": dial tcp 93.184.216.34:443: i/o timeout\nERROR: failed to solve: failed to load cache key: Get "https://downloads.example.org/tool.tar.gz": dial tcp 93.184.216.34:443: i/o timeout',
        F.STEP_NETWORK_FAILURE,
        "add-url-network",
    ),
    (
        "add-missing-file",
        "ADD failed: file not found in build context or excluded by .dockerignore: stat vendor.tgz: file does not exist",
        F.BUILD_CONTEXT_ERROR,
        "copy-source-missing",
    ),
    (
        "python-urlopen",
        legacy(
            "Traceback (most recent call last):\nurllib.error.URLError: <urlopen error timed out>",
            "python3 fetch_assets.py",
        ),
        F.STEP_NETWORK_FAILURE,
        "pip-network",
    ),
    (
        "aws-cli-endpoint",
        'Could not connect to the endpoint URL: "https://s3.eu-west-1.amazonaws.com/assets/app.tar.gz"',
        F.STEP_NETWORK_FAILURE,
        "pip-network",
    ),
    # --- OOM as compilers, runtimes and package managers report it
    (
        "clang-killed",
        "clang++: error: unable to execute command: Killed\nclang++: error: clang frontend command failed due to signal (use -v to see invocation)",
        F.OOM_KILLED,
        "oom-killed-line",
    ),
    (
        "go-link-killed",
        "# example.com/server\n/usr/local/go/pkg/tool/linux_amd64/link: signal: killed",
        F.OOM_KILLED,
        "oom-killed-line",
    ),
    (
        "npm-sigkill",
        "npm error path /app\nnpm error command failed\nnpm error signal SIGKILL\nnpm error command sh -c next build",
        F.OOM_KILLED,
        "oom-killed-line",
    ),
    (
        "jvm-native",
        "# There is insufficient memory for the Java Runtime Environment to continue.\n# Native memory allocation (mmap) failed to map 262144 bytes for committing reserved memory.",
        F.OOM_KILLED,
        "out-of-memory",
    ),
    (
        "cxx-bad-alloc",
        "terminate called after throwing an instance of 'std::bad_alloc'\n  what():  std::bad_alloc",
        F.OOM_KILLED,
        "out-of-memory",
    ),
    (
        "make-137",
        "make[2]: *** [CMakeFiles/core.dir/build.make:76: core.o] Error 137",
        F.OOM_KILLED,
        "oom-exit-137",
    ),
    (
        "bash-job-killed",
        "/bin/sh: line 1:   812 Killed                  node --max-old-space-size=8192 build.js",
        F.OOM_KILLED,
        "oom-killed-line",
    ),
    (
        "k8s-oomkilled",
        "    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137",
        F.OOM_KILLED,
        "oom-killed-line",
    ),
    (
        "numpy-alloc",
        "numpy.core._exceptions._ArrayMemoryError: Unable to allocate 3.2 GiB for an array with shape (430000000,) and data type float64",
        F.OOM_KILLED,
        "out-of-memory",
    ),
    # --- registries refusing, in their own words
    (
        "ecr-name-unknown",
        "name unknown: The repository with name 'api' does not exist in the registry with id '123456789012'",
        F.IMAGE_NOT_FOUND,
        "manifest-unknown",
    ),
    (
        "ggcr-manifest-unknown",
        "error building image: GET https://registry.example.com/v2/base/manifests/9.9: MANIFEST_UNKNOWN: manifest unknown; map[Tag:9.9]",
        F.IMAGE_NOT_FOUND,
        "manifest-unknown",
    ),
    (
        "podman-pull-denied",
        "Error: initializing source docker://nosuch/image:latest: reading manifest latest in docker.io/nosuch/image: requested access to the resource is denied",
        F.IMAGE_NOT_FOUND,
        "pull-access-denied",
    ),
    (
        "gitlab-basic",
        'Error response from daemon: Get "https://registry.gitlab.com/v2/": HTTP Basic: Access denied. The provided password or token is incorrect',
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "push-denied-bare",
        "The push refers to repository [docker.io/acme/api]\n5f70bf18a086: Preparing\nrequested access to the resource is denied",
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "npm-self-signed",
        "npm error code SELF_SIGNED_CERT_IN_CHAIN\nnpm error errno SELF_SIGNED_CERT_IN_CHAIN\nnpm error request to https://registry.npmjs.org/express failed, reason: self-signed certificate in certificate chain",
        F.TLS_UNTRUSTED,
        "x509-untrusted",
    ),
    (
        "java-pkix",
        "Could not GET 'https://repo.maven.apache.org/maven2/org/x/1.0/x-1.0.pom'.\n> PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
        F.TLS_UNTRUSTED,
        "x509-untrusted",
    ),
    (
        "buildkit-no-platform",
        "ERROR: failed to solve: node:20-alpine: failed to resolve source metadata for docker.io/library/node:20-alpine: no match for platform in manifest: not found",
        F.IMAGE_NOT_FOUND,
        "manifest-unknown",
    ),
    (
        "apt-proxy-ca",
        "Err:1 https://packages.example.com/apt stable InRelease\n  Certificate verification failed: The certificate is NOT trusted. The certificate issuer is unknown.  Could not handshake: Error in the certificate verification. [IP: 10.0.0.5 3128]",
        F.TLS_UNTRUSTED,
        "x509-untrusted",
    ),
    (
        "wget-proxy-ca",
        "ERROR: cannot verify github.com's certificate, issued by 'CN=Corp Proxy CA':\n  Unable to locally verify the issuer's authority.",
        F.TLS_UNTRUSTED,
        "x509-untrusted",
    ),
    (
        "sender-permission",
        "ERROR: failed to solve: error from sender: open /src/data/private: permission denied",
        F.BUILD_CONTEXT_ERROR,
        "copy-source-missing",
    ),
    (
        "sender-canceled",
        "ERROR: failed to solve: error from sender: context canceled",
        F.UNKNOWN,
        "context-canceled",
    ),
    # --- CI platforms' own deadlines
    (
        "jenkins-timeout-step",
        "Cancelling nested steps due to timeout\nSending interrupt signal to process\nscript returned exit code 143",
        F.TIMEOUT,
        "ci-step-deadline",
    ),
    (
        "gha-action-timeout",
        "##[error]The action 'Build and push' has timed out after 30 minutes.",
        F.TIMEOUT,
        "ci-step-deadline",
    ),
    (
        "gitlab-stuck",
        "There has been a timeout failure or the job got stuck. Check your timeout limits or try again",
        F.TIMEOUT,
        "ci-step-deadline",
    ),
    (
        "tekton",
        'TaskRun "build-image-run-x7k2p" failed to finish within "1h0m0s"',
        F.TIMEOUT,
        "ci-step-deadline",
    ),
    (
        "azure-canceled",
        "##[error]The operation was canceled.",
        F.TIMEOUT,
        "ci-operation-canceled",
    ),
    # --- runtime, network set-up and layer-store faults
    (
        "endpoint",
        "docker: Error response from daemon: failed to create endpoint sad_hopper on network bridge: failed to add the host (veth3b2e) <=> sandbox (veth9a1c) pair interfaces: operation not supported.",
        F.DAEMON_ERROR,
        "daemon-runtime-setup",
    ),
    (
        "iptables",
        "Error response from daemon: driver failed to program external connectivity on endpoint web: iptables failed: iptables --wait -t nat -A DOCKER -p tcp -d 0/0 --dport 8080 -j DNAT: iptables: No chain/target/match by that name.",
        F.DAEMON_ERROR,
        "daemon-runtime-setup",
    ),
    (
        "podman-uids",
        'Error: writing blob: adding layer with blob "sha256:4abc": processing tar file(potentially insufficient UIDs or GIDs available in user namespace (requested 0:42 for /etc/shadow): lchown /etc/shadow: invalid argument): exit status 1',
        F.DAEMON_ERROR,
        "daemon-runtime-setup",
    ),
    (
        "containerd-content",
        "failed to extract layer sha256:7d0b: failed to get reader from content store: content digest sha256:9c1a: not found",
        F.DAEMON_ERROR,
        "daemon-storage",
    ),
    (
        "windows-hcs",
        "hcs::CreateComputeSystem 4f2c: The virtual machine could not be started because a required feature is not installed.",
        F.DAEMON_ERROR,
        "daemon-storage",
    ),
    (
        "crun-runtime",
        "Error: OCI runtime error: crun: runc run failed: unable to start container process: error during container init: error setting cgroup config for procHooks process: openat2 /sys/fs/cgroup/pids.max: no such file or directory",
        F.DAEMON_ERROR,
        "oci-runtime-create",
    ),
    (
        "compose-v1-socket-missing",
        "requests.exceptions.ConnectionError: ('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "dockerd-pid-file",
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\nfailed to start daemon: pid file found, ensure docker is not running or delete /var/run/docker.pid",
        F.DAEMON_ERROR,
        "dockerd-start-failed",
    ),
    (
        "dockerd-own-containerd",
        'Error response from daemon: connection error: desc = "transport: Error while dialing dial unix /run/docker/containerd/containerd.sock: connect: connection refused": unavailable',
        F.DAEMON_ERROR,
        "dockerd-start-failed",
    ),
    (
        "ctr-containerd-socket",
        'ctr: failed to dial "/run/containerd/containerd.sock": connection error: desc = "transport: error while dialing: dial unix /run/containerd/containerd.sock: connect: no such file or directory"',
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "ssh-engine-no-docker",
        'Get "http://docker.example.com/v1.51/containers/json": command [ssh -o ConnectTimeout=30 -T -- builder docker system dial-stdio] has exited with exit status 127, make sure the URL is valid, and Docker 18.09 or later is installed on the remote host: stderr=bash: line 1: docker: command not found',
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "ssh-engine-kex-reset",
        'Get "http://docker.example.com/v1.47/_ping": command [ssh -T -- 10.0.4.2 docker system dial-stdio] has exited with exit status 255, make sure the URL is valid, and Docker 18.09 or later is installed on the remote host: stderr=kex_exchange_identification: read: Connection reset by peer',
        F.CONNECTION_FAILURE,
        "engine-ssh-network",
    ),
    (
        "desktop-pipe-status-500",
        "request returned 500 Internal Server Error for API route and version http://%2F%2F.%2Fpipe%2FdockerDesktopLinuxEngine/v1.49/version, check if the server supports the requested API version",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "nerdctl-no-buildkitd",
        "FATA[0000] no buildkit host is available, tried 1 candidates: failed to ping to host unix:///run/user/1000/buildkit/buildkitd.sock: exit status 1",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "desktop-diagnose-socket",
        "[ERROR]  docker-cli\n         Unexpected error (No such file or directory) connecting to /Users/dev/.docker/run/docker.sock",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "dind-tcp-broken",
        "$ docker push registry.example.com/app:1.2\nwrite tcp 172.18.0.3:51234->172.18.0.2:2375: write: broken pipe",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "runc-error-chain",
        "container_linux.go:370: starting container process caused: process_linux.go:338: getting pipe fds for pid 12345 caused: readlink /proc/12345/fd/0: no such file or directory: unknown",
        F.DAEMON_ERROR,
        "oci-runtime-create",
    ),
    (
        "crun-cgroup-mkdir",
        "Error: crun: mkdir `/sys/fs/cgroup/user.slice/user-1000.slice/libpod-3c9f.scope`: Permission denied: OCI permission denied",
        F.DAEMON_ERROR,
        "runtime-host-path",
    ),
    (
        "podman-storage-root",
        "Error: open /home/dev/.local/share/containers/storage/storage.lock: permission denied",
        F.DAEMON_ERROR,
        "runtime-host-path",
    ),
    (
        "shim-runtime-prefix",
        "docker: Error response from daemon: io.containerd.runc.v2: create new shim socket: listen unix /run/containerd/s/ab12: bind: address already in use: unknown.",
        F.DAEMON_ERROR,
        "daemon-shim",
    ),
    (
        "ttrpc-closed",
        "Error response from daemon: ttrpc: closed: unknown",
        F.DAEMON_ERROR,
        "daemon-shim",
    ),
    (
        "driver-remove-rootfs",
        'Error response from daemon: container 3f2a: driver "overlay2" failed to remove root filesystem: unlinkat /var/lib/docker/overlay2/9c1d/merged: device or resource busy',
        F.DAEMON_ERROR,
        "daemon-storage",
    ),
    (
        "hcs-start-exited",
        "Error response from daemon: container 7a1b encountered an error during Start: failure in a Windows system call: The virtual machine or container exited unexpectedly. (0xc0370106)",
        F.DAEMON_ERROR,
        "daemon-runtime-setup",
    ),
    (
        "kubelet-sandbox",
        'Warning  FailedCreatePodSandBox  2m  kubelet  Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "4be1": plugin type="calico" failed (add): context deadline exceeded',
        F.DAEMON_ERROR,
        "daemon-runtime-setup",
    ),
    (
        "kubelet-sandbox-image-pull",
        'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to get sandbox image "registry.k8s.io/pause:3.6": failed to pull image "registry.k8s.io/pause:3.6": failed to pull and unpack image "registry.k8s.io/pause:3.6": failed to resolve reference "registry.k8s.io/pause:3.6": failed to do request: Head "https://registry.k8s.io/v2/pause/manifests/3.6": dial tcp 34.96.108.209:443: i/o timeout',
        F.REGISTRY_TIMEOUT,
        "io-timeout",
    ),
    (
        "desktop-wsl-distro",
        "Docker Desktop - WSL distro terminated abruptly\nA WSL distro Docker Desktop relies on has exited unexpectedly.",
        F.DAEMON_ERROR,
        "desktop-engine-lost",
    ),
    (
        "runc-rootfs-mount-enospc",
        'docker: Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error mounting "mqueue" to rootfs at "/dev/mqueue": mount mqueue:/dev/mqueue (via /proc/self/fd/7), flags: 0xe: no space left on device: unknown.',
        F.DAEMON_ERROR,
        "oci-runtime-create",
    ),
    (
        "cancelled-sibling-runc",
        "#12 0.214 runc run failed: container process is already dead\n#12 CANCELED\nERROR: failed to solve: Canceled: context canceled",
        F.UNKNOWN,
        "context-canceled",
    ),
    # --- the GitLab runner's own failures
    (
        "gitlab-system-failure",
        'Preparing the "docker" executor\nERROR: Job failed (system failure): unable to upgrade connection: container not found ("build")',
        F.DAEMON_ERROR,
        "ci-runner-system-failure",
    ),
    (
        "gitlab-system-failure-with-cause",
        "ERROR: Job failed (system failure): Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to apply cgroup configuration: unknown",
        F.DAEMON_ERROR,
        "oci-runtime-create",
    ),
    (
        "gitlab-no-such-container",
        "ERROR: Job failed (system failure): Error: No such container: 6d1e0f5b2a9c",
        F.DAEMON_ERROR,
        "ci-runner-system-failure",
    ),
    # --- Windows wording of connection failures
    (
        "connectex-unreachable",
        'Error response from daemon: Get "https://mcr.microsoft.com/v2/": dial tcp 204.79.197.219:443: connectex: A socket operation was attempted to an unreachable network.',
        F.CONNECTION_FAILURE,
        "connection-refused",
    ),
    (
        "wsasend-aborted",
        "write tcp 10.0.0.4:50123->13.107.42.14:443: wsasend: An established connection was aborted by the software in your host machine.",
        F.CONNECTION_FAILURE,
        "connection-reset",
    ),
    (
        "windows-no-such-host",
        'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: getaddrinfow: The requested name is valid, but no data of the requested type was found.',
        F.DNS_FAILURE,
        "apt-dns",
    ),
    (
        "docker-desktop-pipe",
        'error during connect: this error may indicate that the docker daemon is not running: Get "http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.24/version": open //./pipe/docker_engine: The system cannot find the file specified.',
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    # --- the daemon's API over TCP refused: no daemon listening
    (
        "daemon-tcp-refused",
        'Get "http://localhost:2375/v1.41/version": dial tcp 127.0.0.1:2375: connect: connection refused',
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "daemon-ping-refused-windows",
        "Get http://192.168.99.100:2376/_ping: dial tcp 192.168.99.100:2376: connectex: No connection could be made because the target machine actively refused it.",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "gitlab-dind-service-exited",
        "*** WARNING: Service runner-ab12cd34-project-42-concurrent-0-docker-0 probably didn't start properly.\n\nHealth check error:\nContainerStart: Error response from daemon: Cannot link to a non running container: /runner-ab12cd34-project-42-concurrent-0-docker-0 AS /runner-ab12cd34-project-42-concurrent-0-docker-0-wait-for-service/service",
        F.DAEMON_UNREACHABLE,
        "ci-dind-service-down",
    ),
    # --- layer transfers that kept breaking (moby's retry progress, its push log, the config blob)
    (
        "pull-layer-retrying-then-eof",
        "latest: Pulling from library/node\n3e440a704568: Retrying in 5 seconds\n68a71c865a2c: Downloading  12.1MB/49.6MB\n7c2a5d1f0e33: Waiting\nunexpected EOF",
        F.CONNECTION_FAILURE,
        "layer-transfer-retrying",
    ),
    (
        "push-upload-retrying-journal",
        'dockerd[811]: time="2024-02-01T09:12:44.100Z" level=error msg="Upload failed, retrying: write tcp 10.1.2.3:50412->10.1.2.9:443: write: broken pipe"',
        F.CONNECTION_FAILURE,
        "layer-download-network",
    ),
    (
        "pull-config-attempts-eof",
        "Error response from daemon: error pulling image configuration: download failed after attempts=6: unexpected EOF",
        F.CONNECTION_FAILURE,
        "layer-download-network",
    ),
    (
        "registry-v2-service-unavailable",
        'Error response from daemon: Get "https://registry.example.com/v2/": Service Unavailable',
        F.REGISTRY_UNAVAILABLE,
        "registry-5xx",
    ),
    (
        "push-bare-denied",
        "The push refers to repository [registry.example.com/team/api]\n5f70bf18a086: Preparing\n9c1b6dd6c1e6: Preparing\ndenied",
        F.AUTH_DENIED,
        "registry-bare-denied",
    ),
    # --- the builder, daemon or storage itself failing
    (
        "buildkitd-panic",
        "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1a2b3c]\n\ngoroutine 812 [running]:\ngithub.com/moby/buildkit/solver.(*edge).createInputRequests(0xc000a1c000, 0x2, 0xc0004f6e40)\n\t/src/solver/edge.go:836 +0x3a5\nERROR: failed to solve: rpc error: code = Unknown desc = panic",
        F.DAEMON_ERROR,
        "builder-panic",
    ),
    (
        "legacy-pull-operation-not-permitted",
        "Error pulling image (14.04) from ubuntu, operation not permitted",
        F.DAEMON_ERROR,
        "daemon-storage",
    ),
    (
        "desktop-engine-stream-lost",
        '[com.docker.backend.apiproxy][W] error reading response from engine for "/containers/json": unexpected EOF',
        F.DAEMON_ERROR,
        "desktop-engine-lost",
    ),
    # --- the platform's or tool's own deadline
    (
        "cloud-build-step-timeout",
        'Step #1: Sending build context to Docker daemon  412.3MB\nERROR: build step 1 "gcr.io/cloud-builders/docker" failed: context deadline exceeded',
        F.TIMEOUT,
        "ci-step-deadline",
    ),
    (
        "tool-command-timed-out",
        "Command timed out after 10m0s",
        F.TIMEOUT,
        "ci-step-deadline",
    ),
    # --- a step's own tools failing, in their words
    (
        "wget-gnutls-revoked",
        buildkit(
            "3/6",
            "Connecting to dl.example.org (dl.example.org)|203.0.113.7|:443... connected.\nERROR: The certificate of \u2018dl.example.org\u2019 has been revoked.",
            cmd="wget https://dl.example.org/tool.tgz",
            code=5,
        ),
        F.TLS_UNTRUSTED,
        "x509-untrusted",
    ),
    (
        "v8-heap-report",
        buildkit(
            "5/8",
            "<--- Last few GCs --->\n[1:0x5d8e3c0]    81234 ms: Scavenge 2011.4 (2075.1) -> 2008.9 (2077.6) MB, 5.1 / 0.0 ms  (average mu = 0.27, current mu = 0.19) allocation failure",
            cmd="npm run build",
            code=134,
        ),
        F.OOM_KILLED,
        "out-of-memory",
    ),
    (
        "buildkit-tty-run-step-error",
        " => ERROR [builder 3/7] RUN ./scripts/gen.sh                       4.1s\n------\n > [builder 3/7] RUN ./scripts/gen.sh:\n#0 4.05 gen: template schema.tmpl missing",
        F.BUILD_STEP_FAILURE,
        "buildkit-run-step-error",
    ),
    (
        "apk-post-install-script",
        "(14/14) Installing openrc (0.48-r0)\nExecuting openrc-0.48-r0.post-install\nERROR: openrc-0.48-r0.post-install: script exited with error 1",
        F.BUILD_STEP_FAILURE,
        "step-build-tool-failed",
    ),
    (
        "coreutils-cannot-stat",
        "cp: cannot stat 'dist/app': No such file or directory",
        F.BUILD_STEP_FAILURE,
        "step-build-tool-failed",
    ),
    (
        "python-import-error",
        "Traceback (most recent call last):\n  File \"/app/manage.py\", line 3, in <module>\n    from jinja2 import Markup\nImportError: cannot import name 'Markup' from 'jinja2' (/usr/local/lib/python3.11/site-packages/jinja2/__init__.py)",
        F.BUILD_STEP_FAILURE,
        "step-build-tool-failed",
    ),
    (
        "kaniko-base-chown-missing",
        "error building image: error building stage: failed to get filesystem from image: lchown /usr/lib/os-release: no such file or directory",
        F.BUILD_STEP_FAILURE,
        "kaniko-unpack-conflict",
    ),
    # --- the sixth batch's families, each in every producer's wording found
    (
        "python-wrapper-returned-code-137",
        "ERROR: Command 'pip3 install torch' returned code 137",
        F.OOM_KILLED,
        "oom-exit-137",
    ),
    (
        "windows-pipe-backslashes",
        "error during connect: this error may indicate that the docker daemon is not running: open \\\\.\\pipe\\docker_engine: The system cannot find the file specified.",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "old-cli-dial-unix-without-connect",
        'time="2015-06-01T10:00:00Z" level=fatal msg="Post http:///var/run/docker.sock/v1.18/build: dial unix /var/run/docker.sock: no such file or directory"',
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "legacy-copy-many-sources",
        "Step 3/6 : COPY package.json yarn.lock .\nWhen using COPY with more than one source file, the destination must be a directory and end with a /",
        F.DOCKERFILE_ERROR,
        "dockerfile-structure",
    ),
    (
        "kaniko-copy-many-sources",
        "error building image: error building stage: failed to optimize instructions: failed to get files used from context: when specifying multiple sources in a COPY command, destination must be a directory and end in '/'",
        F.DOCKERFILE_ERROR,
        "dockerfile-structure",
    ),
    (
        "buildah-unshare-refused",
        "STEP 3/5: RUN make\nerror running container: error creating new mount namespace for [/bin/sh -c make]: operation not permitted",
        F.DAEMON_ERROR,
        "daemon-runtime-setup",
    ),
    (
        "libcontainer-system-error",
        "[8] System error: mkdir /sys/fs/cgroup/docker: read-only file system",
        F.DAEMON_ERROR,
        "oci-runtime-create",
    ),
    (
        "runc-rootfs-mount",
        'ERRO[0000] container_linux.go:349: starting container process caused "process_linux.go:449: container init caused \\"rootfs_linux.go:58: mounting \\\\\\"proc\\\\\\" to rootfs \\\\\\"/var/lib/containers/storage/overlay/x/merged\\\\\\" at \\\\\\"/proc\\\\\\" caused \\\\\\"permission denied\\\\\\"\\""',
        F.DAEMON_ERROR,
        "oci-runtime-create",
    ),
    (
        "node-getaddrinfo-enoent",
        buildkit("3/5", "npm ERR! Error: getaddrinfo ENOENT registry.npmjs.org:443", cmd="npm ci"),
        F.DNS_FAILURE,
        "node-dns",
    ),
    (
        "ruby-getaddrinfo-try-again",
        legacy(
            "Fetching source index from https://rubygems.org/\nRetrying fetcher due to error (2/4): Bundler::HTTPError Could not fetch specs from https://rubygems.org/ due to underlying error <SocketError: Failed to open TCP connection to rubygems.org:443 (getaddrinfo: Try again) (https://rubygems.org/specs.4.8.gz)>",
            cmd="bundle install",
        ),
        F.DNS_FAILURE,
        "node-dns",
    ),
    (
        "rubygems-timeout-is-not-dns",
        legacy(
            "ERROR:  While executing gem ... (Gem::RemoteFetcher::UnknownHostError)\n    timed out (https://rubygems.org/gems/rake-13.0.6.gem)\nGem::RemoteFetcher::UnknownHostError: timed out (https://rubygems.org/gems/rake-13.0.6.gem)",
            cmd="gem install rake",
        ),
        F.STEP_NETWORK_FAILURE,
        "gem-nuget-network",
    ),
    (
        "rubygems-forbidden",
        legacy(
            "ERROR:  While executing gem ... (Gem::RemoteFetcher::FetchError)\n    bad response Forbidden 403 (https://rubygems.org/gems/private-1.0.gem)",
            cmd="gem install private",
        ),
        F.BUILD_STEP_FAILURE,
        "gem-fetch-refused",
    ),
    (
        "npm-eresolve-is-not-dns",
        buildkit(
            "6/8",
            'npm error code ERESOLVE\nnpm error ERESOLVE unable to resolve dependency tree\nnpm error Could not resolve dependency:\nnpm error peer react@"^17" from react-dom@17.0.2',
            cmd="npm install",
        ),
        F.BUILD_STEP_FAILURE,
        "step-nonzero-exit",
    ),
    (
        "daemon-login-lockout-429",
        "Error response from daemon: Login: Too many failed login attempts. Try again later. (Code: 429; Headers: map[Content-Type:[application/json]])",
        F.RATE_LIMITED,
        "rate-limited",
    ),
    (
        "old-cli-push-503",
        'The push refers to a repository [registry.example.com/app]\n5f70bf18a086: Retrying in 5 seconds\nError: Status 503 trying to push repository app: "<html><body>Service Unavailable</body></html>"',
        F.REGISTRY_UNAVAILABLE,
        "registry-5xx",
    ),
    (
        "apt-https-libcurl-timeout",
        legacy(
            "Err https://download.docker.com/linux/ubuntu focal/stable amd64 Packages\n  Operation timed out after 120000 milliseconds with 0 out of 0 bytes received\nE: Some index files failed to download. They have been ignored, or old ones used instead.",
            cmd="apt-get update",
            code=100,
        ),
        F.STEP_NETWORK_FAILURE,
        "libcurl-timeout",
    ),
    (
        "git-libcurl-timeout",
        "fatal: unable to access 'https://git.example.com/app.git/': Connection timed out after 300012 milliseconds with 0 out of 0 bytes received",
        F.STEP_NETWORK_FAILURE,
        "git-network",
    ),
    (
        "github-runner-shutdown",
        "##[error]The runner has received a shutdown signal. This can happen when the runner service is stopped, or a manually started runner is canceled.\n##[error]The operation was canceled.",
        F.UNKNOWN,
        "ci-runner-shutdown",
    ),
    (
        "azure-agent-lost",
        "##[error]We stopped hearing from agent Hosted Agent. Verify the agent machine is running and has a healthy network connection.",
        F.UNKNOWN,
        "ci-runner-lost",
    ),
    (
        "go-read-connection-timed-out",
        "ERROR: failed to solve: failed to copy: read tcp 10.1.0.4:50122->140.82.112.34:443: read: connection timed out",
        F.CONNECTION_FAILURE,
        "tcp-connection-dropped",
    ),
    (
        "pull-eof-mid-layer",
        "latest: Pulling from library/node\n6c5481a35016: Pull complete\n0258593a9987: Downloading [===========================>                       ]  412.3MB/754.1MB\nunexpected EOF",
        F.CONNECTION_FAILURE,
        "pull-download-unfinished",
    ),
    (
        "buildx-boot-failed-plain",
        "#1 [internal] booting buildkit\n#1 creating container buildx_buildkit_builder0\n#1 ERROR: exit code 1\n------\n > [internal] booting buildkit:\n------\nexit code 1",
        F.DAEMON_ERROR,
        "buildx-boot-failed",
    ),
    (
        "podman-local-image-pulled",
        'Trying to pull localhost/app:1.2...\nWARN[0000] Failed, retrying in 1s ... (1/3). Error: initializing source docker://localhost/app:1.2: pinging container registry localhost: Get "https://localhost/v2/": dial tcp [::1]:443: connect: connection refused',
        F.IMAGE_NOT_FOUND,
        "local-image-pulled",
    ),
    (
        "docker-local-image-pulled",
        'Error response from daemon: Get "https://localhost/v2/": dial tcp 127.0.0.1:443: connect: connection refused',
        F.IMAGE_NOT_FOUND,
        "local-image-pulled",
    ),
    # Jib (Maven, Gradle): its own exception names and advice, not a registry's words
    (
        "jib-gradle-credentials",
        "Execution failed for task ':jib'.\n> com.google.cloud.tools.jib.plugins.common.BuildStepsExecutionException: Build image failed, perhaps you should make sure your credentials for '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app' are set up correctly. See https://github.com/GoogleContainerTools/jib/blob/master/docs/faq.md#what-should-i-do-when-the-registry-responds-with-unauthorized for help",
        F.AUTH_DENIED,
        "jib-registry-refused",
    ),
    (
        "jib-unauthorized-exception",
        "Got more than one input Future failure. Logging failures after the first\ncom.google.cloud.tools.jib.registry.RegistryUnauthorizedException: Unauthorized for registry.hub.docker.com/o/app\n        at com.google.cloud.tools.jib.registry.RegistryEndpointCaller.call(RegistryEndpointCaller.java:200)",
        F.AUTH_DENIED,
        "jib-registry-refused",
    ),
    (
        "jib-forbidden",
        "[ERROR] Failed to execute goal com.google.cloud.tools:jib-maven-plugin:3.4.0:build (default-cli) on project app: Build image failed, perhaps you should make sure you have permissions for ghcr.io/o/app and set correct credentials.",
        F.AUTH_DENIED,
        "jib-registry-refused",
    ),
    (
        "jib-maven-connect-timeout",
        "[ERROR] Failed to execute goal com.google.cloud.tools:jib-maven-plugin:3.3.2:build (jib-maven-plugin) on project app: Connect to production.cloudflare.docker.com:443 [production.cloudflare.docker.com/104.18.122.25, production.cloudflare.docker.com/104.18.123.25] failed: connect timed out -> [Help 1]",
        F.REGISTRY_TIMEOUT,
        "jib-registry-timeout",
    ),
    (
        "jib-gradle-connection-refused",
        "Execution failed for task ':jibDockerBuild'.\n> com.google.cloud.tools.jib.plugins.common.BuildStepsExecutionException: Build to Docker daemon failed, perhaps you should make sure your Internet is up and that the registry you are pushing to exists",
        F.CONNECTION_FAILURE,
        "jib-registry-connection",
    ),
    # "denied", "unauthorized", "forbidden", 401/403 in each registry client's words
    (
        "ghcr-bare-denied",
        'docker: Error response from daemon: Head "https://ghcr.io/v2/o/app/manifests/latest": denied.',
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "ghcr-bare-unauthorized",
        'docker: Error response from daemon: Head "https://ghcr.io/v2/o/fedora-30/manifests/latest": unauthorized.',
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "old-client-status-403-push",
        'Sending image list\nError: Status 403 trying to push repository o/api: "Access denied."',
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "old-client-status-403-pull",
        'Pulling repository r.example/tool\ndocker: Error: Status 403 trying to pull repository tool: "<html>\\r\\n<head><title>403 Forbidden</title></head>".',
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "podman-statuscode-401-html",
        'Error: initializing source docker://r.example/app:1: reading manifest 1 in r.example/app: StatusCode: 401, "<html>\\r\\n<head><title>401 Authorization Required</title>..."',
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "podman-blob-check-auth-required",
        "Copying blob 388184f84e0a skipped: already exists\nError: trying to reuse blob sha256:388184f84e0a at destination: checking whether a blob sha256:388184f84e0a exists in r.example/o/app: authentication required",
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "kaniko-git-context-auth",
        "Error: error resolving source context: authentication required",
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    # a missing image or tag in each client's words
    (
        "crane-manifest-404",
        "Error: HEAD https://r.example/v2/o/app/manifests/1.2: unexpected status code 404 Not Found (HEAD responses have no body, use GET for details)",
        F.IMAGE_NOT_FOUND,
        "manifest-unknown",
    ),
    (
        "podman-404-html-body",
        "Error: initializing source docker://quay.io/debian:sid-slim: reading manifest sid-slim in quay.io/debian: error parsing HTTP 404 response body: invalid character '<' looking for beginning of value: \"<!DOCTYPE HTML PUBLIC>\"",
        F.IMAGE_NOT_FOUND,
        "manifest-unknown",
    ),
    (
        "pack-image-not-on-daemon",
        "ERROR: failed to build: failed to fetch builder image 'index.docker.io/o/builder:jammy': image index.docker.io/o/builder:jammy does not exist on the daemon: not found",
        F.IMAGE_NOT_FOUND,
        "manifest-unknown",
    ),
    (
        "harbor-artifact-not-found",
        "Error response from daemon: unknown: artifact library/app:1.2 not found",
        F.IMAGE_NOT_FOUND,
        "manifest-unknown",
    ),
    (
        "docker-java-404",
        'org.testcontainers.containers.ContainerFetchException: Can\'t get Docker image: RemoteDockerImage(imageName=o/app:latest)\nCaused by: com.github.dockerjava.api.exception.NotFoundException: Status 404: {"message":"No such image: o/app:9"}',
        F.IMAGE_NOT_FOUND,
        "manifest-unknown",
    ),
    # the Dockerfile, its flags and its sources (legacy builder, BuildKit, Skaffold)
    (
        "legacy-unknown-instruction-flag",
        "Step 9/9 : COPY --from=0 /app/dist /usr/share/nginx/html\nERROR: Service 'frontend' failed to build: Unknown flag: from",
        F.DOCKERFILE_ERROR,
        "dockerfile-parse",
    ),
    (
        "dockerfile-without-instructions",
        "Error response from daemon: failed to parse Dockerfile: file with no instructions",
        F.DOCKERFILE_ERROR,
        "dockerfile-structure",
    ),
    (
        "buildkit-blank-base-name",
        "ERROR: failed to solve: base name (${BASE_IMAGE}) should not be blank",
        F.DOCKERFILE_ERROR,
        "dockerfile-structure",
    ),
    (
        "legacy-copy-lstat",
        "Step 12 : COPY init-data configure.sh /usr/sbin/\nlstat init-data: no such file or directory",
        F.BUILD_CONTEXT_ERROR,
        "copy-source-missing",
    ),
    (
        "skaffold-dockerfile-missing",
        "Error: running skaffold steps: build: build step: running build for artifact: running build: docker build: error during connect: Post http://%2Fvar%2Frun%2Fdocker.sock/v1.35/build?dockerfile=Dockerfile: creating docker context: getting relative tar paths: opening dockerfile: Dockerfile: open Dockerfile: no such file or directory",
        F.BUILD_CONTEXT_ERROR,
        "dockerfile-missing",
    ),
    # the engine's own faults under a builder's error
    (
        "buildkit-dockerfile-snapshot-gone",
        "Error: failed to solve: rpc error: code = Unknown desc = failed to solve with frontend dockerfile.v0: failed to read dockerfile: failed to mount pf93naxl3gjm: snapshot pf93naxl3gjm does not exist: not found",
        F.DAEMON_ERROR,
        "daemon-storage",
    ),
    (
        "desktop-mount-table-full",
        "docker: Error response from daemon: mounting / to /tmp/docker-desktop/shadowing-mounts/abac646bc3d6: no space left on device.",
        F.DAEMON_ERROR,
        "daemon-storage",
    ),
    (
        "buildah-crun-cannot-create",
        'STEP 3/3: RUN pip install -r requirements.txt\nerror running container: error from /usr/bin/crun creating container for [/bin/sh -c pip install -r requirements.txt]: mount `/proc` to `/proc`: Operation not permitted\n: exit status 1\nError: building at STEP "RUN pip install -r requirements.txt": while running runtime: exit status 1',
        F.DAEMON_ERROR,
        "oci-runtime-create",
    ),
    (
        "buildkit-frontend-runc-failed",
        "failed to solve with frontend dockerfile.v0: failed to solve with frontend gateway.v0: runc did not terminate sucessfully",
        F.DAEMON_ERROR,
        "oci-runtime-create",
    ),
    # the daemon that never answered (dind wrappers, DOCKER_HOST over TCP, podman machines)
    (
        "dind-wrapper-gave-up",
        "Timed out trying to connect to internal docker host.",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "docker-host-tcp-timeout",
        '$ docker ps\nGet "http://192.168.59.103:2376/v1.24/containers/json": dial tcp 192.168.59.103:2376: i/o timeout',
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "podman-machine-ssh-reset",
        "Error: failed to connect: ssh: handshake failed: read tcp [::1]:56237->[::1]:49619: read: connection reset by peer",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    # the OOM killer in a platform's words
    (
        "openshift-build-pod-oom",
        "The build pod was killed due to an out of memory condition.",
        F.OOM_KILLED,
        "oom-killed-line",
    ),
    (
        "deployer-step-ran-out-of-memory",
        "Failed to build image: The build step ran out of memory: the kernel's OOM killer terminated 1 process on this host while the step ran",
        F.OOM_KILLED,
        "oom-killed-line",
    ),
    # registry transfers that timed out, broke, or were refused as too large
    (
        "old-client-upload-timeout",
        "1f956f214189: Pushing [============>         ] 481.4 MB/1.97 GB 3m4s\n2014/06/07 00:57:07 Failed to upload layer: Put http://r.example:5000/v1/images/1f956f214189/layer: read tcp 10.0.1.16:5000: i/o timeout",
        F.REGISTRY_TIMEOUT,
        "layer-transfer-timeout",
    ),
    (
        "push-refused-by-proxy-body-limit",
        "7381522c58b0: Pushing [==================================================>]  322.7MB/322.7MB\nerror parsing HTTP 413 response body: invalid character '<' looking for beginning of value: \"<html><head><title>413 Request Entity Too Large</title></head>\"",
        F.UNKNOWN,
        "registry-body-too-large",
    ),
    (
        "podman-pull-unfinished-blob",
        "Copying blob f5e195d50b88 [====================================>-] 180.0MiB / 183.3MiB\nCopying blob dd8c6d374ea5 done\n  unexpected EOF",
        F.CONNECTION_FAILURE,
        "pull-download-unfinished",
    ),
    (
        "podman-blob-store-eof",
        'Error: error pulling image "docker.io/rust:latest": unable to pull docker.io/rust:latest: unable to pull image: Error writing blob: error storing blob to file "/var/tmp/storage987555834/2": unexpected EOF',
        F.CONNECTION_FAILURE,
        "layer-download-network",
    ),
    (
        "kaniko-http2-goaway",
        'error pushing image: failed to push to destination r.example/app:1: Patch "https://r.example/v2/app/blobs/uploads/feeb": http2: Transport: cannot retry err [http2: Transport received Server\'s graceful shutdown GOAWAY] after Request.Body was written; define Request.GetBody to avoid this error',
        F.CONNECTION_FAILURE,
        "connection-reset",
    ),
    (
        "tls-handshake-alert",
        'parsing image configuration: Get "https://cdn03.quay.io/sha256/96/9617": remote error: tls: handshake failure',
        F.CONNECTION_FAILURE,
        "connection-reset",
    ),
    (
        "old-client-502-metadata",
        "5187f1faccd4: Pushing\n2014/04/20 23:14:18 HTTP code 502 while uploading metadata: invalid character '<' looking for beginning of value",
        F.REGISTRY_UNAVAILABLE,
        "registry-5xx",
    ),
    (
        "gradle-maven-central-dns",
        "> Could not resolve all files for configuration ':app:testCompileClasspath'.\n   > Could not GET 'https://repo.maven.apache.org/maven2/org/junit/junit-bom/5.11.4/junit-bom-5.11.4.pom'.\n      > repo.maven.apache.org: Temporary failure in name resolution",
        F.DNS_FAILURE,
        "apt-dns",
    ),
    # --- Google's IAM refusal, in docker's, gcloud's and a builder's words
    (
        "artifact-registry-iam-push",
        'The push refers to repository [us-docker.pkg.dev/acme/apps/api]\n5f70bf18a086: Preparing\ndenied: Permission "artifactregistry.repositories.uploadArtifacts" denied on resource "projects/acme/locations/us/repositories/apps" (or it may not exist)',
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "artifact-registry-iam-gcloud",
        "ERROR: (gcloud.run.deploy) PERMISSION_DENIED: Permission 'artifactregistry.repositories.get' denied on resource '//artifactregistry.googleapis.com/projects/acme/locations/us-central1/repositories/apps' (or it may not exist).",
        F.AUTH_DENIED,
        "registry-access-refused",
    ),
    (
        "artifact-registry-iam-under-pull-access-denied",
        'Error response from daemon: pull access denied for europe-docker.pkg.dev/acme/apps/web, repository does not exist or may require \'docker login\': denied: Permission "artifactregistry.repositories.downloadArtifacts" denied on resource "projects/acme/locations/europe/repositories/apps" (or it may not exist)',
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    # --- npm 7+ and pnpm dependency resolution, run as a CI step: the project's own conflict
    (
        "npm-eresolve-ci-step",
        'npm ERR! ERESOLVE unable to resolve dependency tree\nnpm ERR! Could not resolve dependency:\nnpm ERR! peer react@"^17.0.0" from react-dom@17.0.2',
        F.BUILD_STEP_FAILURE,
        "step-package-unavailable",
    ),
    (
        "pnpm-outdated-lockfile",
        ' ERR_PNPM_OUTDATED_LOCKFILE  Cannot install with "frozen-lockfile" because pnpm-lock.yaml is not up to date with package.json',
        F.BUILD_STEP_FAILURE,
        "step-package-unavailable",
    ),
    # --- a layer the storage could not apply or find: the engine's, not the build's
    (
        "buildah-applylayer-remount",
        'Copying blob sha256:4f4fb700ef54\nError: creating build container: writing blob: adding layer with blob "sha256:4f4fb700ef54": ApplyLayer stdout:  stderr: remount /, flags: 0x44000: permission denied exit status 1',
        F.DAEMON_ERROR,
        "daemon-storage",
    ),
    (
        "moby-applylayer-exit-status",
        "failed to register layer: ApplyLayer exit status 1 stdout:  stderr: lchown /usr/bin/ping: invalid argument",
        F.DAEMON_ERROR,
        "daemon-storage",
    ),
    (
        "overlay-upper-dir-vanished",
        "Step 6/9 : RUN make\n ---> Running in 2b1d9c3e4f5a\nError response from daemon: lstat /var/lib/docker/overlay2/5c1e0f3a9b7d2e4c6a8b0d1f3e5a7c9b/merged/etc: no such file or directory",
        F.DAEMON_ERROR,
        "daemon-storage",
    ),
    (
        "podman-storage-layer-vanished",
        "Error: stat /var/lib/containers/storage/overlay/8d3ac3489996423f53d6087c81180006263b79f206d3fdec9e66f0e27ceb8759/diff: no such file or directory",
        F.DAEMON_ERROR,
        "daemon-storage",
    ),
    (
        "windows-hcsshim-compute-system",
        "docker: Error response from daemon: hcsshim::CreateComputeSystem 0f8d2a1c: The container operating system does not match the host operating system.",
        F.DAEMON_ERROR,
        "daemon-storage",
    ),
    (
        "veth-pair-enomem-is-the-kernel",
        "docker: Error response from daemon: failed to create endpoint web on network bridge: failed to add the host (veth1a2b3c4) <=> sandbox (veth5d6e7f8) pair interfaces: cannot allocate memory.",
        F.DAEMON_ERROR,
        "daemon-runtime-setup",
    ),
    # --- processes killed by signal 9, in git's, Python's and buildbot's words
    (
        "git-index-pack-signal-9",
        "remote: Counting objects: 100% (52311/52311), done.\nerror: index-pack died of signal 9\nfatal: index-pack failed",
        F.OOM_KILLED,
        "oom-killed-line",
    ),
    (
        "python-subprocess-sigkill",
        "subprocess.CalledProcessError: Command '['ninja', '-j', '8']' died with <Signals.SIGKILL: 9>.",
        F.OOM_KILLED,
        "oom-killed-line",
    ),
    (
        "process-killed-by-signal-9",
        "process killed by signal 9\nprogram finished with exit code -1",
        F.OOM_KILLED,
        "oom-killed-line",
    ),
    # --- apk's EAGAIN while fetching
    (
        "apk-eagain-package",
        legacy(
            "(7/21) Installing libffi (3.4.4-r3)\nERROR: py3-cffi-1.16.0-r0: Resource temporarily unavailable",
            cmd="apk add --no-cache py3-cffi",
        ),
        F.STEP_NETWORK_FAILURE,
        "apk-network",
    ),
    (
        "apk-eagain-index",
        "fetch https://dl-cdn.alpinelinux.org/alpine/v3.19/main/x86_64/APKINDEX.tar.gz\nWARNING: fetching https://dl-cdn.alpinelinux.org/alpine/v3.19/main: Resource temporarily unavailable",
        F.STEP_NETWORK_FAILURE,
        "apk-network",
    ),
    # --- Python requests' wording of a registry's 5xx
    (
        "requests-http-error-503",
        "requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: https://registry.example.com/v2/app/manifests/1.4",
        F.REGISTRY_UNAVAILABLE,
        "registry-5xx",
    ),
    # --- a cloud builder's own cancellation at its time limit
    (
        "hosted-build-canceled",
        "Step 12/20 : RUN make -j4\n ---> Running in 9a8b7c6d5e4f\n[ 64%] Building CXX object src/CMakeFiles/core.dir/a.cc.o\nBuild canceled.",
        F.TIMEOUT,
        "ci-operation-canceled",
    ),
    # --- a registry that lost a blob: no network fault
    (
        "push-manifest-blob-unknown",
        "c2adabaecedb: Pushed\n5f70bf18a086: Layer already exists\nmanifest blob unknown: blob unknown to registry",
        F.UNKNOWN,
        "registry-blob-unknown",
    ),
    # --- a registry's v1 ping refused: the registry, not the daemon
    (
        "registry-v1-ping-refused",
        "Error response from daemon: v1 ping attempt failed with error: Get http://registry.local:5000/v1/_ping: dial tcp 10.1.2.3:5000: connection refused",
        F.CONNECTION_FAILURE,
        "connection-refused",
    ),
    # --- QEMU user emulation crashing a foreign-platform step, or missing its loader
    (
        "qemu-segfault-buildkit",
        buildkit(
            "2/4",
            "Processing triggers for libc-bin (2.36-9) ...\nqemu: uncaught target signal 11 (Segmentation fault) - core dumped\nSegmentation fault (core dumped)",
            cmd="apt-get install -y curl",
            code=139,
        ),
        F.BUILD_STEP_FAILURE,
        "qemu-emulation-crash",
    ),
    (
        "qemu-loader-missing-legacy",
        legacy(
            "qemu-aarch64-static: Could not open '/lib/ld-linux-aarch64.so.1': No such file or directory",
            cmd="./configure",
            code=255,
        ),
        F.BUILD_STEP_FAILURE,
        "qemu-emulation-crash",
    ),
    # --- logins refused in a CI plugin's or GitHub token's words
    (
        "drone-docker-login-refused",
        'time="2024-01-02T10:00:00Z" level=fatal msg="Error authenticating: exit status 1"',
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "ghcr-installation-permission",
        "#12 pushing layers\nERROR: failed to push ghcr.io/org/app:1: permission_denied: installation not allowed to Write organization package",
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    # --- a CI platform's own deadline: Drone/Harness, a Kubernetes wait for a build pod
    ("drone-time-limit", "time limit exceeded for the build", F.TIMEOUT, "ci-step-deadline"),
    ("harness-max-build-time", "ERROR: Maximum job time exceeded", F.TIMEOUT, "ci-step-deadline"),
    (
        "k8s-wait-condition",
        "FATA[0605] build step: kaniko build for [gcr.io/p/app]: waiting for pod to complete: timed out waiting for the condition",
        F.TIMEOUT,
        "ci-step-deadline",
    ),
    # --- the daemon's socket or API that does not answer in time (a runner's or Woodpecker's call)
    (
        "daemon-socket-deadline",
        'Execution error Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.43/containers/wp_0_step_1/json": context deadline exceeded',
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    # --- the engine's own parts: a storage driver over an unsupported filesystem, a shim, a utility VM, a lost cache blob
    (
        "storage-driver-over-overlayfs",
        'time="2024-01-02T10:00:00Z" level=error msg="\'overlay\' is not supported over overlayfs"',
        F.DAEMON_ERROR,
        "daemon-storage",
    ),
    (
        "shim-socket-reset",
        "docker: Error response from daemon: read unix @->@/containerd-shim/moby/ab12/shim.sock: read: connection reset by peer: unknown.",
        F.DAEMON_ERROR,
        "daemon-shim",
    ),
    (
        "windows-utility-vm-silent",
        "container 38f2 encountered an error during Start: failure in a Windows system call: The operation timed out because a response was not received from the Virtual Machine hosting the Container. (0xc0370109)",
        F.DAEMON_ERROR,
        "daemon-runtime-setup",
    ),
    (
        "buildkit-cache-blob-lost",
        " > exporting cache:\n------\nERROR: failed to solve: blob sha256:"
        + "1f" * 32
        + " not found",
        F.DAEMON_ERROR,
        "containerd-content-missing",
    ),
    # --- a transfer cut mid-body, a registry's bare blob error, a COPY source the .dockerignore hides
    (
        "gha-cache-body-closed",
        '#17 ERROR: error writing layer blob: Patch "https://cache.example/_apis/artifactcache/caches/7": http: read on closed response body',
        F.CONNECTION_FAILURE,
        "connection-reset",
    ),
    (
        "push-unknown-blob",
        "3e20: Layer already exists\nunknown blob\nError: exit status 1",
        F.UNKNOWN,
        "registry-blob-unknown",
    ),
    (
        "context-dockerignore-excluded",
        "ERROR: failed to solve: file not found in build context or excluded by .dockerignore: stat src/main.c: file does not exist",
        F.BUILD_CONTEXT_ERROR,
        "copy-source-missing",
    ),
    # --- package managers' own network and command wordings
    (
        "rubygems-download-timeout",
        legacy(
            "ERROR:  Could not find a valid gem 'rake' (>= 0), here is why:\n          Unable to download data from https://rubygems.org/ - Net::OpenTimeout (https://rubygems.org/specs.4.8.gz)",
            cmd="gem install rake",
        ),
        F.STEP_NETWORK_FAILURE,
        "gem-nuget-network",
    ),
    (
        "apk-io-error",
        buildkit(
            "3/6",
            "fetch https://dl-cdn.alpinelinux.org/alpine/v3.19/main/x86_64/APKINDEX.tar.gz\nERROR: https://dl-cdn.alpinelinux.org/alpine/v3.19/main: IO ERROR\nERROR: unsatisfiable constraints:\n  curl (missing):",
            cmd="apk add curl",
        ),
        F.STEP_NETWORK_FAILURE,
        "apk-network",
    ),
    (
        "npm-unknown-command",
        'Step 6/9 : RUN npm biuld\n ---> Running in 2d57f00f9ad7\nUnknown command: "biuld"\n\nDid you mean this?\n    npm run build # run the "build" package script',
        F.BUILD_STEP_FAILURE,
        "step-command-missing",
    ),
]


test_family_is_named_by_its_cause, test_case_ids_are_distinct = family_tests(CASES)


@pytest.mark.parametrize(
    "tail",
    [
        BUILDKIT_TAIL.format(cmd="pip install -r requirements.txt", code=1),
        LEGACY_TAIL.format(cmd="pip install -r requirements.txt", code=1),
        "error building image: error building stage: failed to execute command: waiting for process to exit: exit status 1\n",
        'Error: building at STEP "RUN pip install -r requirements.txt": while running runtime: exit status 1\n',
    ],
    ids=["buildkit", "legacy", "kaniko", "buildah"],
)
def test_network_cause_beats_every_builders_exit_line(tail: str) -> None:
    """The same pip failure wrapped by each builder: the cause, never the exit line."""
    text = (
        "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'ReadTimeoutError(\"HTTPSConnectionPool(host='pypi.org', port=443): Read timed out. (read timeout=15)\")': /simple/flask/\n"
        + tail
    )
    failure = classify_text(text)
    assert (failure.failure_class, failure.rule) == (F.STEP_NETWORK_FAILURE, "pip-network")


def test_socket_permission_is_not_retried() -> None:
    failure = classify_text(
        "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock"
    )
    assert failure.failure_class is F.DAEMON_UNREACHABLE
    assert failure.retryable is False  # who may use the socket does not change on retry


def test_a_registry_cause_beats_the_layer_retry_progress() -> None:
    """Retrying lines say only that the transfer broke; a 429 after them says why."""
    failure = classify_text(
        "latest: Pulling from library/python\n"
        "2c310454138b: Retrying in 1 second\n"
        "toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"
    )
    assert failure.failure_class is F.RATE_LIMITED


def test_a_programs_own_panic_in_a_step_is_not_the_builders() -> None:
    """A Go program built in a step may panic; its frames are not the builder's code."""
    text = buildkit(
        "4/6",
        "panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/cmd/gen/main.go:42 +0x1d",
        cmd="go run ./cmd/gen",
        code=2,
    )
    assert classify_text(text).failure_class is F.BUILD_STEP_FAILURE


def test_a_pull_that_completed_leaves_a_bare_eof_to_the_daemon() -> None:
    """Only an unfinished progress bar blames the registry; completed layers do not."""
    text = "latest: Pulling from library/busybox\n51616aa67071: Pull complete\nStep 2/2 : RUN sleep 60\nunexpected EOF"
    assert classify_text(text).failure_class is F.DAEMON_UNREACHABLE


def test_a_push_check_that_failed_in_transport_is_not_a_refusal() -> None:
    """kaniko's push check that met a TLS port with plain HTTP names no credentials."""
    text = (
        "error checking push permissions -- make sure you entered the correct tag name, and that you are "
        'authenticated correctly, and try again: checking push permission for "10.0.0.5:443/app:1": '
        "creating push check transport for 10.0.0.5:443 failed: Get http://10.0.0.5:443/v2/: "
        'net/http: HTTP/1.x transport connection broken: malformed HTTP response "\\x15\\x03\\x01\\x00\\x02\\x02"'
    )
    assert classify_text(text).failure_class is not F.AUTH_DENIED


def test_a_daemon_api_500_is_named_by_its_message() -> None:
    """docker-py wraps every daemon error as "500 Server Error"; the message says why."""
    text = 'docker.errors.APIError: 500 Server Error: Internal Server Error ("OCI runtime create failed: container_linux.go:380: starting container process caused: exec: \\"/app\\": permission denied: unknown")'
    assert classify_text(text).rule != "registry-5xx"


def test_a_missing_build_context_file_is_not_the_storage_driver() -> None:
    """The legacy builder's context lives under /var/lib/docker/tmp, not a driver's directory."""
    text = "lstat /var/lib/docker/tmp/docker-builder123456789/app.py: no such file or directory"
    assert classify_text(text).failure_class is not F.DAEMON_ERROR
