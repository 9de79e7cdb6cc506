"""Name the failure of one attempt from its exit status and its whole output.

Selection algorithm (docs/failure-classes.md says the same for users):

1. Success: exit code 0 and not timed out -> None.
2. Our own deadline (timed_out) -> class `timeout`, rule `deadline`, whatever was
   printed (the evidence still shows the best match, if any, to help the reader).
3. Otherwise every line of the output is checked against the rules of
   data/rules.toml. Rules sit in tiers, strongest first: `permanent` (a retry cannot
   help: x509, unknown image, bad credentials, Dockerfile errors, missing COPY
   sources, OOM), `cause` (specific root causes: DNS, disk full, apt/pip/npm/...
   network errors inside steps, 429, 5xx, TLS and client timeouts, daemon faults),
   `network` (broad patterns: i/o timeout, connection reset/refused, EOF) and
   `symptom` (what a failure looks like from outside: a bare non-zero RUN step,
   compose's "context canceled", an `ERROR [internal] load metadata` header,
   "failed to solve"). The strongest tier with a match wins, so the root cause beats
   the symptom and permanent patterns beat broad network ones, wherever in the
   output they appear. Within a tier the rule listed first in rules.toml wins
   (rule order is the deterministic tie-break; the line order does not matter).
4. No rule matched: exit 125 from the docker CLI -> `daemon_unreachable`
   (rule `docker-exit-125`); killed by SIGKILL (exit 137 / signal 9) with no OOM
   evidence -> `unknown` (rule `sigkill`); anything else -> `unknown` (rule `no-match`).

Retryable comes from the class table (data/classes.toml) unless the rule overrides it.
Evidence: up to 5 distinct lines matched by the winning rule, first ones first,
cleaned and cut to about 300 characters.

Speed: output is read in bounded blocks of bytes and searched once per block for
every literal some rule's pattern requires (matcher.py); only the lines holding one
meet a regex, and only the regexes of the rules requiring those literals, so
ordinary build noise is never decoded and never reaches the regex engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ci_guard.classify.evidence import (
    Output,
    blocks,
    clean_line,
    evidence_text,
    pre_clean_block,
)
from ci_guard.classify.rules import Rule, RuleSet, load_rules
from ci_guard.failure import NO_MATCH_RULE, Failure, FailureClass, class_table

MAX_EVIDENCE = 5
DOCKER_CLI_DAEMON_ERROR = 125
SIGKILL = 9
EXIT_SIGKILL = 128 + SIGKILL


@dataclass
class _Hits:
    """Lines matched per rule (at most MAX_EVIDENCE each): bounded memory."""

    lines: dict[str, list[str]] = field(default_factory=dict)

    def add(self, rule: Rule, line: str) -> None:
        found = self.lines.setdefault(rule.name, [])
        text = evidence_text(line)
        if len(found) < MAX_EVIDENCE and text not in found:
            found.append(text)

    def best(self, rules: RuleSet) -> Rule | None:
        for rule in rules.rules:  # already ordered: tier, then file order
            if rule.name in self.lines:
                return rule
        return None


def scan(source: Output, rules: RuleSet) -> _Hits:
    """Every (rule, line) match in source, via the anchor matcher."""
    hits = _Hits()
    for block in blocks(source):
        for raw_line, positions in rules.matcher.lines(pre_clean_block(block)):
            line = clean_line(raw_line.decode("utf-8", "replace"))
            if not line:
                continue
            for position in positions:
                rule = rules.rules[position]
                if rule.regex.search(line):
                    hits.add(rule, line)
    return hits


def _failure(
    failure_class: FailureClass,
    rule_name: str,
    why: str,
    evidence: Iterable[str] = (),
    retryable: bool | None = None,
) -> Failure:
    if retryable is None:
        retryable = class_table()[failure_class].retryable
    return Failure(
        failure_class=failure_class,
        retryable=retryable,
        rule=rule_name,
        evidence=tuple(evidence),
        why=why,
    )


def _no_match(exit_code: int, signal: int | None) -> Failure:
    if exit_code == DOCKER_CLI_DAEMON_ERROR:
        return _failure(
            FailureClass.DAEMON_UNREACHABLE,
            "docker-exit-125",
            "The docker CLI exited 125: the daemon failed the request itself.",
        )
    if exit_code == EXIT_SIGKILL or signal == SIGKILL:
        return _failure(
            FailureClass.UNKNOWN,
            "sigkill",
            "The command was killed by SIGKILL and the output shows no OOM evidence.",
        )
    return _failure(
        FailureClass.UNKNOWN,
        NO_MATCH_RULE,
        f"The command exited {exit_code} and no rule matched its output.",
    )


def verdict(
    hits: _Hits, ruleset: RuleSet, exit_code: int, signal: int | None, timed_out: bool
) -> Failure:
    """The failure named by a scan's hits (the steps of the module docstring)."""
    best = hits.best(ruleset)
    evidence = hits.lines[best.name] if best is not None else []
    if timed_out:
        return _failure(
            FailureClass.TIMEOUT,
            "deadline",
            "The attempt hit its deadline (--timeout or --no-output-timeout).",
            evidence,
        )
    if best is None:
        return _no_match(exit_code, signal)
    return _failure(best.failure_class, best.name, best.why, evidence, best.retryable)


def classify(
    exit_code: int,
    signal: int | None,
    timed_out: bool,
    lines: Output,
    *,
    rules: RuleSet | None = None,
) -> Failure | None:
    """The failure of one attempt, or None when it succeeded (see module docstring)."""
    if exit_code == 0 and not timed_out:
        return None
    ruleset = rules if rules is not None else load_rules()
    return verdict(scan(lines, ruleset), ruleset, exit_code, signal, timed_out)


def classify_text(
    text: str,
    exit_code: int = 1,
    signal: int | None = None,
    timed_out: bool = False,
    *,
    rules: RuleSet | None = None,
) -> Failure:
    """Classify a whole output held in a string; a zero exit code counts as failure 1."""
    failure = classify(
        exit_code or 1, signal, timed_out, text.splitlines(keepends=True), rules=rules
    )
    if failure is None:  # unreachable: a nonzero exit code is never a success
        raise RuntimeError("classify returned no failure for a nonzero exit code")
    return failure
