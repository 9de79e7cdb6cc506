"""Moving the child's output: sinks, the per-attempt log, and a bounded tail.

The hot path copies 64 KiB chunks by reference and splits lines only once, at the end,
so memory stays flat and throughput close to a plain pipe reader's.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from typing import BinaryIO

_READ_SIZE = 64 * 1024
_MAX_LINE = 4096
_MAX_CHUNKS = 512


def split_tail(data: bytes, max_lines: int, *, partial_first: bool = False) -> tuple[str, ...]:
    """The last `max_lines` lines of raw output, as text.

    A carriage-return progress line keeps its last state (what a terminal shows), CRLF
    endings lose their CR, undecodable bytes become U+FFFD, very long lines are cut.
    `partial_first`: the data starts mid-line (a cut buffer), so its first line is dropped.
    """
    if max_lines <= 0 or not data:
        return ()
    lines = data.rsplit(b"\n", max_lines + 1)
    if lines[-1] == b"":
        lines.pop()
    if len(lines) > max_lines:
        lines = lines[-max_lines:]
    elif partial_first and len(lines) > 1:
        del lines[0]
    return tuple(_line_text(line) for line in lines)


def _line_text(line: bytes) -> str:
    shown = line.rstrip(b"\r").rpartition(b"\r")[2]
    text = shown[: _MAX_LINE * 4].decode("utf-8", errors="replace")
    return text if len(text) <= _MAX_LINE else text[:_MAX_LINE] + "..."


class TailBuffer:
    """The last bytes of the combined output in arrival order; split into lines at the end.

    Chunks are kept by reference (no copying on the hot path) and dropped from the front
    once the rest holds `max_bytes`: memory stays bounded however much is printed.
    """

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._source: object = None
        self._open_line = False
        self._cut = False

    def feed(self, source: object, data: bytes) -> None:
        if source != self._source and self._open_line:
            self._add(b"\n")  # a half line of stdout must not glue onto a line of stderr
        self._source = source
        self._open_line = not data.endswith(b"\n")
        self._add(data)

    def _add(self, data: bytes) -> None:
        chunks = self._chunks
        chunks.append(data)
        self._size += len(data)
        while self._size - len(chunks[0]) >= self._max:
            self._size -= len(chunks.popleft())
            self._cut = True
        if len(chunks) > _MAX_CHUNKS:  # many tiny writes: keep the deque short
            joined = b"".join(chunks)
            chunks.clear()
            chunks.append(joined)

    def lines(self, max_lines: int) -> tuple[str, ...]:
        return split_tail(b"".join(self._chunks), max_lines, partial_first=self._cut)


UNLOGGED_BYTES = 4 * 1024 * 1024
"""Output kept in memory once the attempt log cannot take it (disk full), for classification."""


class OutputPump:
    """Copies each chunk of the child's pipes to its sink, the log, the tail and an observer.

    When the log stops taking bytes (disk full, or it could not be opened: pass
    `log_error`), `on_log_error` is told once and what the log misses from then on is
    kept in `unlogged`, a bounded in-memory tail: the build goes on, and classification
    still sees the lines that explain a failure.
    """

    def __init__(
        self,
        routes: dict[int, BinaryIO],
        log: BinaryIO | None,
        tail: TailBuffer,
        *,
        log_error: str | None = None,
        on_log_error: Callable[[str], None] | None = None,
        observe: Callable[[bytes], None] | None = None,
    ) -> None:
        self._routes = dict(routes)
        self._log = log
        self._tail = tail
        self._observe = observe
        self._broken: set[int] = set()
        self._on_log_error = on_log_error
        self.log_error = log_error
        self.unlogged: TailBuffer | None = TailBuffer(UNLOGGED_BYTES) if log_error else None

    @property
    def fds(self) -> tuple[int, ...]:
        """The pipes not yet at their end."""
        return tuple(self._routes)

    def read(self, fd: int) -> bool:
        """Move one chunk from fd; False at its end."""
        try:
            data = os.read(fd, _READ_SIZE)
        except OSError:
            data = b""
        if not data:
            del self._routes[fd]
            return False
        self._write(self._routes[fd], data)
        if self._log is not None:
            self._write_log(self._log, data)
        if self.unlogged is not None:
            self.unlogged.feed(fd, data)
        self._tail.feed(fd, data)
        if self._observe is not None:
            self._observe(data)
        return True

    def _write_log(self, log: BinaryIO, data: bytes) -> None:
        try:
            _write_all(log, data)
        except (OSError, ValueError) as exc:
            self._log = None
            self.log_error = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.unlogged = TailBuffer(UNLOGGED_BYTES)  # this chunk on: the log has none of it
            if self._on_log_error is not None:
                self._on_log_error(self.log_error)

    def _write(self, sink: BinaryIO, data: bytes) -> None:
        if id(sink) in self._broken:
            return
        try:
            _write_all(sink, data)
            sink.flush()
        except (OSError, ValueError):  # reader gone (EPIPE), disk full, closed file
            self._broken.add(id(sink))  # the other destinations keep getting the output


def _write_all(sink: BinaryIO, data: bytes) -> None:
    """Write data; a raw (unbuffered) sink may take only part of it per call."""
    written = sink.write(data)
    rest = memoryview(data)[written or len(data) :]
    while rest:
        rest = rest[sink.write(rest) or len(rest) :]
