"""How well the classifier names failures it has never seen: train versus holdout.

Every row of the cited corpus (tests/corpus/, split by tests/corpus_loader.py) is
classified from its text, exit code, signal and deadline flag. Two figures per side:
class accuracy (the class named is the labelled one) and retry-decision accuracy (the
`retryable` answer equals the labelled class's default in data/classes.toml). A
per-class confusion table shows where holdout rows went. Targets on holdout: class
>= 95%, retry decision >= 98%. `python -m bench classify_holdout`, or run this file
with --table for the Markdown table docs/benchmarks.md carries.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ci_guard.classify import classify_text, load_rules
from ci_guard.failure import FailureClass, class_table
from tests.corpus_loader import HOLDOUT, TRAIN, Message, corpus

TARGET_CLASS = 0.95
TARGET_RETRY = 0.98


@dataclass
class Score:
    """Counts for one side of the split."""

    rows: int = 0
    class_hits: int = 0
    retry_hits: int = 0
    confusion: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, expected: FailureClass, got: FailureClass, retry_ok: bool) -> None:
        self.rows += 1
        self.class_hits += expected is got
        self.retry_hits += retry_ok
        self.confusion[expected.value][got.value] += 1

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "class_accuracy": _ratio(self.class_hits, self.rows),
            "retry_accuracy": _ratio(self.retry_hits, self.rows),
        }


def _ratio(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


def score(messages: Iterable[Message]) -> Score:
    """Classify every message and count class and retry-decision agreement."""
    rules = load_rules()
    defaults = class_table()
    result = Score()
    for m in messages:
        failure = classify_text(m.text, m.exit_code, m.signal, m.timed_out, rules=rules)
        retry_ok = failure.retryable is defaults[m.expected].retryable
        result.add(m.expected, failure.failure_class, retry_ok)
    return result


def confusion_rows(result: Score) -> list[tuple[str, int, int, str]]:
    """(expected class, rows, right, "got: n, ...") for each labelled class."""
    rows = []
    for expected in sorted(result.confusion):
        got = result.confusion[expected]
        total = sum(got.values())
        wrong = ", ".join(f"{name} {n}" for name, n in got.most_common() if name != expected)
        rows.append((expected, total, got[expected], wrong or "-"))
    return rows


def markdown_table(result: Score) -> str:
    lines = ["| class | rows | right | named instead |", "| --- | --- | --- | --- |"]
    lines += [f"| `{c}` | {n} | {ok} | {wrong} |" for c, n, ok, wrong in confusion_rows(result)]
    return "\n".join(lines)


def main() -> dict[str, Any]:
    messages = corpus()
    sides = {side: score(m for m in messages if m.split == side) for side in (TRAIN, HOLDOUT)}
    holdout = sides[HOLDOUT].summary()
    for expected, total, right, wrong in confusion_rows(sides[HOLDOUT]):
        print(f"  holdout {expected:22} {right:3}/{total:<3} {wrong}", flush=True)
    return {
        "train": sides[TRAIN].summary(),
        "holdout": holdout,
        "holdout_confusion": {
            c: dict(sides[HOLDOUT].confusion[c]) for c in sides[HOLDOUT].confusion
        },
        "targets": {"class_accuracy": TARGET_CLASS, "retry_accuracy": TARGET_RETRY},
        "targets_met": holdout["class_accuracy"] >= TARGET_CLASS
        and holdout["retry_accuracy"] >= TARGET_RETRY,
    }


if __name__ == "__main__":
    if "--table" in sys.argv[1:]:
        print(markdown_table(score(m for m in corpus() if m.split == HOLDOUT)))
    else:
        print(json.dumps(main(), indent=2))
