"""Registry phases in a build's output, and when one stops making progress.

A build waits on a registry in a few recognisable places: BuildKit's `load metadata
for IMAGE`, a `FROM` vertex resolving and downloading layers (`resolve ...`,
`sha256:... 1.2MB / 3.4MB`), the classic builder's and `docker pull`'s `Step N/M : FROM`,
`Pulling from`, `Pulling fs layer`, `Waiting`, `Downloading`... A registry (or mirror)
that accepts the connection and never answers leaves such a phase open with no further
line, and BuildKit has no timeout of its own for it. `PhaseTracker` is fed the raw
output and tells the supervision loop when an open registry phase has shown no
progress for `stall_timeout` seconds, and which line it stalled on.

BuildKit's plain progress names each vertex (`#5 ...`) and closes it with `#5 DONE`,
`CACHED`, `ERROR` or `CANCELED`; only a vertex opened by a registry line is watched, and
only its own lines count as its progress, and a line that only repeats a layer's state
with a new elapsed time (BuildKit prints one every 5 s while a download waits) does
not. A RUN step is never a registry phase, so a
long silent `RUN sleep 600` is never cut. Classic output has no vertex ids: a pull line
opens or advances the phase, any other line closes it.

Speed: only the last 2 KiB of each chunk is searched for the three opening keywords
(C speed); while only BuildKit vertices are open, a chunk is also searched for each open
vertex's `#N ` prefix. Lines are split only when one of these is found (or a classic
phase is open), so bulk output costs next to nothing (bench/bench_registry_phase.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

_MAX_PARTIAL = 4096
_WINDOW = 2048
_OPENERS = (b"load metadata for", b"FROM", b"Pulling f")
"""Every opening line holds one of these (`Pulling from`, `Pulling fs layer`)."""
_VERTEX = re.compile(rb"#(\d+) (.*)")
_BK_OPEN = re.compile(rb"(?:\[[^\]]*\] )?(?:FROM |load metadata for )")
"""A vertex name, not a step's output (`#7 0.512 ...` starts with its timestamp)."""
_BK_CLOSE = (b"DONE", b"CACHED", b"ERROR", b"CANCELED")
_ELAPSED = re.compile(rb" \d+(?:\.\d+)?s(?: done)?$")
"""BuildKit repeats a waiting layer's line every few seconds with a new elapsed time
(`sha256:51616... 0B / 1.07MB 5.2s`, then `... 0B / 1.07MB 10.3s`): that is no progress."""
_MAX_SUBJECTS = 256
_CLASSIC = re.compile(
    rb"Step \d+/\d+ : FROM "
    rb"|\S+: Pulling from "
    rb"|Pulling \S+ \("
    rb"|[0-9a-f]{12}: (?:Pulling fs layer|Waiting|Downloading|Verifying Checksum"
    rb"|Download complete|Extracting|Pull complete|Already exists|Retrying)"
)


@dataclass
class _Phase:
    first: bytes
    last: bytes
    since: float
    seen: dict[bytes, bytes] = field(default_factory=dict)
    """Per subject (a layer digest, `resolve`...): its last state without the elapsed time."""

    def advance(self, line: bytes, now: float, body: bytes = b"") -> None:
        """Progress, unless the line only repeats its subject's state with a new time."""
        if body:
            subject, _, state = body.partition(b" ")
            state = _ELAPSED.sub(b"", state)
            if self.seen.get(subject) == state:
                return
            if len(self.seen) < _MAX_SUBJECTS:
                self.seen[subject] = state
        self.last, self.since = line, now

    def lines(self) -> tuple[str, ...]:
        shown = (self.first,) if self.first == self.last else (self.first, self.last)
        return tuple(line.decode("utf-8", errors="replace").strip() for line in shown)


class PhaseTracker:
    """Lines in -> the open registry phases and when each last moved (see module doc)."""

    def __init__(self, stall_timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._timeout = stall_timeout
        self._clock = clock
        self._vertices: dict[bytes, _Phase] = {}
        self._classic: _Phase | None = None
        self._partial = b""

    # -- fed by the output pump ---------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """One chunk of output, as read (lines may be cut anywhere)."""
        end = data.rfind(b"\n") + 1
        if not end:
            self._partial = (self._partial + data)[-_MAX_PARTIAL:]
            return
        watching = bool(self._vertices) or self._classic is not None
        # With nothing open only an opening line matters, and a phase that stalls is among
        # the last lines before the output went quiet: a burst is scanned at its end only.
        start = 0 if watching else max(0, end - _WINDOW)
        if start == 0:
            block = self._partial + data[:end] if self._partial else data[:end]
        else:
            block = data[start:end]
            block = block[block.find(b"\n") + 1 :]  # the first line is cut
        self._partial = data[end:][-_MAX_PARTIAL:]
        if self._classic is None and not self._relevant(block):
            return
        now = self._clock()
        for line in block.split(b"\n"):
            self._line(line.rstrip(b"\r"), now)

    def _relevant(self, block: bytes) -> bool:
        """Whether block may open a phase or hold a line of an open BuildKit vertex."""
        if _has_opener(block[-_WINDOW:]):
            return True
        return any(b"#" + number + b" " in block for number in self._vertices)

    def _line(self, line: bytes, now: float) -> None:
        if not line:
            return
        vertex = _VERTEX.match(line)
        if vertex is not None:
            self._vertex(vertex.group(1), vertex.group(2), line, now)
        elif _CLASSIC.match(line):
            if self._classic is not None:
                self._classic.advance(line, now)
            elif _has_opener(line):  # a layer line alone (`Waiting`) opens nothing
                self._classic = _Phase(line, line, now)
        else:
            self._classic = None

    def _vertex(self, number: bytes, body: bytes, line: bytes, now: float) -> None:
        phase = self._vertices.get(number)
        if body.startswith(_BK_CLOSE):
            self._vertices.pop(number, None)
        elif phase is not None:
            phase.advance(line, now, body)
        elif _BK_OPEN.match(body):
            self._vertices[number] = _Phase(line, line, now)

    # -- asked by the supervision loop --------------------------------------------------

    def deadline(self) -> float | None:
        """When the oldest open registry phase counts as stalled; None: none is open."""
        oldest = self._oldest()
        return None if oldest is None else oldest.since + self._timeout

    def evidence(self) -> tuple[str, ...]:
        """The oldest open registry phase: its first line and the last one it printed."""
        oldest = self._oldest()
        return () if oldest is None else oldest.lines()

    def _oldest(self) -> _Phase | None:
        phases = list(self._vertices.values())
        if self._classic is not None:
            phases.append(self._classic)
        return min(phases, key=lambda phase: phase.since) if phases else None


def _has_opener(block: bytes) -> bool:
    return any(word in block for word in _OPENERS)
