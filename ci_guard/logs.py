"""Structured logging: one JSON object a line to the log file; progress lines on stderr.

stderr gets short lines for people (progress.py), or the JSON lines when asked
(`--log-format json`, `--log-file -`). The log file always gets JSON, written and
flushed a line at a time so a run killed mid-way leaves only whole lines. Every line
passes the redactor first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import IO, Any, TextIO

from ci_guard import deferred, progress

deferred.defer("asyncio")  # structlog imports it for async loggers ci-guard never uses
import structlog  # noqa: E402  (after the deferral, on purpose)

from ci_guard.errors import UsageError  # noqa: E402
from ci_guard.redact import Redactor  # noqa: E402

EventDict = MutableMapping[str, Any]
STDERR_PATH = Path("-")
"""`--log-file -`: the JSON log on stderr instead of a file."""


def utc_timestamp() -> str:
    return (
        dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    )


def _add_timestamp(_logger: Any, _name: str, event_dict: EventDict) -> EventDict:
    event_dict.setdefault("timestamp", utc_timestamp())
    return event_dict


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return repr(value)


def dumps(event_dict: EventDict) -> str:
    return json.dumps(event_dict, default=_json_default, ensure_ascii=False, sort_keys=False)


class _Redact:
    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor

    def __call__(self, _logger: Any, _name: str, event_dict: EventDict) -> EventDict:
        return {key: self._redactor.value(value) for key, value in event_dict.items()}


class _Order:
    """Puts the four fields every line has first, for people reading raw JSON."""

    FIRST = ("timestamp", "level", "event", "run_id")

    def __call__(self, _logger: Any, _name: str, event_dict: EventDict) -> EventDict:
        ordered = {key: event_dict[key] for key in self.FIRST if key in event_dict}
        ordered.update((k, v) for k, v in event_dict.items() if k not in ordered)
        return ordered


def write_stderr(text: str) -> None:
    """Write to stderr; a closed or full stderr must never fail the caller."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):
        _drop_stderr()


def _drop_stderr() -> None:
    """stderr failed: what is left in its buffer would fail the interpreter's last flush
    and turn the build's exit code into 120, so the rest goes to /dev/null."""
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


_warned: set[str] = set()


def warn(message: str, *, once_per: str | None = None) -> None:
    """One warning line on stderr; with `once_per`, only the first for that cause
    (a full disk fails the log file and the attempt log alike: one warning says it)."""
    if once_per is not None:
        if once_per in _warned:
            return
        _warned.add(once_per)
    write_stderr(f"ci-guard: warning: {message}\n")


def close_log_file(stream: IO[str]) -> None:
    """Close the log file; lines it could not take were already warned about."""
    if stream in _open_file:
        _open_file.clear()
    try:
        stream.close()
    except (OSError, ValueError):
        with contextlib.suppress(OSError, ValueError):
            stream.close()  # a second close releases the descriptor after a failed flush


class _TeeToFile:
    """Appends the JSON line to the log file before the stderr renderer runs.

    A log file that stops taking lines (disk full, /dev/full, a vanished mount) costs
    one warning; the run and the stderr log go on without it.
    """

    def __init__(self, stream: IO[str], json_on_stderr: bool) -> None:
        self._stream: IO[str] | None = stream
        self._json_on_stderr = json_on_stderr

    def __call__(self, _logger: Any, _name: str, event_dict: EventDict) -> EventDict:
        if self._stream is not None:
            try:
                self._stream.write(dumps(event_dict) + "\n")
                self._stream.flush()
            except (OSError, ValueError) as exc:
                self._give_up(exc)
        return event_dict

    def _give_up(self, exc: Exception) -> None:
        name = getattr(self._stream, "name", "?")
        self._stream = None
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        rest = "goes to stderr only" if self._json_on_stderr else "is lost"
        warn(f"log file {name}: {reason}; from here on the JSON log {rest}", once_per=reason)
        _lost[:] = [reason]


_lost: list[str] = []
"""Why the log file stopped taking lines during this run, if it did."""


def log_file_lost() -> str | None:
    """Why the JSON log file is incomplete (it stopped taking lines), else None."""
    return _lost[0] if _lost else None


class _SafeStream:
    """stderr for the log renderer: a closed or full stderr must not end the build."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> None:
        try:
            self._stream.write(text)
        except (OSError, ValueError):
            self._failed()

    def flush(self) -> None:
        try:
            self._stream.flush()
        except (OSError, ValueError):
            self._failed()

    def _failed(self) -> None:
        if self._stream is sys.stderr:
            _drop_stderr()
        self._stream = sys.stderr


def open_log_file(path: Path) -> IO[str]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # backslashreplace: an argument that is not UTF-8 must not stop the log
        return path.open("a", encoding="utf-8", errors="backslashreplace", buffering=1)
    except OSError as exc:
        raise UsageError(f"log file {path}: cannot open: {exc.strerror or exc}") from None


_open_file: list[IO[str]] = []
"""The log file `configure` was given, for `file_only`."""


def file_only(event: str, **fields: Any) -> str:
    """Write one JSON line to the log file alone (not stderr): the file's name, or ""
    without a log file."""
    if not _open_file:
        return ""
    line = {"timestamp": utc_timestamp(), "event": event, **fields}
    try:
        _open_file[0].write(dumps(line) + "\n")
        _open_file[0].flush()
    except (OSError, ValueError):
        return ""
    return str(getattr(_open_file[0], "name", "")) or "?"


def stderr_gets_json(log_format: str, log_file: Path | None) -> bool:
    """JSON on stderr when asked: `--log-format json`, or `--log-file -` (auto format)."""
    if log_file == STDERR_PATH and log_format == "console":
        raise UsageError(
            "--log-file - puts the JSON log on stderr; it cannot share it with --log-format console"
        )
    return log_format == "json" or log_file == STDERR_PATH


class _Progress:
    """The console renderer: the event's progress lines, or nothing at all."""

    def __init__(self, renderer: progress.ProgressRenderer) -> None:
        self._renderer = renderer

    def __call__(self, logger: Any, name: str, event_dict: EventDict) -> str:
        text = self._renderer(logger, name, event_dict)
        if not text:
            raise structlog.DropEvent
        return text


def configure(
    *,
    log_format: str = "auto",
    log_file: IO[str] | None = None,
    stream: TextIO | None = None,
    redactor: Redactor | None = None,
    level: int = progress.NORMAL,
) -> None:
    """Set up structlog for this process; call once per CLI invocation.

    `log_format` json: the JSON lines on `stream` too; else progress lines at `level`.
    """
    _open_file[:] = [log_file] if log_file is not None else []
    _lost.clear()
    stream = stream or sys.stderr
    json_on_stream = log_format == "json"
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        _add_timestamp,
        _Redact(redactor or Redactor()),
        _Order(),
    ]
    if log_file is not None:
        processors.append(_TeeToFile(log_file, json_on_stream))
    if json_on_stream:
        processors.append(structlog.processors.JSONRenderer(serializer=_render_json))
    else:
        colour = progress.wants_colour(stream)
        processors.append(_Progress(progress.ProgressRenderer(level, colour=colour)))
    structlog.configure(
        processors=processors,
        logger_factory=structlog.PrintLoggerFactory(file=_SafeStream(stream)),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )


def _render_json(event_dict: EventDict, **_kwargs: Any) -> str:
    return dumps(event_dict)


def get_logger(**bound: Any) -> Any:
    return structlog.get_logger().bind(**bound)
