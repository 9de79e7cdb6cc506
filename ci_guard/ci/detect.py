"""Which CI platform this run is on, from the environment the platform sets."""

from __future__ import annotations

from collections.abc import Mapping

from ci_guard.errors import UsageError

PLATFORMS = ("github", "gitlab", "jenkins", "none")
AUTO = "auto"


def detect_platform(env: Mapping[str, str], forced: str = AUTO) -> str:
    """The platform name: `forced` unless it is "auto", else what the environment says.

    GitHub Actions sets GITHUB_ACTIONS=true, GitLab CI sets GITLAB_CI=true, and Jenkins
    sets JENKINS_URL on every build; anything else is "none".
    """
    choice = (forced or AUTO).strip().lower()
    if choice in PLATFORMS:
        return choice
    if choice != AUTO:
        raise UsageError(f"ci: expected one of auto, {', '.join(PLATFORMS)}, got {forced!r}")
    if env.get("GITHUB_ACTIONS", "").lower() == "true":
        return "github"
    if env.get("GITLAB_CI", "").lower() == "true":
        return "gitlab"
    if env.get("JENKINS_URL", "").strip():
        return "jenkins"
    return "none"
