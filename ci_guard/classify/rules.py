"""Load and validate the failure rules (data/rules.toml) into a RuleSet.

A RuleSet holds the rules in checking order (tier by tier, file order inside a
tier) and a Matcher that finds the lines a rule could match from literals its
pattern requires (matcher.py). A rule whose pattern requires no literal names
keywords (lower-case words) of which each line it matches holds one.

A rule's regex is compiled when a line first reaches it: on a given log most rules
never see a line, and compiling all of them was a third of the start-up. A user's
rule is still compiled (and checked) as it is loaded, so a bad pattern is a one-line
error at once; the built-in patterns are checked by the unit tests.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ci_guard.classify.anchors import anchors
from ci_guard.classify.matcher import Matcher
from ci_guard.errors import CiGuardError
from ci_guard.failure import FailureClass
from ci_guard.tomlcompat import tomllib

TIERS: tuple[str, ...] = ("permanent", "cause", "network", "symptom")
"""Tiers from strongest to weakest: a match in an earlier tier beats any later one."""

BUILT_IN = "built-in"
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_KEYWORD = re.compile(r"^[a-z]+$")
_KEYS = frozenset(
    {"name", "class", "tier", "pattern", "keywords", "why", "retryable", "case_sensitive"}
)


class RulesError(CiGuardError):
    """rules.toml (or a rules file given for testing) is malformed."""


@dataclass(frozen=True)
class Rule:
    name: str
    failure_class: FailureClass
    tier: str
    pattern: str
    why: str
    keywords: tuple[str, ...]
    retryable: bool | None = None
    source: str = BUILT_IN
    """Where the rule was written: `built-in` (data/rules.toml) or a file's path."""
    case_sensitive: bool = False

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:
        """The compiled pattern (compiled on first use; see the module docstring)."""
        return re.compile(self.pattern, 0 if self.case_sensitive else re.IGNORECASE)

    @property
    def rank(self) -> int:
        return TIERS.index(self.tier)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    """In checking order: tier by tier, file order inside a tier."""
    matcher: Matcher
    """Finds the candidate lines of a block and the rules each may match."""
    common: tuple[str, ...] = ()
    """Literals ordinary build output is full of (rules.toml `common_literals`)."""

    def by_name(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)


def _require_str(row: Mapping[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RulesError(f"{where}: '{key}' must be a non-empty string")
    return value


def _check_pattern(pattern: str, case_sensitive: bool, where: str) -> None:
    """Compile now (re's own cache keeps the result for the rule's first use)."""
    try:
        regex = re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)
    except re.error as exc:
        raise RulesError(f"{where}: bad pattern: {exc}") from exc
    if regex.search(""):
        raise RulesError(f"{where}: pattern matches the empty string")


def _parse_rule(row: Any, index: int, source: str, check: bool) -> Rule:
    where = f"rule #{index + 1}"
    if not isinstance(row, dict):
        raise RulesError(f"{where}: must be a table")
    name = _require_str(row, "name", where)
    where = f"rule '{name}'"
    unknown = set(row) - _KEYS
    if unknown:
        raise RulesError(f"{where}: unknown keys {sorted(unknown)}")
    if not _NAME.match(name):
        raise RulesError(f"{where}: name must be kebab-case")
    try:
        failure_class = FailureClass(_require_str(row, "class", where))
    except ValueError as exc:
        raise RulesError(f"{where}: unknown class {row['class']!r}") from exc
    tier = _require_str(row, "tier", where)
    if tier not in TIERS:
        raise RulesError(f"{where}: tier must be one of {', '.join(TIERS)}")
    retryable = row.get("retryable")
    if retryable is not None and not isinstance(retryable, bool):
        raise RulesError(f"{where}: 'retryable' must be true or false")
    case_sensitive = row.get("case_sensitive", False)
    if not isinstance(case_sensitive, bool):
        raise RulesError(f"{where}: 'case_sensitive' must be true or false")
    pattern = _require_str(row, "pattern", where)
    if check:
        _check_pattern(pattern, case_sensitive, where)
    return Rule(
        name=name,
        failure_class=failure_class,
        tier=tier,
        pattern=pattern,
        why=_require_str(row, "why", where).strip(),
        keywords=_keywords(row.get("keywords"), pattern, where),
        retryable=retryable,
        source=source,
        case_sensitive=case_sensitive,
    )


def _keywords(value: Any, pattern: str, where: str) -> tuple[str, ...]:
    if value is None:
        if anchors(pattern) is None:
            raise RulesError(
                f"{where}: the pattern requires no literal text; give 'keywords'"
                " (words of which every matching line holds one)"
            )
        return ()
    if not isinstance(value, list) or not value:
        raise RulesError(f"{where}: 'keywords' must be a non-empty list")
    for word in value:
        if not isinstance(word, str) or not _KEYWORD.match(word):
            raise RulesError(f"{where}: keyword {word!r} must be lower-case letters only")
    return tuple(value)


def parse_rule_rows(rows: Any, source: str = BUILT_IN, *, check: bool = True) -> list[Rule]:
    """Validate a list of [[rule]] tables (each rule tagged with its source).

    check=False leaves compiling each pattern to its first use: only for the
    packaged rules, which the unit tests compile and check."""
    if not isinstance(rows, list) or not rows:
        raise RulesError("rules file has no [[rule]] tables")
    rules = [_parse_rule(row, i, source, check) for i, row in enumerate(rows)]
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise RulesError(f"rule '{rule.name}' is defined twice")
        seen.add(rule.name)
    return rules


def build_ruleset(rules: list[Rule], common: tuple[str, ...] = ()) -> RuleSet:
    """Rules in checking order (tier by tier, given order inside a tier) and their matcher."""
    ordered = tuple(sorted(rules, key=lambda r: r.rank))
    matcher = Matcher([r.pattern for r in ordered], [r.keywords for r in ordered], common)
    return RuleSet(rules=ordered, matcher=matcher, common=common)


def _common(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(word, str) and word and word == word.lower() and word.isascii() for word in value
    ):
        raise RulesError("common_literals: must be a list of lower-case ASCII strings")
    return tuple(value)


def parse_rules(raw: Mapping[str, Any], *, check: bool = True) -> RuleSet:
    """Validate parsed TOML and build the RuleSet (rules sorted by tier, stable)."""
    rules = parse_rule_rows(raw.get("rule"), check=check)
    return build_ruleset(rules, _common(raw.get("common_literals")))


def parse_rules_text(text: str, *, check: bool = True) -> RuleSet:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"rules file is not valid TOML: {exc}") from exc
    return parse_rules(raw, check=check)


@functools.cache
def load_rules() -> RuleSet:
    """The packaged rules, parsed once per process."""
    text = resources.files("ci_guard.data").joinpath("rules.toml").read_text("utf-8")
    return parse_rules_text(text, check=False)
