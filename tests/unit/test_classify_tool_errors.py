"""A step's tool giving up, and the platform's kills, named from the producers' own words.

A build step often shows only its tool's fatal line: the excerpt ends there, or the
build ran outside a builder, so no "did not complete successfully" follows. Each case
here is a wording of the go command, cargo, pip, yarn, the JVM, Composer, Bundler,
CMake, make, gcc/ld or dpkg that no corpus row holds, so a family is checked beyond
the rows it was widened from; the lookalikes check that a tool's ordinary progress
(or a warning) is not read as its fatal error.
"""
# ruff: noqa: E501  (build-output lines are kept verbatim, unwrapped)

from __future__ import annotations

import pytest

from ci_guard.classify import classify_text
from ci_guard.failure import FailureClass

F = FailureClass

TOOL_FATAL: list[tuple[str, str, str]] = [
    (
        "go-too-old",
        "go: go.mod requires go >= 1.22.3 (running go 1.21.9; GOTOOLCHAIN=local)",
        "go-toolchain-error",
    ),
    (
        "go-toolchain-missing",
        "go: downloading go1.23.0 (linux/amd64)\ngo: download go1.23.0 for linux/amd64: toolchain not available",
        "go-toolchain-error",
    ),
    (
        "go-mod-toolchain-line",
        "go: errors parsing go.mod:\n/app/go.mod:5: invalid toolchain version '1.22': must be of the form 'go1.22'",
        "go-toolchain-error",
    ),
    (
        "go-no-module",
        "go: go.mod file not found in current directory or any parent directory; see 'go help modules'",
        "go-toolchain-error",
    ),
    (
        "go-vendoring",
        "go: inconsistent vendoring in /src:\n\tgithub.com/pkg/errors@v0.9.1: is explicitly required in go.mod, but not marked as explicit in vendor/modules.txt",
        "go-toolchain-error",
    ),
    (
        "go-std-missing",
        "package slices is not in GOROOT (/usr/local/go/src/slices)",
        "go-toolchain-error",
    ),
    (
        "go-sum-mismatch",
        "verifying github.com/acme/lib@v1.4.0: checksum mismatch\n\tdownloaded: h1:abc=\n\tgo.sum:     h1:def=\n\nSECURITY ERROR",
        "go-toolchain-error",
    ),
    (
        "cargo-rustc-too-old",
        "error: package `clap_lex v0.7.2` cannot be built because it requires rustc 1.74 or newer, while the currently active rustc version is 1.70.0",
        "build-tool-fatal",
    ),
    (
        "cargo-edition",
        "error: failed to parse manifest at `/build/Cargo.toml`\n\nCaused by:\n  feature `edition2024` is required",
        "build-tool-fatal",
    ),
    (
        "cargo-lockfile-v4",
        "error: failed to parse lock file at: /build/Cargo.lock\n\nCaused by:\n  lock file version 4 requires `-Znext-lockfile-bump`",
        "build-tool-fatal",
    ),
    (
        "cargo-locked",
        "error: the lock file /build/Cargo.lock needs to be updated but --locked was passed to prevent this",
        "build-tool-fatal",
    ),
    (
        "pip-python-too-old",
        "ERROR: Package 'fastapi-extra' requires a different Python: 3.8.18 not in '>=3.9'",
        "build-tool-fatal",
    ),
    (
        "pip-pep668",
        "error: externally-managed-environment\n\n\u00d7 This environment is externally managed",
        "build-tool-fatal",
    ),
    (
        "pip-legacy-egg-info",
        'Command "python setup.py egg_info" failed with error code 1 in /tmp/pip-build-8f2k/psycopg2/',
        "build-tool-fatal",
    ),
    (
        "yarn-engine",
        'error vite@5.2.0: The engine "node" is incompatible with this module. Expected version "^18.0.0 || >=20.0.0". Got "16.20.2"',
        "build-tool-fatal",
    ),
    (
        "yarn-frozen-lockfile",
        "error Your lockfile needs to be updated, but yarn was run with `--frozen-lockfile`.",
        "build-tool-fatal",
    ),
    (
        "yarn-berry-immutable",
        "➤ YN0028: │ The lockfile would have been modified by this install, which is explicitly forbidden.",
        "build-tool-fatal",
    ),
    (
        "jvm-class-version",
        'Exception in thread "main" java.lang.UnsupportedClassVersionError: app/Main has been compiled by a more recent version of the Java Runtime (class file version 65.0), this version of the Java Runtime only recognizes class file versions up to 61.0',
        "build-tool-fatal",
    ),
    ("javac-release", "error: release version 21 not supported", "build-tool-fatal"),
    (
        "composer-php",
        "  Problem 1\n    - Root composer.json requires php ^8.3 but your php version (8.2.7) does not satisfy that requirement.",
        "build-tool-fatal",
    ),
    (
        "bundler-ruby",
        "Your Ruby version is 3.1.4, but your Gemfile specified 3.3.0",
        "build-tool-fatal",
    ),
    (
        "cmake-too-old",
        "CMake Warning:\n  CMake 3.25 or higher is required.  You are running version 3.22.1",
        "build-tool-fatal",
    ),
    (
        "make-target",
        "make[1]: *** No rule to make target 'vendor/lib.a', needed by 'app'.  Stop.",
        "build-tool-fatal",
    ),
    (
        "gcc-header",
        "In file included from src/net.c:3:\ncompilation terminated.\nsrc/net.h:4:10: fatal error: curl/curl.h: No such file or directory",
        "step-build-tool-failed",
    ),
    ("ld-library", "/usr/bin/ld: cannot find -lpq: No such file or directory", "build-tool-fatal"),
    ("gcc-werror", "cc1plus: all warnings being treated as errors", "build-tool-fatal"),
    (
        "dpkg-script",
        "dpkg: error processing package postgresql-16 (--configure):\n installed postgresql-16 package post-installation script subprocess returned error exit status 1\nE: Sub-process /usr/bin/dpkg returned an error code (1)",
        "build-tool-fatal",
    ),
]


