"""`ci-guard report` on the command line: outputs, options and one-line errors (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ci_guard.cli.main import main
from tests.logsynth import simple_run, write_logs


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    write_logs(directory, 40, runs_per_file=4, noise=True)
    return directory


def test_text_by_default(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["report", str(logs)], capsys)
    assert code == 0
    assert out.startswith("ci-guard report: 40 runs from 10 files")
    assert "Skipped" in out
    assert err.startswith("ci-guard: warning: skipped ")  # one line on stderr says it too
    assert err.count("\n") == 1


def test_json_and_since(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["report", str(logs), "--json", "--since", "2026-11-08"], capsys)
    assert code == 0
    data = json.loads(out)
    assert 0 < data["runs"] < 40
    assert all(day["day"] >= "2026-11-08" for day in data["days"])


def test_slowest_option(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(["report", str(logs), "--json", "--slowest", "3"], capsys)
    assert len(json.loads(out)["slowest"]) == 3
    _, out, _ = _run(["report", str(logs), "--slowest", "0"], capsys)
    assert "Slowest" not in out


def test_html_written_atomically(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    code, out, err = _run(["report", str(logs), "--html", str(page)], capsys)
    assert code == 0
    assert page.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob(".report.html*"))
    assert "HTML report written to" in err
    assert out.startswith("ci-guard report:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.jsonl"], "no such file"),
        (["empty"], "no run logs"),
        (["good.jsonl", "--since", "last tuesday"], "--since"),
        (["good.jsonl", "--slowest", "-1"], "--slowest"),
        (["good.jsonl", "--html", "no/such/dir/r.html"], "cannot write"),
        ([], "Missing argument"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "good.jsonl").write_text(simple_run("r", "2026-11-01", [None]), "utf-8")
    code, out, err = _run(["report", *args], capsys)
    assert code == 2
    assert out == ""
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_file_without_runs_is_a_report_of_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "other.log"
    log.write_text("just\nsome\ntext\n", "utf-8")
    code, out, _ = _run(["report", str(log)], capsys)
    assert code == 0
    assert "no ci-guard runs found" in out
    assert "Skipped 3 of 3 lines" in out


def test_real_process_on_a_directory(logs: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ci_guard", "report", str(logs), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["runs"] == 40
    missing = subprocess.run(
        [sys.executable, "-m", "ci_guard", "report", str(logs / "nope")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("ci-guard: error: cannot read")
    assert missing.stderr.count("\n") == 1
