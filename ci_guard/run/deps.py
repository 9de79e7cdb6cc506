"""What the run loop takes from outside: every side effect, injectable for tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ci_guard.config import Config
from ci_guard.failure import Failure
from ci_guard.remedies import Remedy, load_remedy
from ci_guard.supervise.cancel import CancelToken
from ci_guard.supervise.supervisor import ProcessResult, supervise

SuperviseFn = Callable[..., ProcessResult]
ClassifyFn = Callable[[int, "int | None", bool, Iterable[str]], "Failure | None"]
PreflightFn = Callable[[Config], dict[str, Any]]


def _default_classify(
    exit_code: int, signal: int | None, timed_out: bool, lines: Iterable[str]
) -> Failure | None:
    from ci_guard.classify import classify

    return classify(exit_code, signal, timed_out, lines)


def _default_snapshot(docker_host: str | None) -> None:
    from ci_guard.docker.control import snapshot

    snapshot(docker_host)


@dataclass
class RunDeps:
    supervise: SuperviseFn = supervise
    classify: ClassifyFn = _default_classify
    load_remedy: Callable[[str], Remedy | None] = load_remedy
    preflight: PreflightFn | None = None
    snapshot: Callable[[str | None], None] | None = _default_snapshot
    """Records how the daemon runs while it is healthy, so a remedy can relaunch it."""
    redact: Callable[[str], str] = str
    """Masks secrets in evidence before it reaches any report (the logs mask their own)."""
    wait_after: Callable[[int], float] | None = None
    """The wait after the n-th failed attempt; None: backoff.Backoff from the config."""
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    cancel: CancelToken = field(default_factory=CancelToken)
