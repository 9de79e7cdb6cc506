"""Which files a `ci-guard report LOG...` argument names, and their lines (gzip too)."""

from __future__ import annotations

import glob
import gzip
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ci_guard.errors import UsageError

LOG_SUFFIXES = (".jsonl", ".ndjson", ".json", ".log")
"""What a directory argument contributes (also gzipped); a named file is read whatever its name."""

ATTEMPT_LOG = re.compile(r"attempt-\d+\.log(\.gz)?")
"""The build output ci-guard keeps beside its JSON log in the artifacts folder: a
folder argument passes over it (it holds no events); named or globbed, it is read."""

SKIP_UNREADABLE = "unreadable_tail"
"""Skip reason of a gzip file cut short or corrupt: what was read is kept."""
SKIP_VANISHED = "vanished"
"""Skip reason of a file found in a folder and gone before it was read."""


_GLOB_CHARS = frozenset("*?[")


def expand_inputs(specs: Sequence[str]) -> list[Path]:
    """Files named by LOG arguments: files, directories (searched recursively) and globs."""
    found: dict[Path, None] = {}
    for spec in specs:
        for path in _expand_one(spec):
            found.setdefault(path.resolve(), None)
    return list(found)


def _expand_one(spec: str) -> list[Path]:
    if any(ch in _GLOB_CHARS for ch in spec) and not Path(spec).exists():
        matches = sorted(glob.glob(spec, recursive=True))
        if not matches:
            raise UsageError(f"no file matches {spec}")
        files = [f for m in matches for f in _from_path(Path(m), spec, named=False)]
        if not files:
            raise UsageError(f"no run logs ({_suffix_list()}) match {spec}")
        return files
    path = Path(spec)
    if not path.exists():
        raise UsageError(f"cannot read {spec}: no such file or directory")
    files = _from_path(path, spec, named=True)
    if not files:
        raise UsageError(f"no run logs ({_suffix_list()}) in {spec}")
    return files


def _from_path(path: Path, spec: str, *, named: bool) -> list[Path]:
    if path.is_dir():
        return sorted(_logs_under(path))
    if path.is_file():
        return [path] if named or _is_log_name(path.name) else []
    raise UsageError(f"cannot read {spec}: not a regular file or directory")


def _logs_under(folder: Path) -> Iterator[Path]:
    """Log files below `folder`; a subfolder that vanishes or cannot be read mid-walk (a
    shared temp folder, a job still writing) is passed over, as os.walk does."""
    for parent, _dirs, names in os.walk(folder):
        for name in names:
            candidate = Path(parent, name)
            if _is_log_name(name) and not ATTEMPT_LOG.fullmatch(name) and candidate.is_file():
                yield candidate


def _is_log_name(name: str) -> bool:
    base = name[:-3] if name.endswith(".gz") else name
    return base.endswith(LOG_SUFFIXES)


def _suffix_list() -> str:
    return ", ".join(f"*{s}" for s in LOG_SUFFIXES)


def read_lines(path: Path, skipped: dict[str, int]) -> Iterator[str]:
    opener: Callable[..., Any] = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            yield from handle
    except (EOFError, gzip.BadGzipFile, UnicodeError):
        # A truncated or corrupt archive: keep what was read, count the loss once.
        skipped[SKIP_UNREADABLE] = skipped.get(SKIP_UNREADABLE, 0) + 1
    except FileNotFoundError:
        skipped[SKIP_VANISHED] = skipped.get(SKIP_VANISHED, 0) + 1
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
