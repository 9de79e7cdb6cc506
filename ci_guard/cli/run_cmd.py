"""`ci-guard run [OPTIONS] -- CMD ARGS...`: parse, wire the parts, print the summary."""

from __future__ import annotations

import os
import sys
import zlib
from collections.abc import Callable
from typing import Any

import click

from ci_guard import logs
from ci_guard.cli.options import CommandAfterOptions, resolve_from_params, settings_options
from ci_guard.config import Config
from ci_guard.errors import UsageError
from ci_guard.records import RunHooks, RunRecord
from ci_guard.redact import Redactor
from ci_guard.remedies import known_stages
from ci_guard.run.loop import RunDeps, Runner
from ci_guard.run.policy import validate_ladder
from ci_guard.run.summary import render_summary
from ci_guard.supervise.cancel import CancelToken, install_signal_handlers


def new_run_id() -> str:
    stamp = logs.utc_timestamp()[:19].replace("-", "").replace(":", "")
    return f"{stamp}Z-{os.urandom(3).hex()}"


def _hooks(config: Config) -> tuple[str, RunHooks | None]:
    from ci_guard.ci import detect_platform, make_hooks

    platform = detect_platform(env=os.environ, forced=config.ci)
    return platform, make_hooks(
        platform, env=os.environ, stdout=sys.stdout, artifacts_dir=config.artifacts_dir
    )


def _preflight(command: tuple[str, ...]) -> Callable[[Config], dict[str, Any]]:
    def run(config: Config) -> dict[str, Any]:
        from ci_guard.doctor.preflight import run_preflight

        fields: dict[str, Any] = run_preflight(config, command=command).as_log_fields()
        return fields

    return run


def _write_outputs(run: RunRecord, config: Config, log: Any) -> None:
    from ci_guard.run.outputs import write_outputs

    write_outputs(run, config, log)


# Not ignore_unknown_options: a mistyped option must fail, not become the command.
@click.command("run", cls=CommandAfterOptions, context_settings={"allow_interspersed_args": False})
@settings_options()
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def command(command: tuple[str, ...], **params: Any) -> None:
    """Run COMMAND with a preflight, deadlines, failure classification and a retry ladder.

    \b
    Example:  ci-guard run --timeout 1800 -- docker compose build
    Exit:     0 success, the command's own code, 124 deadline, 126/127 not runnable,
              2 bad usage, 128+N stopped by signal N (docs/exit-codes.md)
    """
    if not command:
        raise UsageError("run: no command given (usage: ci-guard run [OPTIONS] -- CMD ARGS...)")
    resolved = resolve_from_params(params)
    config = resolved.config
    validate_ladder(config.ladder, known_stages())
    sys.exit(execute(command, config, config_digest=config_digest(config)))


def config_digest(config: Config) -> str:
    """Groups runs made with the same effective settings (a checksum, not a security hash)."""
    return f"{zlib.crc32(repr(config).encode()):08x}"


def execute(command: tuple[str, ...], config: Config, *, config_digest: str = "") -> int:
    """Run the whole job and return the process exit code."""
    redactor = Redactor()
    run_id = new_run_id()
    log_file = logs.open_log_file(config.log_file) if config.log_file else None
    logs.configure(log_format=config.log_format, log_file=log_file, redactor=redactor)
    log = logs.get_logger(run_id=run_id)
    platform, hooks = _hooks(config)
    run = RunRecord(
        run_id=run_id,
        command=tuple(redactor.argv(command)),
        started_at=logs.utc_timestamp(),
        max_attempts=config.max_attempts,
        ci_platform=platform,
        log_file=config.log_file,
    )
    log.info(
        "run.started",
        command=list(run.command),
        config_digest=config_digest,
        ci_platform=platform,
        max_attempts=config.max_attempts,
        ladder=list(config.ladder),
    )
    token = CancelToken()
    restore = install_signal_handlers(token)
    try:
        deps = RunDeps(cancel=token, preflight=_preflight(command), redact=redactor.text)
        Runner(command, config, run=run, log=log, hooks=hooks, deps=deps).execute()
        _write_outputs(run, config, log)
    finally:
        restore()
        if log_file is not None:
            log_file.close()
    click.echo(render_summary(run), err=True)
    return run.exit_code
