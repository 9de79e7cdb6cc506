"""Timestamped backups of daemon.json beside it, a bounded number of them.

`NAME.<UTC stamp>[-N].ci-guard.bak`: one per change ci-guard makes. Only the newest
`keep` stay (the one just made always among them): 220 runs must not leave 66 files
in /etc/docker. Files of any other name, and anything that is not a regular file, are
never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
from datetime import datetime, timezone
from pathlib import Path

SUFFIX = ".ci-guard.bak"
DEFAULT_KEEP = 5


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(name)}\.(\d{{8}}T\d{{6}}Z)(?:-(\d+))?{re.escape(SUFFIX)}")


def make_backup(path: Path, *, now: datetime | None = None) -> Path | None:
    """Copy `path` (through a link) to a timestamped file beside it; None without a file."""
    if not path.exists():
        return None
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    # Past the highest counter of this second, not the first free name: a name freed by
    # pruning would otherwise come back and sort as the oldest.
    taken = [n for s, n, _ in _entries(path) if s == stamp]
    counter = max(taken) + 1 if taken else 0
    target = _name(path, stamp, counter)
    while os.path.lexists(target):
        counter += 1
        target = _name(path, stamp, counter)
    shutil.copy2(path, target)
    return target


def _name(path: Path, stamp: str, counter: int) -> Path:
    tail = f"-{counter}" if counter else ""
    return path.with_name(f"{path.name}.{stamp}{tail}{SUFFIX}")


def _entries(path: Path) -> list[tuple[str, int, Path]]:
    pattern = _pattern(path.name)
    found: list[tuple[str, int, Path]] = []
    with contextlib.suppress(OSError):
        for entry in path.parent.iterdir():
            match = pattern.fullmatch(entry.name)
            if match:
                found.append((match.group(1), int(match.group(2) or 0), entry))
    return sorted(found)


def list_backups(path: Path) -> list[Path]:
    """ci-guard's backups of `path` that are regular files, oldest first."""
    return [entry for _stamp, _n, entry in _entries(path) if _regular(entry)]


def prune_backups(path: Path, *, keep: int, protect: Path | None = None) -> list[Path]:
    """Remove all but the newest `keep` backups of `path` (never `protect`); the removed."""
    backups = [b for b in list_backups(path) if b != protect]
    room = max(keep - (1 if protect is not None else 0), 0)
    doomed = backups[: max(len(backups) - room, 0)]
    removed = []
    for old in doomed:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
            removed.append(old)
    return removed


def _regular(entry: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(entry).st_mode)
    except OSError:
        return False
