"""One vocabulary across commands: renamed flags, their deprecated aliases, --mirror.

Each renamed flag: the new name reaches the code, the old one still does and warns once
on stderr, and a bad value is one line and exit 2. The probing itself is replaced by a
recorder where a real probe would need a registry; the flag parsing and settings
resolution are the real ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ci_guard.cli.main import cli
from ci_guard.doctor.result import DoctorReport
from tests.testbed.procs import free_port

WARNING = "ci-guard: warning: {old} is deprecated here and goes in a later release; use {new}\n"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in list(os.environ):
        if name.startswith("CI_GUARD_"):
            monkeypatch.delenv(name)
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-daemon.sock'}")
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def doctor_timeouts(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    seen: list[float] = []

    def fake(setup: Any) -> DoctorReport:
        seen.append(setup.timeout)
        return DoctorReport(checks=())

    monkeypatch.setattr("ci_guard.doctor.preflight.run_doctor", fake)
    return seen


@pytest.fixture
def probe_timeouts(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    seen: list[float] = []

    def fake(candidates: Any, *, timeout: float, **_: Any) -> list[Any]:
        seen.append(timeout)
        return []

    monkeypatch.setattr("ci_guard.mirrors.rank.rank_mirrors", fake)
    return seen


# -- doctor and mirrors: --probe-timeout, formerly --timeout --------------------------------


@pytest.mark.parametrize(
    ("args", "seconds", "warned"),
    [
        ([], 5.0, False),
        (["--probe-timeout", "1500ms"], 1.5, False),
        (["--probe-timeout", "2"], 2.0, False),
        (["--timeout", "3"], 3.0, True),
        (["--timeout", "1m"], 60.0, True),
        (["--timeout", "9", "--probe-timeout", "4s"], 4.0, True),
    ],
)
def test_doctor_probe_timeout_and_its_old_name(
    runner: CliRunner, doctor_timeouts: list[float], args: list[str], seconds: float, warned: bool
) -> None:
    result = invoke(runner, "doctor", "--json", *args)
    assert result.exit_code == 0
    assert doctor_timeouts == [seconds]
    expected = WARNING.format(old="--timeout", new="--probe-timeout") if warned else ""
    assert result.stderr == expected


def test_doctor_probe_timeout_from_the_environment(
    runner: CliRunner, doctor_timeouts: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI_GUARD_PROBE_TIMEOUT", "750ms")
    assert invoke(runner, "doctor", "--json").exit_code == 0
    assert doctor_timeouts == [0.75]


@pytest.mark.parametrize(
    ("args", "seconds", "warned"),
    [
        (["--probe-timeout", "2s"], 2.0, False),
        (["--timeout", "3"], 3.0, True),
    ],
)
def test_mirrors_probe_probe_timeout_and_its_old_name(
    runner: CliRunner, probe_timeouts: list[float], args: list[str], seconds: float, warned: bool
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    result = invoke(runner, "mirrors", "probe", "--mirror", closed, "--json", *args)
    assert result.exit_code == 1  # the recorder ranks nothing usable
    assert probe_timeouts == [seconds]
    expected = WARNING.format(old="--timeout", new="--probe-timeout") if warned else ""
    assert result.stderr == expected


def test_mirrors_apply_still_takes_the_old_timeout(runner: CliRunner, tmp_path: Path) -> None:
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text('{"debug": true}')
    mirror = f"http://127.0.0.1:{free_port()}"
    result = invoke(
        runner, "mirrors", "apply", "--mirror", mirror, "--no-probe", "--dry-run",
        "--daemon-config", str(daemon_json), "--timeout", "1",
    )  # fmt: skip
    assert result.stderr.startswith(WARNING.format(old="--timeout", new="--probe-timeout"))
    assert f"+ {mirror}" in result.stdout
    assert daemon_json.read_text() == '{"debug": true}'


@pytest.mark.parametrize("argv", [["doctor"], ["mirrors", "probe"], ["mirrors", "apply"]])
def test_the_old_timeout_is_hidden_from_help(runner: CliRunner, argv: list[str]) -> None:
    text = invoke(runner, *argv, "--help").stdout
    assert "--probe-timeout DURATION" in text
    assert "--timeout" not in text


# -- prefetch: --max-attempts, formerly --attempts ------------------------------------------


@pytest.fixture
def prefetch_policies(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    from ci_guard.images.prefetch import PrefetchReport

    seen: list[Any] = []

    def fake(targets: Any, policy: Any, parallel: int, *, show_progress: bool) -> Any:
        seen.append(policy)
        return PrefetchReport(outcomes=[], duration_s=0.0)

    monkeypatch.setattr("ci_guard.cli.prefetch_cmd._run", fake)
    return seen


@pytest.mark.parametrize(
    ("args", "attempts", "warned"),
    [
        ([], 3, False),
        (["--max-attempts", "5"], 5, False),
        (["--attempts", "2"], 2, True),
        (["--attempts", "2", "--max-attempts", "4"], 4, True),
    ],
)
def test_prefetch_max_attempts_and_its_old_name(
    runner: CliRunner, prefetch_policies: list[Any], args: list[str], attempts: int, warned: bool
) -> None:
    result = invoke(runner, "prefetch", "alpine:3.20", "--json", "--backoff-max", "2m", *args)
    assert result.exit_code == 0
    (policy,) = prefetch_policies
    assert (policy.attempts, policy.max_s) == (attempts, 120.0)
    expected = WARNING.format(old="--attempts", new="--max-attempts") if warned else ""
    assert result.stderr == expected


@pytest.mark.parametrize("flag", ["--max-attempts", "--attempts"])
def test_prefetch_attempts_out_of_range_is_a_usage_error(runner: CliRunner, flag: str) -> None:
    result = runner.invoke(cli, ["prefetch", flag, "0"])
    assert result.exit_code == 2
    assert f"'{flag}': 0 is not in the range 1<=x<=20" in result.output


def test_prefetch_help_names_max_attempts_only(runner: CliRunner) -> None:
    text = invoke(runner, "prefetch", "--help").stdout
    assert "--max-attempts N" in text
    assert "--attempts" not in text.replace("--max-attempts", "")


# -- run and config: --mirror URL beside --mirrors A,B --------------------------------------


def _mirrors(runner: CliRunner, *args: str) -> tuple[list[str], str]:
    result = invoke(runner, "config", "--json", *args)
    assert result.exit_code == 0
    row = next(r for r in json.loads(result.stdout)["settings"] if r["name"] == "mirrors")
    return row["value"], row["source"]


def test_mirror_is_repeatable_and_adds_to_mirrors(runner: CliRunner) -> None:
    a, b, c = "https://a.example", "https://b.example", "http://10.0.0.5:5000"
    assert _mirrors(runner, "--mirror", a, "--mirror", b) == ([a, b], "flag")
    assert _mirrors(runner, "--mirrors", f"{a},{b}") == ([a, b], "flag")
    assert _mirrors(runner, "--mirrors", f"{a},{b}", "--mirror", c) == ([a, b, c], "flag")
    assert _mirrors(runner) == ([], "default")


def test_run_takes_mirror_and_checks_each(runner: CliRunner) -> None:
    ok = invoke(
        runner, "run", "--no-preflight", "--mirror", "https://a.example",
        "--mirror", "https://b.example", "--", sys.executable, "-c", "pass",
    )  # fmt: skip
    assert ok.exit_code == 0
    bad = runner.invoke(cli, ["run", "--mirror", "ftp://bad.example", "--", "true"])
    assert "ftp://bad.example" in str(bad.exception)


# -- as a user sees it: a child process, one line, exit 2, no traceback ---------------------


@pytest.mark.parametrize(
    ("argv", "lines"),
    [
        (["run", "--timeout", "40x", "--", "true"],
         ["ci-guard: error: --timeout 40x: not a duration (examples: 90, 90s, 40m, 1h30m)"]),
        (["doctor", "--probe-timeout", "40x"],
         ["ci-guard: error: --probe-timeout 40x: not a duration (examples: 90, 90s, 40m, 1h30m)"]),
        (["mirrors", "probe", "--timeout", "soon", "--mirror", "https://m.example"],
         [WARNING.format(old="--timeout", new="--probe-timeout").strip(),
          "ci-guard: error: --probe-timeout soon: not a duration (examples: 90, 90s, 40m, 1h30m)"]),
        (["prefetch", "--backoff-max", "2 minutes", "alpine"],
         ["ci-guard: error: --backoff-max '2 minutes': not a duration "
          "(examples: 90, 90s, 40m, 1h30m)"]),
        (["report", "--since", "40x", "logs"],
         ["ci-guard: error: --since 40x: not a date (2026-11-01), a time (2026-11-01T12:00Z) "
          "or an age (a duration: 90, 90s, 40m, 1h30m, 7d)"]),
    ],
)  # fmt: skip
def test_bad_durations_as_a_user_sees_them(
    argv: list[str], lines: list[str], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CI_GUARD_")}
    env["DOCKER_HOST"] = f"unix://{tmp_path / 'no-daemon.sock'}"
    (tmp_path / ".git").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "ci_guard", *argv],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == lines
