"""What preflight and the remedies changed on the host, kept in the run record masked."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from ci_guard.records import HostChange, RemedyResult

PREFLIGHT = "preflight"
CHANGES_FIELD = "host_changes"
"""The field of `preflight.finished` and `remedy.finished` that lists the changes."""


def from_fields(fields: dict[str, Any]) -> list[HostChange]:
    """The changes a log event's fields list (preflight hands its result over as fields)."""
    raw = fields.get(CHANGES_FIELD)
    if not isinstance(raw, list):
        return []
    return [change for change in map(HostChange.from_dict, raw) if change is not None]


def recorded(
    changes: Iterable[HostChange], source: str, redact: Callable[[str], str]
) -> list[HostChange]:
    """The changes as the run keeps them: who made them, secrets masked (URLs may hold some)."""
    return [
        dataclasses.replace(change, source=source, detail=redact(change.detail))
        for change in changes
    ]


def remedy_source(remedy: str, attempt: int) -> str:
    return f"{remedy} after attempt {attempt}"


def masked(result: RemedyResult, redact: Callable[[str], str]) -> RemedyResult:
    """The result with its reasons masked: the summary and CI reports print them."""
    skipped = redact(result.skipped) if result.skipped else result.skipped
    return dataclasses.replace(result, detail=redact(result.detail), skipped=skipped)
