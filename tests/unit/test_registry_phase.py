"""The registry phase tracker, fed real output captured on the test bed (dockerd 20.10)."""

from __future__ import annotations

import random

import pytest

from ci_guard.run.registry_phase import PhaseTracker
from tests.unit.test_classify_corpus import MESSAGES

STALL = 30.0

# docker build with the legacy builder, base image not local (captured on the test bed).
LEGACY_PULL = """\
Sending build context to Docker daemon  2.048kB

Step 1/2 : FROM busybox:latest
latest: Pulling from library/busybox
51616aa67071: Pulling fs layer
51616aa67071: Verifying Checksum
51616aa67071: Download complete
51616aa67071: Pull complete
Digest: sha256:e82ad1b27942d06db44f29093690cc0d1a57f7714ab01bbb248d40ca53662fc3
Status: Downloaded newer image for busybox:latest
 ---> da409ef12382
Step 2/2 : RUN sleep 1 && echo hi
 ---> Running in 15553cde7083
"""

# DOCKER_BUILDKIT=1 docker build (plain progress), up to a RUN step that prints nothing.
BUILDKIT_RUN = """\
#1 [internal] load build definition from Dockerfile
#1 sha256:e7cec675b2812e1918a9319a7871d5b6b99244d2ff23684b1aecd138efc94cb4
#1 transferring dockerfile: 80B done
#1 DONE 0.0s

#3 [internal] load metadata for docker.io/library/busybox:latest
#3 sha256:da853382a7535e068feae4d80bdd0ad2567df3d5cd484fd68f919294d091b053
#3 DONE 0.1s

#4 [1/2] FROM docker.io/library/busybox:latest@sha256:e82ad1b27942d06db44f29093690cc0d1a57f7714ab01bbb248d40ca53662fc3
#4 sha256:63e476d8c7f2d73da1b144ee1d38e8f0f2227a14d27dc98b5e8a571f36c1c66e
#4 resolve docker.io/library/busybox:latest@sha256:e82ad1b27942d06db44f29093690cc0d1a57f7714ab01bbb248d40ca53662fc3 done
#4 DONE 0.0s

#5 [2/2] RUN sleep 40
#5 sha256:c177df0d7d840cbe9fbc4e615eaeb13185cbc13598cb14fb7f05b3e8807101ac
"""  # noqa: E501


# DOCKER_BUILDKIT=1 docker build through a mirror sending 60 kB/s, with the times seen.
CONFIG = "sha256:b24916034d537b9ed4985e67bcb25f7ab84cd7e301199b6550816e983d52e0c7"
LAYER = "sha256:51616aa670713c89fb86c66c07a3be904587421048ad5fa14583f619a3954dc4"
SLOW_LAYER = [
    (0.7, f"#5 [1/2] FROM docker.io/library/busybox:latest@{CONFIG}"),
    (0.8, f"#5 {CONFIG} 527B / 527B done"),
    (0.8, f"#5 {LAYER} 0B / 1.07MB 0.1s"),
    (5.9, f"#5 {LAYER} 0B / 1.07MB 5.2s"),
    (11.0, f"#5 {LAYER} 0B / 1.07MB 10.3s"),
    (16.0, f"#5 {LAYER} 0B / 1.07MB 15.3s"),
    (18.4, f"#5 {LAYER} 1.05MB / 1.07MB 17.7s"),
]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def captured(name: str) -> str:
    (message,) = [m for m in MESSAGES if m.id.startswith(name)]
    return message.text


def feed_in_pieces(tracker: PhaseTracker, text: str, seed: int = 7) -> None:
    """The text in pieces of random sizes, cut anywhere (as pipe reads come)."""
    data, rng, at = text.encode(), random.Random(seed), 0
    while at < len(data):
        size = rng.randint(1, 40)
        tracker.feed(data[at : at + size])
        at += size


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_buildkit_stuck_at_load_metadata_is_an_open_phase_with_its_line(seed: int) -> None:
    clock = Clock()
    tracker = PhaseTracker(STALL, clock)
    feed_in_pieces(tracker, captured("build_from_registry_blackholed_buildkit"), seed)
    assert tracker.deadline() == clock.now + STALL
    assert tracker.evidence()[0] == (
        "#3 [internal] load metadata for 127.0.0.1:5101/library/busybox:latest"
    )


def test_a_silent_run_step_after_the_pull_is_no_registry_phase() -> None:
    tracker = PhaseTracker(STALL, Clock())
    feed_in_pieces(tracker, BUILDKIT_RUN)
    assert tracker.deadline() is None
    assert tracker.evidence() == ()


def test_legacy_pull_lines_open_the_phase_and_the_next_step_closes_it() -> None:
    tracker = PhaseTracker(STALL, Clock())
    head, _, rest = LEGACY_PULL.partition("Digest:")
    tracker.feed(head.encode())
    assert tracker.evidence() == (
        "Step 1/2 : FROM busybox:latest",
        "51616aa67071: Pull complete",
    )
    tracker.feed(b"Digest:" + rest.encode())
    assert tracker.deadline() is None


