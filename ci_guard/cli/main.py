"""Entry point: a click group whose subcommands load only when called.

Each subcommand lives in its own module (cli/<name>_cmd.py) and only parses and
prints; the work is done by the core modules they call. Lazy loading keeps
`ci-guard run --no-preflight -- true` free of the Docker clients.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NoReturn

import click

from ci_guard import __version__, crash, exitcodes
from ci_guard.errors import CiGuardError
from ci_guard.supervise import cancel

COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("ci_guard.cli.run_cmd", "Run a build command with deadlines, retries and repairs."),
    "classify": ("ci_guard.cli.classify_cmd", "Classify a saved build log."),
    "config": ("ci_guard.cli.config_cmd", "Show the effective settings and their sources."),
    "doctor": ("ci_guard.cli.doctor_cmd", "Check network, registries, mirrors and the daemon."),
    "mirrors": (
        "ci_guard.cli.mirrors_cmd",
        "Probe registry mirrors and apply them to daemon.json.",
    ),
    "repair": ("ci_guard.cli.repair_cmd", "Run the network repair stage now."),
    "prefetch": ("ci_guard.cli.prefetch_cmd", "Pre-pull images concurrently, with retries."),
    "report": ("ci_guard.cli.report_cmd", "Summarise many run logs: success rate, classes, time."),
    "help": ("ci_guard.cli.help_cmd", "Print a page of the user documentation."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        if cmd_name != "run":  # only `run` turns a signal into a cancelled run
            cancel.release_early_signals()
        command = importlib.import_module(entry[0]).command
        if not isinstance(command, click.Command):
            raise TypeError(f"{entry[0]}.command is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ci-guard")
def cli() -> None:
    """Make container builds in CI survive the network.

    \b
    Example:  ci-guard run -- docker compose build
    Docs:     ci-guard help (the list of pages), ci-guard help commands,
              ci-guard help configuration, ci-guard help exit-codes
    """


def fail(message: str, exit_code: int) -> NoReturn:
    click.echo(f"ci-guard: error: {message}", err=True)
    sys.exit(exit_code)


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; every failure becomes one line on stderr and an exit code."""
    try:
        result = _dispatch(argv)
    except Exception as exc:  # the last resort: a bug is one line and exit 70
        fail(crash.report(exc), exitcodes.INTERNAL_ERROR)
    cancel.release_early_signals()  # a signal held through --help or --version ends us now
    return result


def _dispatch(argv: list[str] | None) -> Any:
    try:
        return cli.main(args=argv, prog_name="ci-guard", standalone_mode=False)
    except CiGuardError as exc:
        fail(exc.message, exc.exit_code)
    except click.UsageError as exc:
        if type(exc).__name__.startswith("NoArgsIsHelp") and exc.ctx is not None:
            click.echo(exc.ctx.get_help(), err=True)
            sys.exit(exitcodes.USAGE)
        hint = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
        fail(f"{exc.format_message()}{hint}", exitcodes.USAGE)
    except click.ClickException as exc:
        fail(exc.format_message(), exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        fail("aborted", exitcodes.for_signal(2))
    except KeyboardInterrupt:
        sys.exit(exitcodes.for_signal(2))
    except BrokenPipeError:
        sys.exit(exitcodes.SIGNAL_BASE + 13)
