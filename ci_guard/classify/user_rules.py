"""A team's own failure rules: [[rule]] tables in the config file and a rules file.

Both use the schema of the built-in data/rules.toml. They come before the built-in
rules: within each tier a user rule is checked first, and a user rule with the name
of a built-in one replaces it. A bad rule is a UsageError (exit 2) naming the file
and the rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ci_guard.classify.rules import Rule, RulesError, RuleSet, build_ruleset, load_rules
from ci_guard.classify.rules import parse_rule_rows as _parse_rows
from ci_guard.config import RULE_TABLES, Config, config_tables
from ci_guard.errors import UsageError
from ci_guard.tomlcompat import tomllib


def _rows_of_rules_file(path: Path) -> Any:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"rules file {path}: not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"rules file {path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"rules file {path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {RULE_TABLES})
    if unknown:
        raise UsageError(f"rules file {path}: unknown table {unknown[0]!r} (only [[rule]])")
    return data.get(RULE_TABLES)


def _parse(rows: Any, path: Path, what: str) -> list[Rule]:
    try:
        return _parse_rows(rows, source=str(path))
    except RulesError as exc:
        raise UsageError(f"{what} {path}: {exc}") from None


def user_rules(config: Config, config_file: Path | None) -> list[Rule]:
    """The rules of the config file, then those of the rules file (in that order)."""
    found: list[Rule] = []
    if config_file is not None:
        rows = config_tables(config_file).get(RULE_TABLES)
        if rows is not None:
            found += _parse(rows, config_file, "config file")
    if config.rules_file is not None:
        found += _parse(_rows_of_rules_file(config.rules_file), config.rules_file, "rules file")
    names = [rule.name for rule in found]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise UsageError(f"rule '{twice[0]}' is defined in both the config file and the rules file")
    return found


def combine(mine: list[Rule], builtin: RuleSet | None = None) -> RuleSet:
    """User rules first within each tier; a user rule replaces a built-in of its name."""
    base = builtin if builtin is not None else load_rules()
    replaced = {rule.name for rule in mine}
    kept = [rule for rule in base.rules if rule.name not in replaced]
    return build_ruleset([*mine, *kept], base.common)


def effective_rules(config: Config, config_file: Path | None) -> RuleSet | None:
    """The rules to classify with, or None when there are no user rules (the built-ins)."""
    mine = user_rules(config, config_file)
    return combine(mine) if mine else None
