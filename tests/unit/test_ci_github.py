"""GitHub Actions output: workflow commands, stop-commands bracketing, summary, outputs.

`RunnerModel` reads a step's log the way the Actions runner does (documented rules:
a line whose trimmed text starts with `::` is a command `::name props::data`; while
`::stop-commands::TOKEN` is in force, nothing runs until the line `::TOKEN::`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ci_guard.ci.github import (
    GitHubHooks,
    escape_data,
    escape_property,
    output_block,
    render_outputs,
    render_step_summary,
    workflow_command,
)
from ci_guard.errors import CiGuardError
from ci_guard.records import RunRecord
from tests.ci_records import NOT_FOUND_FAILURE, TIMEOUT_FAILURE, attempt, finish, new_run, retry

INJECTED = "::error::fake\n::set-output name=x::y\n::add-mask::hunter2\n  ::warning::indented"


def _unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return _unescape_data(text.replace("%3A", ":").replace("%2C", ","))


@dataclass
class Command:
    name: str
    properties: dict[str, str]
    data: str


@dataclass
class RunnerModel:
    executed: list[Command] = field(default_factory=list)
    printed: list[str] = field(default_factory=list)
    stop_token: str | None = None

    def feed(self, log: str) -> RunnerModel:
        for line in log.split("\n"):
            self._line(line)
        return self

    def _line(self, line: str) -> None:
        command = parse_command(line)
        if self.stop_token is not None:
            if command is not None and command.name == self.stop_token:
                self.stop_token = None
            else:
                self.printed.append(line)
            return
        if command is None:
            self.printed.append(line)
        elif command.name == "stop-commands":
            self.stop_token = command.data
        else:
            self.executed.append(command)


def parse_command(line: str) -> Command | None:
    text = line.lstrip()
    if not text.startswith("::"):
        return None
    end = text.find("::", 2)
    if end < 0:
        return None
    info, data = text[2:end], text[end + 2 :]
    name, _, props = info.partition(" ")
    properties = {}
    for pair in filter(None, props.split(",")):
        key, _, value = pair.partition("=")
        properties[key] = _unescape_property(value)
    return Command(name, properties, _unescape_data(data))


def parse_github_output(text: str) -> dict[str, str]:
    """The runner's reading of $GITHUB_OUTPUT: `name=value` or `name<<DELIM` ... `DELIM`."""
    values, lines, index = {}, text.split("\n"), 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            index += 1
            values[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def _tokens() -> Callable[[], str]:
    counter = iter(range(1, 100))
    return lambda: f"tok{next(counter):04d}deadbeef"


def _drive_failing_then_passing(tmp_path: Path) -> tuple[str, RunRecord, dict[str, str]]:
    """Two attempts; the child prints injected commands (the last line lacks a newline)."""
    env = {
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    out = io.StringIO()
    hooks = GitHubHooks(env, out, token_factory=_tokens())
    run = new_run(log_file=Path(".ci-guard/run.jsonl"))
    hooks.run_started(run)
    hooks.attempt_started(run, 1)
    out.write(INJECTED)  # what the child printed, no final newline
    run.attempts.append(attempt(1, TIMEOUT_FAILURE))
    hooks.attempt_finished(run, run.attempts[-1])
    run.retries.append(retry(1))
    hooks.retry_scheduled(run, run.retries[-1])
    hooks.attempt_started(run, 2)
    out.write("built ok\n")
    run.attempts.append(attempt(2, None))
    hooks.attempt_finished(run, run.attempts[-1])
    hooks.run_finished(finish(run))
    return out.getvalue(), run, env


def test_escape_data_and_property_follow_the_runner_rules() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_data("a:b,c") == "a:b,c"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert escape_data("%0A") == "%250A"
    nasty = "x::y,z=1%0A\r\n::stop-commands::t"
    assert _unescape_property(escape_property(nasty)) == nasty
    assert _unescape_data(escape_data(nasty)) == nasty


def test_workflow_command_is_one_line_whatever_the_message() -> None:
    line = workflow_command("error", "two\nlines ::x::", title="a: b, c")
    assert line == "::error title=a%3A b%2C c::two%0Alines ::x::\n"
    command = parse_command(line.rstrip("\n"))
    assert command == Command("error", {"title": "a: b, c"}, "two\nlines ::x::")


def test_child_commands_are_printed_not_executed(tmp_path: Path) -> None:
    log, _, _ = _drive_failing_then_passing(tmp_path)
    runner = RunnerModel().feed(log)
    names = [c.name for c in runner.executed]
    assert names == ["group", "endgroup", "warning", "group", "endgroup"]
    assert all("fake" not in c.data and c.name != "set-output" for c in runner.executed)
    assert "::error::fake" in runner.printed
    assert "::set-output name=x::y" in runner.printed
    assert "  ::warning::indented" in runner.printed
    assert runner.stop_token is None


def test_stop_token_brackets_the_child_output_per_attempt(tmp_path: Path) -> None:
    log, _, _ = _drive_failing_then_passing(tmp_path)
    first = log.index("::stop-commands::tok0001deadbeef\n")
    child = log.index(INJECTED)
    resume = log.index("\n::tok0001deadbeef::\n")
    assert first < child < resume
    assert log.index("::group::") < first
    assert log.index("::endgroup::") > resume
    assert "::stop-commands::tok0002deadbeef\n" in log  # a fresh token per attempt
    assert log.count("tok0001deadbeef") == 2


def test_real_tokens_are_random_and_long() -> None:
    out = io.StringIO()
    hooks = GitHubHooks({}, out)
    run = new_run()
    hooks.attempt_started(run, 1)
    hooks.attempt_started(run, 2)
    tokens = re.findall(r"::stop-commands::(\S+)", out.getvalue())
    assert len(tokens) == 2
    assert tokens[0] != tokens[1]
    assert all(len(token) >= 32 for token in tokens)


def test_retry_warning_names_the_class_and_evidence(tmp_path: Path) -> None:
    log, _, _ = _drive_failing_then_passing(tmp_path)
    warnings = [c for c in RunnerModel().feed(log).executed if c.name == "warning"]
    assert len(warnings) == 1
    assert warnings[0].properties["title"] == "ci-guard retry: registry_timeout"
    assert "attempt 1/3 failed with registry_timeout; retrying in 5.0s" in warnings[0].data
    assert "Client.Timeout exceeded" in warnings[0].data


def test_final_failure_is_an_error_with_evidence(tmp_path: Path) -> None:
    env = {"GITHUB_OUTPUT": str(tmp_path / "out")}
    out = io.StringIO()
    hooks = GitHubHooks(env, out)
    run = new_run()
    hooks.attempt_started(run, 1)
    out.write("ERROR: manifest for busybox:nope not found: manifest unknown\n")
    run.attempts.append(attempt(1, NOT_FOUND_FAILURE))
    hooks.attempt_finished(run, run.attempts[-1])
    hooks.run_finished(finish(run))
    errors = [c for c in RunnerModel().feed(out.getvalue()).executed if c.name == "error"]
    assert len(errors) == 1
    assert errors[0].properties["title"] == "ci-guard: image_not_found"
    first, second = errors[0].data.split("\n")[:2]
    assert first.startswith("ci-guard: image_not_found (exit 1) after 1 attempt; stopped: ")
    assert second == "manifest for busybox:nope not found: manifest unknown"
    outputs = parse_github_output((tmp_path / "out").read_text("utf-8"))
    assert outputs["failure-class"] == "image_not_found"
    assert outputs["exit-code"] == "1"


def test_outputs_file_holds_the_five_outputs(tmp_path: Path) -> None:
    _, _, env = _drive_failing_then_passing(tmp_path)
    outputs = parse_github_output(Path(env["GITHUB_OUTPUT"]).read_text("utf-8"))
    assert outputs == {
        "attempts": "2",
        "exit-code": "0",
        "failure-class": "",
        "stop-reason": "succeeded",
        "log-file": ".ci-guard/run.jsonl",
    }


def test_outputs_survive_multiline_values_and_delimiter_clash() -> None:
    run = finish(new_run(attempts=[attempt(1, None)], log_file=Path("odd\nname=x<<EOF")))
    outputs = parse_github_output(render_outputs(run))
    assert outputs["log-file"] == "odd\nname=x<<EOF"
    with pytest.raises(ValueError, match="delimiter"):
        output_block("x", "a\nEOF\nb", "EOF")


def test_step_summary_table_has_a_row_per_attempt(tmp_path: Path) -> None:
    _, _, env = _drive_failing_then_passing(tmp_path)
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text("utf-8")
    rows = [line for line in summary.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) == 2
    assert "| 1 | failed | registry_timeout | 1 | 1.5 s | retry in 5.0 s (retry) |" in rows[0]
    assert rows[1].startswith("| 2 | passed |")
    assert summary.startswith("### ci-guard: succeeded after 2 attempts")


def test_step_summary_escapes_pipes_and_html() -> None:
    run = new_run(command=("sh", "-c", "a | b"))
    run.attempts.append(attempt(1, NOT_FOUND_FAILURE))
    text = render_step_summary(finish(run))
    assert "a \\| b" in text
    assert "<pre>" in text


def test_step_summary_is_a_gfm_table(tmp_path: Path) -> None:
    from tests.tools import require_library

    require_library("markdown_it")
    from markdown_it import MarkdownIt  # type: ignore[import-not-found]

    _, _, env = _drive_failing_then_passing(tmp_path)
    html = (
        MarkdownIt("commonmark")
        .enable("table")
        .render(Path(env["GITHUB_STEP_SUMMARY"]).read_text("utf-8"))
    )
    assert html.count("<tr>") == 3  # header + two attempts
    assert "<td>registry_timeout</td>" in html


def test_no_files_written_without_the_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    hooks = GitHubHooks({}, io.StringIO())
    run = finish(new_run(attempts=[attempt(1, None)]))
    hooks.run_finished(run)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_cannot_be_written_costs_not_the_other_and_is_named(tmp_path: Path) -> None:
    output = tmp_path / "output"
    summary = tmp_path / "no-such-folder" / "summary.md"
    hooks = GitHubHooks(
        {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}, io.StringIO()
    )
    run = finish(new_run(attempts=[attempt(1, None)]))
    with pytest.raises(CiGuardError) as caught:
        hooks.run_finished(run)
    assert str(caught.value) == f"GITHUB_STEP_SUMMARY {summary}: No such file or directory"
    assert parse_github_output(output.read_text("utf-8"))["attempts"] == "1"
