"""The failure classifier: exit status + build output -> Failure (class, retryable, evidence).

Rules are data (ci_guard/data/rules.toml); classifier.py explains how one is chosen.
"""

from __future__ import annotations

from ci_guard.classify.classifier import classify, classify_text
from ci_guard.classify.rules import TIERS, Rule, RulesError, RuleSet, load_rules

__all__ = [
    "TIERS",
    "Rule",
    "RuleSet",
    "RulesError",
    "classify",
    "classify_text",
    "load_rules",
]
