"""GuardedHooks: a CI hook that fails is reported, and the run goes on."""

from __future__ import annotations

import io
from pathlib import Path

from ci_guard.ci import GuardedHooks, make_hooks
from ci_guard.records import STATUS_SUCCEEDED, RunRecord


def test_an_unwritable_step_summary_is_reported_not_raised(tmp_path: Path) -> None:
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "file" / "summary.md")}
    (tmp_path / "file").write_text("")
    errors: list[tuple[str, str]] = []
    hooks = GuardedHooks(
        make_hooks("github", env, io.StringIO()), lambda h, e: errors.append((h, str(e)))
    )
    run = RunRecord(run_id="r", command=("true",), started_at="now", max_attempts=1)
    run.status, run.exit_code = STATUS_SUCCEEDED, 0
    hooks.run_started(run)
    hooks.run_finished(run)
    assert [hook for hook, _ in errors] == ["run_finished"]
    assert "Not a directory" in errors[0][1]
