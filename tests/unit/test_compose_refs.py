"""Compose v2 projects as users write them -> the images prefetch pulls."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_guard.errors import UsageError
from ci_guard.images.compose_project import DEFAULT_FILES, find_compose_files, interpolate
from ci_guard.images.compose_refs import read_compose

# A typical Compose v2 project: no `version:`, profiles, build args, a target, named
# contexts, images of built services that name the build's output.
COMPOSE_YAML = """\
name: shop
x-build: &build
  network: host
  args:
    PY_VERSION: ${PY_VERSION:-3.12}
services:
  api:
    build:
      <<: *build
      context: ./api
      target: runtime
    image: registry.example.com/shop/api:${TAG:-dev}
    depends_on: [db]
  worker:
    build:
      context: ./api
      dockerfile: Dockerfile
      target: worker
      additional_contexts:
        toolbox: docker-image://${TOOLBOX_IMAGE:-busybox:1.36}
        assets: ./assets
    image: registry.example.com/shop/worker:${TAG:-dev}
  db:
    image: postgres:${PG_MAJOR:?set PG_MAJOR in .env}-alpine
  debug:
    image: nicolaka/netshoot:v0.13
    profiles: [debug]
  docs:
    build: ./docs
    profiles: ["docs", "ci"]
"""

API_DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG PY_VERSION=3.10
FROM python:${PY_VERSION}-slim AS base
RUN pip install uv

FROM base AS deps
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv

FROM node:22-alpine AS frontend
RUN npm ci

FROM deps AS runtime
COPY --from=frontend /dist /app/static

FROM base AS worker
COPY --from=toolbox /bin/busybox /bin/busybox
COPY --from=assets / /assets

FROM golang:1.23 AS never-built
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text(API_DOCKERFILE)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "Dockerfile").write_text("FROM squidfunk/mkdocs-material:9\n")
    (tmp_path / "compose.yaml").write_text(COMPOSE_YAML)
    (tmp_path / ".env").write_text("# local settings\nPG_MAJOR=16\nTAG='1.2'\n")
    return tmp_path


def _images(
    path: Path, env: dict[str, str] | None = None, profiles: tuple[str, ...] = ()
) -> list[str]:
    refs = read_compose(path, env={} if env is None else env, profiles=profiles)
    return [i.image for i in refs.images]


def test_a_compose_v2_project_pulls_base_images_not_build_outputs(project: Path) -> None:
    images = _images(project)
    assert images == [
        # api, target runtime: runtime <- deps <- base, and COPY --from=frontend.
        "python:3.12-slim",
        "ghcr.io/astral-sh/uv:0.5",
        "node:22-alpine",
        # worker, target worker: base (no build args: the Dockerfile's default
        # PY_VERSION), and the docker-image:// context toolbox.
        "python:3.10-slim",
        "busybox:1.36",
        "postgres:16-alpine",
    ]
    assert not any("registry.example.com" in image for image in images)
    assert "golang:1.23" not in images  # a stage no target needs


def test_inactive_profiles_are_skipped_and_said(project: Path) -> None:
    refs = read_compose(project, env={})
    assert "nicolaka/netshoot:v0.13" not in [i.image for i in refs.images]
    assert any("service debug" in note and "debug" in note for note in refs.unresolved)
    assert any("service docs" in note for note in refs.unresolved)


def test_profiles_from_the_option_and_from_compose_profiles(project: Path) -> None:
    assert "nicolaka/netshoot:v0.13" in _images(project, profiles=("debug",))
    with_ci = _images(project, env={"COMPOSE_PROFILES": "ci,other"})
    assert "squidfunk/mkdocs-material:9" in with_ci
    assert "nicolaka/netshoot:v0.13" not in with_ci
    everything = _images(project, env={"COMPOSE_PROFILES": "*"})
    assert {"nicolaka/netshoot:v0.13", "squidfunk/mkdocs-material:9"} <= set(everything)


def test_environment_beats_dotenv_and_build_args_reach_from(project: Path) -> None:
    env = {"PY_VERSION": "3.13", "PG_MAJOR": "17", "TOOLBOX_IMAGE": "alpine:3.20"}
    images = _images(project, env=env)
    assert images[0] == "python:3.13-slim"
    assert "postgres:17-alpine" in images
    assert "alpine:3.20" in images
    assert "busybox:1.36" not in images


def test_a_required_variable_unset_is_a_usage_error(project: Path) -> None:
    (project / ".env").unlink()
    with pytest.raises(UsageError, match=r"PG_MAJOR: set PG_MAJOR in \.env"):
        read_compose(project, env={})


def test_a_target_that_is_no_stage_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine AS base\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    build: {context: ., target: prod}\n"
    )
    with pytest.raises(UsageError, match="build target 'prod' is not a stage"):
        read_compose(tmp_path, env={})


@pytest.mark.parametrize(
    ("present", "chosen"),
    [
        (["compose.yaml", "compose.yml", "docker-compose.yml"], "compose.yaml"),
        (["compose.yml", "docker-compose.yaml", "docker-compose.yml"], "compose.yml"),
        (["docker-compose.yaml", "docker-compose.yml"], "docker-compose.yml"),
        (["docker-compose.yaml"], "docker-compose.yaml"),
    ],
)
def test_discovery_order_is_compose_v2s(tmp_path: Path, present: list[str], chosen: str) -> None:
    for name in present:
        (tmp_path / name).write_text(f"services:\n  a:\n    image: from-{name}\n")
    assert find_compose_files(tmp_path, {}) == [tmp_path / chosen]
    assert _images(tmp_path) == [f"from-{chosen}"]


def test_discovery_walks_up_and_merges_the_override(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: nginx:1.27\n  cache:\n    image: redis:7\n"
    )
    (tmp_path / "compose.override.yml").write_text(
        "services:\n  web:\n    image: nginx:1.27-alpine\n  extra:\n    image: memcached:1.6\n"
    )
    nested = tmp_path / "src" / "app"
    nested.mkdir(parents=True)
    files = find_compose_files(nested, {})
    assert files == [tmp_path / "compose.yaml", tmp_path / "compose.override.yml"]
    assert _images(nested) == ["nginx:1.27-alpine", "redis:7", "memcached:1.6"]


def test_compose_file_variable_lists_the_files(tmp_path: Path) -> None:
    (tmp_path / "base.yml").write_text("services:\n  a:\n    image: alpine:3.19\n")
    (tmp_path / "ci.yml").write_text("services:\n  a:\n    image: alpine:3.20\n")
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: ignored\n")
    env = {"COMPOSE_FILE": "base.yml:ci.yml"}
    assert find_compose_files(tmp_path, env) == [tmp_path / "base.yml", tmp_path / "ci.yml"]
    assert _images(tmp_path, env=env) == ["alpine:3.20"]


def test_no_compose_file_is_a_usage_error(tmp_path: Path) -> None:
    # Discovery walks up: a compose file above the temporary directory would be found.
    for parent in tmp_path.resolve().parents:
        for name in DEFAULT_FILES:
            if (parent / name).exists():
                pytest.skip(f"{parent / name} exists above the test directory")
    with pytest.raises(UsageError, match="no compose file"):
        read_compose(tmp_path, env={})


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("${A}", {"A": "1"}, "1"),
        ("$A-x", {"A": "1"}, "1-x"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A-d}", {"A": ""}, ""),
        ("${A:+alt}", {"A": "1"}, "alt"),
        ("${A:+alt}", {}, ""),
        ("${A:-${B:-deep}}", {}, "deep"),
        ("$${A} costs $$5", {"A": "1"}, "${A} costs $5"),
        ("${UNSET}", {}, ""),
    ],
)
def test_interpolation(text: str, values: dict[str, str], expected: str) -> None:
    assert interpolate(text, values, "here") == expected


@pytest.mark.parametrize("text", ["${A", "${1A}", "${A!}"])
def test_bad_interpolation_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="here"):
        interpolate(text, {}, "here")


def test_args_without_value_come_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("ARG BASE=debian:12\nARG OTHER=x\nFROM ${BASE}\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    build:\n      context: .\n      args: [BASE]\n"
    )
    assert _images(tmp_path, env={"BASE": "ubuntu:24.04"}) == ["ubuntu:24.04"]
    assert _images(tmp_path, env={}) == ["debian:12"]  # unset: the Dockerfile's default


def test_a_named_context_replaces_a_from_line(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM base\nCOPY --from=tools /x /x\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    build:\n      context: .\n      additional_contexts:\n"
        "        - base=docker-image://alpine:3.20\n        - tools=service:toolbox\n"
    )
    refs = read_compose(tmp_path, env={})
    assert [i.image for i in refs.images] == ["alpine:3.20"]
    assert "context base" in refs.images[0].source


def test_include_and_extends_are_warned_about(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "include: [other/compose.yaml]\nservices:\n  a:\n    extends: {file: b.yml, service: b}\n"
        "    image: alpine\n"
    )
    refs = read_compose(tmp_path / "compose.yaml", env={})
    assert [i.image for i in refs.images] == ["alpine"]
    assert any("include:" in note for note in refs.unresolved)
    assert any("extends:" in note for note in refs.unresolved)
