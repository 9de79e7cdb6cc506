"""`ci-guard classify [FILE|-]`: name the failure in a saved build log."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from ci_guard.cli.options import resolve_from_params, settings_options
from ci_guard.errors import UsageError
from ci_guard.failure import Failure

if TYPE_CHECKING:
    from ci_guard.classify.rules import RuleSet

SNIFF = 8192
"""Bytes looked at to tell text from binary garbage."""


_TEXT_CONTROLS = frozenset(b"\t\n\r\x0c\x08\x1b")


def _looks_binary(head: bytes) -> bool:
    """NUL bytes, many control bytes or mostly invalid UTF-8: not a build log.

    A few bad bytes (a Latin-1 word in otherwise UTF-8 output) are still text.
    """
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if byte < 0x20 and byte not in _TEXT_CONTROLS)
    if controls > len(head) // 10:
        return True
    decoded = head.decode("utf-8", errors="replace")
    return decoded.count("\ufffd") > len(decoded) // 4


@contextmanager
def _open_log(name: str) -> Iterator[IO[bytes]]:
    """The log as bytes (file or stdin), checked not to be binary data.

    The classifier decodes only the lines worth a regex (bad UTF-8 replaced).
    """
    if name == "-":
        stream: IO[bytes] = sys.stdin.buffer
        peek = getattr(stream, "peek", None)
        head = peek(SNIFF)[:SNIFF] if callable(peek) else b""
        if _looks_binary(head):
            raise UsageError("standard input is not a text log (binary data)")
        yield stream
        return
    path = Path(name)
    if path.is_dir():
        raise UsageError(f"{name}: is a directory, not a log file")
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from None
    with handle:
        try:
            head = handle.read(SNIFF)
            handle.seek(0)
        except OSError as exc:
            raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from None
        if _looks_binary(head):
            raise UsageError(f"{name}: not a text log (binary data)")
        yield handle


def _human(failure: Failure) -> str:
    retry = "retryable" if failure.retryable else "not retryable"
    lines = [f"{failure.failure_class.value} ({retry}) rule={failure.rule}"]
    if failure.why:
        lines.append(f"  why: {failure.why}")
    lines.extend(f"  > {line}" for line in failure.evidence)
    return "\n".join(lines)


def _ruleset(params: dict[str, Any]) -> RuleSet | None:
    """The built-in rules plus the team's own (config file, rules file), if any."""
    from ci_guard.classify.user_rules import effective_rules

    resolved = resolve_from_params(params)
    return effective_rules(resolved.config, resolved.file)


@click.command(name="classify")
@click.argument("log", default="-", metavar="[FILE|-]")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--exit-code",
    type=click.IntRange(min=1, max=255),
    default=1,
    show_default=True,
    help="Exit code of the failed command that wrote the log.",
)
@click.option("--timed-out", is_flag=True, help="The command hit its deadline.")
@click.option(
    "--explain", is_flag=True, help="Show every rule that matched and why the winner won."
)
@settings_options(["rules-file"])
def command(
    log: str, as_json: bool, exit_code: int, timed_out: bool, explain: bool, **params: Any
) -> None:
    """Classify a saved build log (FILE, or standard input when - or omitted).

    Prints the failure class, whether a retry can help, the rule that matched and
    the evidence lines; with --explain, every rule that matched (tier, class, source,
    lines) and why the winner won. Your own rules (the config file's [[rule]] tables,
    --rules-file) come before the built-in ones.

    \b
    Examples: ci-guard classify build.log
              docker build . 2>&1 | ci-guard classify --explain -
    Exit:     0 classified, 2 an unreadable log or a bad rule (ci-guard help exit-codes)
    More:     ci-guard help failure-classes
    """
    from ci_guard.classify.explain import explain as run_explain

    rules = _ruleset(params)
    with _open_log(log) as stream:
        try:
            found = run_explain(exit_code, None, timed_out, stream, rules=rules)
        except OSError as exc:
            raise UsageError(f"{log}: cannot read: {exc.strerror or exc}") from None
    failure = found.failure
    if as_json:
        data = failure.as_dict()
        if explain:
            data["matches"] = [match.as_dict() for match in found.matches]
            data["explanation"] = found.reason
        click.echo(json.dumps(data))
        return
    click.echo(_human(failure))
    if explain:
        from ci_guard.classify.explain import render

        click.echo("\n".join(render(found)))
