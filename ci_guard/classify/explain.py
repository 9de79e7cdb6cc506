"""`classify --explain`: every rule that matched, and why the winner won."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ci_guard.classify.classifier import scan, verdict
from ci_guard.classify.evidence import Output
from ci_guard.classify.rules import BUILT_IN, Rule, RuleSet, load_rules
from ci_guard.failure import Failure


@dataclass(frozen=True)
class Match:
    rule: Rule
    lines: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.name,
            "tier": self.rule.tier,
            "class": self.rule.failure_class.value,
            "source": self.rule.source,
            "lines": list(self.lines),
        }


@dataclass(frozen=True)
class Explanation:
    failure: Failure
    matches: tuple[Match, ...]
    """In checking order: the first is the strongest."""
    reason: str


def _reason(failure: Failure, matches: tuple[Match, ...], timed_out: bool) -> str:
    if timed_out:
        return "The attempt hit its deadline: class timeout whatever matched."
    if not matches:
        return f"No rule matched. {failure.why}"
    winner = matches[0].rule
    same_tier = [m.rule.name for m in matches if m.rule.tier == winner.tier]
    text = f"{winner.name} is in tier {winner.tier}, the strongest tier with a match"
    if len(same_tier) > 1:
        text += (
            f"; {len(same_tier)} rules of that tier matched and it comes first in checking"
            " order (user rules before built-in ones, then file order)"
        )
    weaker = len(matches) - len(same_tier)
    if weaker:
        text += f"; {weaker} weaker-tier match{'es' if weaker > 1 else ''} lost"
    return text + "."


def explain(
    exit_code: int,
    signal: int | None,
    timed_out: bool,
    lines: Output,
    *,
    rules: RuleSet | None = None,
) -> Explanation:
    """Classify like classify() (a zero exit code counts as 1) and keep every match."""
    ruleset = rules if rules is not None else load_rules()
    hits = scan(lines, ruleset)
    failure = verdict(hits, ruleset, exit_code or 1, signal, timed_out)
    matches = tuple(
        Match(rule, tuple(hits.lines[rule.name]))
        for rule in ruleset.rules
        if rule.name in hits.lines
    )
    return Explanation(failure, matches, _reason(failure, matches, timed_out))


def render(explanation: Explanation) -> list[str]:
    rows = [f"why: {explanation.reason}", f"rules that matched ({len(explanation.matches)}):"]
    for match in explanation.matches:
        rule = match.rule
        origin = BUILT_IN if rule.source == BUILT_IN else f"file {rule.source}"
        rows.append(
            f"  {rule.name}  tier={rule.tier}  class={rule.failure_class.value}  source={origin}"
        )
        rows.extend(f"    > {line}" for line in match.lines)
    return rows
