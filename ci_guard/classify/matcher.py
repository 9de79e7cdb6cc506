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

Which literal of an alternative triggers is a guess: the longest, as a rule the
rarest. When a log proves it wrong (BuildKit prints "[internal] load metadata for"
in every build, a rule needs it only after "error ["), the matcher counts the lines
a trigger picked for nothing and, past about what a new automaton costs, lets the
alternative's next literal trigger instead. The lines a rule meets do not change:
a line still needs every literal of an alternative; only which one is searched for.

Patterns are matched case-insensitively unless the rule says otherwise; Unicode case
folds that cross into ASCII (the Kelvin sign for `k`) are the one place a lower-cased
ASCII literal could miss a match, and no rule depends on them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import ahocorasick_rs

from ci_guard.classify.anchors import requirement

REBUILD_AFTER = 4096
"""Lines a trigger picks for nothing before another literal of its alternatives takes
its place: about the cost of building the automaton again (some 25 ms)."""
MAX_REBUILDS = 8

_Options = Sequence[tuple[int, tuple[bytes, ...]]]
"""(rule position, literals of one alternative, longest first) for every alternative."""


class _Index:
    """One choice of trigger literals: the automaton and what each of its needles asks."""

    def __init__(self, options: _Options, demoted: frozenset[bytes]) -> None:
        triggers: dict[bytes, list[tuple[int, tuple[bytes, ...]]]] = {}
        for position, literals in options:
            # The other literals of the alternative are checked on the line.
            trigger = next((w for w in literals if w not in demoted), literals[0])
            others = tuple(w for w in literals if w != trigger)
            triggers.setdefault(trigger, []).append((position, others))
        self.needles = list(triggers)
        self.checks = [tuple(triggers[needle]) for needle in self.needles]
        # A literal that is a whole alternative of each rule it triggers needs no check.
        self.fixed = [
            sorted({position for position, _others in checks})
            if all(not others for _position, others in checks)
            else None
            for checks in self.checks
        ]
        self.wasted = [0] * len(self.needles)
        self.automaton = ahocorasick_rs.BytesAhoCorasick(
            self.needles, implementation=ahocorasick_rs.Implementation.DFA
        )

    def rules(self, line: bytes, present: list[int]) -> list[int]:
        """Rules one of whose alternatives the (lower-case) line holds in full, in order."""
        if len(present) == 1:
            fixed = self.fixed[present[0]]
            if fixed is not None:
                return fixed.copy()  # the caller's to keep
            found: list[int] = []
            for position, others in self.checks[present[0]]:  # in rule order
                if all(other in line for other in others) and position not in found:
                    found.append(position)
            return found
        checks = self.checks
        rules = {
            position
            for needle in present
            for position, others in checks[needle]
            if not others or all(other in line for other in others)
        }
        return sorted(rules)


class Matcher:
    """Literal automaton over a rule list: (line, rule positions) per candidate line."""

    def __init__(
        self,
        patterns: Sequence[str],
        keywords: Sequence[Sequence[str]],
        common: Sequence[str] = (),
    ) -> None:
        options: list[tuple[int, tuple[bytes, ...]]] = []
        for position, (pattern, words) in enumerate(zip(patterns, keywords, strict=True)):
            found = requirement(pattern)
            for conjunction in found if found is not None else [frozenset({w}) for w in words]:
                literals = sorted((w.encode("ascii") for w in conjunction), key=len, reverse=True)
                options.append((position, tuple(literals)))
        self._options = options
        # Known from the start to pick lines for nothing: demoted before any log is read.
        self._demoted = frozenset(word.encode("ascii") for word in common)
        self._rebuilds = 0
        self._index = _Index(options, self._demoted)

    @property
    def needles(self) -> list[bytes]:
        """The literals searched for now (one per alternative, shared where equal)."""
        return self._index.needles

    def lines(self, block: bytes) -> Iterator[tuple[bytes, list[int]]]:
        """(raw line, positions of the rules to try) for each line that may match."""
        index = self._index
        lowered = block.lower()
        found = index.automaton.find_matches_as_indexes(lowered, overlapping=True)
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
        wasted = index.wasted
        tired: list[bytes] = []
        for start, end, present in spans:
            rules = index.rules(lowered[start:end], present)
            if rules:
                yield block[start:end], rules
                continue
            # None of these needles triggers a rule by itself (each would have matched).
            for needle in present:
                wasted[needle] += 1
                if wasted[needle] == REBUILD_AFTER:
                    tired.append(index.needles[needle])
        if tired:
            self._retire(index, tired)

    def _retire(self, index: _Index, tired: list[bytes]) -> None:
        """Let other literals trigger the alternatives these ones picked lines for in vain."""
        if self._index is not index or self._rebuilds >= MAX_REBUILDS:
            return
        self._rebuilds += 1
        self._demoted |= frozenset(tired)
        self._index = _Index(self._options, self._demoted)
