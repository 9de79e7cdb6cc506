"""Click options generated from data/options.toml, so flags, env and file stay in step."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from ci_guard.config import Resolved, option_specs, resolve

F = TypeVar("F", bound=Callable[..., Any])

_METAVARS = {
    "float": "SECONDS",
    "int": "N",
    "path": "PATH",
    "list": "A,B,...",
    "str": "TEXT",
}


def _option_for(name: str) -> Callable[[F], F]:
    spec = option_specs()[name]
    help_text = f"{spec.help} [env {spec.env_var}]"
    if spec.type == "bool":
        return click.option(f"--{name}/--no-{name}", spec.attr, default=None, help=help_text)
    metavar = "|".join(spec.choices) if spec.type == "choice" else _METAVARS[spec.type]
    return click.option(f"--{name}", spec.attr, default=None, metavar=metavar, help=help_text)


def settings_options(names: Iterable[str] | None = None) -> Callable[[F], F]:
    """Decorator adding one option per setting (all of them by default) and --config."""
    chosen = list(names) if names is not None else list(option_specs())

    def decorate(func: F) -> F:
        for name in reversed(chosen):
            func = _option_for(name)(func)
        return click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="Config file (default: the nearest ci-guard.toml or [tool.ci-guard]).",
        )(func)

    return decorate


def given_flags(params: dict[str, Any]) -> dict[str, Any]:
    """The settings actually given on the command line, keyed by option name."""
    flags = {}
    for name, spec in option_specs().items():
        value = params.get(spec.attr)
        if value is not None:
            flags[name] = value
    return flags


def resolve_from_params(params: dict[str, Any]) -> Resolved:
    return resolve(given_flags(params), config_path=params.get("config_file"))
