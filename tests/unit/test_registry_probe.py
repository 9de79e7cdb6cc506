"""probe_registry against real docker-registry processes, a blackhole and a closed port;
a canned HTTP server only for answers a real registry cannot give."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from ci_guard.registry import probe as probe_mod
from ci_guard.registry.auth import parse_challenge
from ci_guard.registry.http import HttpAnswer
from ci_guard.registry.probe import (
    DEAD,
    HEALTHY,
    MISBEHAVING,
    SLOW,
    parse_ratelimit,
    probe_registry,
    split_image,
)
from tests.unit.test_registry_servers import (
    Registry,
    blackhole,
    canned_http,
    closed_port_url,
    needs_registry,
    push_image,
    registry,
)

V2_OK = {"Docker-Distribution-API-Version": "registry/2.0"}


@pytest.fixture(scope="module")
def plain_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, str]]:
    if not Path("/usr/bin/docker-registry").exists():
        pytest.skip("docker-registry not installed")
    with registry(tmp_path_factory.mktemp("reg")) as reg:
        digest = push_image(reg.url)
        yield reg, digest


@needs_registry
def test_healthy_registry_serves_the_manifest(plain_registry: tuple[Registry, str]) -> None:
    reg, digest = plain_registry
    result = probe_registry(reg.url, timeout=5, image="busybox")
    assert result.verdict == HEALTHY, result.reason
    assert result.v2_status == 200
    assert result.api_version == "registry/2.0"
    assert result.manifest_status == 200
    assert result.digest == digest
    assert result.auth == "none"
    assert result.server_date is not None
    assert result.usable


@needs_registry
def test_missing_image_is_misbehaving(plain_registry: tuple[Registry, str]) -> None:
    reg, _ = plain_registry
    result = probe_registry(reg.url, timeout=5, image="library/alpine", reference="3.19")
    assert result.verdict == MISBEHAVING
    assert result.manifest_status == 404
    assert "library/alpine:3.19" in result.reason
    assert "404" in result.reason


def test_blackholed_port_is_dead_after_the_timeout() -> None:
    with blackhole() as url:
        result = probe_registry(url, timeout=0.5)
    assert result.verdict == DEAD
    assert result.reason == "no answer within 0.5s"
    assert result.v2_status is None


def test_closed_port_is_dead_as_refused() -> None:
    result = probe_registry(closed_port_url(), timeout=2)
    assert result.verdict == DEAD
    assert result.reason == "connection refused"


@needs_registry
def test_htpasswd_registry_needs_credentials(tmp_path: Path) -> None:
    with registry(tmp_path, auth="htpasswd") as reg:
        result = probe_registry(reg.url, timeout=5)
    assert result.verdict == MISBEHAVING
    assert result.v2_status == 401
    assert result.auth == "basic"
    assert "credentials" in result.reason


@needs_registry
def test_bearer_token_flow_against_a_challenging_registry(tmp_path: Path) -> None:
    token = json.dumps({"token": "t0ken"}).encode()
    routes = {"/token": (200, {"Content-Type": "application/json"}, token)}
    with (
        canned_http(routes) as auth,
        registry(tmp_path, auth="silly", token_realm=f"{auth}/token") as reg,
    ):
        push_image(reg.url, auth="Bearer t0ken")
        result = probe_registry(reg.url, timeout=5)
    assert result.verdict == HEALTHY, result.reason
    assert result.v2_status == 401
    assert result.auth == "bearer"
    assert result.token_ok is True
    assert result.manifest_status == 200


@needs_registry
def test_token_server_refusing_anonymous_pulls(tmp_path: Path) -> None:
    with (
        canned_http({"/token": (401, {}, b"{}")}) as auth,
        registry(tmp_path, auth="silly", token_realm=f"{auth}/token") as reg,
    ):
        result = probe_registry(reg.url, timeout=5)
    assert result.verdict == MISBEHAVING
    assert result.token_ok is False
    assert "refused anonymous pull" in result.reason


def _manifest_route(
    status: int, extra: Mapping[str, str] | None = None
) -> dict[str, tuple[int, dict[str, str], bytes]]:
    return {
        "/v2/": (200, V2_OK, b"{}"),
        "/v2/library/busybox/manifests/latest": (status, {**V2_OK, **(extra or {})}, b""),
    }


@pytest.mark.parametrize(
    ("routes", "verdict", "reason"),
    [
        (
            {"/v2/": (200, {"Docker-Distribution-API-Version": "registry/1.0"}, b"")},
            MISBEHAVING,
            "not registry/2.0",
        ),
        ({"/v2/": (401, V2_OK, b"")}, MISBEHAVING, "without a WWW-Authenticate"),
        ({"/v2/": (503, {}, b"")}, DEAD, "503"),
        ({"/v2/": (429, {}, b"")}, MISBEHAVING, "429"),
        ({}, MISBEHAVING, "not a registry"),
        (_manifest_route(403), MISBEHAVING, "403"),
        (_manifest_route(429), MISBEHAVING, "rate limited"),
        (_manifest_route(502), DEAD, "server error 502"),
        (
            _manifest_route(
                200, {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "0;w=21600"}
            ),
            MISBEHAVING,
            "rate limit exhausted (0 of 100",
        ),
        (
            {"/v2/": (401, {"WWW-Authenticate": 'Bearer service="x"', **V2_OK}, b"")},
            MISBEHAVING,
            "realm",
        ),
    ],
)
def test_malformed_answers(
    routes: dict[str, tuple[int, dict[str, str], bytes]], verdict: str, reason: str
) -> None:
    with canned_http(routes) as url:
        result = probe_registry(url, timeout=5)
    assert result.verdict == verdict
    assert reason in result.reason


def test_broken_token_json_is_misbehaving() -> None:
    with canned_http({"/token": (200, {}, b"not json")}) as auth:
        challenge = f'Bearer realm="{auth}/token",service="s"'
        routes = {"/v2/": (401, {**V2_OK, "WWW-Authenticate": challenge}, b"")}
        with canned_http(routes) as url:
            result = probe_registry(url, timeout=5)
    assert result.verdict == MISBEHAVING
    assert "invalid JSON" in result.reason


def test_ratelimit_headroom_is_reported() -> None:
    extra = {
        "ratelimit-limit": "100;w=21600",
        "ratelimit-remaining": "76;w=21600",
        "Docker-Content-Digest": "sha256:abc",
    }
    with canned_http(_manifest_route(200, extra)) as url:
        result = probe_registry(url, timeout=5)
    assert result.verdict == HEALTHY
    assert result.ratelimit is not None
    assert (result.ratelimit.limit, result.ratelimit.remaining) == (100, 76)
    assert result.ratelimit.window_s == 21600
    assert "76 of 100 pulls left" in result.reason
    assert result.as_dict()["ratelimit"]["remaining"] == 76


class _FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_probe_over_half_the_timeout_is_slow() -> None:
    clock = _FakeClock()

    def opener(method: str, url: str, *, headers: Mapping[str, str], timeout: float) -> HttpAnswer:
        clock.now += 1.5
        return HttpAnswer(200, {"docker-distribution-api-version": "registry/2.0"})

    result = probe_registry("https://m.example", timeout=5, opener=opener, clock=clock)
    assert result.verdict == SLOW
    assert "took 3.00s" in result.reason


def test_dns_failure_is_dead_with_a_dns_reason() -> None:
    def opener(method: str, url: str, *, headers: Mapping[str, str], timeout: float) -> HttpAnswer:
        raise socket.gaierror(-2, "Name or service not known")

    result = probe_registry("https://registry-1.docker.io", timeout=5, opener=opener)
    assert result.verdict == DEAD
    assert result.reason.startswith("DNS: name does not resolve")


def test_requests_carry_the_manifest_accept_header_and_token() -> None:
    seen: list[tuple[str, str, dict[str, str]]] = []
    token_body = json.dumps({"access_token": "abc"}).encode()
    challenge = 'Bearer realm="https://auth.example/token",service="reg",scope="x"'

    def opener(method: str, url: str, *, headers: Mapping[str, str], timeout: float) -> HttpAnswer:
        seen.append((method, url, dict(headers)))
        if url.endswith("/v2/"):
            return HttpAnswer(
                401,
                {"www-authenticate": challenge, "docker-distribution-api-version": "registry/2.0"},
            )
        if url.startswith("https://auth.example/token"):
            return HttpAnswer(200, {}, token_body)
        return HttpAnswer(200, {})

    result = probe_registry("https://m.example", timeout=5, opener=opener, image="python:3.11-slim")
    assert result.verdict == HEALTHY
    token_url = seen[1][1]
    assert "scope=repository%3Alibrary%2Fpython%3Apull" in token_url
    assert "service=reg" in token_url
    method, url, headers = seen[2]
    assert (method, url) == ("HEAD", "https://m.example/v2/library/python/manifests/3.11-slim")
    assert headers["Authorization"] == "Bearer abc"
    assert "application/vnd.oci.image.index.v1+json" in headers["Accept"]
    assert "application/vnd.docker.distribution.manifest.list.v2+json" in headers["Accept"]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("busybox", ("library/busybox", "latest")),
        ("library/busybox:1.36", ("library/busybox", "1.36")),
        ("myorg/app@sha256:abc", ("myorg/app", "sha256:abc")),
    ],
)
def test_split_image(image: str, expected: tuple[str, str]) -> None:
    assert split_image(image, "latest") == expected


def test_parse_ratelimit_and_challenge() -> None:
    assert parse_ratelimit({}) is None
    limit = parse_ratelimit({"ratelimit-limit": "200", "ratelimit-remaining": "x"})
    assert limit is not None
    assert (limit.limit, limit.remaining, limit.window_s) == (200, None, None)
    challenge = parse_challenge('Bearer realm="https://a/t",service="registry.docker.io"')
    assert challenge is not None
    assert challenge.scheme == "bearer"
    assert challenge.params == {"realm": "https://a/t", "service": "registry.docker.io"}
    assert parse_challenge("") is None
    assert probe_mod.VERDICT_ORDER[0] == HEALTHY
