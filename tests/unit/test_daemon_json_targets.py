"""daemon.json behind a link, dangling links, fifos, devices and folders; bounded backups
and the temporary files a killed writer leaves. Real files, real processes."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ci_guard.atomic import NotARegularFile, atomic_write_text, remove_stale_temps
from ci_guard.docker import daemon_json as dj
from ci_guard.docker.backups import list_backups
from tests.unit.test_daemon_json_apply import FakeDaemon, _apply

MIRROR_A = "http://127.0.0.1:5001"
MIRROR_B = "http://127.0.0.1:5002"


def _linked(tmp_path: Path) -> tuple[Path, Path]:
    """(link in etc/, its target in managed/): as config management lays it out."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "managed").mkdir()
    target = tmp_path / "managed" / "daemon.json"
    target.write_text(json.dumps({"registry-mirrors": [MIRROR_A], "x-keep": 1}))
    link = tmp_path / "etc" / "daemon.json"
    link.symlink_to(os.path.relpath(target, link.parent))
    return link, target


def test_a_linked_daemon_json_is_written_through_and_the_link_kept(tmp_path: Path) -> None:
    link, target = _linked(tmp_path)
    daemon = FakeDaemon(link)
    result = _apply(link, daemon.handle(), [MIRROR_B])
    assert result.ok, result.messages
    assert link.is_symlink()
    assert os.path.realpath(link) == str(target)
    assert json.loads(target.read_text()) == {"registry-mirrors": [MIRROR_B], "x-keep": 1}
    assert result.backup is not None
    assert result.backup.parent == link.parent
    assert json.loads(result.backup.read_text())["registry-mirrors"] == [MIRROR_A]
    assert daemon.mirrors == [MIRROR_B]
    assert [p.name for p in target.parent.iterdir()] == ["daemon.json"]  # no temp left


def test_rollback_through_a_link_keeps_the_link(tmp_path: Path) -> None:
    link, target = _linked(tmp_path)
    daemon = FakeDaemon(link, reload_works=False)
    result = _apply(link, daemon.handle(), [MIRROR_B])
    assert result.rolled_back
    assert link.is_symlink()
    assert json.loads(target.read_text())["registry-mirrors"] == [MIRROR_A]


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _char_device(path: Path) -> None:
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is


def _folder(path: Path) -> None:
    path.mkdir()


def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "gone" / "daemon.json")


def _link_to_fifo(path: Path) -> None:
    _fifo(path.parent / "real-fifo")
    path.symlink_to("real-fifo")


def _link_loop(path: Path) -> None:
    path.symlink_to(path.name)


KINDS = {
    "dangling link": (_dangling, "dangling link"),
    "fifo": (_fifo, "is a fifo, not a regular file"),
    "char device": (_char_device, "is a character device"),
    "folder": (_folder, "is a (folder|directory)"),
    "link to a fifo": (_link_to_fifo, r"\(link to .*fifo"),
    "link loop": (_link_loop, "cannot follow the link"),
}


def _snapshot(path: Path) -> tuple[int, str | None]:
    info = os.lstat(path)
    return info.st_mode, os.readlink(path) if stat.S_ISLNK(info.st_mode) else None


