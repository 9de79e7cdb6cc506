"""Progress lines for people: the log events, each turned into one short stderr line.

The JSON log is the one source of truth; this renderer reads the same event (after
masking) and prints a line when the table below says the event shows at the chosen
verbosity. `--quiet` keeps warnings only (the CLI still prints the summary),
`--verbose` adds each step's details as indented lines. Colour only on a terminal,
and never with NO_COLOR set or TERM=dumb; there are no cursor movements at all.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from ci_guard import progress_lines as words
from ci_guard.errors import UsageError

QUIET, NORMAL, VERBOSE = 0, 1, 2
NEVER = 9
PREFIX = "ci-guard: "
MAX_LINE = 200
"""Longer lines are cut; the JSON log keeps every field whole."""

OK, WARN, FAIL, PLAIN = "ok", "warn", "fail", ""
_COLOURS = {OK: "32", WARN: "33", FAIL: "31", "detail": "2"}


@dataclass(frozen=True)
class Step:
    """How one event shows: from which verbosity (as info / as a warning or error),
    its tone, its line, and the detail lines --verbose adds."""

    shown: int
    shown_as_warning: int
    line: Callable[[Mapping[str, Any], _Memory], str | None]
    details: Callable[[Mapping[str, Any]], list[str]] | None = None


@dataclass
class _Memory:
    """What a later line needs from an earlier event: the command, when steps began."""

    command: str = ""
    started: dict[str, dt.datetime] | None = None

    def took(self, key: str, event: Mapping[str, Any]) -> float | None:
        begun = (self.started or {}).pop(key, None)
        now = _when(event)
        if begun is None or now is None:
            return None
        return max(0.0, (now - begun).total_seconds())

    def begin(self, key: str, event: Mapping[str, Any]) -> None:
        when = _when(event)
        if when is not None:
            self.started = {**(self.started or {}), key: when}


def _when(event: Mapping[str, Any]) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(event.get("timestamp")).replace("Z", "+00:00"))
    except ValueError:
        return None


def _remember_run(f: Mapping[str, Any], memory: _Memory) -> str:
    memory.command = words.short_command(f.get("command") or [])
    return words.run_started(f)


def _begin(key: str, line: Callable[[Mapping[str, Any]], str]) -> Callable[..., str]:
    def render(f: Mapping[str, Any], memory: _Memory) -> str:
        memory.begin(key, f)
        return line(f)

    return render


def _warning(field: str) -> Callable[[Mapping[str, Any], _Memory], str]:
    return lambda f, _m: f"warning: {f.get(field)}"


STEPS: dict[str, Step] = {
    "run.started": Step(VERBOSE, VERBOSE, _remember_run),
    "artifacts.in_build_context": Step(NEVER, QUIET, _warning("detail")),
    "preflight.started": Step(NORMAL, NORMAL, _begin("preflight", words.preflight_started)),
    "preflight.finished": Step(
        NORMAL,
        QUIET,
        lambda f, m: words.preflight_finished(f, m.took("preflight", f)),
        words.preflight_details,
    ),
    "builder.mirrors": Step(VERBOSE, QUIET, lambda f, _m: words.builder_mirrors(f)),
    "attempt.started": Step(
        NORMAL, NORMAL, lambda f, m: words.attempt_started(f, m.command or "the command")
    ),
    "attempt.finished": Step(
        NORMAL, NORMAL, lambda f, _m: words.attempt_finished(f), words.attempt_details
    ),
    "retry.scheduled": Step(
        NORMAL, NORMAL, lambda f, _m: words.retry_scheduled(f), words.retry_details
    ),
    "retry.stopped": Step(NORMAL, NORMAL, lambda f, _m: f"no further attempt: {f.get('reason')}"),
    "remedy.started": Step(
        NORMAL, NORMAL, _begin("remedy", words.remedy_started), words.plan_details
    ),
    "remedy.finished": Step(
        NORMAL,
        QUIET,
        lambda f, m: words.remedy_finished(f, m.took("remedy", f)),
        words.action_details,
    ),
    "remedy.unavailable": Step(NEVER, QUIET, _warning("detail")),
    "output.written": Step(
        VERBOSE, VERBOSE, lambda f, _m: f"wrote {f.get('output')} to {f.get('target')}"
    ),
    "output.failed": Step(
        NEVER,
        QUIET,
        lambda f, _m: f"warning: {f.get('output')} {f.get('target')} not written: {f.get('error')}",
    ),
    "ci.hook_failed": Step(
        NEVER, QUIET, lambda f, _m: f"warning: CI hook {f.get('hook')} failed: {f.get('error')}"
    ),
}
"""Events not listed here (run.finished: the summary says it) print nothing."""


def verbosity(*, quiet: bool, verbose: bool) -> int:
    if quiet and verbose:
        raise UsageError("--quiet and --verbose cannot be used together")
    return QUIET if quiet else VERBOSE if verbose else NORMAL


def wants_colour(stream: TextIO, env: Mapping[str, str] | None = None) -> bool:
    """A terminal that takes colour: not with NO_COLOR (any value) or TERM=dumb."""
    env = os.environ if env is None else env
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False


def fit(text: str, width: int = MAX_LINE - len(PREFIX) - 2) -> str:
    """One physical line: newlines and tabs become spaces, a long line is cut."""
    return words.cut(" ".join(text.split()), width)


class ProgressRenderer:
    """The last structlog processor on the console: an event in, its lines out.

    Returns "" for an event that shows nothing (the caller drops it)."""

    def __init__(self, level: int = NORMAL, *, colour: bool = False) -> None:
        self.level = level
        self.colour = colour
        self._memory = _Memory()

    def lines(self, event: Mapping[str, Any]) -> list[str]:
        step = STEPS.get(str(event.get("event")))
        if step is None:
            return []
        warned = event.get("level") in ("warning", "error")
        shown = step.shown_as_warning if warned else step.shown
        text = step.line(event, self._memory)  # always: later lines need what it remembers
        if self.level < shown or not text:
            return []
        out = [self._paint(PREFIX + fit(text), _tone(event, warned))]
        if self.level >= VERBOSE and step.details is not None:
            details = (PREFIX + "  " + fit(line) for line in step.details(event))
            out.extend(self._paint(line, "detail") for line in details)
        return out

    def __call__(self, _logger: Any, _name: str, event_dict: Mapping[str, Any]) -> str:
        return "\n".join(self.lines(event_dict))

    def _paint(self, text: str, tone: str) -> str:
        code = _COLOURS.get(tone)
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and code else text


def _tone(event: Mapping[str, Any], warned: bool) -> str:
    name = event.get("event")
    if name == "attempt.finished":
        return OK if event.get("failure_class") is None else FAIL
    if name == "remedy.finished" and event.get("ok"):
        return OK
    return WARN if warned else PLAIN
