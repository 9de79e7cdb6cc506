"""A tiny file system (loop-mounted ext4 image or size-capped tmpfs) for disk-full tests.

Used as a dockerd data root, it fills after a few tens of MiB, so "no space left on
device" is a real error from a real daemon, not a string in a fixture.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.testbed.procs import TestbedError, mounts_at, unmount

DEFAULT_SIZE_MIB = 80


@dataclass
class TinyFs:
    path: Path
    size_mib: int
    kind: str
    image: Path | None = None

    def mounted(self) -> bool:
        return bool(mounts_at(self.path))

    def unmount(self) -> None:
        # The data root may still carry mounts stacked by dockerd: take them all down.
        while self.mounted():
            done = subprocess.run(["umount", str(self.path)], capture_output=True, check=False)
            if done.returncode != 0 and not unmount(self.path):
                break
        if self.image is not None:
            self.image.unlink(missing_ok=True)


def mount_tiny_fs(root: Path, size_mib: int = DEFAULT_SIZE_MIB, kind: str = "ext4") -> TinyFs:
    """Mount a size_mib file system at root/tinyfs; kind is "ext4" (loop image) or "tmpfs"."""
    path = root / "tinyfs"
    path.mkdir(parents=True, exist_ok=True)
    if kind == "tmpfs":
        argv = ["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0711", "tmpfs", str(path)]
        image = None
    elif kind == "ext4":
        image = root / "tinyfs.img"
        with open(image, "wb") as handle:
            handle.truncate(size_mib * 1024 * 1024)
        _run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)])
        argv = ["mount", "-o", "loop", str(image), str(path)]
    else:
        raise TestbedError(f"unknown tiny file system kind {kind!r} (ext4 or tmpfs)")
    _run(argv)
    return TinyFs(path, size_mib, kind, image)


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise TestbedError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
