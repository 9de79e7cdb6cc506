"""`ci-guard run` end to end, as a user runs it: real processes, real signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

REGISTRY_TIMEOUT = (
    'Get "https://registry-1.docker.io/v2/": net/http: request canceled while waiting for '
    "connection (Client.Timeout exceeded while awaiting headers)"
)


def ci_guard(*args: str) -> list[str]:
    return [sys.executable, "-m", "ci_guard", *args]


def run(
    tmp_path: Path, *run_args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    log = tmp_path / "run.jsonl"
    argv = ci_guard(
        "run",
        "--no-preflight",
        "--backoff-initial",
        "0",
        "--backoff-max",
        "0",
        "--artifacts-dir",
        str(tmp_path / "art"),
        "--log-file",
        str(log),
        *run_args,
    )
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        check=False,
    )
    events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return done, events


def of(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == name]


def py(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


@pytest.mark.parametrize("code", [0, 1, 3, 42])
def test_exit_codes_pass_through(tmp_path: Path, code: int) -> None:
    done, events = run(tmp_path, "--max-attempts", "1", "--", *py(f"raise SystemExit({code})"))
    assert done.returncode == code
    assert of(events, "run.finished")[0]["exit_code"] == code


def test_output_passes_through_unchanged(tmp_path: Path) -> None:
    code = "import sys; sys.stdout.write('a\\r50%\\r100%\\nno newline'); sys.stderr.write('err\\n')"
    argv = ci_guard(
        "run", "--no-preflight", "--artifacts-dir", str(tmp_path / "art"), "--", *py(code)
    )
    done = subprocess.run(argv, capture_output=True, cwd=tmp_path, check=False)
    assert done.returncode == 0
    assert done.stdout == b"a\r50%\r100%\nno newline"
    assert b"err\n" in done.stderr.splitlines(keepends=True)
    logs = list((tmp_path / "art").glob("*/attempt-1.log"))
    assert len(logs) == 1
    assert b"a\r50%\r100%\nno newline" in logs[0].read_bytes()


@pytest.mark.parametrize(
    ("argv", "code"),
    [(["/nonexistent/docker-compse", "build"], 127), (["/etc"], 126)],
)
def test_not_found_and_not_executable(tmp_path: Path, argv: list[str], code: int) -> None:
    done, events = run(tmp_path, "--", *argv)
    assert done.returncode == code
    assert len(of(events, "attempt.started")) == 1
    assert "ci-guard:" in done.stderr
    assert "Traceback" not in done.stderr


def test_permanent_failure_makes_exactly_one_attempt(tmp_path: Path) -> None:
    code = """
        import sys
        print("Step 1/3 : FROM busybox:nope")
        print("manifest for busybox:nope not found: manifest unknown: manifest unknown",
              file=sys.stderr)
        sys.exit(1)
    """
    done, events = run(tmp_path, "--", *py(code))
    assert done.returncode == 1
    finished = of(events, "attempt.finished")
    assert len(finished) == 1
    assert finished[0]["failure_class"] == "image_not_found"
    assert finished[0]["retryable"] is False
    assert of(events, "retry.scheduled") == []


def test_transient_failure_uses_every_attempt(tmp_path: Path) -> None:
    code = f"""
        import os, sys
        print("attempt", os.environ["CI_GUARD_ATTEMPT"], "of", os.environ["CI_GUARD_MAX_ATTEMPTS"])
        print({REGISTRY_TIMEOUT!r}, file=sys.stderr)
        sys.exit(1)
    """
    done, events = run(tmp_path, "--max-attempts", "4", "--ladder", "retry", "--", *py(code))
    assert done.returncode == 1
    finished = of(events, "attempt.finished")
    assert [e["failure_class"] for e in finished] == ["registry_timeout"] * 4
    assert [e["attempt"] for e in finished] == [1, 2, 3, 4]
    assert done.stdout.splitlines() == [f"attempt {n} of 4" for n in range(1, 5)]
    assert "registry_timeout x4" in done.stderr


def test_transient_then_success(tmp_path: Path) -> None:
    marker = tmp_path / "failed-once"
    code = f"""
        import pathlib, sys
        m = pathlib.Path({str(marker)!r})
        if not m.exists():
            m.touch()
            print({REGISTRY_TIMEOUT!r}, file=sys.stderr)
            sys.exit(1)
        print("built")
    """
    done, events = run(tmp_path, "--", *py(code))
    assert done.returncode == 0
    assert of(events, "run.finished")[0]["status"] == "succeeded"
    assert len(of(events, "attempt.finished")) == 2


def test_tempfail_exit_code(tmp_path: Path) -> None:
    code = f"import sys; print({REGISTRY_TIMEOUT!r}); sys.exit(1)"
    done, _ = run(tmp_path, "--max-attempts", "2", "--tempfail-exit-code", "75", "--", *py(code))
    assert done.returncode == 75


GRANDCHILD_IGNORES_TERM = """
    import os, signal, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c",
        "import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "os.setsid(); open({pidfile!r}, 'w').write(str(os.getpid())); time.sleep(600)"])
    print("started", flush=True)
    time.sleep(600)
