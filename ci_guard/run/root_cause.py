"""After a masked network failure: the root cause from the daemon's log or the mirrors.

The client shows only the last fallback (Docker Hub) when every registry mirror
failed; classify/daemon_evidence.py reads the daemon's log for the attempt's window,
classify/mirror_answers.py asks the mirrors when no log can be read. The
`daemon-evidence` setting picks: auto (log, else mirrors), log, mirrors, off.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ci_guard.config import Config
from ci_guard.failure import Failure
from ci_guard.run.attempt import ClassifyFn
from ci_guard.supervise.supervisor import ProcessResult

DaemonLogFn = Callable[[str | None, float, float], Any]
"""(DOCKER_HOST, since, until) -> a DaemonLog (lines, origin) or None."""
AskMirrorsFn = Callable[[Failure, ProcessResult, tuple[str, ...], Config], Failure]


def default_daemon_log(docker_host: str | None, since: float, until: float) -> Any:
    from ci_guard.docker.daemon_log import for_host

    return for_host(docker_host, since, until)


def default_ask_mirrors(
    failure: Failure, result: ProcessResult, argv: tuple[str, ...], config: Config
) -> Failure:
    from ci_guard.classify import mirror_answers
    from ci_guard.docker.daemon_json import current_mirrors, read_daemon_json

    mirrors = current_mirrors(read_daemon_json(config.daemon_config).data)
    images = mirror_answers.images_named(result.tail, argv)
    if not mirrors or not images:
        return failure
    return mirror_answers.root_cause(failure, mirror_answers.ask(mirrors, images))


def with_root_cause(
    failure: Failure,
    result: ProcessResult,
    *,
    started_at: str,
    argv: tuple[str, ...],
    docker_host: str | None,
    config: Config,
    daemon_log: DaemonLogFn | None,
    ask_mirrors: AskMirrorsFn | None,
    classify: ClassifyFn,
) -> Failure:
    """The failure, or the root cause the daemon's log or the mirrors name.

    started_at is the attempt's start (ISO 8601 UTC): the daemon's lines are read for
    [start, start + duration], so a slow classification does not shift the window."""
    from ci_guard.classify.daemon_evidence import masks_a_mirror, root_cause

    mode = config.daemon_evidence
    if mode == "off" or not masks_a_mirror(failure):
        return failure
    try:
        log = None
        if mode in ("auto", "log") and daemon_log is not None:
            since = datetime.fromisoformat(started_at.replace("Z", "+00:00")).timestamp()
            log = daemon_log(docker_host, since, since + result.duration_s)
        if log is not None:
            return root_cause(failure, log.lines, log.origin, classify)
        if mode in ("auto", "mirrors") and ask_mirrors is not None:
            return ask_mirrors(failure, result, argv, config)
    except Exception:  # evidence is a bonus: never let it end a run
        return failure
    return failure
