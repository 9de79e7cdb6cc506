"""Reading build output for the classifier: bounded blocks of bytes, clean lines.

The runner hands over the open per-attempt log (possibly hundreds of MB). It is read
in bounded chunks of bytes, never whole and never decoded whole, and a line longer
than MAX_LINE is cut, so memory stays flat whatever the output looks like (even one
200 MB line). Only the few lines worth a regex (see matcher.py) are decoded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

Output = Iterable[str | bytes]
"""Build output: a text or binary file (read in chunks) or an iterable of lines."""

CHUNK = 1 << 20
"""Bytes (or characters, from a text stream) read at a time from a file-like source."""
BLOCK = 1 << 20
"""Bytes of whole lines gathered before they are searched."""
MAX_LINE = 1 << 16
"""An unfinished line is kept up to this many characters while more is read; so no
line is longer than CHUNK + MAX_LINE and memory is bounded by the block size."""
EVIDENCE_CHARS = 300

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_ANSI_BYTES = re.compile(_ANSI.pattern.encode("ascii"))
# CI timestamps ("2023-04-13T20:07:15.1011171Z "), BuildKit plain step ids and
# elapsed seconds ("#12 3.456 "), BuildKit's error-summary seconds ("168.3 ").
_PREFIX = re.compile(
    r"^\s*(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\s)?(?:#\d+\s)?(?:\d+\.\d+\s)?"
)


def pre_clean(block: str) -> str:
    """Remove ANSI escapes and turn CRs into line ends (progress-bar frames)."""
    if "\x1b" in block:
        block = _ANSI.sub("", block)
    if "\r" in block:
        block = block.replace("\r\n", "\n").replace("\r", "\n")
    return block


def clean_line(line: str) -> str:
    """The line as rules see it: no ANSI escapes, no CI/BuildKit prefix, stripped."""
    line = pre_clean(line.rstrip("\r\n"))
    if "\n" in line:  # CR-separated frames: the last one is what was left on screen
        line = line.rsplit("\n", 1)[-1]
    if line[:1].isdigit() or line[:1] in ("#", " ", "\t"):
        line = _PREFIX.sub("", line, count=1)
    return line.strip()


def evidence_text(line: str) -> str:
    if len(line) <= EVIDENCE_CHARS:
        return line
    return line[: EVIDENCE_CHARS - 3] + "..."


def _as_bytes(piece: Any) -> bytes:
    if isinstance(piece, bytes):
        return piece
    return str(piece).encode("utf-8", "replace")


def _chunks(source: Any) -> Iterator[bytes]:
    """Raw bytes: bounded reads from a file (text or binary), or the lines of an iterable."""
    read = getattr(source, "read", None)
    if callable(read):
        while True:
            piece = read(CHUNK)
            if not piece:
                return
            yield _as_bytes(piece)
    else:  # an iterable of lines, with or without their line ends
        for piece in source:
            line = _as_bytes(piece)
            yield line if line.endswith(b"\n") else line + b"\n"


def blocks(source: Output) -> Iterator[bytes]:
    """Blocks of whole lines (each ending at a newline, except maybe the last)."""
    pending: list[bytes | memoryview] = []
    size = 0
    partial = b""  # an unfinished line, cut to MAX_LINE
    for chunk in _chunks(source):
        cut = chunk.rfind(b"\n")
        if cut < 0:
            if len(partial) < MAX_LINE:
                partial += chunk[: MAX_LINE - len(partial)]
            continue
        # The join below is the one copy of the chunk's whole lines.
        if partial:
            pending.append(partial)
        pending.append(chunk if cut + 1 == len(chunk) else memoryview(chunk)[: cut + 1])
        size += len(partial) + cut + 1
        partial = chunk[cut + 1 :][:MAX_LINE]
        if size >= BLOCK:
            yield b"".join(pending)
            pending, size = [], 0
    if partial:
        pending.append(partial)
    if pending:
        yield b"".join(pending)


def pre_clean_block(block: bytes) -> bytes:
    """pre_clean for raw bytes: ANSI escapes out, CRs to line ends (at C speed)."""
    if b"\x1b" in block:
        block = _ANSI_BYTES.sub(b"", block)
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return block
