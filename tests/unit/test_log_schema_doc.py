"""docs/log-schema.md against what ci-guard's writers really log (tests/logsynth.py plays
runs through the real run loop and logging pipeline)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ci_guard.mirrors.result import RANKED_FIELD
from ci_guard.records import STOP_CODES, TRANSIENT_STOPS
from tests.logsynth import preflight_fields, simple_run

DOC = Path(__file__).parents[2] / "docs" / "log-schema.md"
MIRRORS = [
    {"url": "http://a", "verdict": "healthy", "latency_s": 0.1, "reason": ""},
    {"url": "http://b", "verdict": "dead", "latency_s": 3.0, "reason": "refused"},
]


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text("utf-8")


def _section(doc: str, title: str) -> str:
    return doc.split(title, 1)[1].split("\n#", 1)[0]


def _first_column(section: str, header: str) -> list[str]:
    rows = re.findall(r"^\| `([a-z0-9_.]+)` \|", section, re.MULTILINE)
    return [row for row in rows if row != header]


def _shape(value: Any) -> Any:
    """The keys of a value, nested: what a reader relies on."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_shape(value[0])]
    return None


def _real_events() -> dict[str, dict[str, Any]]:
    text = simple_run("r1", "2026-11-01", ["daemon_unreachable", "dns_failure", None],
                      remedies=["restart-daemon", "retry"], mirrors=MIRRORS)  # fmt: skip
    text += simple_run("r2", "2026-11-01", ["image_not_found"])
    events: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        event = json.loads(line)
        events.setdefault(event["event"], event)
    return events


def test_the_example_has_exactly_the_fields_the_writers_log(doc: str) -> None:
    real = _real_events()
    block = doc.split("## Example", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    examples = [json.loads(line) for line in block.splitlines()]
    assert {"run.started", "preflight.finished", "run.finished"} <= {e["event"] for e in examples}
    for example in examples:
        assert _shape(example) == _shape(real[example["event"]]), example["event"]


def test_every_event_a_run_logs_is_in_the_events_table(doc: str) -> None:
    listed = set(_first_column(_section(doc, "## Events"), "event"))
    assert set(_real_events()) <= listed


def test_the_mirrors_tables_list_the_fields_preflight_logs(doc: str) -> None:
    mirrors = preflight_fields(MIRRORS)["mirrors"]
    section = _section(doc, "### preflight.finished: mirrors")
    top, ranked = section.split("Each entry of `ranked`", 1)
    assert _first_column(top, "field") == list(mirrors)
    assert _first_column(ranked, "field") == list(mirrors[RANKED_FIELD][0])


def test_every_stop_reason_is_documented_with_its_tempfail_rule(doc: str) -> None:
    rows = {}
    for line in _section(doc, "### run.finished").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 3 and cells[0] != "`stop_reason`":
            rows[cells[0].strip("`")] = cells[2] == "yes"
    assert rows == {code: code in TRANSIENT_STOPS for code in STOP_CODES}
