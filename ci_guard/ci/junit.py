"""The run as a JUnit XML report: one test case per attempt.

Read by GitLab (`artifacts:reports:junit`), Jenkins (`junit`) and most test-report
tools. A failed attempt carries a <failure> whose type is the failure class and whose
message holds the evidence; <system-out> holds the tail of the attempt's output. Build
output may hold bytes XML 1.0 cannot carry (ANSI colour codes, NULs): they are removed
or replaced before writing.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

from ci_guard.atomic import atomic_write_text
from ci_guard.ci import common
from ci_guard.ci.changes import failed_remedies, host_change_line
from ci_guard.records import STATUS_CANCELLED, AttemptRecord, RunRecord
from ci_guard.redact import Redactor

TAIL_LINES = 200
TAIL_BYTES = 64 * 1024
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
# Characters outside XML 1.0's Char production.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def xml_text(text: str) -> str:
    """Text XML 1.0 can hold: colour codes dropped, other forbidden characters as U+FFFD."""
    return _NOT_XML.sub("\ufffd", _ANSI.sub("", text))


def log_tail(
    path: Path | None, lines: int = TAIL_LINES, redactor: Redactor | None = None
) -> str | None:
    if path is None:
        return None
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - TAIL_BYTES))
            data = handle.read()
    except OSError:
        return None
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").rstrip("\n")
    # split("\n"), not splitlines(): form feeds and the like are not line ends here.
    return (redactor or Redactor()).text("\n".join(text.split("\n")[-lines:]))


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _classname(run: RunRecord) -> str:
    # Jenkins splits the class name at its last dot into package and class.
    return "ci-guard." + (common.command_text(run, 80).replace(".", "_") or "command")


def _attempt_case(
    run: RunRecord, record: AttemptRecord, cancelled: bool, redactor: Redactor | None
) -> ET.Element:
    case = ET.Element(
        "testcase",
        name=f"attempt {record.attempt}",
        classname=_classname(run),
        time=_seconds(record.duration_s),
    )
    failure = record.failure
    if failure is not None:
        evidence = common.evidence_lines(failure)
        message = failure.failure_class.value + (f": {evidence[0]}" if evidence else "")
        node = ET.SubElement(case, "failure", message=xml_text(message))
        node.set("type", failure.failure_class.value)
        body = [f"exit code {record.exit_code}", f"rule: {failure.rule}", *evidence]
        if failure.why:
            body.insert(1, failure.why)
        node.text = xml_text("\n".join(body))
    elif cancelled:
        message = f"cancelled (ci-guard exit {run.exit_code})"
        ET.SubElement(case, "error", message=message, type="cancelled")
    tail = log_tail(record.log_path, redactor=redactor)
    if tail:
        ET.SubElement(case, "system-out").text = xml_text(tail)
    return case


def build_report(run: RunRecord, redactor: Redactor | None = None) -> ET.Element:
    count = len(run.attempts)
    last = count
    cases = [
        _attempt_case(
            run, record, run.status == STATUS_CANCELLED and record.attempt == last, redactor
        )
        for record in run.attempts
    ]
    failures = sum(1 for case in cases if case.find("failure") is not None)
    errors = sum(1 for case in cases if case.find("error") is not None)
    totals = {"tests": str(count), "failures": str(failures), "errors": str(errors)}
    root = ET.Element("testsuites", {"name": "ci-guard", "time": _seconds(run.duration_s)})
    root.attrib.update(totals)
    match = _TIMESTAMP.match(run.started_at)
    suite = ET.SubElement(
        root,
        "testsuite",
        name=xml_text(f"ci-guard: {common.command_text(run)}"),
        id="0",
        package="ci-guard",
        hostname=xml_text(socket.gethostname() or "localhost"),
        timestamp=match.group(0) if match else "1970-01-01T00:00:00",
        skipped="0",
        time=_seconds(run.duration_s),
    )
    suite.attrib.update(totals)
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(run):
        ET.SubElement(properties, "property", name=name, value=xml_text(value))
    suite.extend(cases)
    ET.SubElement(suite, "system-out").text = xml_text("\n".join(_run_notes(run)))
    ET.SubElement(suite, "system-err").text = ""
    return root


def _properties(run: RunRecord) -> list[tuple[str, str]]:
    """The run's fields, then one `host_change` and one `remedy_failed` property each."""
    fields = {
        "run_id": run.run_id,
        "command": " ".join(run.command),
        "status": run.status,
        "exit_code": str(run.exit_code),
        "max_attempts": str(run.max_attempts),
        "ci_platform": run.ci_platform,
        "failure_class": run.failure_class or "",
        "stop_reason": run.stop_reason,
    }
    listed = list(fields.items())
    listed += [("host_change", host_change_line(c)) for c in run.host_changes]
    listed += [("remedy_failed", f.line()) for f in failed_remedies(run)]
    return listed


def _run_notes(run: RunRecord) -> list[str]:
    """The same two lists in words, for the suite's output (what report viewers show)."""
    notes = [f"changed on the host: {host_change_line(c)}" for c in run.host_changes]
    return notes + [f"remedy failed: {f.line()}" for f in failed_remedies(run)]


def write_junit(run: RunRecord, path: Path, redactor: Redactor | None = None) -> Path:
    root = build_report(run, redactor)
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode", xml_declaration=False)
    atomic_write_text(
        path, '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n", mode=0o644, make_folder=True
    )
    return path
