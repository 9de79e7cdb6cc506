"""GitLab CI output: collapsible sections per attempt and the dotenv report."""

from __future__ import annotations

import io
import re
from pathlib import Path

from ci_guard.ci.dotenv import DotenvHooks, dotenv_path, render_dotenv
from ci_guard.ci.gitlab import GitLabHooks, section_name
from tests.ci_records import NOT_FOUND_FAILURE, TIMEOUT_FAILURE, attempt, finish, new_run, retry

# GitLab's job-log markers: ESC[0K then section_start|end:<unix ts>:<name>[options]\r ESC[0K
SECTION = re.compile(
    r"\x1b\[0Ksection_(start|end):(\d+):([A-Za-z0-9_.-]+)(\[collapsed=true\])?\r\x1b\[0K(.*)"
)
DOTENV_LINE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=[^\r\n]*")


def _drive(
    tmp_path: Path, child_output: str, extra_env: dict[str, str] | None = None
) -> tuple[str, Path]:
    out = io.StringIO()
    env = {"CI_GUARD_DOTENV": str(tmp_path / "sub" / "ci-guard.env"), **(extra_env or {})}
    clock = iter([1700000000.0, 1700000003.9, 1700000010.0, 1700000012.0])
    hooks = GitLabHooks(env, out, clock=lambda: next(clock))
    run = new_run(log_file=Path("logs/run.jsonl"))
    hooks.run_started(run)
    hooks.attempt_started(run, 1)
    out.write(child_output)
    run.attempts.append(attempt(1, TIMEOUT_FAILURE))
    hooks.attempt_finished(run, run.attempts[-1])
    run.retries.append(retry(1, delay=7.5))
    hooks.retry_scheduled(run, run.retries[-1])
    hooks.attempt_started(run, 2)
    out.write("ok\n")
    run.attempts.append(attempt(2, NOT_FOUND_FAILURE))
    hooks.attempt_finished(run, run.attempts[-1])
    hooks.run_finished(finish(run))
    return out.getvalue(), Path(env["CI_GUARD_DOTENV"])


def test_each_attempt_is_a_collapsed_section(tmp_path: Path) -> None:
    log, _ = _drive(tmp_path, "pulling\nno newline at the end")
    markers = [SECTION.fullmatch(line) for line in log.split("\n") if "section_" in line]
    assert all(markers)
    found = [(m.group(1), m.group(2), m.group(3), m.group(5)) for m in markers if m]
    name1 = "ci_guard_20250101T000000Z-abc123_attempt_1"
    assert found[0] == ("start", "1700000000", name1, "ci-guard attempt 1/3: docker compose build")
    assert found[1] == ("end", "1700000003", name1, "")
    assert found[2][0:3] == ("start", "1700000010", name1.replace("_1", "_2"))
    assert found[3][0] == "end"
    assert markers[0]
    assert markers[0].group(4) == "[collapsed=true]"
    # The section end starts its own line even when the child's output did not end one.
    assert "no newline at the end\n\x1b[0Ksection_end" in log


def test_retry_and_final_failure_are_reported(tmp_path: Path) -> None:
    log, _ = _drive(tmp_path, "x\n")
    assert "attempt 1/3 failed with registry_timeout; retrying in 7.5s (remedy: retry)" in log
    assert "image_not_found (exit 1) after 2 attempts; stopped: image_not_found is not" in log
    assert "manifest for busybox:nope not found" in log


def test_no_color_drops_the_colour_but_keeps_the_section_markers(tmp_path: Path) -> None:
    coloured, _ = _drive(tmp_path, "x\n")
    plain, _ = _drive(tmp_path, "x\n", {"NO_COLOR": "1"})
    assert "\x1b[33;1m" in coloured
    assert "\x1b[31;1m" in coloured
    assert "\x1b[3" not in plain
    assert "\x1b[0m" not in plain
    assert plain.count("section_start:") == coloured.count("section_start:") == 2
    assert "\nci-guard: attempt 1/3 failed with registry_timeout; retrying in 7.5s" in plain


def test_dotenv_report_has_the_five_keys(tmp_path: Path) -> None:
    _, dotenv = _drive(tmp_path, "x\n")
    lines = dotenv.read_text("utf-8").splitlines()
    assert all(DOTENV_LINE.fullmatch(line) for line in lines)
    assert dict(line.split("=", 1) for line in lines) == {
        "CI_GUARD_ATTEMPTS": "2",
        "CI_GUARD_EXIT_CODE": "1",
        "CI_GUARD_FAILURE_CLASS": "image_not_found",
        "CI_GUARD_STOP_REASON": "not_retryable",
        "CI_GUARD_LOG_FILE": "logs/run.jsonl",
    }


def test_dotenv_values_stay_on_one_line() -> None:
    run = finish(new_run(attempts=[attempt(1, None)], log_file=Path("a\nB=evil\r")))
    text = render_dotenv(run)
    assert text.count("\n") == 5
    assert "CI_GUARD_LOG_FILE=a B=evil\n" in text
    assert "CI_GUARD_FAILURE_CLASS=\n" in text


def test_dotenv_path_env_beats_artifacts_dir(tmp_path: Path) -> None:
    assert dotenv_path({"CI_GUARD_DOTENV": "x/y.env"}, tmp_path) == Path("x/y.env")
    assert dotenv_path({}, tmp_path) == tmp_path / "ci-guard.env"
    assert dotenv_path({"CI_GUARD_ARTIFACTS_DIR": "art"}) == Path("art/ci-guard.env")
    assert dotenv_path({}) == Path(".ci-guard/ci-guard.env")


def test_dotenv_hooks_write_into_the_artifacts_dir(tmp_path: Path) -> None:
    hooks = DotenvHooks({}, tmp_path / "art")
    hooks.run_finished(finish(new_run(attempts=[attempt(1, None)])))
    assert (
        (tmp_path / "art" / "ci-guard.env")
        .read_text("utf-8")
        .startswith("CI_GUARD_ATTEMPTS=1\nCI_GUARD_EXIT_CODE=0\n")
    )


def test_section_names_are_sanitised() -> None:
    run = new_run(run_id="a b:c/d")
    assert section_name(run, 3) == "ci_guard_a_b_c_d_attempt_3"
