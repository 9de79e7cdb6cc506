"""The run: preflight, then attempts up the retry ladder until one succeeds or policy stops.

The loop reads as the ladder it implements: run an attempt; while it failed, ask the
pure `policy.decide` what follows; stop, or announce the retry, apply its remedy, wait,
run the user's --on-retry-command (run/retry_hook.py) and try again. The waits come
from --retry-wait or from backoff (tenacity's exponential jittered strategy, loaded
only once an attempt has failed). Why the run stopped is decided here once and
kept in the run record (`RunRecord.stop`) for every report. Every side effect (spawn,
classify, sleep, clock, remedies, preflight) comes in through RunDeps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ci_guard import records as model
from ci_guard.config import Config
from ci_guard.failure import Failure
from ci_guard.logs import utc_timestamp
from ci_guard.records import AttemptRecord, HostChange, RunHooks, RunRecord, StopReason
from ci_guard.redact import Redactor
from ci_guard.run import attempt as attempt_mod
from ci_guard.run import changes, finish, policy, remedy_step, retry_hook, root_cause
from ci_guard.run.artifacts import default_artifacts_dir
from ci_guard.run.attempt_logs import AttemptLogs
from ci_guard.run.daemon_reach import REMEDY_WAIT_S, DaemonFacts
from ci_guard.run.deps import RunDeps, wait_strategy
from ci_guard.run.preflight_step import run_preflight_step
from ci_guard.supervise.cancel import Cancelled, call_cancellable
from ci_guard.supervise.supervisor import ProcessResult

SLEEP_SLICE_S = 0.25
"""Waits between attempts are cut in slices this long so a stop signal is seen at once."""


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
        self._started = 0.0
        artifacts = config.artifacts_dir or default_artifacts_dir("none", self.env, Path.cwd())
        masker = None if config.raw_logs else (self.deps.redactor or Redactor(self.env))
        self._logs = AttemptLogs(artifacts, run.run_id, masker)
        self._daemon = DaemonFacts(config, self.deps, self.env.get("DOCKER_HOST"))

    def execute(self) -> RunRecord:
        self._started = self.deps.clock()
        self.hooks.run_started(self.run)
        self._daemon.start()
        try:
            self._check_cancel()
            self._preflight()
            self._daemon.note(self.run, self.log)
            stop = self._ladder()
        except Cancelled as exc:
            self._finish_cancelled(exc.signum)
        else:
            self._finish(stop)
        finally:
            self._logs.close()
        return self.run

    def _ladder(self) -> StopReason:
        """Attempts until one succeeds or the policy stops; returns why it ended."""
        record = self._one_attempt()
        wait_after = self.deps.wait_after or wait_strategy(self.config)
        while record.failure is not None:
            self._check_cancel()
            decision = policy.decide(
                record.attempt,
                record.failure,
                self.config,
                time_left_s=self._time_left(),
                backoff_s=wait_after(record.attempt),
                exit_code=record.exit_code,
            )
            if decision.stop:
                self.log.info(
                    "retry.stopped",
                    attempt=record.attempt,
                    reason=decision.reason,
                    stop_reason=decision.code,
                )
                return decision.stop_reason()
            self._between_attempts(decision, record)
            record = self._one_attempt()
        return StopReason(model.STOP_SUCCEEDED, f"attempt {record.attempt} succeeded")

    def _between_attempts(self, decision: policy.Decision, last: AttemptRecord) -> None:
        self.log.info("retry.scheduled", **remedy_step.retry_fields(decision, last))
        self._daemon.note(self.run, self.log, wait=REMEDY_WAIT_S)
        retry = self._remedy(decision, last)
        result = retry.remedy_result
        source = changes.remedy_source(decision.remedy, last.attempt)
        self._changed(result.changes if result else (), source)
        self.hooks.retry_scheduled(self.run, retry)
        started = self.deps.clock()
        try:
            self._sleep(decision.delay_s)
        finally:  # what was really waited: a stop signal may cut the wait short
            waited = round(self.deps.clock() - started, 3)
            self.run.retries[-1] = dataclasses.replace(retry, waited_s=waited)
        hook = retry_hook.spec_for(
            self.config,
            self.env,
            last,
            decision,
            run_id=self.run.run_id,
            time_left_s=self._time_left(),
        )
        if hook is not None:
            retry_hook.run_hook(
                hook,
                last.attempt,
                supervise=self.deps.supervise,
                cancel=self.deps.cancel,
                log=self.log,
            )

    def _remedy(self, decision: policy.Decision, last: AttemptRecord) -> model.RetryRecord:
        def apply() -> model.RemedyResult | None:
            return remedy_step.apply_remedy(
                decision.remedy,
                last,
                config=self.config,
                docker_host=self.env.get("DOCKER_HOST"),
                load_remedy=self.deps.load_remedy,
                log=self.log,
                cancel=self.deps.cancel,
                command=self.argv,
            )

        deps, record = self.deps, self.run.retries.append
        return remedy_step.timed(
            decision, last, apply, clock=deps.clock, redact=deps.redact, record=record
        )

    def _changed(self, made: Iterable[HostChange], source: str) -> None:
        self.run.host_changes += changes.recorded(made, source, self.deps.redact)

    def _time_left(self) -> float | None:
        if self.config.total_timeout is None:
            return None
        return self.config.total_timeout - (self.deps.clock() - self._started)

    # -- one attempt ----------------------------------------------------------------

    def _one_attempt(self) -> AttemptRecord:
        """Run, classify and record one attempt; Cancelled when a stop signal ended it."""
        number = len(self.run.attempts) + 1
        spec = self._spec(number)
        self.log.info("attempt.started", attempt=number, max_attempts=self.config.max_attempts)
        self.hooks.attempt_started(self.run, number)
        started_at = utc_timestamp()
        stall = self.config.registry_stall_timeout
        result = attempt_mod.run_spec(self.deps.supervise, spec, self.deps.cancel, stall)
        cancelled: Cancelled | None = None
        failure = None
        if result.cancelled_by is None:  # a stopped attempt tells nothing about the build
            try:  # a large output may take seconds to classify: a cancel must not wait
                failure = call_cancellable(
                    lambda: attempt_mod.classify_result(result, self.deps.classify),
                    self.deps.cancel,
                )
            except Cancelled as exc:
                cancelled, failure = exc, attempt_mod.unclassified(result)
        if failure is not None and cancelled is None:
            failure = self._with_daemon_evidence(failure, result, started_at)
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
            failure=attempt_mod.redacted(failure, self.deps.redact),
            log_path=log_path,
            log_error=result.log_error,
            cancelled=result.cancelled_by is not None,
        )
        self.run.attempts.append(record)
        self._log_attempt(record)
        self.hooks.attempt_finished(self.run, record)
        if result.cancelled_by is not None:
            raise Cancelled(result.cancelled_by)
        if cancelled is not None:
            raise cancelled  # the attempt is on record; the run ends cancelled
        return record

    def _log_attempt(self, record: AttemptRecord) -> None:
        level = "info" if record.failure is None else "warning"
        getattr(self.log, level)("attempt.finished", **attempt_mod.finished_fields(record))

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

    def _check_cancel(self) -> None:
        signum = self.deps.cancel.signum
        if signum is not None:
            raise Cancelled(signum)

    def _sleep(self, seconds: float) -> None:
        deadline = self.deps.clock() + seconds
        while True:
            self._check_cancel()
            left = deadline - self.deps.clock()
            if left <= 0:
                return
            self.deps.sleep(min(left, SLEEP_SLICE_S))

    # -- preflight and the end ------------------------------------------------------

    def _preflight(self) -> None:
        if not self.config.preflight or self.deps.preflight is None:
            return
        fields = run_preflight_step(self.deps.preflight, self.config, self.log, self.deps.cancel)
        self.run.preflight = fields
        self._changed(changes.from_fields(fields), changes.PREFLIGHT)

    def _finish(self, stop: StopReason) -> None:
        finish.settle(self.run, stop, self.config.tempfail_exit_code)
        self._log_finished(stop)

    def _finish_cancelled(self, signum: int) -> None:
        self._log_finished(finish.settle_cancelled(self.run, signum), signal=signum)

    def _log_finished(self, stop: StopReason, **extra: Any) -> None:
        run = self.run
        self._daemon.note(run, self.log)
        run.stop = stop
        run.duration_s = round(self.deps.clock() - self._started, 3)
        level = "info" if run.status == model.STATUS_SUCCEEDED else "error"
        getattr(self.log, level)("run.finished", **finish.finished_fields(run), **extra)
        self.hooks.run_finished(run)
