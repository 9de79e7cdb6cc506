"""`ci-guard repair`: run the repair-network stage now and say what it did."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ci_guard.cli.options import given_flags, settings_options
from ci_guard.config import resolve
from ci_guard.mirror_url import normalise_mirror
from ci_guard.records import RemedyResult
from ci_guard.remedies.base import RemedyContext

_SETTINGS = ("dry-run", "tune-sysctl", "daemon-config", "probe-timeout", "restart-command")


def render(result: RemedyResult) -> str:
    """What repair-network did (or, with --dry-run, would do), one step a line."""
    status = "ok" if result.ok else "FAILED"
    lines = [f"repair-network: {status}, changed={str(result.changed).lower()}"]
    lines += [f"  - {action}" for action in result.actions]
    if result.skipped:
        lines.append(f"  skipped: {result.skipped}")
    if result.detail:
        lines.append(f"  problems: {result.detail}")
    return "\n".join(lines)


@click.command(name="repair")
@settings_options(_SETTINGS)
@click.option(
    "--mirror",
    "mirror_urls",
    multiple=True,
    metavar="URL",
    help="A candidate mirror to probe (repeatable); adds to the configured ones.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def command(mirror_urls: tuple[str, ...], as_json: bool, **params: Any) -> None:
    """Re-probe and re-apply mirrors, flush resolver caches, prune unused networks,
    tune sysctls (--tune-sysctl), and restart the daemon if it does not answer.

    Takes the host-wide lock. With --dry-run nothing changes: the plan is printed.

    \b
    Example:  ci-guard repair --dry-run --mirror https://mirror.gcr.io
    Exit:     0 every step worked, 1 otherwise, 2 bad input (ci-guard help exit-codes)
    More:     ci-guard help remedies
    """  # fmt: skip
    from ci_guard.remedies.repair_network import RepairNetwork

    flags = given_flags(params)
    resolved = resolve(flags, config_path=params.get("config_file"))
    config = resolved.config
    if mirror_urls:
        extra = tuple(normalise_mirror(url) for url in mirror_urls)
        config = _with_mirrors(config, extra)
    ctx = RemedyContext(config=config, dry_run=config.dry_run)
    remedy = RepairNetwork()
    result = remedy.apply(ctx)
    if as_json:
        click.echo(json.dumps(result.as_log_fields(), default=str))
    else:
        click.echo(render(result))
    sys.exit(0 if result.ok and not result.skipped else 1)


def _with_mirrors(config: Any, extra: tuple[str, ...]) -> Any:
    import dataclasses

    merged = tuple(dict.fromkeys((*config.mirrors, *extra)))
    return dataclasses.replace(config, mirrors=merged)
