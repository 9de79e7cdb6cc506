"""A masked copy of a log file, at the speed of one multi-string search per block.

The log stays bytes. A block's secret values are replaced as bytes; its trigger
strings are found in one pass of an Aho-Corasick automaton over the lower-cased block
(ASCII lower-casing, as the triggers are ASCII); only the lines holding a trigger are
decoded and given to the patterns. A block that holds a private key marker (or starts
inside a key block) goes through the whole-text path, which tracks key blocks.
Bytes that are not UTF-8 pass through unchanged (surrogateescape).
"""

from __future__ import annotations

import functools
from pathlib import Path

import ahocorasick_rs

from ci_guard.redact import MASK, Redactor

_KEY_MARKER = b"PRIVATE KEY"
_MASK = MASK.encode()


@functools.cache
def _automaton(triggers: frozenset[str]) -> tuple[ahocorasick_rs.BytesAhoCorasick, list[str]]:
    names = sorted(triggers)
    needles = [name.encode() for name in names]
    return ahocorasick_rs.BytesAhoCorasick(needles), names


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _trigger_lines(block: bytes, redactor: Redactor) -> list[tuple[int, int, frozenset[str]]]:
    """(start, end, triggers) of each line of the block that holds a trigger, in order."""
    if not redactor.triggers:
        return []
    automaton, names = _automaton(redactor.triggers)
    lines: dict[int, tuple[int, set[str]]] = {}
    for index, start, _end in automaton.find_matches_as_indexes(block.lower(), overlapping=True):
        first = block.rfind(b"\n", 0, start) + 1
        if first not in lines:
            end = block.find(b"\n", start)
            lines[first] = (len(block) if end < 0 else end, set())
        lines[first][1].add(names[index])
    return [(first, end, frozenset(found)) for first, (end, found) in sorted(lines.items())]


def mask_block(block: bytes, redactor: Redactor, key_open: bool | None) -> tuple[bytes, bool]:
    """The masked block and whether it ends inside a private key block."""
    if key_open or _KEY_MARKER in block:
        text, key_open = redactor.mask(_decode(block), key_open=key_open)
        return _encode(text), key_open
    for value in redactor.values:
        secret = _encode(value)
        if secret in block:
            block = block.replace(secret, _MASK)
    pieces, done = [], 0
    for first, end, present in _trigger_lines(block, redactor):
        line = block[first:end]
        pieces += [block[done:first], _encode(redactor.mask_line(_decode(line), present))]
        done = end
    pieces.append(block[done:])
    return b"".join(pieces), False


def mask_file(source: Path, target: Path, redactor: Redactor, block: int = 1 << 20) -> None:
    """Write a masked copy of a log file, a block of whole lines at a time (bounded memory).

    The private key state carries from block to block, so a key split across blocks is
    masked whole.
    """
    key_open: bool | None = False
    carry = b""
    with source.open("rb") as src, target.open("wb") as dst:
        while True:
            data = src.read(block)
            if not data:
                break
            data = carry + data
            cut = data.rfind(b"\n")
            if cut < 0 and len(data) < 4 * block:
                carry = data
                continue
            whole, carry = (data[: cut + 1], data[cut + 1 :]) if cut >= 0 else (data, b"")
            masked, key_open = mask_block(whole, redactor, key_open)
            dst.write(masked)
        if carry:
            dst.write(mask_block(carry, redactor, key_open)[0])
