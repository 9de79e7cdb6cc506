"""Click options generated from data/options.toml, so flags, env and file stay in step."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from ci_guard.config import Resolved, resolve
from ci_guard.options import default_text, option_specs

F = TypeVar("F", bound=Callable[..., Any])

_METAVARS = {
    "float": "N",
    "duration": "DURATION",
    "int": "N",
    "path": "PATH",
    "list": "A,B,...",
    "str": "TEXT",
}
_ITEM_METAVARS = {"mirror": "URL"}
ITEMS = "__items"
"""Suffix of the parameter holding a list setting's one-item flags (mirrors__items)."""
_ALIASES = "ci_guard.deprecated_aliases"


def setting_option(name: str) -> Callable[[F], F]:
    """The flag of one setting of data/options.toml, with its default and env var shown."""
    spec = option_specs()[name]
    # The click default stays None (a flag not given must not beat env or file), so the
    # default is shown by hand, as click's show_default would.
    default = default_text(spec)
    shown = f"default: {default}; " if default is not None else ""
    help_text = f"{spec.help}  [{shown}env {spec.env_var}]"
    short = (f"-{spec.short}",) if spec.short else ()
    if spec.type == "bool":
        decls = (*short, f"--{name}/--no-{name}", spec.attr)
        return click.option(*decls, default=None, help=help_text)
    metavar = "|".join(spec.choices) if spec.type == "choice" else _METAVARS[spec.type]
    main = click.option(
        *short, f"--{name}", spec.attr, default=None, metavar=metavar, help=help_text
    )
    if not spec.item_flag:
        return main
    items = click.option(
        f"--{spec.item_flag}",
        spec.attr + ITEMS,
        multiple=True,
        metavar=_ITEM_METAVARS.get(spec.item_flag, "ITEM"),
        help=f"One entry of --{name} (repeatable; with --{name}, both count).",
    )

    def decorate(func: F) -> F:
        return main(items(func))

    return decorate


def deprecated_alias(old: str, new: str, dest: str, **kwargs: Any) -> Callable[[F], F]:
    """A hidden `old` flag that still works for one release and warns once when used.

    Its value lands in `dest` unless `new` was given too (the command's class must be
    Command, whose parse_args does that).
    """

    def remember(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        if value is None:
            return value
        click.echo(
            f"ci-guard: warning: {old} is deprecated here and goes in a later release; use {new}",
            err=True,
        )
        ctx.meta.setdefault(_ALIASES, {})[dest] = value
        return value

    return click.option(
        old,
        "deprecated_" + dest,
        default=None,
        hidden=True,
        expose_value=False,
        callback=remember,
        **kwargs,
    )


class Command(click.Command):
    """A click command whose deprecated aliases fill their new parameter unless it was given."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        given = (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)
        for dest, value in ctx.meta.get(_ALIASES, {}).items():
            if ctx.get_parameter_source(dest) not in given:  # the new name wins
                ctx.params[dest] = value
        return rest


def config_file_option(func: F) -> F:
    """--config PATH: the ci-guard.toml (or pyproject.toml) to read settings from."""
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Config file  [default: the nearest ci-guard.toml, .ci-guard.toml or "
        "pyproject.toml with [tool.ci-guard], up to the repository root]",
    )(func)


def probe_options(what: str) -> Callable[[F], F]:
    """--probe-timeout and --image of the commands that probe registries (doctor, mirrors).

    `--timeout` was the probe deadline's name here while `run` used it for the attempt
    deadline; it stays one release as a hidden alias.
    """

    def decorate(func: F) -> F:
        func = click.option(
            "--image",
            default="library/busybox",
            show_default=True,
            help=f"Image (repository path) whose manifest each {what} must serve.",
        )(func)
        func = deprecated_alias("--timeout", "--probe-timeout", "probe_timeout")(func)
        return setting_option("probe-timeout")(func)

    return decorate


def settings_options(names: Iterable[str] | None = None) -> Callable[[F], F]:
    """Decorator adding one option per setting (all of them by default) and --config."""
    chosen = list(names) if names is not None else list(option_specs())

    def decorate(func: F) -> F:
        for name in reversed(chosen):
            func = setting_option(name)(func)
        return config_file_option(func)

    return decorate


def given_flags(params: dict[str, Any]) -> dict[str, Any]:
    """The settings actually given on the command line, keyed by option name."""
    flags: dict[str, Any] = {}
    for name, spec in option_specs().items():
        value = params.get(spec.attr)
        items = list(params.get(spec.attr + ITEMS) or ())
        if items:  # --mirrors A,B --mirror C: all three, in that order
            listed = [part.strip() for part in str(value or "").split(",") if part.strip()]
            flags[name] = [*listed, *items]
        elif value is not None:
            flags[name] = value
    return flags


def resolve_from_params(params: dict[str, Any]) -> Resolved:
    return resolve(given_flags(params), config_path=params.get("config_file"))


# Words a user may mean as a switch's value ("--preflight yes"); a switch takes none.
_SWITCH_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "1", "0", "y", "n"})


def _switch_names() -> frozenset[str]:
    names: set[str] = set()
    for name, spec in option_specs().items():
        if spec.type == "bool":
            names.update((f"--{name}", f"--no-{name}"))
    return frozenset(names)


class CommandAfterOptions(Command):
    """A command whose trailing words are another program's argument vector.

    Options before the program are parsed strictly (an unknown one is a usage error
    with click's did-you-mean hint); the program starts after `--` or at the first
    word that is not an option. A switch followed by a yes/no word and a later `--`
    (`--preflight yes -- make`) is refused: the user meant a value, and starting the
    word as the program (`yes`) would run something nobody asked for.
    """

    def __init__(self, *args: Any, command_param: str = "command", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.command_param = command_param

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        raw = list(args)
        rest = super().parse_args(ctx, args)
        tail = tuple(ctx.params.get(self.command_param) or ())
        _refuse_switch_value(ctx, raw, tail)
        return rest


def _refuse_switch_value(ctx: click.Context, raw: list[str], tail: tuple[str, ...]) -> None:
    if not tail or "--" not in tail or len(tail) >= len(raw):
        return
    start = len(raw) - len(tail)
    before = raw[start - 1]
    if before in _switch_names() and tail[0].lower() in _SWITCH_WORDS:
        positive = before.replace("--no-", "--", 1)
        negative = positive.replace("--", "--no-", 1)
        raise click.UsageError(
            f"{before} is a switch and takes no value (got {tail[0]!r}); "
            f"write {positive} or {negative}",
            ctx=ctx,
        )
