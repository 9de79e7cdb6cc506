"""Root cause from the daemon's log when the client shows only the last fallback.

dockerd tries each registry mirror, then Docker Hub. When every mirror fails, the
client prints only Hub's failure (its name does not resolve, its network is
unreachable, it times out): a mirror's reset, 503, 429 or unknown tag all come out as
`dns_failure` or `connection_failure`. After such a failure (MASKED classes), the
daemon's lines about the endpoints it gave up on (`Attempting next endpoint for pull
after error: ...`) are classified with the same rules; when they name a class, it
wins, with the daemon's lines as evidence, marked `[dockerd] `.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

from ci_guard.failure import Failure, FailureClass

MASKED = frozenset(
    {FailureClass.DNS_FAILURE, FailureClass.CONNECTION_FAILURE, FailureClass.REGISTRY_TIMEOUT}
)
"""Classes that Docker Hub's failure after the mirrors failed comes out as."""
DAEMON_PREFIX = "[dockerd] "
ENDPOINT_MARKERS = (
    "attempting next endpoint for pull",
    "not continuing with pull",
    "error trying v2 registry",
)
"""Daemon messages about a pull endpoint that failed."""
LAST_FALLBACK = ("registry-1.docker.io", "index.docker.io", "auth.docker.io")
"""Docker Hub itself: its failure is what the client already shows."""
MAX_EVIDENCE = 5

Classify = Callable[[int, "int | None", bool, Iterable[str]], "Failure | None"]


def masks_a_mirror(failure: Failure) -> bool:
    """A masked class whose evidence is Docker Hub's own failure: mirrors came first.

    Mirrors serve Docker Hub images only; a failure naming another registry is that
    registry's own (its https-then-http fallback must not count as a mirror)."""
    if failure.failure_class not in MASKED:
        return False
    text = " ".join(failure.evidence).lower()
    return any(hub in text for hub in LAST_FALLBACK)


def endpoint_lines(lines: Sequence[str]) -> list[str]:
    """The daemon's messages about mirrors that failed before the last fallback."""
    found = []
    for line in lines:
        lowered = line.lower()
        if any(m in lowered for m in ENDPOINT_MARKERS) and not any(
            hub in lowered for hub in LAST_FALLBACK
        ):
            found.append(line)
    return found


def root_cause(failure: Failure, lines: Sequence[str], origin: str, classify: Classify) -> Failure:
    """The failure, with the daemon's root cause (and lines) when the log shows one."""
    endpoints = endpoint_lines(lines)
    if not masks_a_mirror(failure) or not endpoints:
        return failure
    found = classify(1, None, False, endpoints)
    if found is None or found.failure_class is FailureClass.UNKNOWN:
        marked = tuple(DAEMON_PREFIX + line for line in endpoints[-2:])
        return dataclasses.replace(
            failure, evidence=(*failure.evidence, *marked)[:MAX_EVIDENCE], daemon_log=origin
        )
    marked = tuple(DAEMON_PREFIX + line for line in found.evidence)
    return Failure(
        failure_class=found.failure_class,
        retryable=found.retryable,
        rule=found.rule,
        evidence=(*marked, *failure.evidence)[:MAX_EVIDENCE],
        why=f"{found.why} (seen in the daemon's log: the client showed only the last fallback,"
        f" {failure.failure_class.value})",
        daemon_log=origin,
    )
