"""One `ci-guard run` job from start to end: the lifecycle the CLI calls.

Run id, logging, the CI platform's hooks, signal handling, the ladder (run/loop.py)
and the outputs after it, in that order. It returns the run record; the CLI prints
the summary and exits with `run.exit_code`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, TextIO

from ci_guard import crash, logs, progress
from ci_guard.config import RULE_TABLES, Config, config_tables
from ci_guard.errors import UsageError, describe
from ci_guard.records import STATUS_FAILED, STATUS_SUCCEEDED, OutputFailure, RunHooks, RunRecord
from ci_guard.redact import Redactor
from ci_guard.run.artifacts import context_holding, default_artifacts_dir, run_log_path
from ci_guard.run.attempt import ClassifyFn
from ci_guard.run.deps import PreflightFn, RunDeps
from ci_guard.run.loop import Runner
from ci_guard.supervise.cancel import install_signal_handlers, process_token


def new_run_id() -> str:
    stamp = logs.utc_timestamp()[:19].replace("-", "").replace(":", "")
    return f"{stamp}Z-{os.urandom(3).hex()}"


def config_digest(config: Config) -> str:
    """Groups runs made with the same effective settings (a checksum, not a security hash)."""
    return f"{zlib.crc32(repr(config).encode()):08x}"


def user_rules_classifier(config: Config, config_file: Path | None) -> ClassifyFn | None:
    """A classifier with the team's own rules (validated now: exit 2 before any build),
    or None for the built-in rules, loaded only once an attempt fails."""
    has_tables = config_file is not None and RULE_TABLES in config_tables(config_file)
    if config.rules_file is None and not has_tables:
        return None
    from ci_guard.classify import classify
    from ci_guard.classify.user_rules import effective_rules

    return functools.partial(classify, rules=effective_rules(config, config_file))


def _platform(config: Config, env: Mapping[str, str]) -> tuple[str, Config]:
    """The CI platform, and the config with the artifacts folder settled for it."""
    from ci_guard.ci import detect_platform

    platform = detect_platform(env=env, forced=config.ci)
    if config.artifacts_dir is None:
        folder = default_artifacts_dir(platform, env, Path.cwd())
        config = dataclasses.replace(config, artifacts_dir=folder)
    return platform, config


def _hooks(
    run: RunRecord,
    config: Config,
    env: Mapping[str, str],
    stdout: TextIO,
    log: Any,
    *,
    redact: Callable[[str], str],
) -> RunHooks:
    """The CI platform's hooks; one that fails is logged and kept in the run record (once
    per hook and reason), never the run's end."""
    from ci_guard.ci import GuardedHooks, make_hooks

    files = "dotenv" if run.ci_platform == "none" else f"{run.ci_platform} CI files"

    def on_error(hook: str, exc: Exception) -> None:
        log.warning("ci.hook_failed", hook=hook, error=describe(exc))
        failure = OutputFailure(f"{files} ({hook})", "", redact(describe(exc)))
        if failure not in run.output_failures:
            run.output_failures.append(failure)

    hooks = make_hooks(run.ci_platform, env=env, stdout=stdout, artifacts_dir=config.artifacts_dir)
    return GuardedHooks(hooks, on_error)


def _context(platform: str, env: Mapping[str, str], command: tuple[str, ...]) -> dict[str, Any]:
    """The RunRecord fields naming the project and the CI job (ci/context.py)."""
    from ci_guard.ci.context import run_context

    found = run_context(platform, env, Path.cwd(), command)
    return {
        "project": found.project,
        "project_source": found.project_source,
        "ci_job_url": found.ci_job_url,
    }


def _warn_build_context(command: tuple[str, ...], config: Config, log: Any) -> None:
    """One line when a Docker build would send the artifacts folder as context."""
    if config.artifacts_dir is None:
        return
    context = context_holding(config.artifacts_dir, command, Path.cwd())
    if context is not None:
        log.warning(
            "artifacts.in_build_context",
            artifacts_dir=str(config.artifacts_dir),
            context=str(context),
            detail="the artifacts folder is inside a Docker build context: add it to "
            ".dockerignore or set --artifacts-dir outside the project",
        )


def log_started(log: Any, run: RunRecord, config: Config) -> None:
    """The `run.started` event."""
    log.info(
        "run.started",
        command=list(run.command),
        config_digest=config_digest(config),
        ci_platform=run.ci_platform,
        project=run.project,
        project_source=run.project_source,
        ci_job_url=run.ci_job_url,
        max_attempts=config.max_attempts,
        ladder=list(config.ladder),
        artifacts_dir=str(config.artifacts_dir),
        raw_logs=config.raw_logs,
    )


