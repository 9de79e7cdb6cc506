"""The run: preflight, attempts, decisions and remedies, as one tenacity loop.

tenacity drives the retries; the strategies below are thin adapters around the pure
`policy.decide`, and remedies run as tenacity's `before_sleep`. A first attempt that
succeeds never loads the retry machinery: the loop starts only once one has failed,
with that attempt as its first outcome. Every side effect (spawn, classify, sleep,
clock, remedies, preflight) comes in through RunDeps.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ci_guard import exitcodes
from ci_guard import records as model
from ci_guard.config import Config
from ci_guard.failure import Failure, FailureClass
from ci_guard.logs import utc_timestamp
from ci_guard.records import AttemptRecord, RemedyResult, RetryRecord, RunHooks, RunRecord
from ci_guard.redact import Redactor
from ci_guard.remedies import Remedy, RemedyContext, load_remedy
from ci_guard.run import attempt as attempt_mod
from ci_guard.run import policy, root_cause
from ci_guard.run.artifacts import default_artifacts_dir
from ci_guard.run.attempt_logs import AttemptLogs
from ci_guard.run.registry_phase import PhaseTracker
from ci_guard.supervise.cancel import Cancelled, CancelToken, call_cancellable
from ci_guard.supervise.supervisor import ProcessResult, supervise

if TYPE_CHECKING:
    import tenacity

    from ci_guard.classify.evidence import Output

SuperviseFn = Callable[..., ProcessResult]
DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"
DAEMON_STAGES = frozenset({"restart-daemon", "repair-network"})
"""Ladder stages that may need to relaunch the daemon as it ran."""
ClassifyFn = attempt_mod.ClassifyFn
PreflightFn = Callable[[Config], dict[str, Any]]


def _default_classify(
    exit_code: int, signal: int | None, timed_out: bool, lines: Output
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
    daemon_log: root_cause.DaemonLogFn | None = root_cause.default_daemon_log
    """The daemon's log lines (a DaemonLog) for an attempt's window, or None."""
    ask_mirrors: root_cause.AskMirrorsFn | None = root_cause.default_ask_mirrors
    """The mirrors' own answers for the images the attempt named, as a Failure."""
    """Records how the daemon runs while it is healthy, so a remedy can relaunch it."""
    redact: Callable[[str], str] = str
    """Masks secrets in evidence before it reaches any report (the logs mask their own)."""
    redactor: Redactor | None = None
    """Masks the attempt logs (a default one when None; unused with raw logs)."""
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    cancel: CancelToken = field(default_factory=CancelToken)


@dataclass
class _State:
    decision: policy.Decision | None = None
    last_result: ProcessResult | None = None


