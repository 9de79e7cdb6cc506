"""Shared fixtures: the sandboxed Docker test bed and the gate for `docker` tests.

Tests marked `@pytest.mark.docker` run against a private dockerd, registries and fault
proxies inside a loopback-only network namespace (`make test` arranges it). Where that
is impossible (not root, no dockerd, not in such a namespace) they are skipped with
the reason, except under CI=true, where they fail: CI must never skip them silently.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.testbed.bed import (
    TestBed,
    TinyDaemon,
    check_leftovers,
    start_auth_registry,
    start_testbed,
    start_tiny_daemon,
)
from tests.testbed.check import bed_unavailable_reason
from tests.testbed.client import DOCKER
from tests.testbed.context import write_build_context
from tests.testbed.faultproxy import Fault, FaultProxy
from tests.testbed.registry import Registry


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


@functools.cache
def _unavailable() -> str | None:
    return bed_unavailable_reason()


def _require_bed() -> None:
    reason = _unavailable()
    if reason is None:
        return
    if _on_ci():
        pytest.fail(f"CI=true and the Docker test bed cannot run: {reason}", pytrace=False)
    pytest.skip(f"Docker test bed unavailable: {reason}")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("docker") is not None:
        _require_bed()


@pytest.fixture(scope="session")
def testbed() -> Iterator[TestBed]:
    """dockerd + upstream registry (base images) + pull-through mirror, for the session."""
    _require_bed()
    bed = start_testbed()
    try:
        yield bed
    finally:
        bed.stop()
    check_leftovers(bed)


@pytest.fixture
def bed(testbed: TestBed) -> TestBed:
    """The session test bed, reset first: daemon up, baseline daemon.json, logged out."""
    testbed.reset()
    return testbed


@pytest.fixture
def docker_env(bed: TestBed) -> dict[str, str]:
    """Environment for subprocesses (docker, docker-compose, ci-guard) against the bed."""
    return bed.env()


@pytest.fixture
def compose_v2(bed: TestBed) -> list[str]:
    """argv of Compose v2 (`docker compose`) on the bed; skipped (failed under CI) without it."""
    if not bed.compose_v2:
        why = "Compose v2 is not installed: run `python -m tests.tools compose` (make test does)"
        if _on_ci():
            pytest.fail(f"CI=true and {why}", pytrace=False)
        pytest.skip(why)
    return [DOCKER, "compose"]


@pytest.fixture(scope="session")
def auth_registry(testbed: TestBed) -> Registry:
    """A registry with htpasswd auth holding library/busybox:latest (user/password on it)."""
    return start_auth_registry(testbed)


FaultProxyFactory = Callable[..., FaultProxy]


@pytest.fixture
def fault_proxy() -> Iterator[FaultProxyFactory]:
    """Factory: fault_proxy(target=(host, port), fault=Fault(...), control=True) -> started."""
    started: list[FaultProxy] = []

    def make(
        target: tuple[str, int], fault: Fault | None = None, control: bool = True, **kw: Any
    ) -> FaultProxy:
        proxy = FaultProxy(target, fault=fault, control_port=0 if control else None, **kw)
        started.append(proxy.start())
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


@pytest.fixture
def tiny_daemon(testbed: TestBed) -> Iterator[TinyDaemon]:
    """A second dockerd on an 80 MiB ext4 data root, for disk-full tests."""
    daemon = start_tiny_daemon(testbed)
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def build_context(tmp_path: Path) -> Callable[..., Path]:
    """Factory: build_context(dockerfile_text, files={...}, name="ctx") -> context dir."""

    def make(dockerfile: str, files: dict[str, str] | None = None, name: str = "ctx") -> Path:
        return write_build_context(tmp_path / name, dockerfile, files)

    return make
