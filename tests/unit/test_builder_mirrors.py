"""The builder check after a mirrors reload: which builder a command uses, what the probe
build's answer means, and what follow_builder decides (its parts injected)."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Mapping

import pytest

from ci_guard.docker.builder_probe import (
    FAILED,
    RESOLVED,
    STALLED,
    UNSUPPORTED,
    BuilderProbe,
    classify_message,
    context_tar,
    image_ref,
    probe_dockerfile,
)
from ci_guard.docker.builder_use import BuilderUse, uses_buildkit
from ci_guard.mirrors import builder as bm
from ci_guard.records import RemedyResult

# What dockerd 20.10 streamed for the probe build on the test bed.
MARKER_ERROR = (
    '{"errorDetail":{"message":"failed to solve with frontend dockerfile.v0: failed to create '
    'LLB definition: Invalid containerPort: ci_guard_probe"},"error":"failed to solve with '
    "frontend dockerfile.v0: failed to create LLB definition: Invalid containerPort: "
    'ci_guard_probe"}'
)
IMAGE_ID = '{"id":"moby.image.id","aux":{"ID":"sha256:ae80312fb8af849c83325eec6f3333f690ee63c3"}}'
TRACE = '{"id":"moby.buildkit.trace","aux":"CmkKR3NoYTI1NjoxYz"}'


def test_the_marker_error_means_the_base_image_resolved() -> None:
    assert classify_message(MARKER_ERROR) is not None
    assert classify_message(MARKER_ERROR)[0] == RESOLVED  # type: ignore[index]
    assert classify_message(IMAGE_ID) == (RESOLVED, "the build finished")


def test_other_errors_fail_and_progress_settles_nothing() -> None:
    error = json.dumps({"errorDetail": {"message": "failed to resolve: not found"}})
    assert classify_message(error) == (FAILED, "failed to resolve: not found")
    assert classify_message(TRACE) is None
    assert classify_message("not json") is None
    assert classify_message("[1, 2]") is None


def test_the_probe_context_holds_only_the_dockerfile() -> None:
    with tarfile.open(fileobj=io.BytesIO(context_tar("FROM x\n"))) as tar:
        assert tar.getnames() == ["Dockerfile"]
        member = tar.extractfile("Dockerfile")
        assert member is not None
        assert member.read() == b"FROM x\n"
    ref = image_ref("library/busybox")
    assert probe_dockerfile(ref) == f"FROM {ref}\nEXPOSE ci_guard_probe\n"


@pytest.mark.parametrize(
    ("image", "ref"),
    [
        ("library/busybox", "docker.io/library/busybox:latest"),
        ("busybox", "docker.io/library/busybox:latest"),
        ("node:20-alpine", "docker.io/library/node:20-alpine"),
        ("bitnami/redis", "docker.io/bitnami/redis:latest"),
        ("ghcr.io/org/app:1", "ghcr.io/org/app:1"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
    ],
)
def test_image_refs_are_fully_qualified(image: str, ref: str) -> None:
    assert image_ref(image) == ref


def version(major: int | None) -> object:
    def get(_binary: str, _env: Mapping[str, str]) -> int | None:
        return major

    return get


@pytest.mark.parametrize(
    ("argv", "env", "major", "buildkit"),
    [
        (["docker", "compose", "build"], {}, None, True),
        (["docker", "compose", "build"], {"DOCKER_BUILDKIT": "0"}, None, False),
        (["docker", "--context", "ci", "buildx", "build", "."], {}, None, True),
        (["docker", "build", "."], {"DOCKER_BUILDKIT": "1"}, 20, True),
        (["docker", "build", "."], {"DOCKER_BUILDKIT": "0"}, 28, False),
        (["docker", "build", "."], {}, 20, False),
        (["docker", "image", "build", "."], {}, 24, True),
        (["docker", "build", "."], {}, None, None),
        (["docker", "pull", "alpine"], {}, 28, False),
        (["docker-compose", "build"], {}, 1, False),
        (["docker-compose", "build"], {"COMPOSE_DOCKER_CLI_BUILD": "1", "DOCKER_BUILDKIT": "1"},
         1, True),
        (["docker-compose", "build"], {}, 2, True),
        (["sh", "-c", "make deps && docker compose build --pull"], {}, None, True),
        (["make", "images"], {}, None, None),
    ],
)  # fmt: skip
def test_which_builder_a_command_uses(
    argv: list[str], env: dict[str, str], major: int | None, buildkit: bool | None
) -> None:
    use = uses_buildkit(argv, env, version(major))  # type: ignore[arg-type]
    assert use.buildkit is buildkit, use.why
    assert use.why


class Parts:
    """Injected probe answers, restart and container counts; records the calls."""

    def __init__(self, *answers: str, restart_ok: bool = True, running: int = 0) -> None:
        self.answers = list(answers)
        self.restart_ok = restart_ok
        self.running = running
        self.restarts = 0

    def probe(self) -> BuilderProbe:
        return BuilderProbe(self.answers.pop(0), "docker.io/library/busybox:latest", 0.3, "x")

    def restart(self) -> RemedyResult:
        self.restarts += 1
        return RemedyResult("restart-daemon", self.restart_ok, True, ("relaunched",), "d")

    def check(
        self, buildkit: bool | None = True, *, enabled: bool = True, dry_run: bool = False
    ) -> bm.BuilderCheck:
        return bm.BuilderCheck(
            use=BuilderUse(buildkit, "test"),
            enabled=enabled,
            dry_run=dry_run,
            probe=self.probe,
            restart=self.restart,
            containers=lambda: (False, self.running),
        )


def test_a_stalled_builder_is_restarted_and_verified() -> None:
    parts = Parts(STALLED, RESOLVED)
    result = bm.follow_builder(parts.check())
    assert result.decision == bm.RESTARTED
    assert parts.restarts == 1
    fields = result.as_log_fields()
    assert fields["probe"]["outcome"] == STALLED
    assert fields["verify"]["outcome"] == RESOLVED
    assert fields["verified"] is True
    assert fields["restart"]["ok"] is True
    assert result.ok


def test_a_restart_that_does_not_help_is_not_ok() -> None:
    parts = Parts(STALLED, STALLED)
    result = bm.follow_builder(parts.check())
    assert result.decision == bm.RESTARTED
    assert not result.ok
    assert result.as_log_fields()["verified"] is False
    assert "still stalled" in result.reason


def test_a_builder_that_resolves_is_left_alone() -> None:
    parts = Parts(RESOLVED)
    result = bm.follow_builder(parts.check(None))
    assert result.decision == bm.CURRENT
    assert parts.restarts == 0
    assert result.as_log_fields()["verified"] is None


@pytest.mark.parametrize(
    ("parts", "kwargs", "decision"),
    [
        (Parts(STALLED), {"buildkit": False}, bm.LEGACY),
        (Parts(STALLED), {"dry_run": True}, bm.WOULD),
        (Parts(STALLED), {"enabled": False}, bm.DISABLED),
        (Parts(FAILED, running=2), {}, bm.BLOCKED),
        (Parts(STALLED, restart_ok=False), {}, bm.RESTART_FAILED),
        (Parts(UNSUPPORTED), {}, bm.NO_BUILDKIT),
        (Parts("unreachable"), {}, bm.INCONCLUSIVE),
    ],
)
def test_decisions_without_a_successful_restart(
    parts: Parts, kwargs: dict[str, bool], decision: str
) -> None:
    result = bm.follow_builder(parts.check(**kwargs))  # type: ignore[arg-type]
    assert result.decision == decision, result.reason
    if decision != bm.RESTART_FAILED:
        assert parts.restarts == 0


def test_only_a_sighup_change_needs_the_check() -> None:
    assert bm.reload_reaches_builder("sighup", changed=True, ok=True)
    assert not bm.reload_reaches_builder("restart", changed=True, ok=True)
    assert not bm.reload_reaches_builder("sighup", changed=False, ok=True)
    assert not bm.reload_reaches_builder("sighup", changed=True, ok=False)
