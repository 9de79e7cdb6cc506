"""`ci-guard config`: the effective settings and where each came from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ci_guard.cli.options import resolve_from_params, settings_options
from ci_guard.config import Resolved
from ci_guard.durations import format_duration
from ci_guard.options import option_specs
from ci_guard.redact import Redactor
from ci_guard.remedies import known_stages
from ci_guard.run.policy import validate_ladder


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def rows(resolved: Resolved) -> list[dict[str, Any]]:
    # A restart command may carry a password (`curl -u ops:...`): masked like the logs.
    redactor = Redactor(secret_env=resolved.config.secret_env)
    out = []
    for name, spec in option_specs().items():
        out.append(
            {
                "name": name,
                "value": redactor.value(_plain(getattr(resolved.config, spec.attr))),
                "source": resolved.sources[name],
                "env": spec.env_var,
            }
        )
    return out


def _text(value: Any, kind: str = "") -> str:
    if value is None:
        return "(unset)"
    if kind == "duration" and isinstance(value, int | float) and not isinstance(value, bool):
        return format_duration(value)  # as people write it (40m); --json keeps seconds
    if isinstance(value, list):
        return ",".join(value) if value else "(empty)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@click.command("config")
@settings_options()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def command(as_json: bool, **params: Any) -> None:
    """Print the effective value of every setting and where it came from.

    Order: flags > CI_GUARD_* environment > config file > defaults.

    \b
    Examples: ci-guard config
              CI_GUARD_TIMEOUT=40m ci-guard config --json
    More:     ci-guard help configuration
    """
    resolved = resolve_from_params(params)
    validate_ladder(resolved.config.ladder, known_stages())  # as `run` would refuse it
    table = rows(resolved)
    if as_json:
        doc = {"file": str(resolved.file) if resolved.file else None, "settings": table}
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"config file: {resolved.file or '(none found)'}")
    width = max(len(row["name"]) for row in table)
    specs = option_specs()
    for row in table:
        text = _text(row["value"], specs[row["name"]].type)
        click.echo(f"{row['name']:<{width}}  {text:<40}  {row['source']}")