@pytest.mark.parametrize(
    ("text", "rule"), [c[1:] for c in TOOL_FATAL], ids=[c[0] for c in TOOL_FATAL]
)
def test_a_tools_own_fatal_error_is_the_steps_failure(text: str, rule: str) -> None:
    failure = classify_text(text)
    assert (failure.failure_class, failure.rule) == (F.BUILD_STEP_FAILURE, rule)
    assert failure.retryable is False


@pytest.mark.parametrize(
    "text",
    [
        "go: downloading github.com/spf13/cobra v1.8.0",
        "go: finding module for package github.com/acme/lib",
        "npm warn EBADENGINE Unsupported engine {\nnpm warn EBADENGINE   package: 'vite@5.2.0',",
        "warning: unused variable `x`",
        "make: Nothing to be done for 'all'.",
        "Selecting previously unselected package libpq5:amd64.",
    ],
)
def test_a_tools_progress_and_warnings_are_no_fatal_error(text: str) -> None:
    assert classify_text(text).rule == "no-match"


def test_the_network_under_a_toolchain_download_beats_the_tools_error() -> None:
    text = (
        "go: downloading go1.23.0 (linux/amd64)\n"
        'go: download go1.23.0 for linux/amd64: golang.org/toolchain@v0.0.1-go1.23.0.linux-amd64.zip: Get "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go1.23.0.linux-amd64.zip": dial tcp: lookup proxy.golang.org on 127.0.0.11:53: server misbehaving'
    )
    assert classify_text(text).failure_class is F.DNS_FAILURE


def test_apts_version_not_found_without_its_prefix() -> None:
    text = "Version '1.1.1f-1ubuntu2.19' for 'libssl1.1' was not found"
    assert classify_text(text).rule == "step-package-unavailable"


def test_npms_own_crash_is_not_the_builds_bug() -> None:
    text = (
        "npm ERR! Exit handler never called!\n"
        "npm ERR! This is an error with npm itself. Please report this error at:\n"
        "npm ERR!   <https://github.com/npm/cli/issues>\n"
        "The command '/bin/sh -c npm ci' returned a non-zero code: 1"
    )
    failure = classify_text(text)
    assert (failure.failure_class, failure.retryable) == (F.UNKNOWN, True)


@pytest.mark.parametrize(
    "text",
    [
        "The job exceeded the maximum time limit for jobs, and has been terminated.",
        "Build execution time has reached the maximum allowed time for your plan (60 minutes).",
        "Your build exceeded its time limit and was stopped.",
    ],
)
def test_a_platforms_time_limit_in_other_words(text: str) -> None:
    assert classify_text(text).failure_class is F.TIMEOUT


@pytest.mark.parametrize(
    ("lead", "expected"),
    [
        (
            "##[error]The runner has received a shutdown signal. This can happen when the runner service is stopped, or a manually started runner is canceled.",
            F.UNKNOWN,
        ),
        ("The job exceeded the maximum allowed time of 01:00:00 and was stopped.", F.TIMEOUT),
    ],
)
def test_a_platforms_kill_explains_the_exit_137_after_it(lead: str, expected: FailureClass) -> None:
    text = f"{lead}\n##[error]Process completed with exit code 137."
    failure = classify_text(text, exit_code=137)
    assert failure.failure_class is expected


def test_an_exit_137_alone_is_still_the_oom_killer() -> None:
    assert (
        classify_text("##[error]Process completed with exit code 137.").failure_class
        is F.OOM_KILLED
    )


def test_buildkits_lost_cache_blob_is_the_daemons_not_a_missing_source() -> None:
    lost = "ERROR: failed to solve: failed to compute cache key: blob sha256:4f1c0e2b9a7d not found"
    missing = 'ERROR: failed to solve: failed to compute cache key: failed to calculate checksum of ref 6b1d::x1: "/app/requirements.txt": not found'
    assert classify_text(lost).failure_class is F.DAEMON_ERROR
    assert classify_text(missing).failure_class is F.BUILD_CONTEXT_ERROR


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "docker: Error response from daemon: shim error: docker-runc not installed on system.",
            F.DAEMON_ERROR,
        ),
        ("Error response from daemon: containerd: container not started", F.DAEMON_ERROR),
        (
            "Pulling repository quay.io/acme/base\nCould not reach any registry endpoint",
            F.REGISTRY_UNAVAILABLE,
        ),
    ],
)
def test_old_engines_runtime_and_registry_words(text: str, expected: FailureClass) -> None:
    assert classify_text(text).failure_class is expected
