"""One runner for the tables of family cases: (id, output, class, rule) rows.

Each table lives in its own test module (engine and CI, registry and steps, tools);
every one gets the same two tests from here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from ci_guard.classify import classify_text
from ci_guard.failure import NO_MATCH_RULE, FailureClass, class_table

Case = tuple[str, str, FailureClass, str]


def family_tests(cases: Sequence[Case]) -> tuple[Callable[..., None], Callable[[], None]]:
    """Each output is named by its cause's rule with the class's retry default; ids are distinct."""

    @pytest.mark.parametrize(
        ("text", "expected", "rule"), [c[1:] for c in cases], ids=[c[0] for c in cases]
    )
    def test_family_is_named_by_its_cause(text: str, expected: FailureClass, rule: str) -> None:
        failure = classify_text(text)
        assert (failure.failure_class, failure.rule) == (expected, rule), failure.evidence
        assert failure.retryable is class_table()[expected].retryable
        assert failure.evidence or failure.rule == NO_MATCH_RULE  # no rule, no lines

    def test_case_ids_are_distinct() -> None:
        assert len({c[0] for c in cases}) == len(cases)

    return test_family_is_named_by_its_cause, test_case_ids_are_distinct