@pytest.mark.parametrize("kind", list(KINDS))
def test_mirrors_apply_refuses_what_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    make, says = KINDS[kind]
    if kind == "char device" and os.geteuid() != 0:
        pytest.skip("mknod of a character device needs root")
    path = tmp_path / "daemon.json"
    make(path)
    before = _snapshot(path)
    listing = sorted(p.name for p in tmp_path.iterdir())
    done = subprocess.run(
        [sys.executable, "-m", "ci_guard", "mirrors", "apply", "--no-probe",
         "--daemon-config", str(path), "--mirror", MIRROR_B],
        env={**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no.sock"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert re.search(says, lines[0]), lines[0]
    assert "Traceback" not in done.stderr
    assert _snapshot(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing


@pytest.mark.parametrize("kind", ["dangling link", "fifo", "folder"])
def test_atomic_write_refuses_them_too(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "out.txt"
    KINDS[kind][0](path)
    before = _snapshot(path)
    with pytest.raises(NotARegularFile):
        atomic_write_text(path, "x")
    assert _snapshot(path) == before


def test_backups_are_bounded_and_the_newest_kept(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    path.write_text(json.dumps({"registry-mirrors": [MIRROR_A]}))
    foreign = [tmp_path / "daemon.json.bak", tmp_path / "daemon.json.20000101T000000Z.bak"]
    for other in foreign:
        other.write_text("{}")
    not_a_file = tmp_path / "daemon.json.19990101T000000Z.ci-guard.bak"
    not_a_file.mkdir()
    daemon = FakeDaemon(path)
    made = []
    for run in range(12):
        result = _apply(
            path, daemon.handle(), [MIRROR_B if run % 2 == 0 else MIRROR_A], keep_backups=3
        )
        assert result.ok
        assert result.backup is not None
        made.append(result.backup)
    kept = list_backups(path)
    assert kept == made[-3:]
    assert all(other.exists() for other in foreign)
    assert not_a_file.is_dir()


def test_backups_in_the_same_second_sort_by_their_counter(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    path = tmp_path / "daemon.json"
    path.write_text("{}")
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    made = [dj.backup(path, now=now, keep=2) for _ in range(4)]
    assert [p.name for p in list_backups(path)] == [m.name for m in made[-2:] if m]
    assert made[-1] is not None
    assert made[-1].name.endswith("Z-3.ci-guard.bak")


_KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from ci_guard import atomic
def die(*_a):
    os.kill(os.getpid(), signal.SIGKILL)  # between the temp file and the rename
atomic.os.replace = die
atomic.atomic_write_text(Path(sys.argv[1]), '{"registry-mirrors": []}\\n')
"""


def test_a_writer_killed_mid_write_leaves_the_file_whole_and_its_temp_is_cleaned(
    tmp_path: Path,
) -> None:
    link, target = _linked(tmp_path)
    original = target.read_text()
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_KILLED_WRITER), str(link)],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL
    assert link.is_symlink()
    assert target.read_text() == original
    orphans = [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]
    assert len(orphans) == 1
    assert ".ci-guard-" in orphans[0].name
    # Young: a writer may still own it.
    assert remove_stale_temps(link) == []
    old = time.time() - 3600
    os.utime(orphans[0], (old, old))
    dj.write(link, {"registry-mirrors": [MIRROR_B]})
    assert not orphans[0].exists()
    assert link.is_symlink()
    assert dj.read_daemon_json(link).data["registry-mirrors"] == [MIRROR_B]


def test_only_own_old_unlocked_temps_are_removed(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    path.write_text("{}")
    names = {
        "own_old": ".daemon.json.ci-guard-abcd1234.tmp",
        "legacy_old": ".daemon.json.k2j4_x9a.tmp",
        "own_young": ".daemon.json.ci-guard-young123.tmp",
        "own_locked": ".daemon.json.ci-guard-locked12.tmp",
        "foreign": ".daemon.json.swp.tmp",
        "other_file": ".other.json.ci-guard-abcd1234.tmp",
    }
    old = time.time() - 3600
    for key, name in names.items():
        (tmp_path / name).write_text("x")
        if key != "own_young":
            os.utime(tmp_path / name, (old, old))
    with open(tmp_path / names["own_locked"]) as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        removed = remove_stale_temps(path)
    assert sorted(p.name for p in removed) == sorted([names["own_old"], names["legacy_old"]])
    for key in ("own_young", "own_locked", "foreign", "other_file"):
        assert (tmp_path / names[key]).exists(), key
    assert (tmp_path / "daemon.json").read_text() == "{}"
