"""Where a run came from: its project and the link to its CI job, for `run.started`.

`ci-guard report` lists runs from many jobs and repositories; a run id alone does not
say which build it was. Both values come from the environment the CI platform sets and
from the working directory, never from a network call or a subprocess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

COMPOSE_PROJECT_FLAGS = ("-p", "--project-name")


@dataclass(frozen=True)
class RunContext:
    project: str
    """The CI repository or job, else the compose project, else the git work tree's or
    the working directory's name."""
    project_source: str
    """Where `project` came from: github, gitlab, jenkins, compose, git or workdir."""
    ci_job_url: str | None
    """The link to the CI job or run, None outside CI (or when the platform did not say)."""


def job_url(platform: str, env: Mapping[str, str]) -> str | None:
    """The job's page: GitHub's run (and attempt), GitLab's CI_JOB_URL, Jenkins' BUILD_URL."""
    if platform == "github":
        return _github_url(env)
    if platform == "gitlab":
        return env.get("CI_JOB_URL") or None
    if platform == "jenkins":
        return env.get("BUILD_URL") or None
    return None


def _github_url(env: Mapping[str, str]) -> str | None:
    repo, run_id = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
    if not (repo and run_id):
        return None
    server = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    url = f"{server}/{repo}/actions/runs/{run_id}"
    attempt = env.get("GITHUB_RUN_ATTEMPT", "")
    return f"{url}/attempts/{attempt}" if attempt.isdigit() else url


def _ci_project(platform: str, env: Mapping[str, str]) -> str:
    names = {"github": "GITHUB_REPOSITORY", "gitlab": "CI_PROJECT_PATH", "jenkins": "JOB_NAME"}
    key = names.get(platform)
    return env.get(key, "").strip() if key else ""


def compose_project(command: Sequence[str], env: Mapping[str, str]) -> str:
    """`docker compose -p NAME` / `--project-name[=]NAME`, else COMPOSE_PROJECT_NAME."""
    if "compose" in command or any(part.endswith("docker-compose") for part in command[:1]):
        for index, part in enumerate(command):
            if part in COMPOSE_PROJECT_FLAGS and index + 1 < len(command):
                return command[index + 1]
            if part.startswith("--project-name="):
                return part.split("=", 1)[1]
    return env.get("COMPOSE_PROJECT_NAME", "").strip()


def git_top(cwd: Path) -> Path | None:
    """The work tree holding `cwd` (a `.git` folder or file), by walking up."""
    for folder in (cwd, *cwd.parents):
        try:
            if (folder / ".git").exists():
                return folder
        except OSError:  # an unreadable parent ends the search, not the run
            return None
    return None


def run_context(
    platform: str, env: Mapping[str, str], cwd: Path, command: Sequence[str] = ()
) -> RunContext:
    url = job_url(platform, env)
    ci_name = _ci_project(platform, env)
    if ci_name:
        return RunContext(ci_name, platform, url)
    compose = compose_project(command, env)
    if compose:
        return RunContext(compose, "compose", url)
    top = git_top(cwd)
    if top is not None and top.name:
        return RunContext(top.name, "git", url)
    return RunContext(cwd.name or str(cwd), "workdir", url)
