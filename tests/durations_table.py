"""The duration forms every duration setting accepts, with the seconds each one means:
one table for the parser's tests and for the settings that use it."""

from __future__ import annotations

BASIC_FORMS: list[tuple[str, float]] = [
    ("2400", 2400.0),
    ("2400s", 2400.0),
    ("40m", 2400.0),
    ("1h30m", 5400.0),
    ("1.5h", 5400.0),
    ("500ms", 0.5),
]
