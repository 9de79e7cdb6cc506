"""The hooks factory: platform name -> the RunHooks that write its native output."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from ci_guard.ci.detect import PLATFORMS
from ci_guard.errors import UsageError
from ci_guard.records import AttemptRecord, NoHooks, RetryRecord, RunHooks, RunRecord


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


HookErrorFn = Callable[[str, Exception], None]


class GuardedHooks:
    """Runs another platform's hooks so that none of them can end or fail the run.

    A step summary, output file or dotenv report that cannot be written is paperwork:
    `on_error(hook, exc)` reports it, and the build's own result stands.
    """

    def __init__(self, inner: RunHooks, on_error: HookErrorFn) -> None:
        self._inner = inner
        self._on_error = on_error

    def _call(self, name: str, *args: Any) -> None:
        try:
            getattr(self._inner, name)(*args)
        except Exception as exc:  # any hook failure is reported, never raised
            self._on_error(name, exc)

    def run_started(self, run: RunRecord) -> None:
        self._call("run_started", run)

    def attempt_started(self, run: RunRecord, attempt: int) -> None:
        self._call("attempt_started", run, attempt)

    def attempt_finished(self, run: RunRecord, record: AttemptRecord) -> None:
        self._call("attempt_finished", run, record)

    def retry_scheduled(self, run: RunRecord, retry: RetryRecord) -> None:
        self._call("retry_scheduled", run, retry)

    def run_finished(self, run: RunRecord) -> None:
        self._call("run_finished", run)
