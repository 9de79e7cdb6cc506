"""No secret reaches anything `ci-guard run` writes, on any platform.

Real runs (tests/leakcheck/scenario.py): a child that prints 100 secret shapes, fails
twice with some of them as evidence, secrets in argv, in the environment and in the
restart command; every file ci-guard wrote and its own stdout/stderr are searched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.leakcheck.scenario import PLATFORMS, chunks, run_once
from tests.leakcheck.shapes import SHAPES

CHUNKS = chunks()
# Every chunk of evidence shapes once, the platforms and stderr formats in turn.
CASES = [
    (index, PLATFORMS[index % len(PLATFORMS)], "json" if index % 3 else "console")
    for index in range(len(CHUNKS))
]


def test_the_suite_is_big_enough() -> None:
    assert len(SHAPES) >= 60
    assert len({shape.name for shape in SHAPES}) == len(SHAPES)


@pytest.mark.parametrize(("index", "platform", "log_format"), CASES)
def test_no_secret_reaches_any_artifact(
    tmp_path: Path, index: int, platform: str, log_format: str
) -> None:
    result = run_once(tmp_path, platform, CHUNKS[index], log_format=log_format)
    assert result.exit_code == 1
    assert result.leaks == []
    assert result.passthrough_identical
    names = set(result.artifacts)
    assert any(name.endswith("attempt-2.log") for name in names), names
    assert {"out/run.jsonl", "out/junit.xml", "out/metrics.prom", "out/report.html"} <= names
    # The masks are there: evidence and the restart command were written, masked.
    log = result.artifacts["out/run.jsonl"]
    assert "Cannot connect to the Docker daemon at" in log
    assert "-u ops:***" in log


@pytest.mark.parametrize("platform", PLATFORMS)
def test_platform_outputs_land_outside_the_project(tmp_path: Path, platform: str) -> None:
    result = run_once(tmp_path, platform, CHUNKS[0])
    assert result.leaks == []
    expected = {
        "github": ("github/step-summary.md", "github/output", "runner-temp/ci-guard/"),
        "gitlab": ("builds/.ci-guard/42/ci-guard.env",),
        "jenkins": ("project@tmp/ci-guard/ci-guard.env",),
        "none": ("out/none.env", "tmp/ci-guard-"),
    }[platform]
    for prefix in expected:
        assert any(name.startswith(prefix) for name in result.artifacts), (prefix, result.artifacts)
    assert not any(name.startswith("project/") for name in result.artifacts)


def test_negative_control_raw_logs_keep_the_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan finds what is there: with raw logs asked for, the attempt logs leak."""
    from tests.leakcheck import scenario

    original = scenario._environment

    def with_raw_logs(platform: str, root: Path, project: Path) -> dict[str, str]:
        return {**original(platform, root, project), "CI_GUARD_RAW_LOGS": "true"}

    monkeypatch.setattr(scenario, "_environment", with_raw_logs)
    result = run_once(tmp_path, "none", CHUNKS[0])
    leaked = {leak.artifact for leak in result.leaks}
    assert leaked, result.artifacts.keys()
    assert all(name.endswith(".log") for name in leaked), leaked
    assert len({leak.shape for leak in result.leaks}) >= len(SHAPES) - 10
