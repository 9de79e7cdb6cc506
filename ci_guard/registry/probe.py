"""Probe one registry or mirror the way dockerd will use it, and judge the answers.

A real mirror answers `GET /v2/` with 200, or 401 plus a WWW-Authenticate challenge,
says `Docker-Distribution-API-Version: registry/2.0`, hands out an anonymous pull token
when it challenges, and serves the manifest of a well-known image. A 200 on /v2/ alone
proves little (allowlists, proxies that 404 every image), so the probe ends with a
manifest HEAD, which also does not count against Docker Hub's pull rate limit and
carries the `ratelimit-*` headers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ci_guard.registry.auth import fetch_token, parse_challenge
from ci_guard.registry.http import HttpAnswer, Opener, describe_error, urllib_opener

HEALTHY = "healthy"
SLOW = "slow"
DEAD = "dead"
MISBEHAVING = "misbehaving"
VERDICT_ORDER = (HEALTHY, SLOW, MISBEHAVING, DEAD)
"""Best first: a slow mirror still serves, a misbehaving one wastes a round trip or more."""

API_VERSION = "registry/2.0"
MANIFEST_ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    )
)


@dataclass(frozen=True)
class RateLimit:
    limit: int | None
    remaining: int | None
    window_s: int | None


@dataclass(frozen=True)
class RegistryProbe:
    url: str
    verdict: str
    reason: str
    """Why the verdict; for a healthy registry a short summary."""
    latency_s: float
    v2_status: int | None = None
    api_version: str | None = None
    auth: str = "none"
    """"none", "bearer" or "basic": what /v2/ asked for."""
    token_ok: bool | None = None
    manifest_status: int | None = None
    digest: str | None = None
    ratelimit: RateLimit | None = None
    server_date: str | None = None
    """The Date header of the /v2/ answer, for clock checks."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def usable(self) -> bool:
        return self.verdict in (HEALTHY, SLOW)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["latency_s"] = round(self.latency_s, 4)
        data["notes"] = list(self.notes)
        return data


def split_image(image: str, reference: str) -> tuple[str, str]:
    """("library/busybox", "latest") from "busybox"; a ":tag" or "@digest" in image wins."""
    name, ref = image, reference
    if "@" in name:
        name, ref = name.split("@", 1)
    elif ":" in name.rsplit("/", 1)[-1]:
        name, ref = name.rsplit(":", 1)
    if "/" not in name:
        name = f"library/{name}"
    return name, ref


def parse_ratelimit(headers: dict[str, str]) -> RateLimit | None:
    """Docker Hub style `ratelimit-limit: 100;w=21600`, `ratelimit-remaining: 76;w=21600`."""
    limit, window = _ratelimit_value(headers.get("ratelimit-limit"))
    remaining, window2 = _ratelimit_value(headers.get("ratelimit-remaining"))
    if limit is None and remaining is None:
        return None
    return RateLimit(limit=limit, remaining=remaining, window_s=window or window2)


def _ratelimit_value(raw: str | None) -> tuple[int | None, int | None]:
    if not raw:
        return None, None
    head, *params = (part.strip() for part in raw.split(";"))
    value = int(head) if head.isdigit() else None
    window = None
    for param in params:
        key, _, val = param.partition("=")
        if key.strip() == "w" and val.strip().isdigit():
            window = int(val.strip())
    return value, window


