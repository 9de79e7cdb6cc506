"""What `ci-guard run` prints for people, read from real processes: progress lines on
stderr, the JSON log in the file the summary names, --quiet, --verbose, colour."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

REGISTRY_TIMEOUT = (
    'Get "https://registry-1.docker.io/v2/": net/http: request canceled while waiting for '
    "connection (Client.Timeout exceeded while awaiting headers)"
)
# Fails with a registry timeout until its second attempt; all its output on stdout, so
# ci-guard's stderr holds ci-guard's lines only.
FLAKY = textwrap.dedent(
    f"""
    import os, sys
    if os.environ["CI_GUARD_ATTEMPT"] == "1":
        print({REGISTRY_TIMEOUT!r})
        sys.exit(1)
    print("built")
    """
)
ESCAPE = re.compile(r"\x1b\[")
MAX_LINE = 200


def _argv(tmp_path: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "ci_guard", "run", "--no-preflight", "--max-attempts", "3",
        "--backoff-initial", "0", "--backoff-max", "0", "--ladder", "retry",
        "--artifacts-dir", str(tmp_path / "art"), *args, "--", sys.executable, "-c", FLAKY,
    ]  # fmt: skip


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_GUARD_", "GITHUB_"))}
    for name in ("GITLAB_CI", "JENKINS_URL", "NO_COLOR"):
        env.pop(name, None)
    return {**env, **extra}


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _argv(tmp_path, *args),
        cwd=tmp_path,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def log_named_by(stderr: str) -> Path:
    named = [ln.split("log: ", 1)[1] for ln in stderr.splitlines() if ln.startswith("  log: ")]
    assert len(named) == 1, stderr
    return Path(named[0])


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_default_stderr_is_short_progress_lines_and_the_json_goes_to_the_named_file(
    tmp_path: Path,
) -> None:
    done = run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{REGISTRY_TIMEOUT}\nbuilt\n"
    lines = done.stderr.splitlines()
    assert not [ln for ln in lines if ln.lstrip().startswith("{")]
    assert max(len(ln) for ln in lines) <= MAX_LINE
    progress = [ln for ln in lines if ln.startswith("ci-guard: ") and "warning" not in ln]
    assert len(progress) == 6, lines
    assert progress[0].startswith(f"ci-guard: attempt 1/3 started: {sys.executable} -c ")
    assert re.fullmatch(
        r"ci-guard: attempt 1 failed after \d+\.\ds, exit 1: registry_timeout \(retryable\)",
        progress[1],
    )
    assert progress[2] == "ci-guard: waiting 0.0s before attempt 2 (plain retry)"
    assert progress[3].startswith("ci-guard: attempt 2/3 started: ")
    assert re.fullmatch(r"ci-guard: attempt 2 succeeded in \d+\.\ds", progress[4])
    assert progress[5].startswith("ci-guard: succeeded on attempt 2/3 in ")
    path = log_named_by(done.stderr)
    assert path.parent.parent == tmp_path / "art"
    assert path.name == "ci-guard.jsonl"
    logged = events(path)
    assert [e["event"] for e in logged] == [
        "run.started", "artifacts.in_build_context", "attempt.started", "attempt.finished",
        "retry.scheduled", "attempt.started", "attempt.finished", "run.finished",
    ]  # fmt: skip
    assert {e["run_id"] for e in logged} == {path.parent.name}
    schema = (Path(__file__).parents[2] / "docs" / "log-schema.md").read_text("utf-8")
    assert all(f"| `{e['event']}` |" in schema for e in logged)
    assert logged[3]["evidence"] == [REGISTRY_TIMEOUT]


def test_the_build_context_warning_is_one_line(tmp_path: Path) -> None:
    done = run(tmp_path)
    warnings = [ln for ln in done.stderr.splitlines() if ln.startswith("ci-guard: warning:")]
    assert warnings == [
        "ci-guard: warning: the artifacts folder is inside a Docker build context: add it "
        "to .dockerignore or set --artifacts-dir outside the project"
    ]


def test_quiet_prints_the_summary_only(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("art\n")  # no build-context warning
    done = run(tmp_path, "--quiet")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("ci-guard: succeeded on attempt 2/3 in ")
    heads = [ln.split(":", 1)[0] for ln in lines[1:]]
    # the time-lost line shows only from 0.05 s on: a fast failure and wait may stay below
    assert [h for h in heads if h != "  time lost to retries"] == ["  failures", "  log"]
    assert [e["event"] for e in events(log_named_by(done.stderr))][-1] == "run.finished"


def test_quiet_still_prints_warnings(tmp_path: Path) -> None:
    done = run(tmp_path, "--quiet")
    assert done.stderr.splitlines()[0].startswith("ci-guard: warning: the artifacts folder")
    assert "attempt 1" not in done.stderr.splitlines()[0]
    assert sum(ln.startswith("ci-guard: ") for ln in done.stderr.splitlines()) == 2


def test_verbose_adds_the_evidence_rule_and_attempt_log(tmp_path: Path) -> None:
    plain = run(tmp_path)
    done = run(tmp_path, "--verbose")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) > len(plain.stderr.splitlines())
    run_line = next(ln for ln in lines if ln.startswith("ci-guard: run "))
    assert "up to 3 attempts, ladder retry" in run_line
    failed = next(i for i, ln in enumerate(lines) if "attempt 1 failed" in ln)
    assert lines[failed + 1] == f"ci-guard:   > {REGISTRY_TIMEOUT}"
    assert lines[failed + 2].startswith("ci-guard:   rule: ")
    assert lines[failed + 3].startswith("ci-guard:   output: ")
    assert Path(lines[failed + 3].split("output: ", 1)[1]).name == "attempt-1.log"
    assert max(len(ln) for ln in lines) <= MAX_LINE


def test_quiet_and_verbose_together_are_a_usage_error(tmp_path: Path) -> None:
    done = run(tmp_path, "--quiet", "--verbose")
    assert done.returncode == 2
    assert done.stderr == "ci-guard: error: --quiet and --verbose cannot be used together\n"
    assert not (tmp_path / "art").exists()


def test_log_format_json_puts_the_json_lines_on_stderr_and_still_writes_the_file(
    tmp_path: Path,
) -> None:
    done = run(tmp_path, "--log-format", "json")
    json_lines = [json.loads(ln) for ln in done.stderr.splitlines() if ln.startswith("{")]
    assert not [ln for ln in done.stderr.splitlines() if ln.startswith("ci-guard: attempt")]
    assert json_lines == events(log_named_by(done.stderr))


def test_log_file_dash_puts_the_json_log_on_stderr_and_writes_no_file(tmp_path: Path) -> None:
    done = run(tmp_path, "--log-file", "-")
    assert done.returncode == 0, done.stderr
    json_lines = [json.loads(ln) for ln in done.stderr.splitlines() if ln.startswith("{")]
    assert [e["event"] for e in json_lines][-1] == "run.finished"
    assert "  log: " not in done.stderr
    assert not list((tmp_path / "art").glob("*/*.jsonl"))


def test_an_explicit_log_file_is_the_one_the_summary_names(tmp_path: Path) -> None:
    done = run(tmp_path, "--log-file", str(tmp_path / "logs" / "build.jsonl"))
    assert log_named_by(done.stderr) == tmp_path / "logs" / "build.jsonl"
    assert events(tmp_path / "logs" / "build.jsonl")[0]["event"] == "run.started"


def run_on_terminal(tmp_path: Path, **env: str) -> str:
    """ci-guard with its stderr on a pseudo-terminal: what the terminal showed."""
    leader, follower = pty.openpty()
    with subprocess.Popen(
        _argv(tmp_path),
        cwd=tmp_path,
        env=_env(**env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    ) as proc:
        os.close(follower)
        shown = b""
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                proc.kill()
                break
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the process closed its end
                break
            if not chunk:
                break
            shown += chunk
        assert proc.wait(timeout=60) == 0
    os.close(leader)
    return shown.decode("utf-8", "replace").replace("\r\n", "\n")


def test_a_terminal_gets_colour(tmp_path: Path) -> None:
    shown = run_on_terminal(tmp_path, TERM="xterm")
    assert "\x1b[32mci-guard: attempt 2 succeeded" in shown
    assert "\x1b[31mci-guard: attempt 1 failed" in shown
    assert "{" not in shown


def test_no_color_and_term_dumb_get_no_escape_codes(tmp_path: Path) -> None:
    for env in ({"NO_COLOR": "1", "TERM": "xterm"}, {"TERM": "dumb"}):
        shown = run_on_terminal(tmp_path, **env)
        assert "ci-guard: attempt 2 succeeded" in shown, env
        assert not ESCAPE.search(shown), (env, shown)


def test_no_color_empty_is_not_set(tmp_path: Path) -> None:
    shown = run_on_terminal(tmp_path, NO_COLOR="", TERM="xterm")
    assert ESCAPE.search(shown)


def test_json_on_stderr_cannot_share_it_with_console_lines(tmp_path: Path) -> None:
    done = run(tmp_path, "--log-file", "-", "--log-format", "console")
    assert done.returncode == 2
    assert done.stderr.startswith("ci-guard: error: --log-file - puts the JSON log on stderr")
    assert done.stdout == ""


def test_a_log_file_that_cannot_be_opened_is_one_warning_and_no_log_line(tmp_path: Path) -> None:
    (tmp_path / "art").write_text("a file where the artifacts folder would be")
    done = run(tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"ci-guard: warning: log file {tmp_path / 'art'}/")
    assert lines[0].endswith(": cannot open: Not a directory; no JSON log is kept")
    assert "  log: " not in done.stderr
    assert "ci-guard: attempt 2 succeeded in " in done.stderr