"""


def _gone(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return True
    return proc.status() == psutil.STATUS_ZOMBIE


def test_deadline_ends_the_whole_tree(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    code = GRANDCHILD_IGNORES_TERM.format(pidfile=str(pidfile))
    done, events = run(
        tmp_path,
        "--timeout",
        "2",
        "--kill-grace",
        "1",
        "--max-attempts",
        "1",
        "--",
        *py(code),
    )
    assert done.returncode == 124
    finished = of(events, "attempt.finished")[0]
    assert finished["timed_out"] is True
    assert finished["failure_class"] == "timeout"
    assert of(events, "run.finished")[0]["status"] == "timed_out"
    assert _gone(int(pidfile.read_text()))


def test_sigterm_to_ci_guard_ends_tree_and_exits_143(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    log = tmp_path / "run.jsonl"
    code = GRANDCHILD_IGNORES_TERM.format(pidfile=str(pidfile))
    argv = ci_guard(
        "run",
        "--no-preflight",
        "--kill-grace",
        "1",
        "--artifacts-dir",
        str(tmp_path / "art"),
        "--log-file",
        str(log),
        "--",
        *py(code),
    )
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    for _ in range(100):
        if pidfile.exists() and pidfile.read_text():
            break
        time.sleep(0.05)
    grandchild = int(pidfile.read_text())
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events[-1]["event"] == "run.finished"
    assert events[-1]["status"] == "cancelled"
    assert events[-1]["exit_code"] == 143
    assert _gone(grandchild)
    assert "Traceback" not in err
    # The stopped attempt neither failed nor succeeded, and says so.
    (finished,) = [e for e in events if e["event"] == "attempt.finished"]
    assert finished["cancelled"] is True
    assert finished["failure_class"] is None
    assert "ci-guard: attempt 1 stopped after " in err
    assert "succeeded" not in err


def test_bad_usage_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for args in (
        ["--timeout", "soon", "--", "true"],
        ["--ladder", "retry,reboot", "--", "true"],
        [],
    ):
        done = subprocess.run(
            ci_guard("run", *args), capture_output=True, text=True, cwd=tmp_path, check=False
        )
        assert done.returncode == 2, args
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith("ci-guard: error:")


def test_secrets_never_reach_the_log(tmp_path: Path) -> None:
    secret = "ghp_" + "Z9" * 18
    done, events = run(
        tmp_path,
        "--max-attempts",
        "1",
        "--",
        *py("import sys; sys.exit(0)"),
        "--build-arg",
        f"GITHUB_TOKEN={secret}",
        env={"MY_API_TOKEN": "very-secret-value"},
    )
    assert done.returncode == 0
    text = (tmp_path / "run.jsonl").read_text()
    assert secret not in text
    assert secret not in done.stderr
    assert of(events, "run.started")[0]["command"][-1] == "GITHUB_TOKEN=***"


def test_secrets_in_evidence_reach_no_report(tmp_path: Path) -> None:
    """The child's own output passes unchanged; everything ci-guard writes is masked."""
    line = "Get https://bob:hunter2@registry.example/v2/: connection reset by peer tok-4f9a2b7c"
    outputs = {"GITHUB_OUTPUT": tmp_path / "out", "GITHUB_STEP_SUMMARY": tmp_path / "sum"}
    done, events = run(
        tmp_path,
        "--ci",
        "github",
        "--max-attempts",
        "1",
        "--junit",
        str(tmp_path / "j.xml"),
        "--",
        *py(f"import sys; print({line!r}); sys.exit(1)"),
        env={"DEPLOY_TOKEN": "tok-4f9a2b7c", **{k: str(v) for k, v in outputs.items()}},
    )
    assert of(events, "attempt.finished")[0]["failure_class"] == "connection_failure"
    assert done.stdout.splitlines()[2] == line  # the build's own line, unchanged
    ours = [
        "\n".join(done.stdout.splitlines()[3:]),  # the ::error:: annotation and markers
        done.stderr,
        (tmp_path / "sum").read_text(),
        (tmp_path / "j.xml").read_text(),
        (tmp_path / "run.jsonl").read_text(),
    ]
    for text in ours:
        assert "hunter2" not in text
        assert "tok-4f9a2b7c" not in text
    assert "bob:***@registry.example" in (tmp_path / "j.xml").read_text()


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--timout", "5"], "Did you mean"),
        (["-x"], "No such option '-x'"),
        (["--preflight", "yes"], "--preflight is a switch and takes no value (got 'yes')"),
        (["--no-dry-run", "true"], "--no-dry-run is a switch and takes no value"),
    ],
)
def test_a_mistyped_option_before_the_command_is_exit_2_and_starts_nothing(
    tmp_path: Path, options: list[str], says: str
) -> None:
    # The command would leave a marker file if it ever started.
    marker = tmp_path / "started"
    done, events = run(tmp_path, *options, "--", *py(f"open({str(marker)!r}, 'w')"))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("ci-guard: error: ")
    assert says in lines[0]
    assert "Traceback" not in done.stderr
    assert events == []
    assert not marker.exists()
    assert not (tmp_path / ".ci-guard").exists()  # no attempt log either


