"""`ci-guard report FOLDER` on a folder that changes while it is read (a shared temp
folder, a job still writing): what vanishes is passed over and counted, never a crash."""

from __future__ import annotations

import shutil
from pathlib import Path

from ci_guard.report.inputs import SKIP_VANISHED, _logs_under, read_lines
from ci_guard.report.render_text import SKIP_WORDS


def test_a_subfolder_removed_mid_walk_is_passed_over(tmp_path: Path) -> None:
    (tmp_path / "top.jsonl").write_text("{}\n")
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "run.jsonl").write_text("{}\n")
    walk = _logs_under(tmp_path)
    assert next(walk) == tmp_path / "top.jsonl"  # the top folder is listed first
    shutil.rmtree(tmp_path / "job")
    assert list(walk) == []


def test_a_file_gone_before_it_is_read_is_counted_not_fatal(tmp_path: Path) -> None:
    skipped: dict[str, int] = {}
    assert list(read_lines(tmp_path / "gone.jsonl", skipped)) == []
    assert skipped == {SKIP_VANISHED: 1}
    assert SKIP_VANISHED in SKIP_WORDS
