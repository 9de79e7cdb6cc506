"""`ci-guard prefetch` against the test bed: real pulls through the mirror."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ci_guard.classify import classify_text
from ci_guard.docker.sdk import open_client
from ci_guard.images.prefetch import FAILED, PRESENT, PULLED, DockerPuller, PullTarget, prefetch
from tests.testbed.bed import TestBed

pytestmark = pytest.mark.docker

GOOD = ("busybox:latest", "alpine:3.19", "hello-world:latest", "nginx:alpine")


def _ci_guard(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ci_guard", *args],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_prefetch_pulls_concurrently_and_does_not_retry_a_missing_image(bed: TestBed) -> None:
    bed.remove_images(list(GOOD))
    missing = f"{bed.mirror.address}/library/no-such-image:1.0"
    targets = [PullTarget(image) for image in (*GOOD, missing)]
    sleeps: list[float] = []

    def puller() -> DockerPuller:
        return DockerPuller(open_client(bed.docker_host), bed.docker_host)

    report = prefetch(
        targets, puller_factory=puller, classify=classify_text, parallel=3, sleep=sleeps.append
    )

    by_image = {o.image: o for o in report.outcomes}
    assert [by_image[image].status for image in GOOD] == [PULLED] * len(GOOD)
    lost = by_image[missing]
    assert lost.status == FAILED
    assert lost.failure_class == "image_not_found"
    assert lost.attempts == 1
    assert sleeps == []  # nothing was retried
    assert not report.ok
    for image in GOOD:
        assert bed.docker("image", "inspect", image, check=False).returncode == 0

    again = prefetch(targets[:2], puller_factory=puller, classify=classify_text)
    assert [o.status for o in again.outcomes] == [PRESENT, PRESENT]


def test_prefetch_command_reads_a_dockerfile_and_reports_json(
    bed: TestBed, docker_env: dict[str, str], tmp_path: Path
) -> None:
    bed.remove_images(["alpine:3.19", "busybox:latest"])
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG BASE=alpine:3.19\nFROM ${BASE} AS build\nRUN true\n"
        "FROM busybox\nCOPY --from=build /etc/hosts /x\nFROM scratch\n"
    )

    done = _ci_guard(docker_env, "prefetch", "--from-dockerfile", str(dockerfile), "--json")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [(i["image"], i["status"]) for i in report["images"]] == [
        ("alpine:3.19", "pulled"),
        ("busybox:latest", "pulled"),
    ]


def test_prefetch_command_exit_codes(bed: TestBed, docker_env: dict[str, str]) -> None:
    missing = f"{bed.mirror.address}/library/absent:2"
    failed = _ci_guard(docker_env, "prefetch", "busybox", missing, "--max-attempts", "3")
    assert failed.returncode == 1
    assert "image_not_found" in failed.stdout
    assert "after 1 attempt(s)" in failed.stdout

    bad = _ci_guard(docker_env, "prefetch", "Not A Ref")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert "bad image reference" in bad.stderr


COMPOSE_V2_PROJECT = """\
services:
  api:
    build:
      context: ./api
      network: host
      target: runtime
      args:
        PY: ${PY_TAG:-3.11-slim}
    image: ci-guard-test/api:dev
    network_mode: none
  worker:
    build:
      context: ./api
      network: host
      target: worker
      additional_contexts:
        tools: docker-image://hello-world:latest
    image: ci-guard-test/worker:dev
    network_mode: none
  web:
    image: nginx:${NGINX_TAG}
    network_mode: none
  debug:
    image: ubuntu:22.04
    profiles: [debug]
"""
API_DOCKERFILE = """\
ARG PY=3.12-slim
FROM python:${PY} AS runtime
RUN true
FROM alpine:3.19 AS worker
COPY --from=tools /bin/busybox /tools-busybox
FROM node:18-alpine AS unused
"""


def test_prefetch_reads_a_compose_v2_project_as_compose_does(
    bed: TestBed, docker_env: dict[str, str], compose_v2: list[str], tmp_path: Path
) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text(API_DOCKERFILE)
    (tmp_path / "compose.yaml").write_text(COMPOSE_V2_PROJECT)
    (tmp_path / ".env").write_text("NGINX_TAG=alpine\n")
    nested = tmp_path / "api"  # found from below, as `docker compose` finds it
    expected = ["python:3.11-slim", "alpine:3.19", "hello-world:latest", "nginx:alpine"]
    bed.remove_images()

    done = _ci_guard(docker_env, "prefetch", "--from-compose", str(nested), "--json")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [(i["image"], i["status"]) for i in report["images"]] == [
        (image, "pulled") for image in expected
    ]
    assert any("service debug" in warning for warning in report["warnings"])
    # Compose v2 itself agrees on the active services and builds the project.
    services = subprocess.run(
        [*compose_v2, "config", "--services"], cwd=nested, env=docker_env,
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert sorted(services.stdout.split()) == ["api", "web", "worker"]
    # Not worker: dockerd 20.10's BuildKit lacks named contexts ("unsupported frontend
    # capability moby.buildkit.frontend.contexts") without a newer frontend image.
    build = subprocess.run(
        [*compose_v2, "--progress", "plain", "build", "api"], cwd=nested, env=docker_env,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout + build.stderr
    profiled = _ci_guard(
        docker_env, "prefetch", "--from-compose", str(tmp_path / "compose.yaml"),
        "--profile", "debug", "--json",
    )  # fmt: skip
    assert profiled.returncode == 0, profiled.stderr
    assert "ubuntu:22.04" in [i["image"] for i in json.loads(profiled.stdout)["images"]]
    bed.remove_images()
