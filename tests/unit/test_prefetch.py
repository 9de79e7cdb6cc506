"""Prefetch logic with a scripted puller: which failures are retried, waits, bounds, CLI input."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ci_guard.classify import classify_text
from ci_guard.cli.prefetch_cmd import collect_targets
from ci_guard.config import resolve
from ci_guard.errors import UsageError
from ci_guard.images.prefetch import (
    FAILED,
    PRESENT,
    PULLED,
    PullError,
    PullTarget,
    RetryPolicy,
    prefetch,
)

NOT_FOUND = "Error response from daemon: manifest for nosuch:1 not found: manifest unknown"
TIMEOUT = (
    'Error response from daemon: Get "https://registry-1.docker.io/v2/": net/http: request '
    "canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)"
)
RATE = (
    "Error response from daemon: toomanyrequests: You have reached your pull rate limit. "
    "You may increase the limit by authenticating and upgrading"
)


class ScriptedPuller:
    """Fails each image with the scripted errors in turn, then succeeds."""

    def __init__(
        self, script: dict[str, list[str]], present: set[str] | None = None, overlap: bool = False
    ) -> None:
        self.overlap = overlap
        self.script = {image: list(errors) for image, errors in script.items()}
        self.present = present or set()
        self.calls: list[str] = []
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()
        self.gate = threading.Event()

    def pull(self, image: str, platform: str | None) -> str:
        with self.lock:
            self.calls.append(image)
            first = len(self.calls) == 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if first and self.overlap:
                self.gate.wait(10)  # the first pull lasts until a second one runs beside it
            else:
                self.gate.set()
            errors = self.script.get(image, [])
            if errors:
                raise PullError(errors.pop(0))
            return PRESENT if image in self.present else PULLED
        finally:
            with self.lock:
                self.active -= 1


def _run(puller: ScriptedPuller, targets: list[str], **kw: object) -> tuple[object, list[float]]:
    sleeps: list[float] = []
    report = prefetch(
        [PullTarget(t) for t in targets],
        puller_factory=lambda: puller,
        classify=classify_text,
        sleep=sleeps.append,
        **kw,  # type: ignore[arg-type]
    )
    return report, sleeps


def test_permanent_failure_is_not_retried() -> None:
    puller = ScriptedPuller({"nosuch:1": [NOT_FOUND, NOT_FOUND]})
    report, sleeps = _run(puller, ["nosuch:1"], policy=RetryPolicy(attempts=5))
    outcome = report.outcomes[0]  # type: ignore[attr-defined]
    assert outcome.status == FAILED
    assert outcome.failure_class == "image_not_found"
    assert outcome.attempts == 1
    assert puller.calls == ["nosuch:1"]
    assert sleeps == []


def test_transient_failure_is_retried_with_growing_capped_waits() -> None:
    puller = ScriptedPuller({"alpine:latest": [TIMEOUT, TIMEOUT, TIMEOUT]})
    policy = RetryPolicy(attempts=4, initial_s=1.0, max_s=3.0)
    report, sleeps = _run(puller, ["alpine:latest"], policy=policy)
    outcome = report.outcomes[0]  # type: ignore[attr-defined]
    assert outcome.status == PULLED
    assert outcome.attempts == 4
    assert len(sleeps) == 3
    assert all(0 < s <= 3.0 for s in sleeps)
    assert sleeps[0] < 3.0


def test_attempts_run_out_on_a_transient_class() -> None:
    puller = ScriptedPuller({"alpine:latest": [TIMEOUT] * 5})
    report, sleeps = _run(puller, ["alpine:latest"], policy=RetryPolicy(attempts=2, initial_s=0.5))
    outcome = report.outcomes[0]  # type: ignore[attr-defined]
    assert outcome.status == FAILED
    assert outcome.failure_class == "registry_timeout"
    assert outcome.attempts == 2
    assert len(sleeps) == 1
    assert not report.ok  # type: ignore[attr-defined]


def test_rate_limit_waits_at_least_the_rate_limit_backoff() -> None:
    puller = ScriptedPuller({"redis:alpine": [RATE]})
    policy = RetryPolicy(attempts=2, initial_s=1.0, max_s=5.0, rate_limit_s=42.0)
    _report, sleeps = _run(puller, ["redis:alpine"], policy=policy)
    assert sleeps == [42.0]


def test_pulls_run_concurrently_within_the_bound_and_keep_order() -> None:
    images = [f"img{i}:latest" for i in range(8)]
    puller = ScriptedPuller({}, present={"img3:latest"}, overlap=True)
    done: list[int] = []
    report, _ = _run(puller, images, parallel=3, on_done=lambda o, n, total: done.append(n))
    assert [o.image for o in report.outcomes] == images  # type: ignore[attr-defined]
    assert 1 < puller.max_active <= 3
    assert sorted(done) == list(range(1, 9))
    statuses = [o.status for o in report.outcomes]  # type: ignore[attr-defined]
    assert statuses.count(PRESENT) == 1
    assert report.as_dict()["pulled"] == 7  # type: ignore[attr-defined]


def test_collect_targets_defaults_validates_and_dedupes(tmp_path: Path) -> None:
    config = resolve({}, env={}).config
    targets, warnings = collect_targets((), (), (), {}, config)
    assert [t.image for t in targets][:2] == ["hello-world:latest", "alpine:latest"]
    assert warnings == []

    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("ARG B\nFROM alpine\nFROM ${B}\n")
    targets, warnings = collect_targets(("alpine",), (dockerfile,), (), {}, config)
    assert [t.image for t in targets] == ["alpine:latest"]
    assert len(warnings) == 1

    with pytest.raises(UsageError, match=r"bad image reference 'Nope' \(from command line\)"):
        collect_targets(("Nope",), (), (), {}, config)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["prefetch", "--from-dockerfile", "/nonexistent/Dockerfile"], "not found"),
        (["prefetch", "UPPER/Case"], "bad image reference"),
        (["prefetch", "--build-arg", "NOVALUE", "alpine"], "bad --build-arg"),
        (["prefetch", "--parallel", "0", "alpine"], "--parallel"),
    ],
)
def test_prefetch_command_bad_input_is_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from ci_guard.cli.main import main

    with pytest.raises(SystemExit) as caught:
        main(argv)
    err = capsys.readouterr().err
    assert caught.value.code == 2
    assert message in err
    assert err.count("\n") == 1
