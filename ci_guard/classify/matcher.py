"""Find the few lines of a block worth a regex: one multi-string search per block.

Every rule has a requirement (anchors.py: alternatives of literal sets, one of which
each match holds in full; else its keywords, any one of them). All literals go into
one Aho-Corasick automaton (a DFA searched in native code); a block is lower-cased
(ASCII, as the literals are) and searched once. A line meets a rule's regex only
when it holds all literals of one of the rule's alternatives, so ordinary build
output is never decoded and never reaches the regex engine.

Per hit the work stays in C where it can: each line is cut once (hits inside a line
already taken only add their literal), and a line whose one literal is a whole
alternative of every rule it triggers gets its rules from a table, without checks.

Patterns are matched case-insensitively unless the rule says otherwise; Unicode case
folds that cross into ASCII (the Kelvin sign for `k`) are the one place a lower-cased
ASCII literal could miss a match, and no rule depends on them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import ahocorasick_rs

from ci_guard.classify.anchors import requirement


class Matcher:
    """Literal automaton over a rule list: (line, rule positions) per candidate line."""

    def __init__(self, patterns: Sequence[str], keywords: Sequence[Sequence[str]]) -> None:
        triggers: dict[bytes, list[tuple[int, tuple[bytes, ...]]]] = {}
        for position, (pattern, words) in enumerate(zip(patterns, keywords, strict=True)):
            found = requirement(pattern)
            options = found if found is not None else [frozenset({w}) for w in words]
            for conjunction in options:
                # The longest literal triggers; the others are checked on the line.
                ordered = sorted((w.encode("ascii") for w in conjunction), key=len)
                trigger = ordered.pop()
                triggers.setdefault(trigger, []).append((position, tuple(ordered)))
        self._needles = list(triggers)
        self._checks = [tuple(triggers[needle]) for needle in self._needles]
        # A literal that is a whole alternative of each rule it triggers needs no check.
        self._fixed = [
            sorted({position for position, _others in checks})
            if all(not others for _position, others in checks)
            else None
            for checks in self._checks
        ]
        self._automaton = ahocorasick_rs.BytesAhoCorasick(
            self._needles, implementation=ahocorasick_rs.Implementation.DFA
        )

    def _rules(self, line: bytes, present: list[int]) -> list[int]:
        """Rules one of whose alternatives the (lower-case) line holds in full, in order."""
        if len(present) == 1:
            fixed = self._fixed[present[0]]
            if fixed is not None:
                return fixed.copy()  # the caller's to keep
        checks = self._checks
        rules = {
            position
            for needle in present
            for position, others in checks[needle]
            if not others or all(other in line for other in others)
        }
        return sorted(rules)

    def lines(self, block: bytes) -> Iterator[tuple[bytes, list[int]]]:
        """(raw line, positions of the rules to try) for each line that may match."""
        lowered = block.lower()
        found = self._automaton.find_matches_as_indexes(lowered, overlapping=True)
        # Hits come in order of their end, so line by line: the lines are cut once
        # each, and a hit inside the line at hand only adds its literal.
        spans: list[tuple[int, int, list[int]]] = []
        end = -1
        present: list[int] = []
        for needle, at, _stop in found:
            if at < end:
                if needle not in present:
                    present.append(needle)
                continue
            start = lowered.rfind(b"\n", 0, at) + 1
            stop = lowered.find(b"\n", at)
            end = len(block) if stop < 0 else stop
            present = [needle]
            spans.append((start, end, present))
        for start, end, present in spans:
            rules = self._rules(lowered[start:end], present)
            if rules:
                yield block[start:end], rules
