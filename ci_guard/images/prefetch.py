"""Pre-pull images concurrently, retrying only what a retry can fix.

A pull that fails is classified from its error text (the same rules as a build log);
a retryable class is tried again after an exponential, jittered, capped wait (a long
one after rate limiting), a permanent one (image_not_found, auth_denied...) at once
ends that image. Results are values: one PullOutcome per image.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import tenacity

from ci_guard.backoff import exponential_jitter
from ci_guard.failure import Failure, FailureClass
from ci_guard.images.image_ref import parse_image_ref

PULLED = "pulled"
PRESENT = "present"
FAILED = "failed"


@dataclass(frozen=True)
class PullTarget:
    image: str
    platform: str | None = None
    source: str = "command line"


@dataclass(frozen=True)
class PullOutcome:
    image: str
    platform: str | None
    status: str
    """pulled | present (already up to date) | failed."""
    attempts: int
    duration_s: float
    failure_class: str | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "platform": self.platform,
            "status": self.status,
            "attempts": self.attempts,
            "duration_s": round(self.duration_s, 3),
            "failure_class": self.failure_class,
            "detail": self.detail,
        }


@dataclass
class PrefetchReport:
    outcomes: list[PullOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return all(o.status != FAILED for o in self.outcomes)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "pulled": self.count(PULLED),
            "present": self.count(PRESENT),
            "failed": self.count(FAILED),
            "duration_s": round(self.duration_s, 3),
            "images": [o.as_dict() for o in self.outcomes],
            "warnings": list(self.warnings),
        }


class PullError(Exception):
    """A pull failed; `text` is the daemon's message, as the docker CLI would print it."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class Puller(Protocol):
    def pull(self, image: str, platform: str | None) -> str:
        """PULLED or PRESENT; PullError when the pull fails."""
        ...


Classifier = Callable[[str], Failure]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    initial_s: float = 2.0
    max_s: float = 60.0
    rate_limit_s: float = 60.0


class _Retry(Exception):
    def __init__(self, failure: Failure, text: str) -> None:
        super().__init__(text)
        self.failure = failure
        self.text = text


class _Stop(_Retry):
    pass


def _wait(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    exponential = exponential_jitter(policy.initial_s, policy.max_s)

    def wait(state: tenacity.RetryCallState) -> float:
        delay = float(exponential(state))
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retry) and error.failure.failure_class is FailureClass.RATE_LIMITED:
            return max(delay, policy.rate_limit_s)
        return delay

    return wait


def pull_one(
    target: PullTarget,
    puller: Puller,
    classify: Classifier,
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> PullOutcome:
    started = clock()
    tries = 0

    def attempt() -> str:
        nonlocal tries
        tries += 1
        try:
            return puller.pull(target.image, target.platform)
        except PullError as exc:
            failure = classify(exc.text)
            raise (_Retry if failure.retryable else _Stop)(failure, exc.text) from None

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max(1, policy.attempts)),
        wait=_wait(policy),
        retry=tenacity.retry_if_exception(
            lambda e: isinstance(e, _Retry) and not isinstance(e, _Stop)
        ),
        sleep=sleep,
        reraise=True,
    )
    try:
        status = retrying(attempt)
    except _Retry as exc:
        return PullOutcome(
            target.image, target.platform, FAILED, tries, clock() - started,
            exc.failure.failure_class.value, _first_line(exc.text),
        )  # fmt: skip
    return PullOutcome(target.image, target.platform, status, tries, clock() - started)


def prefetch(
    targets: Sequence[PullTarget],
    *,
    puller_factory: Callable[[], Puller],
    classify: Classifier,
    policy: RetryPolicy | None = None,
    parallel: int = 4,
    sleep: Callable[[float], None] = time.sleep,
    on_done: Callable[[PullOutcome, int, int], None] | None = None,
) -> PrefetchReport:
    """Pull every target, at most `parallel` at once; the outcomes keep the targets' order."""
    policy = policy or RetryPolicy()
    started = time.monotonic()
    local = threading.local()
    done_count = 0
    guard = threading.Lock()

    def work(target: PullTarget) -> PullOutcome:
        nonlocal done_count
        if not hasattr(local, "puller"):
            local.puller = puller_factory()  # one client per worker thread
        outcome = pull_one(target, local.puller, classify, policy, sleep=sleep)
        with guard:
            done_count += 1
            if on_done is not None:
                on_done(outcome, done_count, len(targets))
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="pull") as pool:
        outcomes = list(pool.map(work, targets))
    return PrefetchReport(outcomes, duration_s=time.monotonic() - started)


class DockerPuller:
    """Pulls through the Engine API and tells a fresh download from an up-to-date image."""

    def __init__(self, client: Any, host: str) -> None:
        self._client = client
        self._host = host

    def pull(self, image: str, platform: str | None) -> str:
        from ci_guard.docker.sdk import docker_errors

        ref = parse_image_ref(image)
        last = ""
        try:
            events = self._client.api.pull(
                ref.repository, tag=ref.digest or ref.tag or "latest", platform=platform,
                stream=True, decode=True,
            )  # fmt: skip
            for event in events:
                if event.get("error"):
                    raise PullError(f"Error response from daemon: {event['error']}")
                last = str(event.get("status") or last)
        except PullError:
            raise
        except docker_errors() as exc:
            raise PullError(_sdk_error_text(exc, self._host)) from None
        return PRESENT if "up to date" in last else PULLED


def _sdk_error_text(exc: BaseException, host: str) -> str:
    explanation = getattr(exc, "explanation", None)
    if explanation:
        return f"Error response from daemon: {explanation}"
    if type(exc).__name__ in ("ConnectionError", "FileNotFoundError", "ConnectionRefusedError"):
        return f"Cannot connect to the Docker daemon at {host}. Is the docker daemon running?"
    return str(exc)


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else ""
