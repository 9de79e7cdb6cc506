"""Text, JSON and HTML renderings of the report."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ci_guard.report import fmt, svg, svg_grids
from ci_guard.report.figures import Report
from ci_guard.report.load import load_lines
from ci_guard.report.render_html import render_html
from ci_guard.report.render_text import render_text
from ci_guard.report.stats import build_report
from tests.logsynth import simple_run, synth_runs, to_lines

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def _report(lines: list[str], slowest: int = 5) -> Report:
    return build_report(load_lines(lines), now=NOW, slowest_count=slowest)


@pytest.fixture(scope="module")
def synthetic() -> Report:
    lines = [ln for events in synth_runs(300, seed=5) for ln in to_lines(events).splitlines()]
    return _report([*lines, "garbage", '{"half": '])


def test_text_shows_every_section(synthetic: Report) -> None:
    text = render_text(synthetic)
    for heading in (
        "ci-guard report: 300 runs",
        "Success rate  first try",
        "Time lost",
        "Attempts per finished run",
        "Failure classes",
        "Remedies",
        "Mirror health",
        "Slowest 5 builds",
        "Skipped 2 of",
    ):
        assert heading in text
    assert fmt.percent(synthetic.rates.after_retries) in text
    assert synthetic.slowest[0].run_id in text


def test_ascii_only_text_is_ascii(synthetic: Report) -> None:
    render_text(synthetic, ascii_only=True).encode("ascii")


def test_json_is_plain_data(synthetic: Report) -> None:
    data = json.loads(json.dumps(synthetic.to_dict()))
    assert data["report_version"] == 1
    assert data["runs"] == 300
    assert data["input"]["skipped"] == {"not_json": 2}
    assert data["input"]["skipped_total"] == 2
    assert sum(data["attempts_histogram"].values()) == 300 - data["by_status"]["incomplete"]
    assert {"url", "healthy_share", "median_latency_s", "days"} <= set(data["mirrors"][0])


def test_html_is_self_contained_with_charts(synthetic: Report) -> None:
    page = render_html(synthetic)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 7
    assert "<script" not in page
    # Nothing to fetch: no src attributes, no href but on links to CI jobs, no CSS imports
    # or url() references.
    assert not re.search(r"\ssrc=", page)
    assert all(tag == "a" for tag in re.findall(r"<(\w+)[^>]*\shref=", page))
    assert "@import" not in page
    assert "url(" not in page


def test_html_escapes_what_comes_from_logs() -> None:
    hostile = simple_run(
        "<img onerror=x>",
        "2026-11-01",
        ["dns_failure", None],
        mirrors=[{"url": "http://x/<script>", "verdict": "ok"}],
    ).replace('"dns_failure"', '"<b>cls</b>"')  # a class name from some other writer
    page = render_html(_report(hostile.splitlines()))
    assert "<img onerror" not in page
    assert "<b>cls" not in page
    assert "<script>" not in page
    assert "&lt;img onerror=x&gt;" in page


def test_empty_report_renders_placeholders() -> None:
    empty = _report([])
    page = render_html(empty)
    assert "no finished runs" in page
    assert "no mirror probes" in page
    assert "no ci-guard runs found" in render_text(empty)


def test_format_helpers() -> None:
    assert fmt.duration(42.14) == "42.1s"
    assert fmt.duration(312) == "5m 12s"
    assert fmt.duration(3 * 3600 + 300) == "3h 05m"
    assert fmt.duration(3 * 86400 + 7200) == "3d 2h"
    assert fmt.latency(0.1854) == "185 ms"
    assert fmt.latency(2.5) == "2.50 s"
    assert fmt.sparkline([0.0, 0.5, 1.0, None]) == "▁▅█ "
    assert svg.nice_ceiling(770) == 1000
    assert svg.nice_ceiling(0.42) == 0.5
    assert svg.nice_ceiling(2.0) == 2.0
    assert svg.nice_ceiling(0) == 1.0
    assert svg_grids.share_color(None) != svg_grids.share_color(0.0) != svg_grids.share_color(1.0)


def test_axis_tops_split_into_round_steps() -> None:
    assert svg.nice_axis(770) == 800
    assert svg.nice_axis(34) == 40
    assert svg.nice_axis(3) == 4
    assert svg.nice_axis(0) == 4
    assert svg.nice_axis(1) == 1
    assert svg.nice_axis(1, whole=True) == 4


def test_text_says_why_runs_stopped() -> None:
    text = render_text(_report(simple_run("r1", "2026-11-01", ["image_not_found"]).splitlines()))
    assert "  stopped: not_retryable 1" in text


def test_docs_json_example_has_every_top_level_key(synthetic: Report) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "report.md").read_text("utf-8")
    block = doc.split("One object, stable keys", 1)[1].split("```", 2)[1]
    assert set(re.findall(r'^  "(\w+)":', block, re.MULTILINE)) == set(synthetic.to_dict())


def test_the_report_doc_shows_its_screenshots_and_they_are_small() -> None:
    docs = Path(__file__).parents[2] / "docs"
    names = re.findall(r"\]\((images/[\w.-]+\.png)\)", (docs / "report.md").read_text("utf-8"))
    assert names == ["images/report-overview.png", "images/report-details.png"]
    for name in names:
        data = (docs / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) < 300_000, name
