"""Registry, network and build-step families in each producer's own wording.

Each case is written from the producer's error strings as its source prints them
(containers/image, containerd, Harbor, the docker CLI's ssh helper, moby's
Dockerfile parser, yum and dnf, apt, Node.js, corepack, Poetry, uv), wrapped the way
a build shows it where that matters. They check that a wording no corpus row shows
is named by its family, and that a family's neighbour is not caught by mistake.
"""
# ruff: noqa: E501  (build-output lines are kept verbatim, unwrapped)

from __future__ import annotations

from ci_guard.failure import FailureClass
from tests.family_cases import family_tests

F = FailureClass

CASES: list[tuple[str, str, FailureClass, str]] = [
    # --- registries' refusals and not-found answers
    (
        "podman-manifest-read-multi-error",
        "Error: initializing source docker://acme/tool:2: reading manifest 2 in docker.io/acme/tool: errors:\ndenied: requested access to the resource is denied\nunauthorized: authentication required\n",
        F.IMAGE_NOT_FOUND,
        "pull-access-denied",
    ),
    (
        "podman-bare-name-unknown",
        "Error: initializing source docker://quay.example/acme/tool:2: reading manifest 2 in quay.example/acme/tool: name unknown",
        F.IMAGE_NOT_FOUND,
        "manifest-unknown",
    ),
    (
        "crane-harbor-not-found-code",
        "Error: GET https://harbor.example/v2/cache/library/redis/manifests/7: NOT_FOUND: artifact cache/library/redis:7 not found",
        F.IMAGE_NOT_FOUND,
        "manifest-unknown",
    ),
    (
        "gcr-project-deleted",
        "Error response from daemon: Get https://gcr.io/v2/old-project/app/manifests/v1: unknown: Project 'project:old-project' not found or deleted.",
        F.IMAGE_NOT_FOUND,
        "manifest-unknown",
    ),
    (
        "podman-token-endpoint-404-is-no-image",
        "Error: trying to reuse blob sha256:0123 at destination: Requesting bearer token: received unexpected HTTP status: 404 Not Found",
        F.UNKNOWN,
        "no-match",
    ),
    (
        "harbor-upstream-login-refused",
        '[ERROR] [/lib/http/error.go:54]: {"errors":[{"code":"UNKNOWN","message":"unknown: login to dockerhub error: {\\"detail\\":\\"Incorrect authentication credentials\\"}"}]}\nError response from daemon: received unexpected HTTP status: 500 Internal Server Error\n',
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "harbor-upstream-unhealthy",
        "[ERROR] [/server/middleware/repoproxy/proxy.go:240]: current registry is unhealthy, regID:3, Name:quay, Status: unhealthy\nError response from daemon: unknown: artifact quay-cache/org/app:1 not found\n",
        F.REGISTRY_UNAVAILABLE,
        "proxy-upstream-unhealthy",
    ),
    (
        "kaniko-push-check-bad-request",
        'error checking push permissions -- make sure you entered the correct tag name, and that you are authenticated correctly, and try again: checking push permission for "registry.example/Team/App:1": creating push check transport for registry.example failed: GET https://registry.example/token?scope=repository%3ATeam%2FApp%3Apush: unexpected status code 400 Bad Request',
        F.UNKNOWN,
        "no-match",
    ),
    # --- registries' statuses in containers/image and containerd wording
    (
        "skopeo-bearer-token-5xx",
        "FATA[0003] initializing source docker://quay.io/org/app:1: Requesting bearer token: invalid status code from registry 504 (Gateway Timeout)",
        F.REGISTRY_UNAVAILABLE,
        "registry-5xx",
    ),
    (
        "buildah-too-many-requests",
        "Error: creating build container: copying system image from manifest list: reading blob sha256:0123: fetching blob: too many requests to registry",
        F.RATE_LIMITED,
        "rate-limited",
    ),
    (
        "nerdctl-anonymous-token-5xx",
        'FATA[0001] failed to resolve reference "docker.io/library/nginx:1": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://auth.docker.io/token?scope=repository%3Alibrary%2Fnginx%3Apull&service=registry.docker.io: 503 Service Unavailable',
        F.REGISTRY_UNAVAILABLE,
        "registry-5xx",
    ),
    (
        "buildkit-oauth-token-refused-connection",
        'ERROR: failed to solve: node:20: failed to resolve source metadata for docker.io/library/node:20: failed to authorize: failed to fetch oauth token: Post "https://auth.docker.io/token": dial tcp 3.216.34.172:443: connect: connection refused',
        F.CONNECTION_FAILURE,
        "connection-refused",
    ),
    # --- the engine reached over ssh
    (
        "ssh-engine-refused",
        "error during connect: Get http://docker.example.com/v1.41/containers/json: command [ssh -l ci -- build-host docker system dial-stdio] has exited with exit status 255, please make sure the URL is valid, and Docker 18.09 or later is installed on the remote host: stderr=ssh: connect to host build-host port 22: Connection refused",
        F.CONNECTION_FAILURE,
        "engine-ssh-network",
    ),
    (
        "ssh-engine-host-key-is-the-daemons",
        "error during connect: Get http://docker.example.com/v1.41/version: command [ssh -l ci -- build-host docker system dial-stdio] has exited with exit status 255, please make sure the URL is valid, and Docker 18.09 or later is installed on the remote host: stderr=Host key verification failed.",
        F.DAEMON_UNREACHABLE,
        "daemon-not-running",
    ),
    # --- the Dockerfile parser's own words
    (
        "legacy-label-without-value",
        "Error response from daemon: failed to parse Dockerfile: LABEL names can not be blank",
        F.DOCKERFILE_ERROR,
        "dockerfile-parse",
    ),
    (
        "buildkit-env-too-many",
        "ERROR: failed to solve: dockerfile parse error on line 4: Bad input to ENV, too many arguments",
        F.DOCKERFILE_ERROR,
        "dockerfile-parse",
    ),
    (
        "legacy-parser-other-wording",
        "Error response from daemon: failed to parse Dockerfile: unexpected end of statement while looking for matching double-quote",
        F.DOCKERFILE_ERROR,
        "dockerfile-parse-failed",
    ),
    # --- package managers and scripts inside a step
    (
        "node-econnreset-in-step",
        "#9 4.210 Error: read ECONNRESET\n#9 4.210     at TLSWrap.onStreamRead (node:internal/stream_base_commons:217:20) {\n#9 4.210   errno: -104,\n#9 4.210   code: 'ECONNRESET',\n#9 4.210   syscall: 'read'\n#9 4.210 }\n"
        'ERROR: failed to solve: process "/bin/sh -c node scripts/fetch-assets.js" did not complete successfully: exit code: 1\n',
        F.STEP_NETWORK_FAILURE,
        "node-network",
    ),
    (
        "node-aggregate-timeout",
        "AggregateError [ETIMEDOUT]: \n    at internalConnectMultiple (node:net:1117:18)\n    at afterConnectMultiple (node:net:1684:7)\nThe command '/bin/sh -c npx prisma generate' returned a non-zero code: 1\n",
        F.STEP_NETWORK_FAILURE,
        "node-network",
    ),
    (
        "node-loopback-refusal-is-no-network",
        "Error: connect ECONNREFUSED 127.0.0.1:5432\nThe command '/bin/sh -c npm test' returned a non-zero code: 1\n",
        F.CONNECTION_FAILURE,
        "connection-refused",
    ),
    (
        "corepack-server-5xx",
        "Internal Error: Server answered with HTTP 502 when performing the request to https://registry.npmjs.org/yarn; for troubleshooting help, see https://github.com/nodejs/corepack#troubleshooting",
        F.STEP_NETWORK_FAILURE,
        "npm-network",
    ),
    (
        "poetry-all-attempts",
        "#12 31.02 All attempts to connect to files.pythonhosted.org failed.\n",
        F.STEP_NETWORK_FAILURE,
        "pip-network",
    ),
    (
        "uv-tcp-connect-error",
        "error: Failed to fetch: `https://pypi.org/simple/flask/`\n  Caused by: error sending request\n  Caused by: client error (Connect)\n  Caused by: tcp connect error: Connection refused (os error 111)\n",
        F.STEP_NETWORK_FAILURE,
        "pip-network",
    ),
    (
        "apt-mirror-no-answer-windows-proxy",
        "Err:7 http://deb.debian.org/debian bookworm/main amd64 curl amd64 7.88.1-10\n  Could not connect: connectex: A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond. [IP: 151.101.2.132 80]\n",
        F.STEP_NETWORK_FAILURE,
        "apt-network",
    ),
    (
        "micromamba-timeout",
        "#8 100.7 critical libmamba Download error (28) Timeout was reached [https://conda.anaconda.org/conda-forge/linux-64/python-3.12.1-hab00c5b_1_cpython.conda]\n#8 100.7     Operation too slow. Less than 30 bytes/sec transferred the last 60 seconds\n",
        F.STEP_NETWORK_FAILURE,
        "libcurl-timeout",
    ),
    (
        "micromamba-receive-failure",
        "warning  libmamba Download error (56) Failure when receiving data from the peer [https://conda.anaconda.org/conda-forge/noarch/pip-24.0-pyhd8ed1ab_0.conda]\n",
        F.STEP_NETWORK_FAILURE,
        "libcurl-timeout",
    ),
    (
        "micromamba-host-unresolved-is-dns",
        "critical libmamba Download error (6) Could not resolve host: conda.anaconda.org\n",
        F.DNS_FAILURE,
        "apt-dns",
    ),
    (
        "pip-externally-managed",
        "#10 0.912 error: externally-managed-environment\n#10 0.912 \n#10 0.912 This environment is externally managed\n",
        F.BUILD_STEP_FAILURE,
        "build-tool-fatal",
    ),
    (
        "npm-ci-out-of-sync",
        "npm ERR! code EUSAGE\nnpm ERR! \nnpm ERR! `npm ci` can only install packages when your package.json and package-lock.json or npm-shrinkwrap.json are in sync.\n",
        F.BUILD_STEP_FAILURE,
        "build-tool-fatal",
    ),
    (
        "dpkg-configure-failed",
        "dpkg: error processing package tzdata (--configure):\n installed tzdata package post-installation script subprocess returned error exit status 1\nE: Sub-process /usr/bin/dpkg returned an error code (1)\n",
        F.BUILD_STEP_FAILURE,
        "build-tool-fatal",
    ),
    (
        "pip-wheels-beat-the-builders-summary",
        "ERROR: Failed to build installable wheels for some pyproject.toml based projects (pyarrow)\nERROR: failed to build: failed to solve: exit code: 1\n",
        F.BUILD_STEP_FAILURE,
        "build-tool-fatal",
    ),
    (
        "uv-lock-refusal-after-network-is-network",
        "error: Request failed after 3 retries\nerror: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided.\n",
        F.STEP_NETWORK_FAILURE,
        "pip-network",
    ),
    (
        "dnf-eol-mirrorlist",
        "Error: Failed to download metadata for repo 'appstream': Cannot prepare internal mirrorlist: No URLs in mirrorlist\nThe command '/bin/sh -c dnf install -y git' returned a non-zero code: 1\n",
        F.BUILD_STEP_FAILURE,
        "yum-release-gone",
    ),
    (
        "yum-eol-invalid-release",
        "YumRepo Error: All mirror URLs are not using ftp, http[s] or file.\n Eg. Invalid release/repo/arch combination/\nremoving mirrorlist with no valid mirrors: /var/cache/yum/x86_64/6/base/mirrorlist.txt\nError: Cannot find a valid baseurl for repo: base\n",
        F.BUILD_STEP_FAILURE,
        "yum-release-gone",
    ),
    # --- a proxy or a cloud CLI refusing the credentials before the registry is asked
    (
        "proxy-407-go-client",
        'Error response from daemon: Get "https://registry-1.docker.io/v2/": Proxy Authentication Required',
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "ecr-token-expired",
        "An error occurred (ExpiredTokenException) when calling the GetAuthorizationToken operation: The security token included in the request is expired",
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "gcloud-helper-no-account",
        "ERROR: (gcloud.auth.docker-helper) You do not currently have an active account selected.",
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "az-acr-login-without-az-login",
        "+ az acr login --name acmeregistry\nERROR: Please run 'az login' to setup account.",
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    (
        "aws-ecr-login-without-credentials",
        '+ aws ecr get-login-password --region eu-west-1\nUnable to locate credentials. You can configure credentials by running "aws configure".',
        F.AUTH_DENIED,
        "registry-unauthorized",
    ),
    # --- 5xx in the words of containerd's error parser and of Go's proxy CONNECT
    (
        "containerd-unparsed-503",
        "ERROR: failed to parse error response 502: <html><head><title>502 Bad Gateway</title></head></html>: invalid character '<' looking for beginning of value",
        F.REGISTRY_UNAVAILABLE,
        "registry-5xx",
    ),
    (
        "proxy-connect-gateway-timeout",
        'Error response from daemon: Head "https://ghcr.io/v2/acme/app/manifests/1.2": Get "https://ghcr.io/token?scope=repository%3Aacme%2Fapp%3Apull&service=ghcr.io": Gateway Timeout',
        F.REGISTRY_UNAVAILABLE,
        "registry-5xx",
    ),
    # --- containerd's push writer losing the connection
    (
        "push-send-write-eof",
        "error: failed to copy: failed to send write: EOF",
        F.CONNECTION_FAILURE,
        "connection-reset",
    ),
    # --- a registry speaking plain HTTP where TLS was expected
    (
        "registry-plain-http-go",
        'Error response from daemon: Get "https://10.0.0.5:5000/v2/": http: server gave HTTP response to HTTPS client',
        F.UNKNOWN,
        "plain-http-answer",
    ),
    (
        "registry-plain-http-tls-record",
        'failed to do request: Head "https://registry.lan:80/v2/app/manifests/latest": tls: first record does not look like a TLS handshake',
        F.UNKNOWN,
        "plain-http-answer",
    ),
    (
        "curl-through-plain-proxy",
        "curl: (35) error:1408F10B:SSL routines:ssl3_get_record:wrong version number\nThe command '/bin/sh -c curl -fsSL https://example.org/tool.tar.gz | tar xz' returned a non-zero code: 35",
        F.UNKNOWN,
        "plain-http-answer",
    ),
]


test_family_is_named_by_its_cause, test_case_ids_are_distinct = family_tests(CASES)
