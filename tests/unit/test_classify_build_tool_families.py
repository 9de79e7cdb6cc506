"""Build tools' own fatal errors and their neighbours, in their producers' words.

Each case is written from the strings the tool prints when it gives up (npm's and
Bun's lockfile checks, Vite and webpack, Mix and Elixir, conda, Maven, Gradle, sbt,
Poetry, uv, Python's codecs, dash, autoreconf, old buildah, kaniko's image references,
Cloud Build, a Gradle daemon's heap, ECS, apk, BuildKit's client session). They check that a wording no corpus row shows is named by its
family, and that a neighbour with another meaning (a fetch that timed out or hit a
404, a download cut short) is not taken for a bug in the build.
"""
# ruff: noqa: E501  (build-output lines are kept verbatim, unwrapped)

from __future__ import annotations

from ci_guard.failure import FailureClass
from tests.family_cases import family_tests

F = FailureClass
FATAL = "build-tool-fatal"

CASES: list[tuple[str, str, FailureClass, str]] = [
    # --- JavaScript: lockfiles out of step with their manifest, bundlers that failed
    (
        "npm-ci-unquoted-out-of-sync",
        "npm ci can only install packages when your package.json and package-lock.json are in sync\nMissing: fsevents@ from lock file\n",
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "npm-lockfile-does-not-satisfy",
        "npm ERR! \nnpm ERR! Invalid: lock file's yargs@13.3.2 does not satisfy yargs@^17.1.1\nnpm ERR! \n",
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "bun-frozen-lockfile",
        "error: lockfile had changes, but lockfile is frozen\n",
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "vite-entry-missing",
        'vite v7.2.6 building client environment for production...\n✓ 0 modules transformed.\n\n✗ Build failed in 5ms\nerror during build:\nCould not resolve entry module "index.html".\n',
        F.BUILD_STEP_FAILURE,
        "step-build-tool-failed",
    ),
    (
        "vite-config-unloadable",
        "failed to load config from /app/vite.config.ts\nerror during build:\nError: config must export or return an object.\n",
        F.BUILD_STEP_FAILURE,
        "step-build-tool-failed",
    ),
    (
        "webpack-compiled-with-errors",
        "webpack 5.88.2 compiled with 2 errors in 5321 ms\n",
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    # --- Elixir: Mix's fatal line and the exception that stopped a task
    (
        "mix-dependency-not-compiled",
        '** (Mix) Could not compile dependency :lfe, "/home/app/.mix/rebar3 bare compile --paths /app/_build/prod/lib/*/ebin" command failed. Errors may have been logged above.\n',
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "mix-project-not-compiled",
        '** (Mix) Cannot execute task because the project was not yet compiled. When build_embedded is set to true, "MIX_ENV=prod mix compile" must be explicitly executed\n',
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "elixir-exception-stops-task",
        "== Compilation error on file lib/guardian.ex ==\n** (RuntimeError) Guardian is not configured\n    lib/guardian.ex:26: (module)\n",
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "mix-hex-registry-unreadable-is-no-build-bug",
        "** (Mix) Failed to open Hex registry (file does not exist, run `mix hex.info` to fetch it)\n",
        F.UNKNOWN,
        "no-match",
    ),
    # --- Python: conda, Poetry, uv, the locale's codec
    (
        "conda-unsatisfiable",
        "UnsatisfiableError: The following specifications were found to be incompatible with each other:\n",
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "conda-download-cut-short-is-no-build-bug",
        "CondaError: Downloaded bytes did not match Content-Length\n  url: https://repo.anaconda.com/pkgs/main/linux-64/numpy-1.24.3.conda\n",
        F.UNKNOWN,
        "no-match",
    ),
    (
        "conda-channel-forbidden-is-no-login",
        "CondaHTTPError: HTTP 403 FORBIDDEN for url <https://repo.anaconda.com/pkgs/main/linux-64/current_repodata.json>\n",
        F.BUILD_STEP_FAILURE,
        "step-package-unavailable",
    ),
    (
        "poetry-python-not-supported",
        "The currently activated Python version 3.8.10 is not supported by the project (^3.10).\nTrying to find and use a compatible version.\n",
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "python-ascii-locale",
        "UnicodeEncodeError: 'ascii' codec can't encode character '\\xe9' in position 10: ordinal not in range(128)\n",
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    # --- JVM: the project file missing where the tool runs, sbt's compile failure
    (
        "gradle-no-build-here",
        "Directory '/home/gradle/src' does not contain a Gradle build.\n",
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "sbt-compilation-failed",
        "[error] (Compile / compileIncremental) Compilation failed\n",
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    # --- shells, autotools, builders
    (
        "dash-exec-not-found",
        "/bin/sh: 1: exec: gunicorn: not found\n",
        F.BUILD_STEP_FAILURE,
        "step-command-missing",
    ),
    (
        "autoreconf-undefined-macro",
        "configure.ac:12: error: possibly undefined macro: AC_PROG_LIBTOOL\n      If this token and others are legitimate, please use m4_pattern_allow.\nautoreconf: /usr/bin/autoconf failed with exit status: 1\n",
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "old-buildah-step-exit",
        "error building at step {Env:[PATH=/usr/bin] Command:run Args:[make] Flags:[] Attrs:map[] Message:RUN make Original:RUN make}: exit status 2\n",
        F.BUILD_STEP_FAILURE,
        "step-nonzero-exit",
    ),
    (
        "cloud-build-step-137",
        'ERROR: build step 1 "gcr.io/cloud-builders/docker" failed: step exited with non-zero status: 137\n',
        F.OOM_KILLED,
        "oom-exit-137",
    ),
    (
        "poetry-option-removed",
        'Skipping virtualenv creation, as specified in config file.\n\nThe option "--no-dev" does not exist\n',
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "uv-required-version",
        "error: Required uv version `>=0.10` does not match the running version `0.9.30`\n",
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "uv-no-wheel-for-platform",
        "error: Distribution `tensorflow==2.15.0 @ registry+https://pypi.org/simple` can't be installed because it doesn't have a source distribution or wheel for the current platform\n",
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "conda-terms-not-accepted",
        "CondaToSNonInteractiveError: Terms of Service have not been accepted for the following channels. Please accept or remove them before proceeding:\n    - https://repo.anaconda.com/pkgs/main\n",
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "maven-unknown-phase",
        '[ERROR] Unknown lifecycle phase "instal". You must specify a valid lifecycle phase or a goal in the format <plugin-prefix>:<goal>.\n',
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    (
        "autoreconf-aclocal-missing",
        'Can\'t exec "aclocal": No such file or directory at /usr/share/autoconf/Autom4te/FileUtils.pm line 326.\nautoreconf: failed to run aclocal: No such file or directory\n',
        F.BUILD_STEP_FAILURE,
        FATAL,
    ),
    # --- an image reference no parser accepts
    (
        "kaniko-bad-reference",
        "error building image: parsing dockerfile: could not parse reference: Ubuntu:22.04\n",
        F.DOCKERFILE_ERROR,
        "dockerfile-parse",
    ),
    (
        "ggcr-uppercase-repository",
        "Error: repository can only contain the characters `abcdefghijklmnopqrstuvwxyz0123456789_-./`: Acme/App\n",
        F.DOCKERFILE_ERROR,
        "dockerfile-parse",
    ),
    (
        "kaniko-push-check-bad-name-is-no-refusal",
        "error checking push permissions -- repository can only contain the characters `abcdefghijklmnopqrstuvwxyz0123456789_-./`: Acme/tekton\n",
        F.DOCKERFILE_ERROR,
        "dockerfile-parse",
    ),
    (
        "kaniko-cache-tag-warning-is-no-parse-error",
        "WARN[0096] error uploading layer to cache: getting tag for destination: repository can only contain the runes `abcdefghijklmnopqrstuvwxyz0123456789_-./`: cache:abc\n",
        F.UNKNOWN,
        "no-match",
    ),
    # --- memory: a Gradle daemon, a container platform
    (
        "gradle-daemon-heap-exhausted",
        "Expiring Daemon because JVM heap space is exhausted\nDaemon will be stopped at the end of the build after running out of JVM memory\n",
        F.OOM_KILLED,
        "out-of-memory",
    ),
    (
        "ecs-container-memory",
        "Stopped reason: OutOfMemoryError: Container killed due to memory usage\n",
        F.OOM_KILLED,
        "oom-killed-line",
    ),
    # --- network neighbours: the fetch failed, not the build
    (
        "apk-index-io-error",
        "WARNING: Ignoring https://dl-cdn.alpinelinux.org/alpine/v3.12/main/x86_64/APKINDEX.tar.gz: IO ERROR\nERROR: unsatisfiable constraints:\n",
        F.STEP_NETWORK_FAILURE,
        "apk-network",
    ),
    (
        "npm-request-reason-cut-at-line-end",
        "npm ERR! request to https://registry.npmjs.org/left-pad failed, reason:\n",
        F.STEP_NETWORK_FAILURE,
        "npm-network",
    ),
    (
        "buildkit-client-session-gone",
        "ERROR: failed to solve: failed to read dockerfile: no active session for k2v9x: context deadline exceeded\n",
        F.UNKNOWN,
        "buildkit-session-missing",
    ),
]


test_family_is_named_by_its_cause, test_case_ids_are_distinct = family_tests(CASES)
