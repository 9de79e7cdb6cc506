"""Parse `--since`: an ISO date or time (UTC unless it says otherwise), or an age.

An age is any duration ci-guard reads elsewhere (durations.parse_duration): 36h, 7d,
2w, 1h30m, or a bare number of seconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ci_guard.durations import EXAMPLES, parse_duration
from ci_guard.errors import UsageError


def parse_since(text: str, *, now: datetime) -> datetime:
    """`2026-11-01`, `2026-11-01T12:00:00Z`, `2026-11-01 12:00+01:00`, or `36h`, `7d`, `2w`."""
    try:
        age = parse_duration(text)
    except ValueError:
        return _parse_stamp(text)
    try:
        return now - timedelta(seconds=age)
    except OverflowError:  # an age older than year 1: every run is newer
        return datetime.min.replace(tzinfo=timezone.utc)


def _parse_stamp(text: str) -> datetime:
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--since {text}: not a date (2026-11-01), a time (2026-11-01T12:00Z) "
            f"or an age (a duration: {EXAMPLES}, 7d)"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc)
