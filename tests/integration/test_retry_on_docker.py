"""--retry-on, --retry-wait and --on-retry-command against real registry faults on the
Docker test bed: the classes a real `docker pull` failure gets are what --retry-on
selects by."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.test_run_docker import (
    BUSYBOX,
    clear_after_attempt_1,
    guard,
    upstream_proxy,
)
from tests.testbed.bed import TestBed
from tests.testbed.client import DOCKER
from tests.testbed.faultproxy import FaultProxy
from tests.testbed.runlog import events_named

pytestmark = pytest.mark.docker


def test_a_503_outside_retry_on_is_not_retried(
    bed: TestBed, fault_proxy: Callable[..., FaultProxy], tmp_path: Path
) -> None:
    proxy = upstream_proxy(bed, fault_proxy, "http503")
    out = guard(
        bed.env(), tmp_path, [DOCKER, "pull", f"{proxy.address}/{BUSYBOX}"],
        ("--max-attempts", "3", "--retry-on", "dns_failure,daemon", "--tempfail-exit-code", "75"),
    )  # fmt: skip
    assert out.classes() == ["registry_unavailable"], out.explain()
    assert out.finished()["stop_reason"] == "not_in_retry_on"
    assert out.code not in (0, 75)  # docker pull's own code, not the tempfail one


def test_a_429_in_the_registry_group_is_retried_after_the_hook(
    bed: TestBed, fault_proxy: Callable[..., FaultProxy], tmp_path: Path
) -> None:
    """rate_limited is in `registry`; --retry-wait 0.2 still waits --rate-limit-backoff."""
    proxy = upstream_proxy(bed, fault_proxy, "http429")
    image = f"{proxy.address}/{BUSYBOX}"
    hook_out = tmp_path / "hook.txt"
    hook = f'echo "$CI_GUARD_FAILURE_CLASS $CI_GUARD_NEXT_ATTEMPT" > {hook_out}'
    try:
        out = guard(
            bed.env(), tmp_path, [DOCKER, "pull", image],
            ("--max-attempts", "2", "--ladder", "retry", "--retry-on", "registry",
             "--retry-wait", "0.2", "--rate-limit-backoff", "1", "--on-retry-command", hook),
            clear_after_attempt_1(proxy),
        )  # fmt: skip
    finally:
        bed.remove_images([image])
    assert out.code == 0, out.explain()
    assert out.classes() == ["rate_limited", None]
    (retry,) = out.retries()
    assert retry["delay_s"] == 1.0
    assert retry["reason"] == "rate_limited is retryable and --retry-on names it (registry)"
    assert hook_out.read_text("utf-8") == "rate_limited 2\n"
    assert events_named(out.events, "retry.hook_finished")
