"""JUnit XML report: shape, counts, escaping of what build output may hold."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ci_guard.ci import write_junit
from ci_guard.ci.junit import xml_text
from ci_guard.records import STATUS_CANCELLED
from tests.ci_records import NOT_FOUND_FAILURE, TIMEOUT_FAILURE, attempt, finish, new_run, retry

NASTY = "\x1b[31mred\x1b[0m bell\x07 nul\x00 form\x0c vt\x0b ok\ttab \ufffe & <b> ]]>"
# The required attributes of the Ant/Jenkins JUnit schema, per element.
REQUIRED = {
    "testsuite": {"name", "tests", "failures", "errors", "time", "timestamp", "hostname"},
    "testcase": {"name", "classname", "time"},
    "failure": {"message", "type"},
    "error": {"message", "type"},
    "property": {"name", "value"},
}
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def _report(tmp_path: Path) -> ET.Element:
    log1 = tmp_path / "attempt-1.log"
    log1.write_text("".join(f"line {n}\n" for n in range(500)) + NASTY + "\n", "utf-8")
    run = new_run()
    run.attempts.append(attempt(1, TIMEOUT_FAILURE, log_path=log1))
    run.retries.append(retry(1))
    run.attempts.append(attempt(2, NOT_FOUND_FAILURE, log_path=tmp_path / "missing.log"))
    path = write_junit(finish(run), tmp_path / "out" / "junit.xml")
    return ET.parse(path).getroot()


def _check_required(root: ET.Element) -> None:
    for element in root.iter():
        missing = REQUIRED.get(element.tag, set()) - set(element.attrib)
        assert not missing, f"<{element.tag}> lacks {missing}"


def test_report_parses_back_with_required_attributes(tmp_path: Path) -> None:
    root = _report(tmp_path)
    assert root.tag == "testsuites"
    _check_required(root)
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "2", "0")
    assert (root.get("tests"), root.get("failures")) == ("2", "2")
    assert TIMESTAMP.fullmatch(suite.get("timestamp", ""))
    assert float(suite.get("time", "")) == 4.5
    assert suite.get("name") == "ci-guard: docker compose build"


def test_one_case_per_attempt_with_class_and_evidence(tmp_path: Path) -> None:
    cases = _report(tmp_path).findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["attempt 1", "attempt 2"]
    assert {c.get("classname") for c in cases} == {"ci-guard.docker compose build"}
    first = cases[0].find("failure")
    assert first is not None
    assert first.get("type") == "registry_timeout"
    assert first.get("message", "").startswith('registry_timeout: Get "https://registry-1')
    assert "rule: registry_timeout.client_timeout" in (first.text or "")
    assert "the registry did not answer in time" in (first.text or "")
    second = cases[1].find("failure")
    assert second is not None
    assert second.get("type") == "image_not_found"


def test_system_out_holds_the_cleaned_log_tail(tmp_path: Path) -> None:
    cases = _report(tmp_path).findall("testsuite/testcase")
    out = cases[0].findtext("system-out") or ""
    lines = out.split("\n")
    assert len(lines) == 200
    assert lines[0] == "line 301"
    assert lines[-1] == "red bell\ufffd nul\ufffd form\ufffd vt\ufffd ok\ttab \ufffd & <b> ]]>"
    assert cases[1].find("system-out") is None  # its log file is gone


def test_control_characters_never_reach_the_file(tmp_path: Path) -> None:
    _report(tmp_path)
    raw = (tmp_path / "out" / "junit.xml").read_text("utf-8")
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", raw)
    assert raw.startswith('<?xml version="1.0" encoding="UTF-8"?>')


def test_xml_text_keeps_what_xml_allows() -> None:
    assert xml_text("tab\there\nnew\r") == "tab\there\nnew\r"
    assert xml_text("\x1b[1;32mgreen\x1b[0m") == "green"
    assert xml_text("a\x00b") == "a\ufffdb"


def test_success_has_no_failure_and_cancel_is_an_error(tmp_path: Path) -> None:
    ok = finish(new_run(attempts=[attempt(1, None)]))
    root = ET.parse(write_junit(ok, tmp_path / "ok.xml")).getroot()
    assert root.find("testsuite/testcase/failure") is None
    assert root.find("testsuite").get("failures") == "0"  # type: ignore[union-attr]
    cancelled = new_run(attempts=[attempt(1, None)], status=STATUS_CANCELLED, exit_code=143)
    root = ET.parse(write_junit(cancelled, tmp_path / "c.xml")).getroot()
    _check_required(root)
    error = root.find("testsuite/testcase/error")
    assert error is not None
    assert error.get("type") == "cancelled"
    assert root.find("testsuite").get("errors") == "1"  # type: ignore[union-attr]


def test_properties_carry_the_run(tmp_path: Path) -> None:
    run = finish(new_run(attempts=[attempt(1, TIMEOUT_FAILURE)]), exit_code=75)
    root = ET.parse(write_junit(run, tmp_path / "r.xml")).getroot()
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["exit_code"] == "75"
    assert props["failure_class"] == "registry_timeout"
    assert props["command"] == "docker compose build"


def test_dots_in_the_command_do_not_split_the_class_name(tmp_path: Path) -> None:
    run = finish(new_run(command=("docker-compose", "-f", "a.yml"), attempts=[attempt(1, None)]))
    root = ET.parse(write_junit(run, tmp_path / "r.xml")).getroot()
    case = root.find("testsuite/testcase")
    assert case is not None
    assert case.get("classname") == "ci-guard.docker-compose -f a_yml"


def test_junitparser_reads_the_report(tmp_path: Path) -> None:
    """A real consumer: junitparser, which JUnit publishing actions build on."""
    from tests.tools import require_library

    require_library("junitparser")
    from junitparser import Failure, JUnitXml  # type: ignore[import-not-found]

    _report(tmp_path)
    xml = JUnitXml.fromfile(str(tmp_path / "out" / "junit.xml"))
    suites = list(xml)
    assert len(suites) == 1
    suite = suites[0]
    assert (suite.tests, suite.failures, suite.errors) == (2, 2, 0)
    cases = list(suite)
    assert [case.name for case in cases] == ["attempt 1", "attempt 2"]
    results = [case.result for case in cases]
    assert all(isinstance(result[0], Failure) for result in results)
    assert [result[0].type for result in results] == ["registry_timeout", "image_not_found"]
    assert cases[0].system_out.split("\n")[0] == "line 301"
    assert cases[0].time == 1.5
