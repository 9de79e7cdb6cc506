"""Asking the mirrors: which images the output names, and what their answers mean.

The end-to-end check against real mirrors behind the fault proxy is in
tests/integration/test_daemon_evidence_docker.py; here the mapping is pinned down
with the probe's own result type.
"""

from __future__ import annotations

import threading

from ci_guard.classify.mirror_answers import (
    PROBE_BUDGET_S,
    MirrorAnswer,
    ask,
    class_of,
    images_named,
    root_cause,
)
from ci_guard.failure import Failure, FailureClass
from ci_guard.registry.probe import RegistryProbe

MASKED = Failure(FailureClass.DNS_FAILURE, True, "go-dns-lookup", ("lookup registry-1...",))


def test_images_from_buildkit_classic_pull_lines_and_the_pull_command() -> None:
    lines = [
        "#3 [internal] load metadata for docker.io/library/python:3.12-slim",
        "latest: Pulling from library/busybox",
        "Error response from daemon: pull access denied for acme/tool, repository does not exist",
        "#4 [internal] load metadata for ghcr.io/acme/base:1",  # not served by Hub mirrors
    ]
    assert images_named(lines) == [
        "library/python:3.12-slim",
        "library/busybox:latest",
        "acme/tool",
    ]
    assert images_named([], ("docker", "pull", "-q", "busybox:latset")) == ["busybox:latset"]


def _probe(
    verdict: str, reason: str, v2: int | None = None, manifest: int | None = None
) -> RegistryProbe:
    return RegistryProbe("http://m", verdict, reason, 0.1, v2_status=v2, manifest_status=manifest)


def test_class_of_each_kind_of_answer() -> None:
    assert class_of(_probe("misbehaving", "x", 200, 404)) is FailureClass.IMAGE_NOT_FOUND
    assert class_of(_probe("misbehaving", "x", 429)) is FailureClass.RATE_LIMITED
    assert class_of(_probe("misbehaving", "x", 200, 429)) is FailureClass.RATE_LIMITED
    assert class_of(_probe("dead", "/v2/ answered 503", 503)) is FailureClass.REGISTRY_UNAVAILABLE
    assert class_of(_probe("dead", "no answer within 3s")) is FailureClass.REGISTRY_TIMEOUT
    assert class_of(_probe("dead", "connection reset by peer")) is FailureClass.CONNECTION_FAILURE
    assert class_of(_probe("healthy", "served", 200, 200)) is None


def test_root_cause_needs_every_mirror_to_fail_and_all_404_for_not_found() -> None:
    nf = MirrorAnswer("http://a", "library/x:1", FailureClass.IMAGE_NOT_FOUND, "404")
    rl = MirrorAnswer("http://b", "library/x:1", FailureClass.RATE_LIMITED, "429")
    ok = MirrorAnswer("http://b", "library/x:1", None, "served")
    assert root_cause(MASKED, [nf, ok]) is MASKED
    found = root_cause(MASKED, [nf])
    assert (found.failure_class, found.retryable) == (FailureClass.IMAGE_NOT_FOUND, False)
    assert found.evidence[0] == "[mirror http://a] library/x:1: 404"
    assert found.daemon_log == "mirror-probe"
    assert root_cause(MASKED, [nf, rl]).failure_class is FailureClass.RATE_LIMITED


def test_ask_probes_every_mirror_at_once() -> None:
    meeting = threading.Barrier(3, timeout=30)  # broken unless all three probes run together

    def probe(url: str, **kwargs: object) -> RegistryProbe:
        assert kwargs["timeout"] == PROBE_BUDGET_S
        meeting.wait()
        return _probe("dead", "no answer within 3s")

    answers = ask(["http://a", "http://b", "http://c"], ["busybox"], probe=probe)
    assert [a.failure_class for a in answers] == [FailureClass.REGISTRY_TIMEOUT] * 3
    assert [a.image for a in answers] == ["library/busybox:latest"] * 3
