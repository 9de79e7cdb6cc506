"""Platform detection and the hooks factory."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ci_guard.ci import detect_platform, make_hooks
from ci_guard.ci.dotenv import DotenvHooks
from ci_guard.ci.github import GitHubHooks
from ci_guard.ci.gitlab import GitLabHooks
from ci_guard.ci.jenkins import JenkinsHooks
from ci_guard.errors import UsageError
from ci_guard.records import NoHooks
from tests.ci_records import TIMEOUT_FAILURE, attempt, finish, new_run, retry


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"GITHUB_ACTIONS": "true"}, "github"),
        ({"GITLAB_CI": "true"}, "gitlab"),
        ({"JENKINS_URL": "http://jenkins.example/"}, "jenkins"),
        ({"JENKINS_URL": ""}, "none"),
        ({"GITHUB_ACTIONS": "false"}, "none"),
        ({"CI": "true"}, "none"),
        ({}, "none"),
        ({"GITHUB_ACTIONS": "true", "GITLAB_CI": "true"}, "github"),
    ],
)
def test_auto_detection(env: dict[str, str], expected: str) -> None:
    assert detect_platform(env) == expected
    assert detect_platform(env, "auto") == expected


@pytest.mark.parametrize("forced", ["github", "gitlab", "jenkins", "none", "GitHub"])
def test_forced_platform_wins(forced: str) -> None:
    assert detect_platform({"GITLAB_CI": "true"}, forced) == forced.lower()


def test_bad_platform_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="expected one of auto, github"):
        detect_platform({}, "travis")
    with pytest.raises(UsageError, match="unknown platform"):
        make_hooks("travis", env={}, stdout=io.StringIO())


def test_factory_types(tmp_path: Path) -> None:
    out = io.StringIO()
    assert isinstance(make_hooks("github", env={}, stdout=out), GitHubHooks)
    assert isinstance(make_hooks("gitlab", env={}, stdout=out), GitLabHooks)
    assert isinstance(make_hooks("jenkins", env={}, stdout=out), JenkinsHooks)
    assert isinstance(make_hooks("none", env={}, stdout=out), NoHooks)
    dotenv_only = make_hooks("none", env={"CI_GUARD_DOTENV": str(tmp_path / "x.env")}, stdout=out)
    assert isinstance(dotenv_only, DotenvHooks)
    gitlab = make_hooks("gitlab", env={}, stdout=out, artifacts_dir=tmp_path)
    assert isinstance(gitlab, GitLabHooks)
    assert gitlab.path == tmp_path / "ci-guard.env"


def test_jenkins_hooks_mark_attempts_and_write_dotenv(tmp_path: Path) -> None:
    out = io.StringIO()
    hooks = make_hooks("jenkins", env={}, stdout=out, artifacts_dir=tmp_path)
    run = new_run()
    hooks.attempt_started(run, 1)
    out.write("child")
    run.attempts.append(attempt(1, TIMEOUT_FAILURE))
    hooks.attempt_finished(run, run.attempts[-1])
    run.retries.append(retry(1))
    hooks.retry_scheduled(run, run.retries[-1])
    hooks.attempt_started(run, 2)
    run.attempts.append(attempt(2, None))
    hooks.attempt_finished(run, run.attempts[-1])
    hooks.run_finished(finish(run))
    log = out.getvalue()
    assert "----- ci-guard attempt 1/3: docker compose build -----\nchild\n" in log
    assert "----- ci-guard attempt 1: failed: registry_timeout (exit 1) -----" in log
    assert "----- ci-guard attempt 2: passed -----" in log
    assert (tmp_path / "ci-guard.env").read_text("utf-8").startswith("CI_GUARD_ATTEMPTS=2\n")
