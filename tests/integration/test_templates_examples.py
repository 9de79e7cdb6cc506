"""The examples and the documentation snippets people paste: every one bounds the whole
run (total-timeout) below its job's own timeout, and none installs ci-guard from a
package index, where it is not published."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from tests import tools

ROOT = Path(__file__).resolve().parents[2]
MARGIN = 300.0
"""Seconds a job keeps after ci-guard's deadline: install before, uploads after."""


def _yaml(path: Path) -> dict[str, Any]:
    tools.require_library("yaml")
    import yaml  # type: ignore[import-untyped, unused-ignore]

    data: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    return data


def _github() -> tuple[float, float]:
    job = _yaml(ROOT / "ci-templates" / "github" / "example-workflow.yml")["jobs"]["build"]
    step = next(s for s in job["steps"] if s.get("id") == "guard")
    return float(job["timeout-minutes"]) * 60, float(step["with"]["total-timeout"])


def _gitlab() -> tuple[float, float]:
    job = _yaml(ROOT / "ci-templates" / "gitlab" / "example.gitlab-ci.yml")["build-images"]
    match = re.fullmatch(r"(\d+)m", job["timeout"])
    assert match, job["timeout"]
    args = shlex.split(job["variables"]["CI_GUARD_RUN_ARGS"])
    return float(match[1]) * 60, float(args[args.index("--total-timeout") + 1])


def _jenkins() -> tuple[float, float]:
    text = (ROOT / "ci-templates" / "jenkins" / "example" / "Jenkinsfile").read_text("utf-8")
    job = re.search(r"timeout\(time: (\d+), unit: 'MINUTES'\)", text)
    total = re.search(r"totalTimeout: (\d+)", text)
    assert job, text
    assert total, text
    return float(job[1]) * 60, float(total[1])


@pytest.mark.parametrize("example", [_github, _gitlab, _jenkins])
def test_the_run_ends_before_the_job_does(example: Any) -> None:
    job_seconds, total_timeout = example()
    assert total_timeout + MARGIN <= job_seconds


def _pasted_files() -> list[Path]:
    files = [p for p in (ROOT / "ci-templates").rglob("*") if p.is_file()]
    files += [ROOT / "vars" / "ciGuard.groovy"]
    return files + [ROOT / "docs" / f"ci-{name}.md" for name in ("github", "gitlab", "jenkins")]


@pytest.mark.parametrize("path", _pasted_files(), ids=lambda p: p.name)
def test_nothing_installs_ci_guard_from_a_package_index(path: Path) -> None:
    text = path.read_text("utf-8")
    assert not re.search(r"ci-guard==|PyPI|version: '0\.1\.0'", text), path


@pytest.mark.parametrize("name", ["github", "gitlab", "jenkins"])
def test_the_docs_show_the_examples_deadlines(name: str) -> None:
    """The snippet in docs/ci-NAME.md carries the same total-timeout as the example."""
    example = {"github": _github, "gitlab": _gitlab, "jenkins": _jenkins}[name]
    _, total_timeout = example()
    doc = (ROOT / "docs" / f"ci-{name}.md").read_text("utf-8")
    assert f"{total_timeout:.0f}" in doc


def test_the_gitlab_dind_example_gives_the_service_its_mirrors_on_its_command_line() -> None:
    """dind's dockerd reads no daemon.json of the job: its mirrors are flags of the
    service (ci-guard does not configure a daemon that is not the job's)."""
    job = _yaml(ROOT / "ci-templates" / "gitlab" / "example.gitlab-ci.yml")["build-images"]
    dind = next(s for s in job["services"] if "dind" in str(s.get("name", "")))
    assert any(arg.startswith("--registry-mirror=https://") for arg in dind["command"])
    doc = (ROOT / "docs" / "ci-gitlab.md").read_text("utf-8")
    assert 'command: ["--registry-mirror=https://mirror.example"]' in doc
