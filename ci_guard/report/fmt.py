"""Small formatting helpers shared by the text and HTML renderers."""

from __future__ import annotations

from collections.abc import Sequence

from ci_guard.durations import human_duration

duration = human_duration


def percent(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def latency(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None], *, ascii_only: bool = False) -> str:
    """Shares in 0..1 as one character each; a gap (no data) is a space."""
    levels = "_.-=^" if ascii_only else SPARK
    out = []
    for value in values:
        if value is None:
            out.append(" ")
        else:
            clipped = min(max(value, 0.0), 1.0)
            out.append(levels[min(int(clipped * len(levels)), len(levels) - 1)])
    return "".join(out)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """A plain aligned table; columns in `right` are right-aligned (numbers)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=False)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if index in right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=False))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])