class Runner:
    """Runs one wrapped command to its end; `execute` returns the RunRecord."""

    def __init__(
        self,
        argv: tuple[str, ...],
        config: Config,
        *,
        run: RunRecord,
        log: Any,
        hooks: RunHooks | None = None,
        deps: RunDeps | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.argv = argv
        self.config = config
        self.run = run
        self.log = log
        self.hooks: RunHooks = hooks or model.NoHooks()
        self.deps = deps or RunDeps()
        self.env = dict(env) if env is not None else attempt_mod.inherited_env()
        self._state = _State()
        self._started = 0.0
        artifacts = config.artifacts_dir or default_artifacts_dir("none", self.env, Path.cwd())
        masker = None if config.raw_logs else (self.deps.redactor or Redactor(self.env))
        self._logs = AttemptLogs(artifacts, run.run_id, masker)

    # -- the loop -------------------------------------------------------------------

    def execute(self) -> RunRecord:
        self._started = self.deps.clock()
        self.hooks.run_started(self.run)
        self._snapshot_daemon()
        try:
            self._check_cancel()
            self._preflight()
            first = self._one_attempt()
            if first.failure is not None:
                self._retry_loop(first)
        except Cancelled as exc:
            self._finish_cancelled(exc.signum)
            return self.run
        finally:
            self._logs.close()
        self._finish()
        return self.run

    def _check_cancel(self) -> None:
        signum = self.deps.cancel.signum
        if signum is not None:
            raise Cancelled(signum)

    def _retry_loop(self, first: AttemptRecord) -> None:
        import tenacity

        self._backoff = tenacity.wait_exponential_jitter(
            multiplier=self.config.backoff_initial,
            max=self.config.backoff_max,
            jitter=self.config.backoff_initial,
        )
        replay = [first]  # tenacity's first outcome is the attempt already made
        retrying = tenacity.Retrying(
            retry=self._retry,
            wait=self._wait,
            stop=self._stop,
            before_sleep=self._before_sleep,
            sleep=self._sleep,
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )
        retrying(lambda: replay.pop() if replay else self._one_attempt())

    def _snapshot_daemon(self) -> None:
        """In the background: a daemon that dies mid-run can only be relaunched as it ran."""
        if self.deps.snapshot is None or self.config.dry_run:
            return
        if not DAEMON_STAGES & set(self.config.ladder):
            return
        host = self.env.get("DOCKER_HOST")
        if host is None and not os.path.exists(DEFAULT_DOCKER_SOCKET):
            return  # no daemon to record: spare the run the imports and the process scan
        threading.Thread(
            target=self.deps.snapshot,
            args=(host,),
            name="ci-guard-daemon-snapshot",
            daemon=True,
        ).start()

    def _time_left(self) -> float | None:
        if self.config.total_timeout is None:
            return None
        return self.config.total_timeout - (self.deps.clock() - self._started)

    def _one_attempt(self) -> AttemptRecord:
        number = len(self.run.attempts) + 1
        spec = self._spec(number)
        self.log.info("attempt.started", attempt=number, max_attempts=self.config.max_attempts)
        self.hooks.attempt_started(self.run, number)
        started_at = utc_timestamp()
        extra: dict[str, Any] = {}
        if self.config.registry_stall_timeout is not None:
            extra["progress"] = PhaseTracker(self.config.registry_stall_timeout)
        result = self.deps.supervise(
            list(spec.argv),
            env=spec.env(),
            timeout=spec.timeout,
            no_output_timeout=spec.no_output_timeout,
            kill_grace=spec.kill_grace,
            log_path=spec.log_path,
            cancel=self.deps.cancel,
            **extra,
        )
        self._state.last_result = result
        cancelled: Cancelled | None = None
        failure = None
        if result.cancelled_by is None:
            try:  # a large output may take seconds to classify: a cancel must not wait
                failure = call_cancellable(
                    lambda: attempt_mod.classify_result(result, self.deps.classify),
                    self.deps.cancel,
                )
            except Cancelled as exc:
                cancelled, failure = exc, attempt_mod.unclassified(result)
        if failure is not None:
            if cancelled is None:
                failure = self._with_daemon_evidence(failure, result, started_at)
            evidence = tuple(self.deps.redact(line) for line in failure.evidence)
            failure = dataclasses.replace(failure, evidence=evidence)
        log_path = self._logs.publish(number, result.log_path)
        record = AttemptRecord(
            attempt=number,
            exit_code=result.exit_code,
            signal=result.signal,
            timed_out=result.timed_out or result.no_output_timed_out or result.stalled,
            no_output_timed_out=result.no_output_timed_out,
            stalled=result.stalled,
            duration_s=round(result.duration_s, 3),
            started_at=started_at,
            failure=failure,
            log_path=log_path,
            log_error=result.log_error,
        )
        self.run.attempts.append(record)
        self._log_attempt(record)
        self.hooks.attempt_finished(self.run, record)
        if cancelled is not None:
            raise cancelled  # the attempt is on record; the run ends cancelled
        return record

    def _with_daemon_evidence(
        self, failure: Failure, result: ProcessResult, started_at: str
    ) -> Failure:
        """A masked network failure gets its root cause from the daemon's log or mirrors."""
        return root_cause.with_root_cause(
            failure,
            result,
            started_at=started_at,
            argv=self.argv,
            docker_host=self.env.get("DOCKER_HOST"),
            config=self.config,
            daemon_log=self.deps.daemon_log,
            ask_mirrors=self.deps.ask_mirrors,
            classify=self.deps.classify,
        )

    def _spec(self, number: int) -> attempt_mod.AttemptSpec:
        timeout = self.config.timeout
        left = self._time_left()
        if left is not None:
            timeout = max(policy.MIN_ATTEMPT_WINDOW_S, min(timeout, left))
        return attempt_mod.AttemptSpec(
            argv=self.argv,
            attempt=number,
            max_attempts=self.config.max_attempts,
            timeout=timeout,
            no_output_timeout=self.config.no_output_timeout,
            kill_grace=self.config.kill_grace,
            log_path=self._logs.write_path(number),
            base_env=self.env,
        )

    # -- tenacity strategies --------------------------------------------------------

    def _retry(self, state: tenacity.RetryCallState) -> bool:
        self._state.decision = None
        outcome = state.outcome
        if outcome is None or outcome.failed:
            return False
        record: AttemptRecord = outcome.result()
        if record.failure is None or self.deps.cancel.signum is not None:
            return False
        self._state.decision = policy.decide(
            record.attempt,
            record.failure,
            self.config,
            time_left_s=self._time_left(),
            backoff_s=self._backoff(state),
        )
        if self._state.decision.stop:
            self.log.info(
                "retry.stopped", attempt=record.attempt, reason=self._state.decision.reason
            )
        return True

    def _stop(self, _state: tenacity.RetryCallState) -> bool:
        decision = self._state.decision
        return decision is None or decision.stop

    def _wait(self, _state: tenacity.RetryCallState) -> float:
        decision = self._state.decision
        return decision.delay_s if decision is not None else 0.0

    def _before_sleep(self, _state: tenacity.RetryCallState) -> None:
        decision = self._state.decision
        if decision is None:
            return
        last = self.run.attempts[-1]
        retry = RetryRecord(
            attempt=last.attempt,
            delay_s=decision.delay_s,
            stage=decision.stage,
            remedy=decision.remedy,
        )
        fields: dict[str, Any] = {
            "attempt": last.attempt,
            "delay_s": decision.delay_s,
            "remedy": decision.remedy,
            "stage": decision.stage,
        }
        if last.failure and last.failure.failure_class is FailureClass.RATE_LIMITED:
            fields["hint"] = policy.rate_limit_hint()
        self.log.info("retry.scheduled", **fields)
        result = self._apply_remedy(decision.remedy, last)
        retry = dataclasses.replace(retry, remedy_result=result)
        self.run.retries.append(retry)
        self.hooks.retry_scheduled(self.run, retry)

    def _sleep(self, seconds: float) -> None:
        deadline = self.deps.clock() + seconds
        while True:
            signum = self.deps.cancel.signum
            if signum is not None:
                raise Cancelled(signum)
            left = deadline - self.deps.clock()
            if left <= 0:
                return
            self.deps.sleep(min(left, 0.25))

    # -- remedies -------------------------------------------------------------------

    def _apply_remedy(self, name: str, last: AttemptRecord) -> RemedyResult | None:
        if name == policy.PLAIN_RETRY:
            return None
        remedy = self.deps.load_remedy(name)
        if remedy is None:
            self.log.warning(
                "remedy.unavailable",
                remedy=name,
                fallback=policy.PLAIN_RETRY,
                detail=f"remedy {name!r} is not available in this build; plain retry instead",
            )
            return None
        ctx = RemedyContext(
            config=self.config,
            failure=last.failure,
            dry_run=self.config.dry_run,
            docker_host=self.env.get("DOCKER_HOST"),
            failed_at=_ended_at(last),
            command=self.argv,
        )
        self.log.info("remedy.started", remedy=name, attempt=last.attempt, plan=remedy.plan(ctx))
        try:
            result = call_cancellable(lambda: remedy.apply(ctx), self.deps.cancel)
        except Cancelled:
            raise
        except Exception as exc:  # a remedy bug must not end the run
            result = RemedyResult(remedy=name, ok=False, changed=False, detail=f"error: {exc}")
        level = "info" if result.ok else "warning"
        getattr(self.log, level)("remedy.finished", **result.as_log_fields())
        self._log_builder(name, result.extra.get("builder"))
        return result

    # -- preflight and the end ------------------------------------------------------

    def _preflight(self) -> None:
        if not self.config.preflight or self.deps.preflight is None:
            return
        preflight = self.deps.preflight
        try:
            fields = call_cancellable(lambda: preflight(self.config), self.deps.cancel)
        except Cancelled:
            raise
        except Exception as exc:  # preflight informs; it never stops the build
            fields = {"healthy": False, "checks": [], "error": str(exc)}
        self.run.preflight = fields
        level = "info" if fields.get("healthy") else "warning"
        getattr(self.log, level)("preflight.finished", **fields)
        self._log_builder("preflight", (fields.get("mirrors") or {}).get("builder"))

    def _log_builder(self, source: str, fields: Any) -> None:
        """The builder check after a mirrors reload, as its own event (docs/mirrors.md)."""
        if not isinstance(fields, dict):
            return
        level = "info" if fields.get("ok", True) else "warning"
        getattr(self.log, level)("builder.mirrors", source=source, **fields)

    def _log_attempt(self, record: AttemptRecord) -> None:
        failure = record.failure
        fields: dict[str, Any] = {
            "attempt": record.attempt,
            "exit_code": record.exit_code,
            "signal": record.signal,
            "timed_out": record.timed_out,
            "stalled": record.stalled,
            "duration_s": record.duration_s,
            "failure_class": failure.failure_class.value if failure else None,
            "retryable": failure.retryable if failure else None,
            "evidence": list(failure.evidence) if failure else [],
            "rule": failure.rule if failure else None,
            "daemon_evidence": failure.daemon_log if failure else None,
            "log_path": record.log_path,
        }
        if record.log_error is not None:
            fields["log_error"] = record.log_error
        level = "info" if failure is None else "warning"
        getattr(self.log, level)("attempt.finished", **fields)

    def _finish(self) -> None:
        run = self.run
        last = run.attempts[-1]
        result = self._state.last_result
        if result is not None and result.cancelled_by is not None:
            self._finish_cancelled(result.cancelled_by)
            return
        if self.deps.cancel.signum is not None:  # a cancel between phases wins too
            self._finish_cancelled(self.deps.cancel.signum)
            return
        if last.failure is None:
            run.status, run.exit_code = model.STATUS_SUCCEEDED, exitcodes.SUCCESS
        elif last.timed_out:
            run.status, run.exit_code = model.STATUS_TIMED_OUT, exitcodes.TIMED_OUT
        else:
            run.status, run.exit_code = model.STATUS_FAILED, last.exit_code
        if last.failure is not None and self._tempfail(last.failure):
            run.exit_code = self.config.tempfail_exit_code or run.exit_code
        self._log_finished()

    def _tempfail(self, failure: Failure) -> bool:
        if self.config.tempfail_exit_code is None:
            return False
        retryable, _ = policy.is_retryable(failure, self.config)
        return retryable

    def _finish_cancelled(self, signum: int) -> None:
        self.run.status = model.STATUS_CANCELLED
        self.run.exit_code = exitcodes.for_signal(signum)
        self._log_finished(signal=signum)

    def _log_finished(self, **extra: Any) -> None:
        run = self.run
        run.duration_s = round(self.deps.clock() - self._started, 3)
        level = "info" if run.status == model.STATUS_SUCCEEDED else "error"
        getattr(self.log, level)(
            "run.finished",
            status=run.status,
            attempts=len(run.attempts),
            exit_code=run.exit_code,
            duration_s=run.duration_s,
            failure_class=run.failure_class,
            **extra,
        )
        self.hooks.run_finished(run)


def _ended_at(record: AttemptRecord) -> float | None:
    """Epoch seconds when the attempt ended (its failure was seen)."""
    try:
        started = datetime.fromisoformat(record.started_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return started.timestamp() + record.duration_s
