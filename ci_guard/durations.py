"""Durations as a person reads them; shared by the run summary and the report."""

from __future__ import annotations


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
