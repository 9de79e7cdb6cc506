"""Typed values out of one logged event's fields: a wrong type skips the line, a missing
optional field (an older ci-guard's log) is None."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ci_guard.redact import Redactor
from ci_guard.registry.probe import HEALTHY, SLOW
from ci_guard.report.runs import BuilderCheck, LoggedLost, MirrorProbe

HEALTHY_VERDICTS = frozenset({HEALTHY, SLOW})
"""Mirror probe verdicts that mean "this mirror serves" (a slow one still does); misbehaving
and dead ones do not."""
LOST_FIELDS = ("lost_attempts_s", "lost_waits_s", "lost_remedies_s")
"""run.finished's own split of the time lost, when the writer logs it."""


class BadFieldError(ValueError):
    """A ci-guard event whose fields have the wrong type; the line is skipped."""


@functools.cache
def redactor() -> Redactor:
    return Redactor()


def as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadFieldError(f"expected an integer, got {value!r}")
    return value


def opt_int(value: Any) -> int | None:
    return None if value is None else as_int(value)


def as_float(value: Any, default: float = 0.0) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadFieldError(f"expected a number, got {value!r}")
    return float(value)


def opt_float(value: Any) -> float | None:
    return None if value is None else as_float(value)


def opt_str(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadFieldError(f"expected a string, got {value!r}")
    return value


def opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def masked(value: Any) -> str | None:
    """A string field masked again: logs written before masking covered a shape must not
    carry it into a report."""
    text = opt_str(value)
    return text if not text else redactor().text(text)


def masked_argv(parts: Iterable[Any]) -> tuple[str, ...]:
    return tuple(redactor().argv(str(part) for part in parts))


def logged_lost(record: dict[str, Any]) -> LoggedLost | None:
    """run.finished's lost_* fields, None when the writer logged none of them."""
    values = [opt_float(record.get(name)) for name in LOST_FIELDS]
    if all(v is None for v in values):
        return None
    return LoggedLost(*values)


def probe(candidate: dict[str, Any], stamp: datetime, source: str) -> MirrorProbe | None:
    """One ranked mirror (preflight's `mirrors.ranked`, a remedy's `mirrors_ranked`)."""
    url = candidate.get("url")
    if not isinstance(url, str) or not url:
        return None
    verdict = str(candidate.get("verdict") or "unknown")
    healthy = verdict.lower() in HEALTHY_VERDICTS
    latency = candidate.get("latency_s")
    if isinstance(latency, bool) or not isinstance(latency, (int, float)):
        latency = None
    value = None if latency is None else float(latency)
    return MirrorProbe(stamp, url, healthy, verdict, value, source)


def probes(ranked: Any, stamp: datetime, source: str) -> list[MirrorProbe]:
    if not isinstance(ranked, list):
        return []
    found = [probe(c, stamp, source) for c in ranked if isinstance(c, dict)]
    return [p for p in found if p is not None]


def builder_check(record: dict[str, Any], stamp: datetime) -> BuilderCheck:
    """A builder.mirrors line (or a remedy's `builder` field) as a value."""
    check = record.get("probe")
    verify = record.get("verify")
    last = verify if isinstance(verify, dict) else check if isinstance(check, dict) else {}
    return BuilderCheck(
        at=stamp,
        source=opt_str(record.get("source")) or "unknown",
        decision=opt_str(record.get("decision")) or "unknown",
        ok=opt_bool(record.get("ok")),
        probe_outcome=opt_str(last.get("outcome")),
        probe_s=opt_float(last.get("duration_s")),
    )
