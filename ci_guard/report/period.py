"""Parse `--since`: an ISO date or time (UTC unless it says otherwise), or an age like 7d."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from ci_guard.errors import UsageError

_AGE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, *, now: datetime) -> datetime:
    """`2026-11-01`, `2026-11-01T12:00:00Z`, `2026-11-01 12:00+01:00`, or `36h`, `7d`, `2w`."""
    age = _AGE.match(text)
    if age:
        unit = _UNITS[age.group(2).lower()]
        return now - timedelta(**{unit: int(age.group(1))})
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--since {text!r}: expected a date (2026-11-01), a time (2026-11-01T12:00Z) "
            "or an age (36h, 7d, 2w)"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc)
