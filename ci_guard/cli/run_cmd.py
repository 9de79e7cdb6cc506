"""`ci-guard run [OPTIONS] -- CMD ARGS...`: parse, run the job (run/job.py), print the summary."""

from __future__ import annotations

import sys
from typing import Any

import click

from ci_guard import logs
from ci_guard.cli.options import CommandAfterOptions, resolve_from_params, settings_options
from ci_guard.errors import UsageError, describe
from ci_guard.records import RunRecord
from ci_guard.remedies import known_stages
from ci_guard.run.job import run_job, user_rules_classifier
from ci_guard.run.policy import validate_ladder
from ci_guard.run.summary import render_summary


# Not ignore_unknown_options: a mistyped option must fail, not become the command.
@click.command("run", cls=CommandAfterOptions, context_settings={"allow_interspersed_args": False})
@settings_options()
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def command(command: tuple[str, ...], **params: Any) -> None:
    """Run COMMAND with a preflight, deadlines, failure classification and a retry ladder.

    Durations take 90, 90s, 40m, 1h30m, 1.5h or 500ms (a bare number is seconds).

    \b
    Examples: ci-guard run -- docker compose build
              ci-guard run --timeout 40m --max-attempts 3 -- docker build -t app .
              ci-guard run --mirror https://mirror.gcr.io -- docker compose build
    Exit:     0 success, the command's own code, 124 deadline, 126/127 not runnable,
              2 bad usage, 128+N stopped by signal N (ci-guard help exit-codes)
    More:     ci-guard help commands, ci-guard help configuration
    """
    if not command:
        raise UsageError("run: no command given (usage: ci-guard run [OPTIONS] -- CMD ARGS...)")
    resolved = resolve_from_params(params)
    config = resolved.config
    validate_ladder(config.ladder, known_stages())
    classify = user_rules_classifier(config, resolved.file)  # bad rules: exit 2, no build
    run = run_job(command, config, classify=classify)
    _print_summary(run)
    sys.exit(run.exit_code)


def _print_summary(run: RunRecord) -> None:
    try:
        text = render_summary(run)
    except Exception as exc:  # the summary is paperwork too
        text = f"ci-guard: no summary ({describe(exc)}); exit {run.exit_code}"
    logs.write_stderr(text + "\n")
