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


def config_file_option(func: F) -> F:
    """--config PATH: the ci-guard.toml (or pyproject.toml) to read settings from."""
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Config file (default: the nearest ci-guard.toml or [tool.ci-guard]).",
    )(func)


def probe_options(what: str) -> Callable[[F], F]:
    """--timeout and --image of the commands that probe registries (doctor, mirrors)."""

    def decorate(func: F) -> F:
        func = click.option(
            "--image",
            default="library/busybox",
            show_default=True,
            help=f"Image (repository path) whose manifest each {what} must serve.",
        )(func)
        return click.option(
            "--timeout",
            type=float,
            default=None,
            metavar="SECONDS",
            help="Timeout of each probe (default: probe-timeout setting).",
        )(func)

    return decorate


def settings_options(names: Iterable[str] | None = None) -> Callable[[F], F]:
    """Decorator adding one option per setting (all of them by default) and --config."""
    chosen = list(names) if names is not None else list(option_specs())

    def decorate(func: F) -> F:
        for name in reversed(chosen):
            func = _option_for(name)(func)
        return config_file_option(func)

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
