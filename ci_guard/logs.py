"""Structured logging: one JSON object a line to --log-file, and to stderr.

stderr gets the console renderer on a terminal and JSON otherwise (or as asked by
--log-format). The log file always gets JSON, written and flushed a line at a time so
a run killed mid-way leaves only whole lines. Every line passes the redactor.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import IO, Any, TextIO

from ci_guard import deferred

deferred.defer("asyncio")  # structlog imports it for async loggers ci-guard never uses
import structlog  # noqa: E402  (after the deferral, on purpose)

from ci_guard.errors import UsageError  # noqa: E402
from ci_guard.redact import Redactor  # noqa: E402

EventDict = MutableMapping[str, Any]


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


class _TeeToFile:
    """Appends the JSON line to the log file before the stderr renderer runs."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def __call__(self, _logger: Any, _name: str, event_dict: EventDict) -> EventDict:
        self._stream.write(dumps(event_dict) + "\n")
        self._stream.flush()
        return event_dict


def _compact_checks(checks: Any) -> str:
    if not isinstance(checks, list):
        return str(checks)
    failed = [c for c in checks if isinstance(c, dict) and not c.get("ok")]
    errors = [c for c in failed if c.get("severity") == "error"]
    parts = [f"{c.get('name')}: {c.get('detail')}" for c in errors]
    head = f"{len(checks) - len(failed)}/{len(checks)} ok"
    return head + ("; " + "; ".join(parts) if parts else "")


class _ConsoleCompact:
    """On a terminal, long structured fields are shortened for a person to read."""

    def __call__(self, _logger: Any, _name: str, event_dict: EventDict) -> EventDict:
        if "checks" in event_dict:
            event_dict["checks"] = _compact_checks(event_dict["checks"])
        for key, value in list(event_dict.items()):
            if isinstance(value, Path):
                event_dict[key] = str(value)
            elif value is None or value == []:
                del event_dict[key]
        return event_dict


def open_log_file(path: Path) -> IO[str]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("a", encoding="utf-8", buffering=1)
    except OSError as exc:
        raise UsageError(f"log file {path}: cannot open: {exc.strerror or exc}") from None


def wants_console(log_format: str, stream: IO[str]) -> bool:
    if log_format == "auto":
        return stream.isatty()
    return log_format == "console"


def configure(
    *,
    log_format: str = "auto",
    log_file: IO[str] | None = None,
    stream: TextIO | None = None,
    redactor: Redactor | None = None,
) -> None:
    """Set up structlog for this process; call once per CLI invocation."""
    stream = stream or sys.stderr
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        _add_timestamp,
        _Redact(redactor or Redactor()),
        _Order(),
    ]
    if log_file is not None:
        processors.append(_TeeToFile(log_file))
    if wants_console(log_format, stream):
        processors.append(_ConsoleCompact())
        processors.append(structlog.dev.ConsoleRenderer(colors=stream.isatty(), sort_keys=False))
    else:
        processors.append(structlog.processors.JSONRenderer(serializer=_render_json))
    structlog.configure(
        processors=processors,
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


def _render_json(event_dict: EventDict, **_kwargs: Any) -> str:
    return dumps(event_dict)


def get_logger(**bound: Any) -> Any:
    return structlog.get_logger().bind(**bound)
