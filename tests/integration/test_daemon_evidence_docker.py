"""The daemon's log names the root cause the client's last fallback hides.

Docker Hub is the daemon's last fallback after its registry mirrors; on the test bed
it is unreachable, as on a network that reaches registries only through mirrors. A
mirror behind the fault proxy resets, answers 503 or 429, or is asked for a misspelt
tag: the client prints only Docker Hub's failure, while the daemon's log file (the
test bed's dockerd writes one) has the mirror's answer. The run's attempt.finished
names the mirror's class, with the daemon's lines as `[dockerd] ` evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.test_run_docker import guard
from tests.testbed.bed import TestBed
from tests.testbed.client import DOCKER
from tests.testbed.context import build_argv
from tests.testbed.faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.docker


def _pull_through(
    bed: TestBed, proxy_url: str, tmp_path: Path, image: str, attempts: str = "1"
) -> dict[str, object]:
    bed.set_mirrors([proxy_url])
    bed.remove_images([image])
    try:
        out = guard(bed.env(), tmp_path, [DOCKER, "pull", image], ("--max-attempts", attempts))
    finally:
        bed.set_mirrors([bed.mirror.url])
    assert out.code != 0, out.explain()
    first = out.attempts()[0]
    first["stderr"] = out.stderr
    return first


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("reset", "connection_failure"),
        ("http503", "registry_unavailable"),
        ("http429", "rate_limited"),
        ("blackhole", "registry_timeout"),
    ],
)
def test_a_mirror_fault_is_named_from_the_daemon_log(
    bed: TestBed,
    fault_proxy: Callable[..., FaultProxy],
    tmp_path: Path,
    mode: str,
    expected: str,
) -> None:
    proxy = fault_proxy(("127.0.0.1", bed.mirror.port), fault=Fault(mode, retry_after_s=1))
    attempt = _pull_through(bed, proxy.url, tmp_path, "busybox:latest")
    assert attempt["failure_class"] == expected
    evidence = attempt["evidence"]
    assert isinstance(evidence, list)
    assert evidence[0].startswith("[dockerd] "), evidence
    assert attempt["daemon_evidence"] == f"file:{bed.dockerd.log_path}"


def test_a_misspelt_tag_is_image_not_found_and_not_retried(
    bed: TestBed, fault_proxy: Callable[..., FaultProxy], tmp_path: Path
) -> None:
    proxy = fault_proxy(("127.0.0.1", bed.mirror.port), fault=Fault("pass"))
    attempt = _pull_through(bed, proxy.url, tmp_path, "busybox:latset", attempts="3")
    assert attempt["failure_class"] == "image_not_found", attempt
    assert attempt["retryable"] is False
    assert "ci-guard: failed after 1 attempt," in str(attempt["stderr"])


def test_a_build_through_a_resetting_mirror_is_connection_failure(
    bed: TestBed,
    fault_proxy: Callable[..., FaultProxy],
    build_context: Callable[..., Path],
    tmp_path: Path,
) -> None:
    proxy = fault_proxy(("127.0.0.1", bed.mirror.port), fault=Fault("reset"))
    bed.set_mirrors([proxy.url])
    bed.remove_images(["busybox:latest"])
    context = build_context("FROM busybox:latest\nRUN echo built > /b.txt\n")
    try:
        # The legacy builder: a SIGHUP-reloaded mirror list reaches it, while the daemon's
        # BuildKit keeps the list it started with (see the builder tests for that path).
        argv = [DOCKER, *build_argv(context, "masked:1")]
        out = guard(bed.env(buildkit=False), tmp_path, argv, ("--max-attempts", "1"))
    finally:
        bed.set_mirrors([bed.mirror.url])
    first = out.attempts()[0]
    assert first["failure_class"] == "connection_failure", out.explain()
    assert "connection reset by peer" in first["evidence"][0]
    assert first["evidence"][0].startswith("[dockerd] ")


# -- no daemon log to read: the mirrors are asked directly --------------------------------------


@pytest.mark.parametrize(
    ("mode", "image", "expected"),
    [
        ("reset", "busybox:latest", "connection_failure"),
        ("http503", "busybox:latest", "registry_unavailable"),
        ("http429", "busybox:latest", "rate_limited"),
        ("blackhole", "busybox:latest", "registry_timeout"),
        ("pass", "busybox:latset", "image_not_found"),
    ],
)
def test_without_the_daemon_log_the_mirrors_answers_name_the_class(  # noqa: PLR0917 - fixtures
    bed: TestBed,
    fault_proxy: Callable[..., FaultProxy],
    tmp_path: Path,
    mode: str,
    image: str,
    expected: str,
) -> None:
    proxy = fault_proxy(("127.0.0.1", bed.mirror.port), fault=Fault(mode, retry_after_s=1))
    bed.set_mirrors([proxy.url])
    bed.remove_images([image])
    options = (
        "--max-attempts", "1", "--daemon-evidence", "mirrors",
        "--daemon-config", str(bed.dockerd.config_path),
    )  # fmt: skip
    try:
        out = guard(bed.env(), tmp_path, [DOCKER, "pull", image], options)
    finally:
        bed.set_mirrors([bed.mirror.url])
    first = out.attempts()[0]
    assert first["failure_class"] == expected, (first["evidence"], out.explain())
    assert first["rule"] == "mirror-answers"
    assert first["evidence"][0].startswith(f"[mirror {proxy.url}] ")
    assert first["daemon_evidence"] == "mirror-probe"
