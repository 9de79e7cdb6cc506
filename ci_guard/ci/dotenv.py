"""The run's outputs as a dotenv file (KEY=VALUE lines), for GitLab and Jenkins.

GitLab reads it as an `artifacts:reports:dotenv` report and passes the variables to
later jobs; the Jenkins step reads it back. Path: $CI_GUARD_DOTENV, else
`<artifacts-dir>/ci-guard.env`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from ci_guard.atomic import atomic_write_text
from ci_guard.ci import common
from ci_guard.records import NoHooks, RunRecord

DOTENV_ENV = "CI_GUARD_DOTENV"
DOTENV_NAME = "ci-guard.env"
KEYS = {
    "attempts": "CI_GUARD_ATTEMPTS",
    "exit-code": "CI_GUARD_EXIT_CODE",
    "failure-class": "CI_GUARD_FAILURE_CLASS",
    "stop-reason": "CI_GUARD_STOP_REASON",
    "log-file": "CI_GUARD_LOG_FILE",
}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def dotenv_path(env: Mapping[str, str], artifacts_dir: Path | None = None) -> Path:
    given = env.get(DOTENV_ENV, "").strip()
    if given:
        return Path(given)
    return common.artifacts_dir(env, artifacts_dir) / DOTENV_NAME


def render_dotenv(run: RunRecord) -> str:
    """KEY=VALUE lines, unquoted, one line each: dotenv reports take no multiline values."""
    lines = []
    for name, value in common.run_outputs(run).items():
        lines.append(f"{KEYS[name]}={_UNSAFE.sub(' ', value).strip()}")
    return "\n".join(lines) + "\n"


class DotenvHooks(NoHooks):
    """Writes the dotenv file when the run ends; the base of the GitLab and Jenkins hooks."""

    def __init__(self, env: Mapping[str, str], artifacts_dir: Path | None = None) -> None:
        self.env = env
        self.path = dotenv_path(env, artifacts_dir)

    def run_finished(self, run: RunRecord) -> None:
        atomic_write_text(self.path, render_dotenv(run), mode=0o644, make_folder=True)