def _preflight(command: tuple[str, ...]) -> PreflightFn:
    """The preflight of this command (its builder decides what a mirrors reload needs)."""

    def run(config: Config) -> dict[str, Any]:
        from ci_guard.doctor.preflight import Restarters, run_preflight
        from ci_guard.remedies import restart_remedy, restart_via_remedy

        restarters = Restarters(daemon=restart_via_remedy, builder=restart_remedy)
        result = run_preflight(config, restarters=restarters, command=command)
        fields: dict[str, Any] = result.as_log_fields()
        return fields

    return run


def _write_outputs(run: RunRecord, config: Config, log: Any, redactor: Redactor) -> None:
    from ci_guard.run.outputs import write_outputs

    for failed in write_outputs(run, config, log):
        masked = OutputFailure(
            failed.output, redactor.text(failed.target), redactor.text(failed.reason)
        )
        run.output_failures.append(masked)


def printable_argv(argv: tuple[str, ...]) -> tuple[str, ...]:
    """Arguments as text every log, report and CI file can hold: bytes that are not
    UTF-8 (kept by Python as lone surrogates) are shown as \\xNN escapes."""
    return tuple(os.fsencode(arg).decode("utf-8", "backslashreplace") for arg in argv)


def log_path(config: Config, run_id: str) -> Path | None:
    """Where the JSON log goes: --log-file, else the run's folder; None for stderr (`-`)."""
    if config.log_file == logs.STDERR_PATH:
        return None
    if config.log_file is not None or config.artifacts_dir is None:
        return config.log_file
    return run_log_path(config.artifacts_dir, run_id)


def _open_log_file(path: Path | None, json_on_stderr: bool) -> IO[str] | None:
    """The JSON log file; one that cannot be opened is a warning, never the build's end."""
    if path is None:
        return None
    try:
        return logs.open_log_file(path)
    except UsageError as exc:
        rest = "the JSON log goes to stderr only" if json_on_stderr else "no JSON log is kept"
        logs.warn(f"{exc.message}; {rest}")
        return None


def _run_guarded(runner: Runner, log: Any) -> None:
    """A ci-guard bug after the build has run must not cost the build's exit code."""
    run = runner.run
    try:
        runner.execute()
    except Exception as exc:
        if not run.attempts:
            raise  # nothing ran: main's last resort reports it (exit 70)
        last = run.attempts[-1]
        run.exit_code = last.exit_code
        run.status = STATUS_SUCCEEDED if last.exit_code == 0 else STATUS_FAILED
        logs.warn(crash.report(exc, context=f"the build's exit code {last.exit_code} is kept"))
        log.error("run.finished", status=run.status, exit_code=run.exit_code, error=describe(exc))


def run_job(
    command: tuple[str, ...],
    config: Config,
    *,
    env: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    preflight: PreflightFn | None = None,
    classify: ClassifyFn | None = None,
) -> RunRecord:
    """Run the whole job; the record holds the exit code and why the run stopped.

    `classify`: a classifier with the team's own rules (user_rules_classifier), else
    the built-in one."""
    env = os.environ if env is None else env
    json_on_stderr = logs.stderr_gets_json(config.log_format, config.log_file)  # bad: exit 2
    level = progress.verbosity(quiet=config.quiet, verbose=config.verbose)
    platform, config = _platform(config, env)
    token = process_token()  # may already hold a signal from the start-up
    restore = install_signal_handlers(token)
    redactor = Redactor(env, secret_env=config.secret_env)
    run_id = new_run_id()
    log_file = None
    try:
        path = log_path(config, run_id)
        log_file = _open_log_file(path, json_on_stderr)
        log_format = "json" if json_on_stderr else "console"
        logs.configure(log_format=log_format, log_file=log_file, redactor=redactor, level=level)
        log = logs.get_logger(run_id=run_id)
        run = RunRecord(
            run_id=run_id,
            command=printable_argv(tuple(redactor.argv(command))),
            started_at=logs.utc_timestamp(),
            max_attempts=config.max_attempts,
            ci_platform=platform,
            log_file=path if log_file is not None else None,
            **_context(platform, env, tuple(redactor.argv(command))),
        )
        hooks = _hooks(run, config, env, stdout or sys.stdout, log, redact=redactor.text)
        log_started(log, run, config)
        _warn_build_context(command, config, log)
        deps = RunDeps(
            cancel=token,
            preflight=preflight or _preflight(command),
            redact=redactor.text,
            redactor=redactor,
        )
        if classify is not None:
            deps = dataclasses.replace(deps, classify=classify)
        runner = Runner(command, config, run=run, log=log, hooks=hooks, deps=deps, env=env)
        _run_guarded(runner, log)
        _write_outputs(run, config, log, redactor)
        lost = logs.log_file_lost()
        if lost is not None and run.log_file is not None:  # the summary must not promise it
            cut = OutputFailure(OutputFailure.LOG_FILE, str(run.log_file), lost)
            run.output_failures.append(cut)
    except Exception as exc:
        crash.record(exc)  # while the log file is still open; main reports it
        raise
    finally:
        restore()
        if log_file is not None:
            logs.close_log_file(log_file)
    return run
