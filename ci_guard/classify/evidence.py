"""Reading build output for the classifier: bounded blocks, keyword lines, clean lines.

The runner hands over the open per-attempt log (possibly hundreds of MB). It is read
in bounded chunks, never whole, and a line longer than MAX_LINE is cut, so memory
stays flat whatever the output looks like (even one 200 MB line).

Finding the few lines worth a regex: each block is turned into words at C speed
(bytes.translate maps ASCII letters to lower case and everything else to a space,
then bytes.split), the words are intersected with the rules' keywords, and only for
keywords present are their lines located with bytes.find. Ordinary build noise
costs one translate and one split per block.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

CHUNK = 1 << 20
"""Characters read at a time from a file-like source."""
BLOCK = 1 << 20
"""Characters of whole lines gathered before they are searched."""
MAX_LINE = 1 << 16
"""An unfinished line is kept up to this many characters while more is read; so no
line is longer than CHUNK + MAX_LINE and memory is bounded by the block size."""
EVIDENCE_CHARS = 300

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
# CI timestamps ("2023-04-13T20:07:15.1011171Z "), BuildKit plain step ids and
# elapsed seconds ("#12 3.456 "), BuildKit's error-summary seconds ("168.3 ").
_PREFIX = re.compile(
    r"^\s*(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\s)?(?:#\d+\s)?(?:\d+\.\d+\s)?"
)


def _word_table() -> bytes:
    table = bytearray(b" " * 256)
    for code in range(ord("a"), ord("z") + 1):
        table[code] = code
        table[code - 32] = code  # upper case -> lower case
    return bytes(table)


WORDS = _word_table()
"""bytes.translate table: ASCII letters to lower case, every other byte to a space."""


def words(text: str) -> list[bytes]:
    """The words of text as the keyword index sees them."""
    return text.encode("utf-8", "replace").translate(WORDS).split()


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


def _as_text(piece: Any) -> str:
    if isinstance(piece, bytes):
        return piece.decode("utf-8", errors="replace")
    return str(piece)


def _chunks(source: Any) -> Iterator[str]:
    """Raw text: bounded reads from a file, or the lines of an iterable, each ended."""
    read = getattr(source, "read", None)
    if callable(read):
        while True:
            piece = read(CHUNK)
            if not piece:
                return
            yield _as_text(piece)
    else:  # an iterable of lines, with or without their line ends
        for piece in source:
            line = _as_text(piece)
            yield line if line.endswith("\n") else line + "\n"


def blocks(source: Iterable[str] | Any) -> Iterator[str]:
    """Blocks of whole lines (each ending at a newline, except maybe the last)."""
    pending: list[str] = []
    size = 0
    partial = ""  # an unfinished line, cut to MAX_LINE
    for chunk in _chunks(source):
        text = partial + chunk
        cut = text.rfind("\n")
        if cut < 0:
            partial = text[:MAX_LINE]
            continue
        partial = text[cut + 1 :][:MAX_LINE]
        body = text[: cut + 1]
        pending.append(body)
        size += len(body)
        if size >= BLOCK:
            yield "".join(pending)
            pending, size = [], 0
    if partial:
        pending.append(partial)
    if pending:
        yield "".join(pending)


def keyword_lines(
    block: str, index: Mapping[bytes, tuple[int, ...]]
) -> Iterator[tuple[str, set[int]]]:
    """(line, positions of the rules to try) for each line of block holding a keyword.

    Lines come in block order; each line once, with the rules of all its keywords.
    """
    raw = block.encode("utf-8", "replace")
    folded = raw.translate(WORDS)
    found = index.keys() & set(folded.split())
    if not found:
        return
    padded = b" " + folded + b" "  # padded[i + 1] == folded[i]
    per_line: dict[int, tuple[int, set[int]]] = {}
    for word in found:
        needle = b" " + word + b" "
        at = padded.find(needle)
        while at >= 0:  # the word starts at raw[at]
            start = raw.rfind(b"\n", 0, at) + 1
            if start not in per_line:
                end = raw.find(b"\n", at)
                per_line[start] = (len(raw) if end < 0 else end, set())
            per_line[start][1].update(index[word])
            at = padded.find(needle, at + len(word) + 1)
    for start in sorted(per_line):
        end, rules = per_line[start]
        yield raw[start:end].decode("utf-8", "replace"), rules
