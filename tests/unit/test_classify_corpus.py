"""The cited corpus of real failure messages: each must classify to its class.

tests/corpus/messages.toml holds messages gathered from public issue threads and
source; tests/corpus/captured/*.toml holds messages captured from a real dockerd
(same schema); tests/corpus/unseen/*.toml holds later public messages, split by source
into train and holdout (tests/corpus_loader.py). Train rows are asserted one by one;
holdout rows are only measured (bench/bench_classify_holdout.py), never asserted here,
so that rules are not tuned against them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_guard.classify import classify, load_rules
from ci_guard.classify.evidence import clean_line, evidence_text
from ci_guard.classify.rules import RuleSet
from ci_guard.failure import FailureClass
from tests.corpus_loader import (
    CORPUS,
    HELD_OUT_WHOLE,
    HOLDOUT,
    TRAIN,
    CorpusError,
    Message,
    corpus,
    expected_retry,
    load_file,
    split_of,
)

MESSAGES = corpus()
TRAIN_ROWS = [m for m in MESSAGES if m.split == TRAIN]


@pytest.mark.parametrize("message", TRAIN_ROWS, ids=[m.id for m in TRAIN_ROWS])
def test_message_classifies_to_its_class(message: Message) -> None:
    failure = classify(
        message.exit_code, message.signal, message.timed_out, message.text.splitlines(True)
    )
    assert failure is not None
    assert failure.failure_class is message.expected, (failure.rule, failure.evidence)
    assert failure.retryable is expected_retry(message), failure.rule
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


def test_corpus_size_sources_and_multiline_excerpts() -> None:
    """The counts the corpus promises, measured from the files."""
    assert len(MESSAGES) >= 600
    assert len({m.source.strip() for m in MESSAGES}) >= 250
    assert sum(m.multiline for m in MESSAGES) >= 80


def test_holdout_is_at_least_thirty_percent_of_the_corpus() -> None:
    holdout = [m for m in MESSAGES if m.split == HOLDOUT]
    assert len(holdout) >= 0.3 * len(MESSAGES)


def test_split_rule_is_the_documented_hash() -> None:
    # First 8 hex digits of sha256: 8595ccc8 (% 10 == 6) and c348c22e (% 10 == 2).
    assert split_of("docker/cli#1") == TRAIN
    assert split_of("docker/cli#2") == HOLDOUT
    assert split_of("moby/moby#100") == HOLDOUT


def test_rows_of_the_known_corpus_are_train_and_unseen_rows_split_by_source() -> None:
    unseen = {p.name for p in (CORPUS / "unseen").glob("*.toml")}
    known = [m for m in MESSAGES if m.file not in unseen]
    assert known
    assert all(m.split == TRAIN for m in known)
    whole = [m for m in MESSAGES if m.file.startswith(HELD_OUT_WHOLE)]
    assert whole
    assert all(m.split == HOLDOUT for m in whole)
    by_source = [m for m in MESSAGES if m.file in unseen and m not in whole]
    assert all(m.split == split_of(m.source) for m in by_source)


def test_a_row_labelled_with_its_own_retry_decision_overrides_its_class(tmp_path: Path) -> None:
    rows = tmp_path / "rows.toml"
    rows.write_text(
        '[[message]]\nclass = "daemon_unreachable"\nretryable = false\nsource = "a"\ntext = "x"\n'
        '[[message]]\nclass = "daemon_unreachable"\nsource = "b"\ntext = "y"\n'
    )
    own, default = load_file(rows)
    assert expected_retry(own) is False
    assert expected_retry(default) is True


def test_a_retry_label_that_is_not_a_boolean_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[message]]\nclass = "unknown"\nsource = "x"\ntext = "y"\nretryable = "no"\n')
    with pytest.raises(CorpusError, match="retryable must be true or false"):
        load_file(bad)


def test_a_row_with_an_unknown_key_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[message]]\nclass = "unknown"\nsource = "x"\ntext = "y"\ncolour = 1\n')
    with pytest.raises(CorpusError, match="unknown keys"):
        load_file(bad)


def test_no_unseen_row_cites_a_source_the_rules_were_written_against() -> None:
    """A thread already in messages.toml or captured/ is not unseen: it stays out."""
    unseen = {p.name for p in (CORPUS / "unseen").glob("*.toml")}
    known = {m.source for m in MESSAGES if m.file not in unseen}
    again = sorted({m.source for m in MESSAGES if m.file in unseen and m.source in known})
    assert not again


def test_holdout_rows_read_while_tuning_are_marked_from_the_list(tmp_path: Path) -> None:
    (tmp_path / "captured").mkdir()
    (tmp_path / "unseen").mkdir()
    (tmp_path / "messages.toml").write_text("")
    row = '[[message]]\nclass = "unknown"\nsource = "{}"\ntext = "x"\n'
    (tmp_path / "unseen" / "a-x.toml").write_text(
        row.format("docker/cli#2") + row.format("moby/moby#100")
    )
    (tmp_path / "holdout-tuned.txt").write_text("# read while tuning\ndocker/cli#2\n")
    rows = {m.source: m for m in corpus(tmp_path)}
    assert rows["docker/cli#2"].tuned
    assert not rows["moby/moby#100"].tuned
    assert {m.split for m in rows.values()} == {HOLDOUT}
