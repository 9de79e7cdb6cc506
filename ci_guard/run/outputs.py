"""Files and pushes written after a run: JUnit report, metrics file, Pushgateway.

A failure here is logged and never changes the run's exit code: the build's result
matters more than its paperwork.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ci_guard.config import Config
from ci_guard.errors import describe
from ci_guard.records import OutputFailure, RunRecord


def _junit(run: RunRecord, path: Path, secret_env: tuple[str, ...]) -> None:
    from ci_guard.ci import write_junit

    write_junit(run, path, secret_env)


def _metrics_file(run: RunRecord, path: Path) -> None:
    from ci_guard.run.metrics import write_metrics_file

    write_metrics_file(run, path)


def _push(run: RunRecord, url: str) -> None:
    from ci_guard.run.metrics_push import push_metrics

    push_metrics(run, url)


def planned_outputs(config: Config) -> list[tuple[str, str, Callable[[RunRecord], None]]]:
    """(kind, target, writer) for each output the config asks for."""
    outputs: list[tuple[str, str, Callable[[RunRecord], None]]] = []
    if config.junit is not None:
        junit = config.junit
        names = config.secret_env
        outputs.append(("junit", str(junit), lambda run: _junit(run, junit, names)))
    if config.metrics_file is not None:
        metrics = config.metrics_file
        outputs.append(("metrics-file", str(metrics), lambda run: _metrics_file(run, metrics)))
    if config.pushgateway is not None:
        url = config.pushgateway
        outputs.append(("pushgateway", url, lambda run: _push(run, url)))
    return outputs


def write_outputs(run: RunRecord, config: Config, log: Any) -> list[OutputFailure]:
    """Write every requested output; returns those not written, with the reason."""
    failed = []
    for kind, target, writer in planned_outputs(config):
        try:
            writer(run)
        except Exception as exc:  # whatever went wrong, the build's result stands
            reason = describe(exc)
            failed.append(OutputFailure(kind, target, reason))
            log.warning("output.failed", output=kind, target=target, error=reason)
        else:
            log.info("output.written", output=kind, target=target)
    return failed
