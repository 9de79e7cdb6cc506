"""run.started's project and CI job link: from the platform's variables, the compose
command, the git work tree or the working directory; masked like every log string."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ci_guard.ci.context import compose_project, job_url, run_context

ROOT = Path(__file__).resolve().parents[2]

GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.example",
    "GITHUB_REPOSITORY": "acme/webshop",
    "GITHUB_RUN_ID": "7001",
    "GITHUB_RUN_ATTEMPT": "2",
}


def test_github_link_names_the_run_and_its_attempt() -> None:
    assert job_url("github", GITHUB) == (
        "https://github.example/acme/webshop/actions/runs/7001/attempts/2"
    )
    no_attempt = {k: v for k, v in GITHUB.items() if k != "GITHUB_RUN_ATTEMPT"}
    no_server = {k: v for k, v in no_attempt.items() if k != "GITHUB_SERVER_URL"}
    assert job_url("github", no_server) == "https://github.com/acme/webshop/actions/runs/7001"
    assert job_url("github", {"GITHUB_REPOSITORY": "acme/webshop"}) is None


def test_gitlab_and_jenkins_links_are_their_own_variables() -> None:
    assert job_url("gitlab", {"CI_JOB_URL": "https://gl.example/a/b/-/jobs/9"}) == (
        "https://gl.example/a/b/-/jobs/9"
    )
    assert job_url("jenkins", {"BUILD_URL": "https://ci.example/job/x/3/"}) == (
        "https://ci.example/job/x/3/"
    )
    assert job_url("none", {"CI_JOB_URL": "https://gl.example/x"}) is None


@pytest.mark.parametrize(
    ("platform", "env", "project", "source"),
    [
        ("github", GITHUB, "acme/webshop", "github"),
        ("gitlab", {"CI_PROJECT_PATH": "acme/pay"}, "acme/pay", "gitlab"),
        ("jenkins", {"JOB_NAME": "shop/main"}, "shop/main", "jenkins"),
        ("none", {"COMPOSE_PROJECT_NAME": "front"}, "front", "compose"),
    ],
)
def test_project_from_the_platform_or_compose(
    platform: str, env: dict[str, str], project: str, source: str, tmp_path: Path
) -> None:
    found = run_context(platform, env, tmp_path, ("make",))
    assert (found.project, found.project_source) == (project, source)


def test_compose_flag_beats_the_variable_and_only_for_compose() -> None:
    env = {"COMPOSE_PROJECT_NAME": "fromenv"}
    assert compose_project(("docker", "compose", "-p", "shop", "build"), env) == "shop"
    assert compose_project(("docker", "compose", "--project-name=shop", "build"), env) == "shop"
    assert compose_project(("docker-compose", "--project-name", "shop", "build"), env) == "shop"
    assert compose_project(("tar", "-p", "x"), env) == "fromenv"


def test_git_work_tree_then_working_directory(tmp_path: Path) -> None:
    repo = tmp_path / "webshop"
    (repo / ".git").mkdir(parents=True)
    (repo / "services" / "api").mkdir(parents=True)
    inside = run_context("none", {}, repo / "services" / "api")
    assert (inside.project, inside.project_source, inside.ci_job_url) == ("webshop", "git", None)
    plain = tmp_path / "plain"
    plain.mkdir()
    if any((folder / ".git").exists() for folder in tmp_path.parents):
        pytest.skip("the temp dir itself lies in a git work tree")
    assert run_context("none", {}, plain).project_source == "workdir"
    assert run_context("none", {}, plain).project == "plain"


def _run_started(tmp_path: Path, env: dict[str, str], *command: str) -> dict[str, object]:
    log = tmp_path / "run.jsonl"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB", "GITLAB", "CI"))}
    clean.pop("JENKINS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "ci_guard", "run", "--no-preflight", "--log-file", str(log),
         "--artifacts-dir", str(tmp_path / "art"), "--", *command],
        cwd=tmp_path, env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    first = json.loads(log.read_text("utf-8").splitlines()[0])
    assert first["event"] == "run.started"
    return dict(first)


def test_the_real_run_logs_project_and_job_link(tmp_path: Path) -> None:
    started = _run_started(tmp_path, GITHUB, "true")
    assert started["project"] == "acme/webshop"
    assert started["project_source"] == "github"
    assert started["ci_job_url"] == (
        "https://github.example/acme/webshop/actions/runs/7001/attempts/2"
    )


def test_a_secret_in_the_job_link_is_masked(tmp_path: Path) -> None:
    jenkins = {
        "JENKINS_URL": "https://ci.example/",
        "JOB_NAME": "shop",
        "BUILD_URL": "https://deploy:hunter2secret@ci.example/job/shop/12/",
    }
    started = _run_started(tmp_path, jenkins, "true")
    assert "hunter2secret" not in json.dumps(started)
    assert str(started["ci_job_url"]).endswith("ci.example/job/shop/12/")
    assert started["project"] == "shop"
