"""Replace a file atomically: a temporary file in the same folder, fsync, os.replace.

A reader (dockerd reloading on SIGHUP, node_exporter's textfile collector, a CI step
reading outputs, or a crash half-way) sees the old file or the new one, never a
truncated one. The new file keeps the old one's mode and owner unless `mode` is given;
the temporary file is private (0600) from its first byte, so a secret never shows.

A symbolic link is written through (config management often links
/etc/docker/daemon.json): its target is replaced and the link stays. A dangling link,
or a path that is not a regular file (fifo, device, folder, socket), is refused: an
atomic replace would swap it for a regular file nobody expects. A writer killed
between the temporary file and the rename leaves `.NAME.ci-guard-XXXXXXXX.tmp`;
`remove_stale_temps` removes such files once they are old and nobody holds them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import stat
import tempfile
import time
from pathlib import Path

DEFAULT_MODE = 0o644
TEMP_TAG = "ci-guard-"
STALE_TEMP_AGE_S = 600.0
"""A temporary file lives for milliseconds; one this old belongs to a killed writer."""

_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a fifo",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class NotARegularFile(OSError):
    """The path is a dangling link or not a regular file: ci-guard will not replace it."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EINVAL, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def write_target(path: Path) -> Path:
    """The file a write to `path` replaces: `path`, or its link's final target.

    Raises NotARegularFile for a dangling link, a link loop, or something that exists
    and is not a regular file. A path that does not exist (and is no link) is fine.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path
    target = path
    if stat.S_ISLNK(info.st_mode):
        target = Path(os.path.realpath(path))
        try:
            info = os.stat(path)
        except FileNotFoundError:
            raise NotARegularFile(
                f"{path} is a symbolic link to {target}, which does not exist; "
                "refusing to write through a dangling link"
            ) from None
        except OSError as exc:
            raise NotARegularFile(f"{path}: cannot follow the link: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
        named = path if target == path else f"{path} (link to {target})"
        raise NotARegularFile(f"{named} is {kind}, not a regular file; refusing to replace it")
    return target


def atomic_write_text(
    path: Path, text: str, *, mode: int | None = None, make_folder: bool = False
) -> None:
    """Write `text` to `path` atomically; raises OSError (PermissionError...) on failure.

    `mode` forces the file's mode (0o600 for anything holding credentials); by default
    an existing file's mode and owner stay. `make_folder` creates a missing folder;
    otherwise a missing folder is an error, as a mistyped output path should be.
    NotARegularFile (an OSError) when `path` is a dangling link or not a regular file.
    """
    target = write_target(path)
    folder = target.parent
    if make_folder:
        folder.mkdir(parents=True, exist_ok=True)
    old = _stat_or_none(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.{TEMP_TAG}", suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        # Held until closed: a cleaner that can take this lock knows no writer is left.
        fcntl.flock(fd, fcntl.LOCK_EX)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
            if mode is None:
                _copy_mode_owner(tmp, old)
            else:
                os.chmod(tmp, mode)
            os.replace(tmp, target)
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


def temp_pattern(name: str) -> re.Pattern[str]:
    """Names of this module's temporary files for the file `name` (mkstemp's 8 characters).

    The form without the tag is what earlier versions left behind.
    """
    return re.compile(rf"\.{re.escape(name)}\.(?:{re.escape(TEMP_TAG)})?[a-z0-9_]{{8}}\.tmp")


def remove_stale_temps(
    path: Path, *, min_age_s: float = STALE_TEMP_AGE_S, now: float | None = None
) -> list[Path]:
    """Remove temporary files a killed writer of `path` left; the ones removed.

    Only files named as this module names them, regular files, older than `min_age_s`,
    and not locked by a writer. Anything else in the folder is left alone.
    """
    target = write_target(path)
    pattern = temp_pattern(target.name)
    cutoff = (time.time() if now is None else now) - min_age_s
    removed = []
    with contextlib.suppress(OSError):
        for entry in target.parent.iterdir():
            if pattern.fullmatch(entry.name) and _stale(entry, cutoff) and _unlocked(entry):
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
                    removed.append(entry)
    return removed


def _stale(entry: Path, cutoff: float) -> bool:
    try:
        info = os.lstat(entry)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff


def _unlocked(entry: Path) -> bool:
    try:
        fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True
