"""Durations: the one parser every setting and flag uses, and the human formatter.

A duration is a number of seconds (`2400`, `2400s`, `0.5`) or one or more
number-unit parts, largest unit first (`40m`, `1h30m`, `1.5h`, `500ms`, `7d`, `2w`).
A TOML or JSON number is seconds.
"""

from __future__ import annotations

import math
import re

EXAMPLES = "90, 90s, 40m, 1h30m"
NOT_A_DURATION = f"not a duration (examples: {EXAMPLES})"

_UNITS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_RANK = {unit: rank for rank, unit in enumerate(_UNITS)}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PART = re.compile(rf"({_NUMBER})(ms|[wdhms])")
_WHOLE = re.compile(rf"(?:{_NUMBER}(?:ms|[wdhms]))+")
_PLAIN = re.compile(rf"\+?{_NUMBER}(?:e[+-]?\d+)?")  # seconds, 2.4e3 included


class DurationError(ValueError):
    """A value that is not a duration; str() is the one-line reason."""

    def __init__(self) -> None:
        super().__init__(NOT_A_DURATION)


def parse_duration(value: object) -> float:
    """Seconds for `value` (text or number); DurationError when it is not a duration.

    Negative values are left to the caller's bounds (a number may be -1); text never
    is negative, and NaN or infinity is never a duration.
    """
    if isinstance(value, bool):
        raise DurationError
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_text(value)
    else:
        raise DurationError
    if not math.isfinite(seconds):
        raise DurationError
    return seconds


def _parse_text(text: str) -> float:
    word = "".join(text.split()).lower()  # "1h 30m" reads as "1h30m"
    if _PLAIN.fullmatch(word):
        return float(word)
    if not _WHOLE.fullmatch(word):
        raise DurationError
    total = 0.0
    last_rank = -1
    for number, unit in _PART.findall(word):
        if _RANK[unit] <= last_rank:  # "30m1h", "1m1m": a slip, not a duration
            raise DurationError
        last_rank = _RANK[unit]
        total += float(number) * _UNITS[unit]
    return total


def format_duration(seconds: float) -> str:
    """The shortest exact spelling parse_duration reads back: 40m, 1h30m, 500ms, 2.5s."""
    if seconds < 0 or not math.isfinite(seconds):
        return f"{seconds:g}"
    if seconds == 0:
        return "0s"
    millis = round(seconds * 1000)
    # a float's own rounding grows with its size: 33615242.623 s is 33615242623.000004 ms
    slack = max(1e-6, 1e-12 * seconds * 1000)
    if millis == 0 or abs(millis - seconds * 1000) > slack:
        exact = repr(float(seconds))  # every digit, so it reads back as it was
        return exact if "e" in exact else f"{exact}s"
    if 1000 < millis < 60000 and millis % 1000:
        return f"{millis / 1000:g}s"  # 2.5s rather than 2s500ms
    parts = []
    for unit, size in _UNITS.items():
        count, millis = divmod(millis, round(size * 1000))
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def human_duration(seconds: float | None) -> str:
    """42.1s, 5m 12s, 3h 05m, 2d 4h; '-' for no value."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"
