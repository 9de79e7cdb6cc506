"""How well the classifier names failures it has never seen: train versus holdout.

Every row of the cited corpus (tests/corpus/, split by tests/corpus_loader.py) is
classified from its text, exit code, signal and deadline flag. Two figures per side:
class accuracy (the class named is the labelled one) and retry-decision accuracy (the
`retryable` answer equals the row's own label where it has one, a documented exception
to its class, else the labelled class's default in data/classes.toml). A
per-class confusion table shows where holdout rows went. Holdout rows whose misses
were read to tune the rules (tests/corpus/holdout-tuned.txt) are reported with the
rest but no longer count as unseen: the targets (class >= 95%, retry decision >= 98%)
are checked on the fresh holdout, the rows from other sources. `python -m bench
classify_holdout`; `python -m bench.bench_classify_holdout --table [fresh]` prints the
Markdown table docs/benchmarks.md carries.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ci_guard.classify import classify_text, load_rules
from ci_guard.failure import FailureClass
from tests.corpus_loader import HOLDOUT, TRAIN, Message, corpus, expected_retry

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
    result = Score()
    for m in messages:
        failure = classify_text(m.text, m.exit_code, m.signal, m.timed_out, rules=rules)
        retry_ok = failure.retryable is expected_retry(m)
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


SIDES: dict[str, Callable[[Message], bool]] = {
    "train": lambda m: m.split == TRAIN,
    "holdout": lambda m: m.split == HOLDOUT,
    "holdout_fresh": lambda m: m.split == HOLDOUT and not m.tuned,
}


def main() -> dict[str, Any]:
    messages = corpus()
    sides = {name: score(filter(keep, messages)) for name, keep in SIDES.items()}
    fresh = sides["holdout_fresh"]
    for expected, total, right, wrong in confusion_rows(fresh):
        print(f"  fresh holdout {expected:22} {right:3}/{total:<3} {wrong}", flush=True)
    summary = fresh.summary()
    return {
        **{name: side.summary() for name, side in sides.items()},
        "holdout_fresh_confusion": {c: dict(fresh.confusion[c]) for c in fresh.confusion},
        "targets": {"class_accuracy": TARGET_CLASS, "retry_accuracy": TARGET_RETRY},
        "targets_met": fresh.rows > 0
        and summary["class_accuracy"] >= TARGET_CLASS
        and summary["retry_accuracy"] >= TARGET_RETRY,
    }


if __name__ == "__main__":
    if "--table" in sys.argv[1:]:
        side = "holdout_fresh" if "fresh" in sys.argv[1:] else "holdout"
        print(markdown_table(score(filter(SIDES[side], corpus()))))
    else:
        print(json.dumps(main(), indent=2))