def test_legacy_build_stuck_before_the_registry_answers_is_open() -> None:
    tracker = PhaseTracker(STALL, Clock())
    text = captured("build_from_registry_blackholed_legacy")
    before_error = text.split('Get "http')[0]
    tracker.feed(before_error.encode())
    assert tracker.evidence() == ("Step 1/1 : FROM 127.0.0.1:5101/library/busybox",)
    tracker.feed(text[len(before_error) :].encode())
    assert tracker.deadline() is None  # the error line ends the phase: the build failed


def test_progress_lines_of_the_vertex_push_its_deadline_and_others_do_not() -> None:
    clock = Clock()
    tracker = PhaseTracker(STALL, clock)
    tracker.feed(b"#4 [1/2] FROM docker.io/library/node:20@sha256:abc\n")
    clock.now += 10
    tracker.feed(b"#4 sha256:0123456789ab 10.49MB / 48.57MB 10.2s\n")
    assert tracker.deadline() == clock.now + STALL
    clock.now += 10
    tracker.feed(b"#7 [other 2/3] RUN make\n#7 0.512 compiling...\n")
    assert tracker.deadline() == clock.now - 10 + STALL
    assert tracker.evidence() == (
        "#4 [1/2] FROM docker.io/library/node:20@sha256:abc",
        "#4 sha256:0123456789ab 10.49MB / 48.57MB 10.2s",
    )
    tracker.feed(b"#4 DONE 12.1s\n")
    assert tracker.deadline() is None


def test_a_layer_line_repeated_with_a_new_time_only_is_no_progress() -> None:
    clock = Clock()
    tracker = PhaseTracker(STALL, clock)
    start = clock.now
    for at, line in SLOW_LAYER[:-1]:
        clock.now = start + at
        tracker.feed(line.encode() + b"\n")
    assert tracker.deadline() == start + 0.8 + STALL  # the 0B lines after 0.8 s repeat it
    clock.now = start + SLOW_LAYER[-1][0]
    tracker.feed(SLOW_LAYER[-1][1].encode() + b"\n")
    assert tracker.deadline() == clock.now + STALL
    assert tracker.evidence()[1] == SLOW_LAYER[-1][1]


@pytest.mark.parametrize(
    "end", [b"#3 CACHED\n", b"#3 ERROR: failed to resolve\n", b"#3 CANCELED\n"]
)
def test_every_vertex_ending_closes_the_phase(end: bytes) -> None:
    tracker = PhaseTracker(STALL, Clock())
    tracker.feed(b"#3 [web internal] load metadata for docker.io/library/busybox:latest\n")
    assert tracker.deadline() is not None
    tracker.feed(end)
    assert tracker.deadline() is None


def test_the_oldest_of_two_stalled_services_sets_the_deadline() -> None:
    clock = Clock()
    tracker = PhaseTracker(STALL, clock)
    tracker.feed(b"#5 [api internal] load metadata for docker.io/library/python:3.12\n")
    clock.now += 3
    tracker.feed(b"#6 [web internal] load metadata for docker.io/library/node:20\n")
    assert tracker.deadline() == clock.now - 3 + STALL
    assert "python" in tracker.evidence()[0]


def test_an_opening_line_at_the_end_of_a_burst_is_seen() -> None:
    tracker = PhaseTracker(STALL, Clock())
    noise = b"#12 3.456 Step 7/12 : RUN pip install -r requirements.txt 42%\n" * 2000
    tracker.feed(noise + b"#13 [internal] load metadata for docker.io/library/busybox:latest\n")
    assert tracker.evidence() == (
        "#13 [internal] load metadata for docker.io/library/busybox:latest",
    )


def test_a_closing_line_inside_a_burst_is_seen_while_a_phase_is_open() -> None:
    tracker = PhaseTracker(STALL, Clock())
    tracker.feed(b"#3 [internal] load metadata for docker.io/library/busybox:latest\n")
    noise = b"#7 1.0 some output of another vertex\n" * 2000
    line = len(noise) // 2000
    tracker.feed(noise[: line * 800] + b"#3 DONE 0.4s\n" + noise)
    assert tracker.deadline() is None


def test_crlf_and_a_cut_last_line_do_not_confuse_the_tracker() -> None:
    tracker = PhaseTracker(STALL, Clock())
    tracker.feed(b"#3 [internal] load metadata for docker.io/library/bus")
    assert tracker.deadline() is None  # no complete line yet
    tracker.feed(b"ybox:latest\r\n")
    assert tracker.evidence() == (
        "#3 [internal] load metadata for docker.io/library/busybox:latest",
    )


def test_a_layer_line_alone_opens_no_classic_phase() -> None:
    tracker = PhaseTracker(STALL, Clock())
    tracker.feed(b"51616aa67071: Waiting\n")
    assert tracker.deadline() is None


def test_a_run_step_printing_registry_words_opens_nothing() -> None:
    tracker = PhaseTracker(STALL, Clock())
    tracker.feed(b"#7 [3/3] RUN ./ci/build-images.sh\n")
    tracker.feed(b"#7 0.512 FROM alpine: load metadata for docker.io/library/alpine\n")
    assert tracker.deadline() is None
