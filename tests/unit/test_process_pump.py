"""OutputPump: every chunk to its sink, the log and the tail, whatever the sinks do."""

from __future__ import annotations

import io
import os
from typing import Any

from ci_guard.supervise.streams import OutputPump, TailBuffer


class Trickle(io.BytesIO):
    """A raw-like sink that takes at most 3 bytes per write call."""

    def write(self, data: Any) -> int:
        return super().write(bytes(data)[:3])


class Broken(io.BytesIO):
    def write(self, data: Any) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def pump_all(payload: bytes, sink: io.BytesIO, log: io.BytesIO) -> TailBuffer:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, payload)
    os.close(write_fd)
    tail = TailBuffer(1024)
    pump = OutputPump({read_fd: sink}, log, tail)
    try:
        while pump.read(read_fd):
            pass
    finally:
        os.close(read_fd)
    assert pump.fds == ()
    return tail


def test_partial_writes_are_completed() -> None:
    sink, log = Trickle(), io.BytesIO()
    tail = pump_all(b"progress 1\rprogress 2\ndone", sink, log)
    assert sink.getvalue() == log.getvalue() == b"progress 1\rprogress 2\ndone"
    assert tail.lines(5) == ("progress 2", "done")


def test_a_broken_sink_leaves_log_and_tail_intact() -> None:
    log = io.BytesIO()
    tail = pump_all(b"line\n", Broken(), log)
    assert log.getvalue() == b"line\n"
    assert tail.lines(5) == ("line",)
