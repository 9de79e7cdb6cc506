"""The hooks factory: platform name -> the RunHooks that write its native output."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from ci_guard.ci.detect import PLATFORMS
from ci_guard.errors import UsageError
from ci_guard.records import NoHooks, RunHooks


def make_hooks(
    platform: str,
    env: Mapping[str, str],
    stdout: TextIO,
    *,
    artifacts_dir: Path | None = None,
) -> RunHooks:
    """Hooks for "github", "gitlab", "jenkins" or "none".

    `artifacts_dir` places the dotenv file (default $CI_GUARD_ARTIFACTS_DIR or .ci-guard);
    outside CI the dotenv file is written only when $CI_GUARD_DOTENV names it.
    """
    # Each platform's module loads only on that platform: outside CI none does.
    if platform == "github":
        from ci_guard.ci.github import GitHubHooks

        return GitHubHooks(env, stdout)
    if platform == "gitlab":
        from ci_guard.ci.gitlab import GitLabHooks

        return GitLabHooks(env, stdout, artifacts_dir=artifacts_dir)
    if platform == "jenkins":
        from ci_guard.ci.jenkins import JenkinsHooks

        return JenkinsHooks(env, stdout, artifacts_dir=artifacts_dir)
    if platform not in PLATFORMS:
        raise UsageError(f"ci: unknown platform {platform!r}")
    from ci_guard.ci.dotenv import DOTENV_ENV, DotenvHooks

    if env.get(DOTENV_ENV, "").strip():
        return DotenvHooks(env, artifacts_dir)
    return NoHooks()
