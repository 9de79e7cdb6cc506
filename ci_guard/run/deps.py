"""What the run loop takes from outside: every side effect, injectable for tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ci_guard.backoff import Backoff
from ci_guard.config import Config
from ci_guard.failure import Failure
from ci_guard.redact import Redactor
from ci_guard.remedies import Remedy, load_remedy
from ci_guard.run import root_cause
from ci_guard.run.attempt import ClassifyFn
from ci_guard.supervise.cancel import CancelToken
from ci_guard.supervise.supervisor import ProcessResult, supervise

if TYPE_CHECKING:
    from ci_guard.classify.evidence import Output

SuperviseFn = Callable[..., ProcessResult]
PreflightFn = Callable[[Config], dict[str, Any]]


def _default_classify(
    exit_code: int, signal: int | None, timed_out: bool, lines: Output
) -> Failure | None:
    from ci_guard.classify import classify

    return classify(exit_code, signal, timed_out, lines)


def _default_reach(docker_host: str | None) -> dict[str, Any]:
    from ci_guard.docker.api import endpoint
    from ci_guard.docker.reach import observe_reach

    return observe_reach(endpoint(docker_host)).as_log_fields()


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
    reach: Callable[[str | None], dict[str, Any]] | None = _default_reach
    """Whether the daemon is this host's (docker/reach.py fields), when preflight did not say."""
    daemon_log: root_cause.DaemonLogFn | None = root_cause.default_daemon_log
    """The daemon's log lines (a DaemonLog) for an attempt's window, or None."""
    ask_mirrors: root_cause.AskMirrorsFn | None = root_cause.default_ask_mirrors
    """The mirrors' own answers for the images the attempt named, as a Failure."""
    redact: Callable[[str], str] = str
    """Masks secrets in evidence before it reaches any report (the logs mask their own)."""
    redactor: Redactor | None = None
    """Masks the attempt logs (a default one when None; unused with raw logs)."""
    wait_after: Callable[[int], float] | None = None
    """The wait after the n-th failed attempt; None: wait_strategy(config)."""
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    cancel: CancelToken = field(default_factory=CancelToken)


def wait_strategy(config: Config) -> Callable[[int], float]:
    """The backoff after the n-th failure; with --retry-wait none (the policy uses that)."""
    if config.retry_wait is not None:
        return lambda _failures: 0.0
    return Backoff(config.backoff_initial, config.backoff_max).wait_after
