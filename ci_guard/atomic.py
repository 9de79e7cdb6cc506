"""Replace a file atomically: a temporary file in the same folder, fsync, os.replace.

A reader (dockerd reloading on SIGHUP, node_exporter's textfile collector, a CI step
reading outputs, or a crash half-way) sees the old file or the new one, never a
truncated one. The new file keeps the old one's mode and owner unless `mode` is given;
the temporary file is private (0600) from its first byte, so a secret never shows.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

DEFAULT_MODE = 0o644


def atomic_write_text(
    path: Path, text: str, *, mode: int | None = None, make_folder: bool = False
) -> None:
    """Write `text` to `path` atomically; raises OSError (PermissionError...) on failure.

    `mode` forces the file's mode (0o600 for anything holding credentials); by default
    an existing file's mode and owner stay. `make_folder` creates a missing folder;
    otherwise a missing folder is an error, as a mistyped output path should be.
    """
    folder = path.parent
    if make_folder:
        folder.mkdir(parents=True, exist_ok=True)
    old = _stat_or_none(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None:
            _copy_mode_owner(tmp, old)
        else:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def _copy_mode_owner(tmp: Path, old: os.stat_result | None) -> None:
    if old is None:
        os.chmod(tmp, DEFAULT_MODE)
        return
    os.chmod(tmp, stat.S_IMODE(old.st_mode))
    if hasattr(os, "chown") and (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
        # Only root may give a file away; an unprivileged writer keeps its own owner.
        with contextlib.suppress(PermissionError):
            os.chown(tmp, old.st_uid, old.st_gid)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
