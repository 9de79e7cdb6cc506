"""The cited corpus of real failure messages: each must classify to its class.

tests/corpus/messages.toml holds messages gathered from public issue threads and
source; tests/corpus/captured/*.toml holds messages captured from a real dockerd
(same schema). Both are loaded here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ci_guard.classify import classify, load_rules
from ci_guard.classify.evidence import clean_line, evidence_text
from ci_guard.classify.rules import RuleSet
from ci_guard.failure import FailureClass
from ci_guard.tomlcompat import tomllib

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FIELDS = {"text", "class", "source", "exit_code", "signal", "timed_out", "note"}


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

    @property
    def id(self) -> str:
        return f"{self.file}#{self.index}:{self.source}"


def _load(path: Path) -> list[Message]:
    raw: dict[str, Any] = tomllib.loads(path.read_text("utf-8"))
    out = []
    for index, row in enumerate(raw.get("message", [])):
        unknown = set(row) - FIELDS
        assert not unknown, f"{path.name} message #{index}: unknown keys {unknown}"
        out.append(
            Message(
                file=path.name,
                index=index,
                text=row["text"],
                expected=FailureClass(row["class"]),
                source=row["source"],
                exit_code=int(row.get("exit_code", 1)),
                signal=row.get("signal"),
                timed_out=bool(row.get("timed_out", False)),
            )
        )
    return out


def corpus() -> list[Message]:
    files = [CORPUS / "messages.toml", *sorted((CORPUS / "captured").glob("*.toml"))]
    return [message for path in files for message in _load(path)]


MESSAGES = corpus()


@pytest.mark.parametrize("message", MESSAGES, ids=[m.id for m in MESSAGES])
def test_message_classifies_to_its_class(message: Message) -> None:
    failure = classify(
        message.exit_code, message.signal, message.timed_out, message.text.splitlines(True)
    )
    assert failure is not None
    assert failure.failure_class is message.expected, (failure.rule, failure.evidence)
    assert len(failure.evidence) <= 5
    if not message.timed_out and failure.rule not in {"no-match", "sigkill", "docker-exit-125"}:
        assert failure.evidence, "a rule matched, so there is evidence"


def test_corpus_is_large_cited_and_covers_every_class() -> None:
    assert len(MESSAGES) >= 100
    assert all(m.source.strip() for m in MESSAGES)
    assert {m.expected for m in MESSAGES} == set(FailureClass)


def test_corpus_includes_the_seed_headline() -> None:
    headline = 'Error getting v2 registry: Get "https://registry-1.docker.io/v2/"'
    seeds = [m for m in MESSAGES if headline in m.text]
    assert seeds
    assert all(m.expected is FailureClass.REGISTRY_TIMEOUT for m in seeds)


def test_corpus_has_root_cause_before_symptom_cases() -> None:
    """Multi-line cases where a symptom line follows the cause still name the cause."""
    symptoms = ("returned a non-zero code", "did not complete successfully", "CANCELED")
    mixed = [
        m
        for m in MESSAGES
        if any(s in m.text for s in symptoms) and m.expected is not FailureClass.BUILD_STEP_FAILURE
    ]
    assert len(mixed) >= 8


def _brute_force(lines: list[str], rules: RuleSet) -> set[tuple[str, str]]:
    """Every (rule, line) match, trying every rule on every line: no keyword index."""
    found = set()
    for raw in lines:
        for part in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            line = clean_line(part)
            for rule in rules.rules:
                if line and rule.regex.search(line):
                    found.add((rule.name, evidence_text(line)))
    return found


def _indexed(text: str, rules: RuleSet) -> set[tuple[str, str]]:
    from ci_guard.classify.classifier import scan

    hits = scan([text], rules)
    return {(name, line) for name, lines in hits.lines.items() for line in lines}


def test_keyword_index_finds_every_match_in_the_corpus() -> None:
    """The keyword prefilter never hides a line a rule would match (per message)."""
    rules = load_rules()
    for message in MESSAGES:
        want = _brute_force(message.text.splitlines(), rules)
        got = _indexed(message.text, rules)
        # The index keeps at most 5 lines per rule; every rule found must be found.
        assert {n for n, _ in want} == {n for n, _ in got}, message.id
        assert got <= want, message.id