def test_the_command_starts_at_the_first_non_option_word(tmp_path: Path) -> None:
    # Without `--`, options of the command itself (-c, --flag) stay the command's.
    done, events = run(tmp_path, sys.executable, "-c", "import sys; print(sys.argv[1:])", "--x")
    assert done.returncode == 0, done.stderr
    assert "['--x']" in done.stdout
    assert of(events, "run.started")[0]["command"][-1] == "--x"


def test_artifacts_inside_the_build_context_warn_once_unless_dockerignored(
    tmp_path: Path,
) -> None:
    done, events = run(tmp_path, "--max-attempts", "1", "--", *py("pass"))
    warnings = of(events, "artifacts.in_build_context")
    assert done.returncode == 0
    assert len(warnings) == 1
    assert warnings[0]["context"] == str(tmp_path)
    (tmp_path / ".dockerignore").write_text("art/\n")
    (tmp_path / "run.jsonl").unlink()
    _, events = run(tmp_path, "--max-attempts", "1", "--", *py("pass"))
    assert of(events, "artifacts.in_build_context") == []


def test_attempt_logs_are_masked_unless_raw_logs(tmp_path: Path) -> None:
    token = "ghp_" + "Q" * 36
    done, events = run(tmp_path, "--max-attempts", "1", "--", *py(f"print('{token}')"))
    assert token in done.stdout  # the child's own output passes unchanged
    path = Path(of(events, "attempt.finished")[0]["log_path"])
    assert path.read_text() == "***\n"
    (tmp_path / "run.jsonl").unlink()
    _, events = run(tmp_path, "--raw-logs", "--max-attempts", "1", "--", *py(f"print('{token}')"))
    path = Path(of(events, "attempt.finished")[0]["log_path"])
    assert path.read_text() == token + "\n"
