"""The literal prefilter never hides a match: every line a rule matches holds one of
its requirement's alternatives in full, and the matcher offers it to that rule."""

from __future__ import annotations

import re

import pytest

from ci_guard.classify.anchors import requirement
from ci_guard.classify.evidence import clean_line
from ci_guard.classify.matcher import Matcher
from ci_guard.classify.rules import RulesError, load_rules, parse_rules
from tests.corpus_loader import corpus


def _matched_lines() -> list[tuple[int, str]]:
    rules = load_rules().rules
    found = []
    for message in corpus():
        for raw in message.text.splitlines():
            line = clean_line(raw)
            found.extend((i, line) for i, rule in enumerate(rules) if rule.regex.search(line))
    return found


MATCHED = _matched_lines()


RULE = {"name": "x", "class": "unknown", "tier": "cause", "pattern": "frobnicated", "why": "x"}


def test_the_corpus_exercises_most_rules() -> None:
    assert len({position for position, _ in MATCHED}) >= 45


def test_every_matched_corpus_line_holds_an_alternative_of_its_rule() -> None:
    rules = load_rules().rules
    for position, line in MATCHED:
        needs = requirement(rules[position].pattern)
        assert needs is not None
        lowered = line.lower()
        assert any(all(lit in lowered for lit in need) for need in needs), (
            rules[position].name,
            line,
        )


def test_the_matcher_offers_every_matched_line_to_its_rule() -> None:
    rules = load_rules()
    for position, line in MATCHED:
        offered = list(rules.matcher.lines(line.encode() + b"\n"))
        assert offered, (rules.rules[position].name, line)
        assert position in offered[0][1], (rules.rules[position].name, line)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("connection reset by peer", {("connection reset by peer",)}),
        ("npm (ERR!|error) network", {("npm err! network",), ("npm error network",)}),
        ('Get "?https?://', {(f"get {q}{s}://",) for q in ('"', "") for s in ("http", "https")}),
        (r"ERROR \[[^\]]*internal\] load", {("error [", "internal] load")}),
        (r"\bEOF\b|i/o timeout", {("eof",), ("i/o timeout",)}),
        (r"x(?:ab|c\d)", None),  # a branch needs fewer than three known characters
        (r"^Killed$", {("killed",)}),
        (r"\d+ errors?", {(" error",), (" errors",)}),
    ],
)
def test_requirements_of_small_patterns(
    pattern: str, expected: set[tuple[str, ...]] | None
) -> None:
    found = requirement(pattern)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert {tuple(sorted(need)) for need in found} == expected
        assert re.search(pattern, "x") is None  # the pattern is a real one, not a literal set


def test_matcher_checks_the_other_literals_of_an_alternative() -> None:
    matcher = Matcher([r"ERROR \[[^\]]*internal\] load"], [()])
    block = b"#3 [internal] load metadata\nERROR [stage-0 internal] load metadata\n"
    assert [line for line, _ in matcher.lines(block)] == [b"ERROR [stage-0 internal] load metadata"]


def test_matcher_keywords_stand_in_for_a_pattern_without_literals() -> None:
    matcher = Matcher([r"\w+\d"], [("abc",)])
    assert [rules for _, rules in matcher.lines(b"noise\nxx ABC1\n")] == [[0]]


def test_a_common_literal_gives_way_to_the_other_literal_of_its_alternative() -> None:
    pattern = r"ERROR \[[^\]]*internal\] load"
    block = b"#3 [internal] load metadata\nERROR [stage-0 internal] load metadata\n" * 3
    plain = Matcher([pattern], [()])
    knowing = Matcher([pattern], [()], common=("internal] load",))
    assert knowing.needles == [b"error ["]
    assert list(knowing.lines(block)) == list(plain.lines(block))


@pytest.mark.parametrize("value", ["http://", ["HTTP://"], [""], [3]])
def test_common_literals_that_are_not_lower_case_strings_are_refused(value: object) -> None:
    raw = {"common_literals": value, "rule": [RULE]}
    with pytest.raises(RulesError, match="common_literals: must be a list"):
        parse_rules(raw)
