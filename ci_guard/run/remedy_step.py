"""The step between two attempts: announce the retry, apply its remedy, record both."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ci_guard.config import Config
from ci_guard.failure import FailureClass
from ci_guard.records import AttemptRecord, RemedyResult, RetryRecord
from ci_guard.remedies import Remedy, RemedyContext
from ci_guard.run import changes, policy
from ci_guard.supervise.cancel import Cancelled, CancelToken, call_cancellable


def retry_fields(decision: policy.Decision, last: AttemptRecord) -> dict[str, Any]:
    """The fields of the `retry.scheduled` event."""
    fields: dict[str, Any] = {
        "attempt": last.attempt,
        "delay_s": decision.delay_s,
        "remedy": decision.remedy,
        "stage": decision.stage,
        "reason": decision.reason,
    }
    if last.failure and last.failure.failure_class is FailureClass.RATE_LIMITED:
        fields["hint"] = policy.rate_limit_hint()
    return fields


def apply_remedy(
    name: str,
    last: AttemptRecord,
    *,
    config: Config,
    docker_host: str | None,
    load_remedy: Callable[[str], Remedy | None],
    log: Any,
    cancel: CancelToken,
    command: tuple[str, ...] = (),
) -> RemedyResult | None:
    """Run the named remedy and log it; None for a plain retry or a missing remedy."""
    if name == policy.PLAIN_RETRY:
        return None
    remedy = load_remedy(name)
    if remedy is None:
        log.warning(
            "remedy.unavailable",
            remedy=name,
            fallback=policy.PLAIN_RETRY,
            detail=f"remedy {name!r} is not available in this build; plain retry instead",
        )
        return None
    ctx = RemedyContext(
        config=config,
        failure=last.failure,
        dry_run=config.dry_run,
        docker_host=docker_host,
        failed_at=_ended_at(last),
        command=command,
    )
    log.info("remedy.started", remedy=name, attempt=last.attempt, plan=remedy.plan(ctx))
    try:
        result = call_cancellable(lambda: remedy.apply(ctx), cancel)
    except Cancelled:
        raise
    except Exception as exc:  # a remedy bug must not end the run
        result = RemedyResult(remedy=name, ok=False, changed=False, detail=f"error: {exc}")
    level = "info" if result.ok else "warning"
    getattr(log, level)("remedy.finished", **result.as_log_fields())
    log_builder(log, name, result.extra.get("builder"))
    return result


def timed(
    decision: policy.Decision,
    last: AttemptRecord,
    apply: Callable[[], RemedyResult | None],
    *,
    clock: Callable[[], float],
    redact: Callable[[str], str],
    record: Callable[[RetryRecord], None],
) -> RetryRecord:
    """`apply()` the decision's remedy and `record` the retry with the time it really
    took, also when a stop signal cut the remedy short."""
    started = clock()
    result = None
    try:
        result = apply()
    finally:
        spent = round(clock() - started, 3)
        retry = retry_record(decision, last, result, redact, spent)
        record(retry)
    return retry


def log_builder(log: Any, source: str, fields: Any) -> None:
    """The builder check after a mirrors reload, as its own event (docs/mirrors.md)."""
    if not isinstance(fields, dict):
        return
    level = "info" if fields.get("ok", True) else "warning"
    getattr(log, level)("builder.mirrors", source=source, **fields)


def _ended_at(record: AttemptRecord) -> float | None:
    """Epoch seconds when the attempt ended (its failure was seen)."""
    try:
        started = datetime.fromisoformat(record.started_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return started.timestamp() + record.duration_s


def retry_record(
    decision: policy.Decision,
    last: AttemptRecord,
    result: RemedyResult | None,
    redact: Callable[[str], str],
    remedy_s: float,
) -> RetryRecord:
    """The retry as the run keeps it: the remedy's reasons masked, its real duration."""
    return RetryRecord(
        attempt=last.attempt,
        delay_s=decision.delay_s,
        stage=decision.stage,
        remedy=decision.remedy,
        remedy_result=changes.masked(result, redact) if result is not None else None,
        remedy_s=remedy_s if decision.remedy != policy.PLAIN_RETRY else 0.0,
    )
