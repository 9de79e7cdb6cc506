"""atomic_write_text never swaps a device, FIFO or folder for a regular file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ci_guard.atomic import atomic_write_text


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_a_device_is_refused_and_left_in_place(tmp_path: Path) -> None:
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    with pytest.raises(OSError, match="not a regular file"):
        atomic_write_text(full, "x")
    assert stat.S_ISCHR(full.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]  # no temporary left


def test_fifo_and_folder_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "dir").mkdir()
    for target in (fifo, tmp_path / "dir"):
        with pytest.raises(OSError, match="not a regular file"):
            atomic_write_text(target, "x")
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_regular_file_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
