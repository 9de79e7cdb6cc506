"""GitHub Actions: workflow commands, the job summary and step outputs.

Each attempt runs inside `::group::`, and the child's output is bracketed by
`::stop-commands::<token>` ... `::<token>::` so that a build line starting with `::`
(`::error::`, `::set-output ...`, `::add-mask::`) is printed, never executed. Our own
commands escape their data and properties as the runner expects.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from ci_guard.ci import common
from ci_guard.ci.changes import failed_remedies, host_change_line
from ci_guard.durations import human_duration
from ci_guard.errors import CiGuardError
from ci_guard.records import STATUS_SUCCEEDED, AttemptRecord, NoHooks, RetryRecord, RunRecord

_DATA_ESCAPES = (("%", "%25"), ("\r", "%0D"), ("\n", "%0A"))
_PROPERTY_ESCAPES = (*_DATA_ESCAPES, (":", "%3A"), (",", "%2C"))


def escape_data(text: str) -> str:
    for raw, escaped in _DATA_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def escape_property(text: str) -> str:
    for raw, escaped in _PROPERTY_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def workflow_command(name: str, message: str = "", **properties: str) -> str:
    """`::name k=v,k=v::message` with GitHub's escaping, as one line."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    head = f"{name} {props}" if props else name
    return f"::{head}::{escape_data(message)}\n"


def new_token() -> str:
    return secrets.token_hex(16)


def output_block(name: str, value: str, delimiter: str) -> str:
    """One `$GITHUB_OUTPUT` entry in the heredoc form, safe for any value."""
    if delimiter in value:
        raise ValueError("delimiter occurs in the value")
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


class GitHubHooks(NoHooks):
    def __init__(
        self,
        env: Mapping[str, str],
        stdout: TextIO,
        *,
        token_factory: Callable[[], str] = new_token,
    ) -> None:
        self.env = env
        self.stdout = stdout
        self.new_token = token_factory
        self._token: str | None = None

    def attempt_started(self, run: RunRecord, attempt: int) -> None:
        self._token = self.new_token()
        common.emit(
            self.stdout,
            workflow_command("group", common.attempt_header(run, attempt))
            + f"::stop-commands::{self._token}\n",
        )

    def attempt_finished(self, run: RunRecord, record: AttemptRecord) -> None:
        token, self._token = self._token, None
        # The child's last line may lack a newline; the resume token must start a line.
        resume = f"\n::{token}::\n" if token else ""
        verdict = f"ci-guard attempt {record.attempt}: {common.attempt_verdict(record)}\n"
        common.emit(self.stdout, resume + verdict + workflow_command("endgroup"))

    def retry_scheduled(self, run: RunRecord, retry: RetryRecord) -> None:
        record = run.attempts[-1] if run.attempts else None
        failure = record.failure if record else None
        name = failure.failure_class.value if failure else "unknown"
        lines = [
            f"attempt {retry.attempt}/{run.max_attempts} failed with {name}; "
            f"retrying in {human_duration(retry.delay_s)} (remedy: {retry.remedy})",
            *common.evidence_lines(failure),
        ]
        title = f"ci-guard retry: {name}"
        common.emit(self.stdout, workflow_command("warning", "\n".join(lines), title=title))

    def run_finished(self, run: RunRecord) -> None:
        if run.status != STATUS_SUCCEEDED:
            lines = [common.final_message(run), *common.evidence_lines(run.last_failure)]
            title = f"ci-guard: {run.failure_class or run.status}"
            common.emit(self.stdout, workflow_command("error", "\n".join(lines), title=title))
        # One file that cannot be written must not cost the other; the error names both.
        problems = []
        for variable, text in (
            ("GITHUB_STEP_SUMMARY", render_step_summary(run)),
            ("GITHUB_OUTPUT", render_outputs(run)),
        ):
            try:
                self._append(variable, text)
            except OSError as exc:
                problems.append(f"{variable} {self.env.get(variable)}: {exc.strerror or exc}")
        if problems:
            raise CiGuardError("; ".join(problems))

    def _append(self, variable: str, text: str) -> None:
        target = self.env.get(variable)
        if not target:
            return
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(text)


def render_outputs(run: RunRecord, delimiter: str | None = None) -> str:
    outputs = common.run_outputs(run)
    blocks = []
    for name, value in outputs.items():
        mark = delimiter or f"ghadelimiter_{secrets.token_hex(12)}"
        blocks.append(output_block(name, value, mark))
    return "".join(blocks)


def _cell(text: str) -> str:
    return common.clean_line(text).replace("|", "\\|") or " "


def render_step_summary(run: RunRecord) -> str:
    """Markdown for `$GITHUB_STEP_SUMMARY`: outcome, one table row per attempt, evidence."""
    outcome = "succeeded" if run.status == STATUS_SUCCEEDED else run.status.replace("_", " ")
    count = len(run.attempts)
    command = _cell(common.command_text(run)).replace("`", "'")
    lines = [
        f"### ci-guard: {outcome} after {count} attempt{'s' if count != 1 else ''}",
        "",
        f"`{command}` · exit code {run.exit_code} · {run.duration_s:.1f} s",
        "",
        "| attempt | result | failure class | exit code | duration | then |",
        "| ---: | --- | --- | ---: | ---: | --- |",
    ]
    retries = {retry.attempt: retry for retry in run.retries}
    for record in run.attempts:
        failure = record.failure
        retry = retries.get(record.attempt)
        then = f"retry in {retry.delay_s:.1f} s ({retry.remedy})" if retry else ""
        lines.append(
            f"| {record.attempt} | {'passed' if failure is None else 'failed'} "
            f"| {_cell(failure.failure_class.value if failure else '')} "
            f"| {record.exit_code} | {record.duration_s:.1f} s | {_cell(then)} |"
        )
    lines += _bullets("Changed on the host", [host_change_line(c) for c in run.host_changes])
    lines += _bullets("Remedies that failed", [f.line() for f in failed_remedies(run)])
    evidence = common.evidence_lines(run.last_failure)
    if evidence and run.status != STATUS_SUCCEEDED:
        lines += ["", "<details><summary>Evidence</summary>", "", "<pre>"]
        lines += [_html(line) for line in evidence]
        lines += ["</pre>", "</details>"]
    return "\n".join(lines) + "\n\n"


def _bullets(title: str, items: list[str]) -> list[str]:
    """A short list under a bold title; nothing when there is nothing to say."""
    if not items:
        return []
    shown = [f"- {_html(common.clean_line(item))}" for item in items]
    return ["", f"**{title}:**", "", *shown]


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
