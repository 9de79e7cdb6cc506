"""Literal anchors of a rule's pattern: what every match must contain.

The classifier must not run a regular expression on every line of a 200 MB log. For
each pattern this module derives, from its parsed form, a requirement in disjunctive
form: a set of alternatives, each a set of lower-case literals that a match holds
all of (as RE2 and Hyperscan prefilters do). A sequence needs each of its literal
runs and required parts, an alternation needs one of its branches, a repeat needs
its item only when it must occur. One multi-string search over the lower-cased
output then finds the few lines worth a regex. A pattern with a branch that needs no
literal at all yields None; the rule's keywords stand in for it then.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

if sys.version_info >= (3, 11):
    from re import _constants as sre_constants
    from re import _parser as sre_parse
else:  # pragma: no cover - Python 3.10 (deprecated names from 3.11 on)
    import sre_constants
    import sre_parse

MIN_ANCHOR = 3
"""A literal shorter than this finds too many lines to be worth requiring."""
MAX_ALTERNATIVES = 64
"""A product of alternations larger than this is dropped (less selective, still true)."""

Conjunction = frozenset[str]
Requirement = frozenset[Conjunction] | None
"""Alternatives of literal sets; None: no literal is certain (anything may match)."""
_NOTHING: frozenset[Conjunction] = frozenset({frozenset()})

_LITERAL = sre_constants.LITERAL
_SUBPATTERN = sre_constants.SUBPATTERN
_BRANCH = sre_constants.BRANCH
_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT)
_POSSESSIVE = getattr(sre_constants, "POSSESSIVE_REPEAT", None)
_ATOMIC = getattr(sre_constants, "ATOMIC_GROUP", None)
_IN = sre_constants.IN
_ZERO_WIDTH = (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT)
_TEXT = object()
"""A run of literal characters, joined once (not re-joined to the run char by char)."""


def _char(op: Any, arg: Any) -> str | None:
    if op is not _LITERAL:
        return None
    char = chr(arg)
    return char.lower() if char.isascii() and char != "\n" else None


def _merged(items: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """The items with each run of adjacent literal characters as one _TEXT item."""
    out: list[tuple[Any, Any]] = []
    for op, arg in items:
        char = _char(op, arg)
        if char is None:
            out.append((op, arg))
        elif out and out[-1][0] is _TEXT:
            out[-1] = (_TEXT, out[-1][1] + char)
        else:
            out.append((_TEXT, char))
    return out


def _product(first: frozenset[Conjunction], second: Requirement) -> frozenset[Conjunction]:
    """Both requirements at once; when that is too many alternatives, the first alone."""
    if second is None:
        return first
    if first == _NOTHING:
        return second
    if len(first) * len(second) > MAX_ALTERNATIVES:
        return first
    return frozenset(a | b for a in first for b in second)


def _exact(op: Any, arg: Any) -> frozenset[str] | None:
    """The finite set of (lower-case) strings an item matches, when small and known."""
    char = arg if op is _TEXT else _char(op, arg)
    if char is not None:
        return frozenset({char})
    if op is _SUBPATTERN:
        return _exact_sequence(list(arg[-1]))
    if op is _BRANCH:
        return _exact_branches(arg[1])
    if op in _REPEATS and tuple(arg[:2]) == (0, 1):
        strings = _exact_sequence(list(arg[2]))
        return None if strings is None else strings | {""}
    if op is _IN and all(kind is _LITERAL for kind, _value in arg):
        chars = {_char(kind, value) for kind, value in arg}
        return None if None in chars else frozenset(c for c in chars if c is not None)
    return None


def _exact_branches(alternatives: list[Any]) -> frozenset[str] | None:
    found: set[str] = set()
    for alternative in alternatives:
        strings = _exact_sequence(list(alternative))
        if strings is None:
            return None
        found |= strings
    return frozenset(found) if len(found) <= MAX_ALTERNATIVES else None


def _exact_sequence(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    strings = frozenset({""})
    for op, arg in _merged(items):
        if op in _ZERO_WIDTH:
            continue
        more = _exact(op, arg)
        if more is None or len(strings) * len(more) > MAX_ALTERNATIVES:
            return None
        strings = frozenset(a + b for a in strings for b in more)
    return strings


def _as_requirement(strings: frozenset[str]) -> Requirement:
    """Exact strings as alternatives, when each is long enough to be worth finding."""
    if min(len(text) for text in strings) < MIN_ANCHOR:
        return None
    return frozenset(frozenset({text}) for text in strings)


def _sequence(items: list[tuple[Any, Any]], run: frozenset[str] = frozenset({""})) -> Requirement:
    """Runs of exact text (literals, small alternations, optional parts) become
    alternatives of literals; every other required part adds its own requirement.
    An alternation that is not exact text is distributed: run (A|B) rest is read as
    run A rest | run B rest, so the text around it stays attached to each branch."""
    found = _NOTHING
    items = _merged(items)
    for index, (op, arg) in enumerate([*items, (None, None)]):
        if op in _ZERO_WIDTH:
            continue  # \b, ^, lookarounds consume nothing: the run goes on
        more = _exact(op, arg) if op is not None else None
        if more is not None and len(run) * len(more) <= MAX_ALTERNATIVES:
            run = frozenset(a + b for a in run for b in more)
            continue
        if op is _BRANCH and more is None:
            found = _product(found, _branches(arg[1], items[index + 1 :], run))
            break
        found = _product(found, _as_requirement(run))
        run = frozenset({""})
        if op is not None:
            found = _product(found, _item(op, arg))
    if any(not conjunction for conjunction in found):
        return None
    return found


def _branches(
    alternatives: list[Any],
    rest: list[tuple[Any, Any]] = [],  # noqa: B006 - never mutated
    run: frozenset[str] = frozenset({""}),
) -> Requirement:
    found: set[Conjunction] = set()
    for alternative in alternatives:
        requirement = _sequence([*alternative, *rest], run)
        if requirement is None:
            return None
        found |= requirement
    return frozenset(found)


def _item(op: Any, arg: Any) -> Requirement:
    if op is _SUBPATTERN:
        return _sequence(list(arg[-1]))
    if op is _BRANCH:
        return _branches(arg[1])
    if op in _REPEATS or (_POSSESSIVE is not None and op is _POSSESSIVE):
        low, _high, body = arg
        return _sequence(list(body)) if low >= 1 else None
    if _ATOMIC is not None and op is _ATOMIC:
        return _sequence(list(arg))
    return None  # character classes, anchors, lookarounds: nothing certain


@functools.cache  # asked for each rule at load and again for its matcher
def requirement(pattern: str) -> Requirement:
    """Alternatives of lower-case literal sets, one of which every match holds, or None."""
    parsed: Any = sre_parse.parse(pattern)
    return _sequence(list(parsed))


def anchors(pattern: str) -> frozenset[str] | None:
    """Every literal the requirement names (None when nothing is certain)."""
    found = requirement(pattern)
    if found is None:
        return None
    return frozenset(literal for conjunction in found for literal in conjunction)