class _Budget:
    def __init__(self, timeout: float, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.start = clock()
        self.timeout = timeout

    def left(self) -> float:
        return max(0.05, self.timeout - (self.clock() - self.start))

    def elapsed(self) -> float:
        return self.clock() - self.start


@dataclass
class _State:
    url: str
    budget: _Budget
    fields: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def done(self, verdict: str, reason: str) -> RegistryProbe:
        return RegistryProbe(
            url=self.url,
            verdict=verdict,
            reason=reason,
            latency_s=self.budget.elapsed(),
            notes=tuple(self.notes),
            **self.fields,
        )


def probe_registry(
    url: str,
    *,
    timeout: float,
    image: str = "library/busybox",
    reference: str = "latest",
    opener: Opener = urllib_opener,
    slow_after: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RegistryProbe:
    """Probe `url` (scheme://host[:port]) within about `timeout` seconds in total.

    Never raises for a network failure: that is the verdict "dead". A registry whose
    probe took more than `slow_after` seconds (half the timeout by default) is "slow".
    """
    base = url.rstrip("/")
    state = _State(url=base, budget=_Budget(timeout, clock))
    name, ref = split_image(image, reference)
    try:
        return _probe(state, name, ref, opener, slow_after or timeout / 2)
    except OSError as exc:
        return state.done(DEAD, describe_error(exc, timeout))


def _probe(state: _State, name: str, ref: str, opener: Opener, slow_after: float) -> RegistryProbe:
    base = state.url
    v2 = opener("GET", f"{base}/v2/", headers={}, timeout=state.budget.left())
    state.fields.update(
        v2_status=v2.status,
        api_version=v2.header("docker-distribution-api-version"),
        server_date=v2.header("date"),
    )
    verdict = _judge_v2(state, v2)
    if verdict is not None:
        return verdict
    headers = {"Accept": MANIFEST_ACCEPT}
    if v2.status == 401:
        outcome = _authorise(state, v2, name, opener)
        if isinstance(outcome, RegistryProbe):
            return outcome
        headers["Authorization"] = f"Bearer {outcome}"
    manifest = opener(
        "HEAD", f"{base}/v2/{name}/manifests/{ref}", headers=headers, timeout=state.budget.left()
    )
    return _judge_manifest(state, manifest, f"{name}:{ref}", slow_after)


def _judge_v2(state: _State, v2: HttpAnswer) -> RegistryProbe | None:  # noqa: PLR0911
    status = v2.status
    if status >= 500:
        return state.done(DEAD, f"/v2/ answered {status} (server error)")
    if status == 429:
        return state.done(MISBEHAVING, "/v2/ answered 429 (rate limited)")
    if status == 404:
        return state.done(MISBEHAVING, "/v2/ answered 404: not a registry API endpoint")
    if status not in (200, 401):
        return state.done(MISBEHAVING, f"/v2/ answered {status}, expected 200 or 401")
    version = v2.header("docker-distribution-api-version")
    if version is None:
        state.notes.append("no Docker-Distribution-API-Version header on /v2/")
    elif version.strip() != API_VERSION:
        return state.done(
            MISBEHAVING, f"/v2/ says Docker-Distribution-API-Version {version!r}, not {API_VERSION}"
        )
    if status == 401 and parse_challenge(v2.header("www-authenticate")) is None:
        return state.done(MISBEHAVING, "/v2/ answered 401 without a WWW-Authenticate challenge")
    return None


def _authorise(state: _State, v2: HttpAnswer, name: str, opener: Opener) -> str | RegistryProbe:
    challenge = parse_challenge(v2.header("www-authenticate"))
    assert challenge is not None  # checked by _judge_v2
    state.fields["auth"] = challenge.scheme
    if challenge.scheme != "bearer":
        return state.done(
            MISBEHAVING, f"/v2/ asks for {challenge.scheme} credentials: no anonymous pulls"
        )
    try:
        token = fetch_token(
            challenge, f"repository:{name}:pull", opener=opener, timeout=state.budget.left()
        )
    except OSError as exc:
        return state.done(DEAD, f"token server: {describe_error(exc, state.budget.timeout)}")
    state.fields["token_ok"] = token.token is not None
    if token.token is None:
        return state.done(MISBEHAVING, token.reason)
    return token.token


_MANIFEST_FAULTS = {
    401: "needs credentials (401) for the manifest",
    403: "refused the manifest (403): an allowlist or policy",
    404: "does not serve it (404): an allowlist, or not a Docker Hub mirror",
    429: "rate limited (429)",
}


def _judge_manifest(
    state: _State, answer: HttpAnswer, image: str, slow_after: float
) -> RegistryProbe:
    state.fields.update(
        manifest_status=answer.status,
        digest=answer.header("docker-content-digest"),
        ratelimit=parse_ratelimit(answer.headers),
    )
    if answer.status >= 500:
        return state.done(DEAD, f"manifest {image}: server error {answer.status}")
    if answer.status != 200:
        fault = _MANIFEST_FAULTS.get(answer.status, f"answered {answer.status}")
        return state.done(MISBEHAVING, f"manifest {image}: {fault}")
    limit: RateLimit | None = state.fields["ratelimit"]
    if limit is not None and limit.remaining == 0:
        return state.done(MISBEHAVING, f"rate limit exhausted (0 of {limit.limit} pulls left)")
    summary = f"manifest {image} served"
    if limit is not None and limit.remaining is not None:
        summary += f", {limit.remaining} of {limit.limit} pulls left"
    if state.budget.elapsed() > slow_after:
        return state.done(SLOW, f"{summary}, but took {state.budget.elapsed():.2f}s")
    return state.done(HEALTHY, summary)
