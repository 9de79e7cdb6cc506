"""Dockerfile FROM lines, image references and compose files -> the images to pull."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_guard.errors import UsageError
from ci_guard.images.compose_refs import read_compose
from ci_guard.images.dockerfile_refs import (
    parse_dockerfile,
    read_dockerfile,
    substitute,
)
from ci_guard.images.image_ref import parse_image_ref


def _images(text: str, **args: str) -> list[tuple[str, str | None]]:
    return [(i.image, i.platform) for i in parse_dockerfile(text, build_args=args).images]


def test_arg_defaults_and_build_args() -> None:
    text = "ARG BASE=python:3.11-slim\nARG TAG\nFROM ${BASE}\nFROM node:${TAG:-18}-alpine\n"
    assert _images(text) == [("python:3.11-slim", None), ("node:18-alpine", None)]
    assert _images(text, BASE="debian:12", TAG="20") == [
        ("debian:12", None),
        ("node:20-alpine", None),
    ]


def test_a_build_arg_needs_its_arg_line() -> None:
    # Docker substitutes only declared ARGs: an undeclared one keeps the default word.
    assert _images("FROM node:${V:-16}\n", V="20") == [("node:16", None)]


def test_stage_aliases_and_scratch_are_not_pulled() -> None:
    text = (
        "FROM golang:1.22 AS build\nRUN go build\n"
        "FROM build AS test\n"
        "FROM scratch\nCOPY --from=build /app /app\n"
        "FROM alpine:3.19\nCOPY --from=0 /x /y\nCOPY --from=nginx:alpine /etc/nginx /etc/nginx\n"
    )
    refs = parse_dockerfile(text)
    assert [i.image for i in refs.images] == ["golang:1.22", "alpine:3.19", "nginx:alpine"]
    assert refs.stages == ["build", "test"]


def test_platform_flag_is_kept_and_buildkit_platforms_mean_native() -> None:
    text = (
        "ARG P=linux/arm64\n"
        "FROM --platform=$P busybox\n"
        "FROM --platform=$BUILDPLATFORM golang AS b\n"
        "FROM --platform=linux/amd64 alpine\n"
    )
    assert _images(text) == [
        ("busybox", "linux/arm64"),
        ("golang", None),
        ("alpine", "linux/amd64"),
    ]


def test_continuations_comments_and_escape_directive() -> None:
    text = (
        "# escape=`\n"
        "FROM `\n"
        "  # a comment inside the continuation\n"
        "  alpine:3.19 `\n"
        "  AS base\n"
        "RUN echo \\\n"
        "from busybox\n"
    )
    refs = parse_dockerfile(text)
    assert [i.image for i in refs.images] == ["alpine:3.19", "busybox"]
    assert refs.images[0].source == "Dockerfile:2"


def test_unresolvable_images_are_reported_not_pulled() -> None:
    refs = parse_dockerfile("ARG BASE\nFROM $BASE\nFROM ${TARGETARCH}/alpine\nFROM busybox\n")
    assert [i.image for i in refs.images] == ["busybox"]
    assert len(refs.unresolved) == 2
    assert "BASE has no default" in refs.unresolved[0]
    assert "TARGETARCH set by BuildKit" in refs.unresolved[1]


def test_duplicates_are_pulled_once() -> None:
    assert _images("FROM alpine\nFROM alpine\nFROM alpine AS x\n") == [("alpine", None)]


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("${A}", {"A": "x"}, "x"),
        ("$A-b", {"A": "x"}, "x-b"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A-d}", {"A": ""}, ""),
        ("${A:+alt}", {"A": "x"}, "alt"),
        ("${A:+alt}", {}, ""),
        ("\\$A", {"A": "x"}, "$A"),
    ],
)
def test_substitution(text: str, values: dict[str, str | None], expected: str) -> None:
    assert substitute(text, values)[0] == expected


@pytest.mark.parametrize(
    ("ref", "normal"),
    [
        ("alpine", "alpine:latest"),
        ("library/alpine:3.19", "library/alpine:3.19"),
        ("localhost:5000/team/app:1.2", "localhost:5000/team/app:1.2"),
        ("ghcr.io/o/r@sha256:" + "a" * 64, "ghcr.io/o/r@sha256:" + "a" * 64),
        ("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest"),
    ],
)
def test_valid_image_references(ref: str, normal: str) -> None:
    assert str(parse_image_ref(ref)) == normal


@pytest.mark.parametrize("ref", ["", "Alpine", "a b", "alpine:", "x::y", "-x", "a/", "a@sha256:1"])
def test_bad_image_references(ref: str) -> None:
    with pytest.raises(UsageError, match="bad image reference"):
        parse_image_ref(ref)


def test_unreadable_dockerfile_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        read_dockerfile(tmp_path / "Dockerfile")
    with pytest.raises(UsageError, match="is a directory"):
        read_dockerfile(tmp_path)


COMPOSE = """\
version: "3.8"  # ignored
x-plat: &plat
  platform: linux/amd64
services:
  web:
    <<: *plat
    build:
      context: ./web
      args:
        - BASE=node:20-alpine
    image: me/web:dev   # the build's output, not pulled
  db:
    image: "postgres:${PG:-15}"
    environment: {A: "1", B: [x, y]}
    command: |
      line one
      line two
  cache:
    image: redis:${REDIS_TAG}-alpine
    ports:
      - "6379:6379"
      - target: 80
        published: 8080
  inline:
    build:
      dockerfile_inline: |
        FROM busybox:1.36
"""


def test_compose_images_and_build_contexts(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text("ARG BASE=node:18\nFROM $BASE\nFROM nginx\n")
    (tmp_path / ".env").write_text("REDIS_TAG=7\n")
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE)

    refs = read_compose(compose, env={})

    assert [(i.image, i.platform) for i in refs.images] == [
        ("node:20-alpine", "linux/amd64"),
        ("nginx", "linux/amd64"),
        ("postgres:15", None),
        ("redis:7-alpine", None),
        ("busybox:1.36", None),
    ]


def test_compose_environment_beats_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("REDIS_TAG=7\n")
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  c:\n    image: redis:${REDIS_TAG}\n")
    assert [i.image for i in read_compose(compose, env={"REDIS_TAG": "6"}).images] == ["redis:6"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("services: [", "not valid YAML at line 1"),
        ("version: 3\n", "no services"),
        ("services:\n\tweb: {}\n", "not valid YAML at line 2"),
        ("services:\n  a:\n    image: *nope\n", "not valid YAML at line 3: found undefined alias"),
    ],
)
def test_bad_compose_files_are_usage_errors(tmp_path: Path, text: str, message: str) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(text)
    with pytest.raises(UsageError, match=message):
        read_compose(compose, env={})


def test_compose_build_context_dockerfile_missing(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  a:\n    build: ./nowhere\n")
    with pytest.raises(UsageError, match="cannot read"):
        read_compose(compose, env={})
