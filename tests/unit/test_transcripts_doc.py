"""docs/transcripts.md is what its renderer makes of the record the real runs saved.

The runs themselves need root and a sandboxed dockerd (`python -m tests.testbed.transcripts`);
this checks that nobody edited the page by hand or changed the renderer without
regenerating it, and that the record still tells the story the page claims.
"""

from __future__ import annotations

from tests.testbed.transcripts_render import DOC, load_record, render


def test_the_page_is_the_rendering_of_the_record() -> None:
    assert DOC.read_text(encoding="utf-8") == render(load_record()), (
        "docs/transcripts.md is out of date: rerun `python -m tests.testbed.transcripts`"
    )


def test_the_record_holds_a_recovery_in_both_modes_and_a_failure_for_good() -> None:
    runs = {run["name"]: run for run in load_record()["runs"]}
    assert [runs[n]["exit_code"] for n in ("github", "gitlab", "github-typo")] == [0, 0, 1]
    for name in ("github", "gitlab"):
        stderr = runs[name]["stderr"]
        assert "ci-guard: attempt 1 failed" in stderr
        assert "ci-guard: succeeded on attempt 2/3" in stderr
    assert "::group::ci-guard attempt 1/3" in runs["github"]["stdout"]
    assert "section_start:" in runs["gitlab"]["stdout"]
    assert "exit 1: image_not_found (not retryable)" in runs["github-typo"]["stderr"]
    summary = next(f for f in runs["github"]["files"] if f["label"] == "$GITHUB_STEP_SUMMARY")
    assert "**Changed on the host:**" in summary["text"]
    labels = {item["label"] for item in runs["gitlab"]["files"]}
    assert {"dotenv report", "JUnit report"} <= labels
