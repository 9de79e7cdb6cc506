"""Ask the mirrors directly when the daemon's log cannot be read.

After a masked network failure (see daemon_evidence.py) with no daemon log, each
configured registry mirror gets the probe dockerd would need: `GET /v2/`, a token if
challenged, and a manifest HEAD for the image(s) the build named (from `load
metadata for`, `Pulling from`, pull error lines, or `docker pull IMAGE`). Their
answers name the class: a 404 for the manifest on every mirror is `image_not_found`,
a 429 `rate_limited`, a 5xx `registry_unavailable`, a timeout `registry_timeout`, a
reset or refusal `connection_failure`. Probes run in parallel within PROBE_BUDGET_S.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ci_guard.failure import Failure, FailureClass, class_table
from ci_guard.registry.probe import RegistryProbe, probe_registry, split_image

PROBE_BUDGET_S = 3.0
MAX_IMAGES = 3
MAX_MIRRORS = 5
MIRROR_PREFIX = "[mirror {url}] "
ORIGIN = "mirror-probe"
TIMEOUT_REASON = "no answer within"
"""How the probe (registry/http.py describe_error) words a timeout."""

_IMAGE_PATTERNS = (
    re.compile(r"load metadata for (\S+)"),
    re.compile(r"(\S+): Pulling from (\S+)"),
    re.compile(r"pull access denied for ([^,\s]+)"),
    re.compile(r"manifest for (\S+) not found"),
    re.compile(r"failed to resolve source metadata for (\S+?):? "),
)
_HUB_PREFIXES = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")

Probe = Callable[..., RegistryProbe]


@dataclass(frozen=True)
class MirrorAnswer:
    url: str
    image: str
    failure_class: FailureClass | None
    """None: the mirror served the image (it is not the cause)."""
    reason: str


def _hub_image(raw: str) -> str | None:
    """The Docker Hub repository:tag of a reference, or None for another registry."""
    ref = raw.strip("\"'`,")
    for prefix in _HUB_PREFIXES:
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    first = ref.split("/", 1)[0]
    if "/" in ref and ("." in first or ":" in first or first == "localhost"):
        return None  # another registry: mirrors do not serve it
    return ref


def images_named(lines: Iterable[str], argv: Sequence[str] = ()) -> list[str]:
    """Docker Hub images the output (or a `docker pull IMAGE` command) names."""
    found: list[str] = []
    for line in lines:
        for pattern in _IMAGE_PATTERNS:
            for match in pattern.finditer(line):
                raw = match.group(2) + ":" + match.group(1) if pattern.groups == 2 else match[1]
                image = _hub_image(raw)
                if image and image not in found:
                    found.append(image)
    if "pull" in argv:
        after = [arg for arg in argv[argv.index("pull") + 1 :] if not arg.startswith("-")]
        image = _hub_image(after[0]) if after else None
        if image and image not in found:
            found.append(image)
    return found[:MAX_IMAGES]


def class_of(probe: RegistryProbe) -> FailureClass | None:
    """What one mirror's answers say broke (None: it served the manifest)."""
    statuses = [s for s in (probe.manifest_status, probe.v2_status) if s is not None]
    if 429 in statuses:
        return FailureClass.RATE_LIMITED
    if any(status >= 500 for status in statuses):
        return FailureClass.REGISTRY_UNAVAILABLE
    if probe.manifest_status == 404:
        return FailureClass.IMAGE_NOT_FOUND
    if probe.manifest_status == 200:
        return None
    reason = probe.reason.lower()
    if reason.startswith(TIMEOUT_REASON) or "timed out" in reason or "timeout" in reason:
        return FailureClass.REGISTRY_TIMEOUT
    return FailureClass.CONNECTION_FAILURE if probe.verdict == "dead" else None


def ask(
    mirrors: Sequence[str], images: Sequence[str], *, probe: Probe = probe_registry
) -> list[MirrorAnswer]:
    """Every (mirror, image) answer, probed in parallel within about PROBE_BUDGET_S."""
    pairs = [(url, image) for url in mirrors[:MAX_MIRRORS] for image in images]
    if not pairs:
        return []

    def one(pair: tuple[str, str]) -> MirrorAnswer:
        url, image = pair
        name, ref = split_image(image, "latest")
        result = probe(url, timeout=PROBE_BUDGET_S, image=name, reference=ref)
        return MirrorAnswer(url, f"{name}:{ref}", class_of(result), result.reason)

    with ThreadPoolExecutor(max_workers=min(8, len(pairs))) as pool:
        return list(pool.map(one, pairs))


def root_cause(failure: Failure, answers: Sequence[MirrorAnswer]) -> Failure:
    """The mirrors' own answer when they all failed; image_not_found only if all said 404."""
    failed = [a for a in answers if a.failure_class is not None]
    if not failed or len(failed) < len(answers):
        return failure  # a mirror serves the image: the answers explain nothing
    classes = {a.failure_class for a in failed}
    if FailureClass.IMAGE_NOT_FOUND in classes and len(classes) > 1:
        failed = [a for a in failed if a.failure_class is not FailureClass.IMAGE_NOT_FOUND]
    chosen = failed[0].failure_class
    assert chosen is not None
    evidence = tuple(MIRROR_PREFIX.format(url=a.url) + f"{a.image}: {a.reason}" for a in failed)
    return Failure(
        failure_class=chosen,
        retryable=class_table()[chosen].retryable,
        rule="mirror-answers",
        evidence=(*evidence, *failure.evidence)[:5],
        why=f"The registry mirrors, asked directly, answered so (the client showed only the"
        f" last fallback, {failure.failure_class.value}).",
        daemon_log=ORIGIN,
    )
