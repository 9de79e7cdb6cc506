"""Step tools', registries' and build front ends' families in their producers' words.

Each case is written from the producer's error strings as its source prints them
(Hex and Mix, Go's resolver, crictl, R's installer, pnpm, corepack, gcc and setuptools, dash
and bash scripts, add-apt-repository, Cloud Build, BuildKit's context transfer,
containerd's fetcher, the docker-maven-plugin, compose, moby's mount checks). They
check that a wording no corpus row shows is named by its family, and that a
neighbour with another meaning (a 404, a blob, another registry's refusal) is not.
"""
# ruff: noqa: E501  (build-output lines are kept verbatim, unwrapped)

from __future__ import annotations

from ci_guard.failure import FailureClass
from tests.family_cases import family_tests

F = FailureClass

CASES: list[tuple[str, str, FailureClass, str]] = [
    # --- Elixir: Hex names the request's reason, Mix its httpc failure
    (
        "hex-tarball-refused",
        "* Getting plug (Hex package)\nRequest failed (:econnrefused)\n** (Mix) Package fetch failed and no cached copy available (https://repo.hex.pm/tarballs/plug-1.14.0.tar)\n",
        F.STEP_NETWORK_FAILURE,
        "hex-network",
    ),
    (
        "hex-old-failed-connect",
        "  Checking package (https://s3.amazonaws.com/s3.hex.pm/tarballs/cowboy-1.0.4.tar)\n  Request failed: {:failed_connect, [{:to_address, {'s3.amazonaws.com', 443}}, {:inet, [:inet], :etimedout}]}\n** (Mix) Package fetch failed and no cached copy available\n",
        F.STEP_NETWORK_FAILURE,
        "hex-network",
    ),
    (
        "hex-server-error",
        "Request failed (503)\n** (Mix) Package fetch failed and no cached copy available (https://repo.hex.pm/tarballs/jason-1.4.1.tar)\n",
        F.STEP_NETWORK_FAILURE,
        "hex-network",
    ),
    (
        "hex-retired-release-is-no-network-fault",
        "Request failed (404)\n** (Mix) Package fetch failed and no cached copy available (https://repo.hex.pm/tarballs/distillery-2.0.12.tar)\n",
        F.UNKNOWN,
        "no-match",
    ),
    (
        "mix-rebar-metadata",
        "Could not install Rebar because Mix could not download metadata at https://builds.hex.pm/installs/rebar-1.x.csv.\n",
        F.STEP_NETWORK_FAILURE,
        "hex-network",
    ),
    (
        "mix-httpc-nxdomain",
        "** (Mix) httpc request failed with: {:failed_connect, [{:to_address, {'builds.hex.pm', 443}}, {:inet, [:inet], :nxdomain}]}\n",
        F.DNS_FAILURE,
        "node-dns",
    ),
    (
        "mix-httpc-404-is-no-network-fault",
        "** (Mix) httpc request failed with: {:bad_status_code, 404}\n",
        F.UNKNOWN,
        "no-match",
    ),
    # --- Go's resolver: the query to port 53 itself failed
    (
        "go-resolver-udp-refused",
        'Error response from daemon: Get "https://quay.io/v2/": dial tcp: lookup quay.io on 10.0.2.3:53: read udp 10.0.2.15:51234->10.0.2.3:53: read: connection refused',
        F.DNS_FAILURE,
        "go-dns-lookup",
    ),
    (
        "go-resolver-udp-cut-line",
        "ay.io on 10.0.2.3:53: read udp 10.0.2.15:40522->10.0.2.3:53: i/o timeout",
        F.DNS_FAILURE,
        "go-dns-lookup",
    ),
    # --- package managers that reached their repository (R quotes names with
    # typographic quotes in a UTF-8 locale)
    (
        "r-dependencies-not-available",
        "ERROR: dependencies \u2018curl\u2019, \u2018openssl\u2019 are not available for package \u2018httr\u2019\n* removing \u2018/usr/local/lib/R/site-library/httr\u2019\n",
        F.BUILD_STEP_FAILURE,
        "step-package-unavailable",
    ),
    (
        "pnpm-offline-tarball-missing",
        " ERR_PNPM_NO_OFFLINE_TARBALL  A package is missing from the store but cannot download it in offline mode. The missing package may be downloaded from https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz.\n",
        F.BUILD_STEP_FAILURE,
        "step-package-unavailable",
    ),
    (
        "pnpm-tarball-429",
        " ERR_PNPM_FETCH_429  GET https://registry.npmjs.org/react/-/react-18.2.0.tgz: Too Many Requests - 429\n",
        F.RATE_LIMITED,
        "rate-limited",
    ),
    (
        "corepack-request-failed-no-url",
        "Preparing yarn@4.1.0 for immediate activation...\nInternal Error: Error when performing the request\n    at ClientRequest.<anonymous> (/usr/local/lib/node_modules/corepack/dist/lib/corepack.cjs:22864:19)\n",
        F.STEP_NETWORK_FAILURE,
        "npm-network",
    ),
    (
        "ppa-not-found",
        "Cannot add PPA: 'ppa:~acme/ubuntu/tools'.\nThe user named '~acme' has no PPA named 'ubuntu/tools'\n",
        F.BUILD_STEP_FAILURE,
        "step-repository-unusable",
    ),
    # --- programs a step runs that are not there
    (
        "dash-script-command-not-found",
        "./scripts/bootstrap.sh: 31: cmake: not found\n",
        F.BUILD_STEP_FAILURE,
        "step-command-missing",
    ),
    (
        "bash-script-path-missing",
        "/opt/build/run.sh: line 12: /usr/local/bin/protoc: No such file or directory\n",
        F.BUILD_STEP_FAILURE,
        "step-command-missing",
    ),
    (
        "gcc-old-driver-cannot-exec",
        "g++: error trying to exec 'cc1plus': execvp: No such file or directory\n",
        F.BUILD_STEP_FAILURE,
        "step-command-missing",
    ),
    (
        "setuptools-compiler-missing",
        "building 'psutil._psutil_linux' extension\nerror: command 'x86_64-linux-gnu-gcc' failed: No such file or directory\n",
        F.BUILD_STEP_FAILURE,
        "step-command-missing",
    ),
    (
        "compose-container-command-missing",
        "ERROR: for api  Container command not found or does not exist.\n",
        F.BUILD_STEP_FAILURE,
        "step-exec-missing",
    ),
    (
        "cloud-build-step-exit",
        'Finished Step #0\nERROR\nERROR: build step 0 "gcr.io/cloud-builders/mvn" failed: step exited with non-zero status: 1\n',
        F.BUILD_STEP_FAILURE,
        "step-nonzero-exit",
    ),
    # --- the build context and its Dockerfile
    (
        "buildkit-context-invalid-file-request",
        "ERROR: failed to solve: invalid file request src/generated/schema.ts\n",
        F.BUILD_CONTEXT_ERROR,
        "copy-source-missing",
    ),
    (
        "node-deployer-dockerfile-enoent",
        "Error: ENOENT: no such file or directory, open '/srv/app/deploy/Dockerfile.prod'\n",
        F.BUILD_CONTEXT_ERROR,
        "dockerfile-missing",
    ),
    (
        "maven-plugin-relayed-missing-file",
        "[ERROR] DOCKER> Error building image: target/api-1.0.jar: no such file or directory\n",
        F.BUILD_CONTEXT_ERROR,
        "copy-source-missing",
    ),
    (
        "bind-mount-path-relative",
        "docker: Error response from daemon: invalid mount config for type \"bind\": invalid mount path: 'data' mount path must be absolute.\n",
        F.DOCKERFILE_ERROR,
        "compose-file-invalid",
    ),
    # --- crictl could not reach the CRI runtime (a kubeadm preflight pull shows it)
    (
        "crictl-runtime-not-started",
        "FATA[0010] failed to connect: failed to connect, make sure you are running as root and the runtime has been started: context deadline exceeded\n",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    (
        "crictl-endpoint-timeout",
        "FATA[0002] connect: connect endpoint 'unix:///run/containerd/containerd.sock', make sure you are running as root and the endpoint has been started: context deadline exceeded\n",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    # --- registries' answers
    (
        "maven-plugin-push-5xx",
        "[ERROR] Failed to execute goal io.fabric8:docker-maven-plugin:0.20.1:push (default-cli) on project api: Error while pushing image 'registry.example:5000/acme/api:1.0' (code: 503, Service Unavailable) -> [Help 1]\n",
        F.REGISTRY_UNAVAILABLE,
        "registry-5xx",
    ),
    (
        "proxy-5xx-relaying-upstream-timeout",
        '500 Internal Server Error - GET /v2/acme/app/manifests/2 - 502 Bad Gateway: {"message":"Get \\"https://quay.io/v2/\\": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)"}\n',
        F.REGISTRY_TIMEOUT,
        "client-timeout",
    ),
    (
        "containerd-platform-manifest-gone",
        "ctr: failed to copy: httpReadSeeker: failed open: content at https://registry.example/v2/acme/app/manifests/sha256:0123abcd not found: not found\n",
        F.IMAGE_NOT_FOUND,
        "manifest-unknown",
    ),
    (
        "containerd-blob-gone-is-no-missing-image",
        "ctr: failed to copy: httpReadSeeker: failed open: content at https://registry.example/v2/acme/app/blobs/sha256:0123abcd not found: not found\n",
        F.UNKNOWN,
        "no-match",
    ),
    (
        "daemon-bare-name-unknown",
        "ERROR: for worker  Error response from daemon: name unknown\n",
        F.IMAGE_NOT_FOUND,
        "manifest-unknown",
    ),
    (
        "push-url-eof-on-its-own-line",
        'Error: failed to push image: Put\n"https://registry.example/v2/acme/app/blobs/uploads/4f2c": EOF\n',
        F.CONNECTION_FAILURE,
        "connection-reset",
    ),
    (
        "compose-pull-warning-with-denial",
        " ! api Warning pull access denied for acme/api, repository does not exist or may require 'docker login': denied: requested access to the resource is denied\n",
        F.IMAGE_NOT_FOUND,
        "compose-pull-warning",
    ),
]


test_family_is_named_by_its_cause, test_case_ids_are_distinct = family_tests(CASES)
