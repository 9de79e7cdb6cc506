"""Load the cited failure-message corpus and split it into train and holdout.

tests/corpus/messages.toml and tests/corpus/captured/*.toml were in place when the
rules were written, so they are all `train`. Rows in tests/corpus/unseen/*.toml are
split by their source: `holdout` iff the first 8 hex digits of sha256(source), as an
integer, are < 5 modulo 10. Splitting by source keeps every row of one thread on the
same side. The rule was fixed before any rule was tuned against the new rows; see
tests/corpus/README.md. Files named in HELD_OUT_WHOLE (a batch gathered to measure
the final rules, declared whole holdout before any classifier run) have no train side.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ci_guard.failure import FailureClass, class_table
from ci_guard.tomlcompat import tomllib

CORPUS = Path(__file__).resolve().parent / "corpus"
FIELDS = {"text", "class", "source", "exit_code", "signal", "timed_out", "note", "retryable"}
TRAIN = "train"
HOLDOUT = "holdout"


class CorpusError(ValueError):
    """A corpus file does not follow the schema."""


@dataclass(frozen=True)
class Message:
    file: str
    index: int
    text: str
    expected: FailureClass
    source: str
    exit_code: int
    signal: int | None
    timed_out: bool
    split: str
    tuned: bool = False
    retryable: bool | None = None
    """The right retry decision when it is not the class's default (a documented exception)."""

    @property
    def id(self) -> str:
        return f"{self.file}#{self.index}:{self.source}"

    @property
    def multiline(self) -> bool:
        """An excerpt of two or more non-blank lines (cause and what followed it)."""
        return sum(1 for line in self.text.splitlines() if line.strip()) >= 2


HELD_OUT_WHOLE = ("h-", "i-", "j-", "k-", "l-", "m-", "n-", "o-", "p-", "q-")
"""Prefixes of unseen files that are holdout in full (no rule is tuned on any row)."""


def split_of(source: str) -> str:
    """The fixed split of an unseen row: by a hash of its source, never by its text."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:8]
    return HOLDOUT if int(digest, 16) % 10 < 5 else TRAIN


def _split(file_name: str, source: str) -> str:
    return HOLDOUT if file_name.startswith(HELD_OUT_WHOLE) else split_of(source)


def _row(path: Path, index: int, row: dict[str, Any], unseen: bool) -> Message:
    unknown = set(row) - FIELDS
    if unknown:
        raise CorpusError(f"{path.name} message #{index}: unknown keys {sorted(unknown)}")
    missing = {"text", "class", "source"} - set(row)
    if missing:
        raise CorpusError(f"{path.name} message #{index}: missing keys {sorted(missing)}")
    source = str(row["source"])
    retryable = row.get("retryable")
    if retryable is not None and not isinstance(retryable, bool):
        raise CorpusError(f"{path.name} message #{index}: retryable must be true or false")
    return Message(
        file=path.name,
        index=index,
        text=row["text"],
        expected=FailureClass(row["class"]),
        source=source,
        exit_code=int(row.get("exit_code", 1)),
        signal=row.get("signal"),
        timed_out=bool(row.get("timed_out", False)),
        split=_split(path.name, source) if unseen else TRAIN,
        retryable=retryable,
    )


def expected_retry(message: Message) -> bool:
    """The right retry decision for a row: its own when labelled, else its class's default."""
    if message.retryable is not None:
        return message.retryable
    return class_table()[message.expected].retryable


def load_file(path: Path, unseen: bool = False) -> list[Message]:
    raw: dict[str, Any] = tomllib.loads(path.read_text("utf-8"))
    return [_row(path, i, row, unseen) for i, row in enumerate(raw.get("message", []))]


def tuned_sources(root: Path = CORPUS) -> set[str]:
    """Holdout sources whose misses were read while tuning (holdout-tuned.txt)."""
    path = root / "holdout-tuned.txt"
    if not path.exists():
        return set()
    lines = (line.strip() for line in path.read_text("utf-8").splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def corpus(root: Path = CORPUS) -> list[Message]:
    """Every row: messages.toml, captured/*.toml (train), unseen/*.toml (split by source).

    A holdout row whose source is listed in holdout-tuned.txt is marked `tuned`: the
    rules were adjusted after reading it, so it no longer measures unseen text.
    """
    known = [root / "messages.toml", *sorted((root / "captured").glob("*.toml"))]
    unseen = sorted((root / "unseen").glob("*.toml"))
    tuned = tuned_sources(root)
    rows = [m for path in known for m in load_file(path)]
    for path in unseen:
        rows += [replace(m, tuned=m.source in tuned) for m in load_file(path, unseen=True)]
    return rows
