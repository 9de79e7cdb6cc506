"""The CLI modules run in this process (click's CliRunner): run, config, doctor, mirrors.

The integration tests run the same commands as child processes; here the code is
measured in-process too, and the outputs the run writes (summary, JUnit, metrics file,
log) are read back. Every address is on loopback.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ci_guard.cli.main import cli, main
from tests.testbed.procs import free_port

FAST = ["--no-preflight", "--backoff-initial", "0", "--backoff-max", "0", "--log-format", "json"]
FLAKY = (
    "import pathlib, sys\n"
    "mark = pathlib.Path('tried')\n"
    "if not mark.exists():\n"
    "    mark.write_text('1')\n"
    "    print(\"E: Temporary failure resolving 'deb.debian.org'\")\n"
    "    sys.exit(100)\n"
    "print('built')\n"
)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "CI_GUARD_DOTENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-daemon.sock'}")
    return CliRunner()


def invoke(runner: CliRunner, *args: str, **env: str) -> Result:
    return runner.invoke(cli, list(args), env=env or None, catch_exceptions=False)


def _events(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text("utf-8").splitlines()]


# -- ci-guard run ----------------------------------------------------------------------


def test_run_retries_then_succeeds_and_writes_every_output(
    runner: CliRunner, tmp_path: Path
) -> None:
    log, junit, metrics = tmp_path / "run.jsonl", tmp_path / "junit.xml", tmp_path / "m.prom"
    result = invoke(
        runner, "run", *FAST, "--log-file", str(log), "--junit", str(junit),
        "--metrics-file", str(metrics), "--", sys.executable, "-c", FLAKY,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ci-guard: succeeded on attempt 2/5" in result.stderr
    assert "failures: dns_failure x1\n" in result.stderr
    (finished,) = [e for e in _events(log) if e["event"] == "run.finished"]
    assert (finished["attempts"], finished["stop_reason"]) == (2, "succeeded")
    (attempt_1, _) = [e for e in _events(log) if e["event"] == "attempt.finished"]
    assert finished["lost_attempts_s"] == attempt_1["duration_s"]  # followed by attempt 2
    cases = ET.parse(junit).getroot().iter("testcase")
    assert [c.find("failure") is not None for c in cases] == [True, False]
    assert "ci_guard_run_attempts 2.0" in metrics.read_text("utf-8")


def test_report_over_the_artifacts_folder_reads_the_json_logs_only(
    runner: CliRunner, tmp_path: Path
) -> None:
    artifacts = tmp_path / "artifacts"
    run = ["run", *FAST, "--artifacts-dir", str(artifacts), "--", sys.executable, "-c", FLAKY]
    assert invoke(runner, *run).exit_code == 0
    assert invoke(runner, *run).exit_code == 0  # the mark is left: first try
    attempt_logs = sorted(p.name for p in artifacts.rglob("attempt-*.log"))
    assert attempt_logs == ["attempt-1.log", "attempt-1.log", "attempt-2.log"]
    result = invoke(runner, "report", "--json", str(artifacts))
    assert result.exit_code == 0
    assert result.stderr == ""  # no "skipped N lines: not JSON" for the build's output
    report = json.loads(result.stdout)
    assert (report["runs"], report["input"]["files"]) == (2, 2)
    assert report["input"].get("skipped_total", 0) == 0
    # Named or globbed, an attempt log is read like any file (and skipped line by line).
    named = invoke(runner, "report", "--json", *map(str, artifacts.rglob("attempt-1.log")))
    assert json.loads(named.stdout)["input"]["files"] == 2


def test_run_permanent_failure_says_why_it_stopped(runner: CliRunner, tmp_path: Path) -> None:
    code = (
        "print('ERROR: manifest for busybox:nope not found: manifest unknown'); raise SystemExit(3)"
    )
    result = invoke(runner, "run", *FAST, "--", sys.executable, "-c", code)
    assert result.exit_code == 3
    assert "ci-guard: failed after 1 attempt, exit 3" in result.stderr
    assert "stopped: image_not_found is not retryable: a retry cannot fix it" in result.stderr


def test_run_timeout_not_retried_is_not_called_exhaustion(runner: CliRunner) -> None:
    result = invoke(
        runner, "run", *FAST, "--timeout", "0.5", "--kill-grace", "0.5", "--no-retry-on-timeout",
        "--tempfail-exit-code", "75", "--", sys.executable, "-c", "import time; time.sleep(30)",
    )  # fmt: skip
    assert result.exit_code == 124
    assert "stopped: the attempt hit its deadline and --no-retry-on-timeout is set" in result.stderr
    assert "exhausted" not in result.stderr


def test_run_output_failure_is_logged_and_keeps_the_exit_code(
    runner: CliRunner, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    log = tmp_path / "run.jsonl"
    result = invoke(
        runner, "run", *FAST, "--log-file", str(log), "--junit", str(blocker / "junit.xml"),
        "--", sys.executable, "-c", "pass",
    )  # fmt: skip
    assert result.exit_code == 0
    (failed,) = [e for e in _events(log) if e["event"] == "output.failed"]
    assert failed["output"] == "junit"


def test_run_without_a_command_is_a_usage_error(
    runner: CliRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["run", "--no-preflight"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.startswith("ci-guard: error: run: no command given")


# -- ci-guard config ---------------------------------------------------------------------


def test_config_shows_each_value_and_its_source(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "ci-guard.toml").write_text('max-attempts = 3\nladder = ["retry"]\n')
    result = invoke(runner, "config", "--json", "--kill-grace", "4", CI_GUARD_TIMEOUT="30")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = {row["name"]: row for row in doc["settings"]}
    assert Path(doc["file"]).name == "ci-guard.toml"
    assert (rows["timeout"]["value"], rows["timeout"]["source"]) == (30.0, "env")
    assert rows["max-attempts"]["value"] == 3
    assert rows["max-attempts"]["source"].startswith("file:")
    assert (rows["kill-grace"]["value"], rows["kill-grace"]["source"]) == (4.0, "flag")
    assert (rows["ladder"]["value"], rows["mirrors"]["value"]) == (["retry"], [])
    assert rows["backoff-max"]["source"] == "default"
    assert rows["timeout"]["env"] == "CI_GUARD_TIMEOUT"


def test_config_table(runner: CliRunner) -> None:
    result = invoke(runner, "config", "--no-output-timeout", "none")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "config file: (none found)"
    assert any(line.split()[:3] == ["no-output-timeout", "(unset)", "flag"] for line in lines)
    assert any(line.split()[:3] == ["mirrors", "(empty)", "default"] for line in lines)
    assert any(line.split()[:3] == ["preflight", "true", "default"] for line in lines)


def test_config_bad_value_is_one_line_and_exit_2(
    runner: CliRunner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI_GUARD_TIMEOUT", "soon")
    with pytest.raises(SystemExit) as stopped:
        main(["config"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "ci-guard: error: CI_GUARD_TIMEOUT=soon: not a duration (examples: 90, 90s, 40m, 1h30m)\n"
    )


# -- ci-guard doctor / mirrors -------------------------------------------------------------


def test_doctor_reports_a_closed_registry_and_no_daemon(runner: CliRunner, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    args = ["doctor", "--registry", closed, "--probe-timeout", "1s", "--daemon-config",
            str(tmp_path / "daemon.json")]  # fmt: skip
    result = invoke(runner, *args)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "unhealthy"
    port = closed.rsplit(":", 1)[1]
    assert f"FAIL    tcp:127.0.0.1:{port}" in result.stdout.splitlines()[1]
    report = json.loads(invoke(runner, *args, "--json").stdout)
    names = {check["name"]: check for check in report["checks"]}
    assert report["healthy"] is False
    assert names["daemon"]["ok"] is False


def test_mirrors_probe_ranks_a_refused_mirror_dead(runner: CliRunner) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    result = invoke(
        runner, "mirrors", "probe", "--mirror", closed, "--probe-timeout", "1", "--json"
    )
    assert result.exit_code == 1
    (ranked,) = json.loads(result.stdout)["mirrors"]
    assert (ranked["url"], ranked["verdict"], ranked["rank"]) == (closed, "dead", 1)


def test_mirrors_probe_takes_the_candidates_from_the_named_daemon_json(
    runner: CliRunner, tmp_path: Path
) -> None:
    daemon_json = tmp_path / "daemon.json"
    closed = f"http://127.0.0.1:{free_port()}"
    daemon_json.write_text(json.dumps({"registry-mirrors": [closed]}))
    args = ["mirrors", "probe", "--daemon-config", str(daemon_json), "--probe-timeout", "1"]
    result = invoke(runner, *args)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"mirrors from daemon.json {daemon_json}")
    listed = json.loads(invoke(runner, *args, "--json").stdout)
    assert [m["url"] for m in listed["mirrors"]] == [closed]


def test_mirrors_apply_dry_run_shows_the_change_and_writes_nothing(
    runner: CliRunner, tmp_path: Path
) -> None:
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text('{"debug": true}')
    mirror = f"http://127.0.0.1:{free_port()}"
    result = invoke(
        runner, "mirrors", "apply", "--mirror", mirror, "--no-probe", "--dry-run",
        "--daemon-config", str(daemon_json),
    )  # fmt: skip
    assert f"{daemon_json}: registry-mirrors (dry run)" in result.stdout
    assert f"+ {mirror}" in result.stdout
    assert daemon_json.read_text() == '{"debug": true}'
