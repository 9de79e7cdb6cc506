"""`ci-guard classify`: CliRunner for the paths, a real subprocess for the whole CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ci_guard.classify.docgen import render
from ci_guard.cli.classify_cmd import command
from ci_guard.cli.main import main

LOG = (
    "#9 [web 3/9] RUN apt-get update\n"
    "#9 3.21 W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease"
    "  Temporary failure resolving 'deb.debian.org'\n"
    "failed to solve: Canceled: context canceled\n"
)
DOC = Path(__file__).resolve().parents[2] / "docs" / "failure-classes.md"


def test_human_output_from_a_file(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text(LOG, "utf-8")
    result = CliRunner().invoke(command, [str(log)])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first == "dns_failure (retryable) rule=apt-dns"
    assert "> W: Failed to fetch" in result.output


def test_json_output_has_exactly_the_contract_keys(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text(LOG, "utf-8")
    result = CliRunner().invoke(command, [str(log), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert set(data) == {"class", "retryable", "rule", "evidence"}
    assert data["class"] == "dns_failure"
    assert data["retryable"] is True
    assert data["evidence"][0].startswith("W: Failed to fetch")


def test_reads_stdin_by_default_and_with_dash() -> None:
    for args in ([], ["-"]):
        result = CliRunner().invoke(command, [*args, "--json"], input=LOG)
        assert result.exit_code == 0
        assert json.loads(result.output)["rule"] == "apt-dns"


def test_exit_code_and_timed_out_options() -> None:
    result = CliRunner().invoke(command, ["--json", "--exit-code", "125"], input="odd\n")
    assert json.loads(result.output)["rule"] == "docker-exit-125"
    result = CliRunner().invoke(command, ["--json", "--timed-out"], input=LOG)
    assert json.loads(result.output)["class"] == "timeout"


def _run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stop:
        main(args)
    code = stop.value.code
    return int(code) if isinstance(code, int) else 1, capsys.readouterr().err


@pytest.mark.parametrize("kind", ["missing", "directory", "binary", "bad-exit-code"])
def test_bad_input_is_one_line_and_exit_2(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "nope.log"
    args = ["classify", str(target)]
    if kind == "directory":
        args = ["classify", str(tmp_path)]
    elif kind == "binary":
        target.write_bytes(bytes(range(256)) * 40)
    elif kind == "bad-exit-code":
        target.write_text(LOG, "utf-8")
        args = ["classify", str(target), "--exit-code", "0"]
    code, err = _run_main(args, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("ci-guard: error: ")
    assert "Traceback" not in err


def test_invalid_utf8_inside_text_is_tolerated(tmp_path: Path) -> None:
    log = tmp_path / "mixed.log"
    log.write_bytes(b"caf\xe9 ok\n" + LOG.encode())
    result = CliRunner().invoke(command, [str(log), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["class"] == "dns_failure"


def test_real_subprocess(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text(LOG, "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "ci_guard", "classify", "--json", str(log)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["class"] == "dns_failure"
    piped = subprocess.run(
        [sys.executable, "-m", "ci_guard", "classify"],
        input="Error response from daemon: toomanyrequests: You have reached your pull rate\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert piped.returncode == 0
    assert piped.stdout.startswith("rate_limited (retryable) rule=rate-limited")
    missing = subprocess.run(
        [sys.executable, "-m", "ci_guard", "classify", str(tmp_path / "absent.log")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 2
    assert missing.stderr.strip().count("\n") == 0
    assert "Traceback" not in missing.stderr


def test_committed_failure_classes_doc_is_up_to_date() -> None:
    regenerate = "python -m ci_guard.classify.docgen > docs/failure-classes.md"
    assert DOC.read_text("utf-8") == render(), f"docs/failure-classes.md is stale: {regenerate}"
