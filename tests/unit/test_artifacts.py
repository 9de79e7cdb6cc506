from __future__ import annotations

from pathlib import Path

import pytest

from ci_guard.run.artifacts import build_contexts, context_holding, default_artifacts_dir


def test_github_uses_runner_temp(tmp_path: Path) -> None:
    env = {"RUNNER_TEMP": str(tmp_path / "rt")}
    assert default_artifacts_dir("github", env, tmp_path / "w") == tmp_path / "rt" / "ci-guard"


def test_gitlab_uses_the_builds_dir_outside_the_project(tmp_path: Path) -> None:
    env = {"CI_BUILDS_DIR": str(tmp_path / "builds"), "CI_JOB_ID": "9"}
    project = tmp_path / "builds" / "g" / "p"
    assert default_artifacts_dir("gitlab", env, project) == tmp_path / "builds/.ci-guard/9"


def test_jenkins_uses_workspace_tmp(tmp_path: Path) -> None:
    env = {"WORKSPACE": str(tmp_path / "ws")}
    assert default_artifacts_dir("jenkins", env, tmp_path / "ws") == tmp_path / "ws@tmp/ci-guard"
    env["WORKSPACE_TMP"] = str(tmp_path / "wt")
    assert default_artifacts_dir("jenkins", env, tmp_path / "ws") == tmp_path / "wt/ci-guard"


def test_a_candidate_inside_the_working_tree_falls_back_to_a_private_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    env = {"RUNNER_TEMP": str(tmp_path / "w" / "rt")}
    folder = default_artifacts_dir("github", env, tmp_path / "w")
    assert folder.parent == tmp_path / "tmp"
    assert folder.stat().st_mode & 0o777 == 0o700


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "p"
    (project / "svc").mkdir(parents=True)
    (project / "compose.yaml").write_text(
        "services:\n  api:\n    build: ./svc\n  web:\n    build:\n      context: ..\n"
        "  db:\n    image: postgres\n"
    )
    return project


def test_build_contexts_from_cwd_docker_build_and_compose(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert build_contexts(["make"], project) == [project]
    found = build_contexts(["docker", "build", "-t", "x", "-f", "D", "svc"], project)
    assert found == [project, project / "svc"]
    found = build_contexts(["docker", "compose", "build"], project)
    assert [p.resolve() for p in found] == [project, project / "svc", tmp_path]


def test_artifacts_inside_a_context_unless_dockerignored(tmp_path: Path) -> None:
    project = _project(tmp_path)
    argv = ["docker", "compose", "build"]
    assert context_holding(project / ".ci-guard", argv, project) == project
    (project / ".dockerignore").write_text("# logs\n.ci-guard\n")
    # The compose service with context `..` still sends it.
    assert context_holding(project / ".ci-guard", argv, project) == tmp_path / "p" / ".."
    assert context_holding(project / ".ci-guard", ["make"], project) is None
    assert context_holding(tmp_path.parent / "elsewhere", argv, project) is None


def test_a_negated_dockerignore_rule_brings_it_back(tmp_path: Path) -> None:
    project = tmp_path
    (project / ".dockerignore").write_text(".ci-guard\n!.ci-guard\n")
    assert context_holding(project / ".ci-guard", ["make"], project) == project
