"""Masks secrets in everything ci-guard writes (logs, summaries, reports, CI output).

Three nets, all data-driven (data/secrets.toml):
- by value: the values of secret-looking environment variables and of the variables
  named by the `secret-env` setting, line by line for multi-line values, wherever
  they appear, so a secret with no recognisable shape is caught once it is in the
  environment (GitLab masked variables and Jenkins credential bindings are plain
  environment variables);
- private key blocks: every line between BEGIN/END PRIVATE KEY markers;
- by pattern: token shapes and `name=secret` forms. Each pattern runs only when one
  of its trigger strings occurs in the text, so text without any costs one scan.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ci_guard.data import read_text as read_data_file
from ci_guard.tomlcompat import tomllib

MASK = "***"
_NAME_SPLIT = re.compile(r"[^A-Z0-9]+")


@dataclass(frozen=True)
class _Rule:
    name: str
    source: str
    triggers: tuple[str, ...]

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        """Compiled on first use: most runs never meet most shapes (start-up time)."""
        return re.compile(self.source)


@dataclass(frozen=True)
class _Table:
    rules: tuple[_Rule, ...]
    triggers: frozenset[str]
    by_trigger: dict[str, frozenset[int]]
    """Positions of the rules each trigger calls for; rules with no trigger always run."""
    env_words: tuple[str, ...]
    env_parts: frozenset[str]
    not_env_parts: frozenset[str]
    not_env_names: frozenset[str]
    min_env_value_length: int
    key_begin: re.Pattern[str]
    key_end: re.Pattern[str]
    argv_secret_flags: frozenset[str]
    argv_userpass_flags: frozenset[str]
    argv_login_words: frozenset[str]
    argv_glued_p_words: frozenset[str]


@functools.cache
def _table() -> _Table:
    raw = tomllib.loads(read_data_file("secrets.toml"))
    rules = tuple(
        _Rule(row["name"], row["pattern"], tuple(row.get("triggers", ()))) for row in raw["pattern"]
    )
    by_trigger: dict[str, set[int]] = {}
    for position, rule in enumerate(rules):
        for trigger in rule.triggers or ("",):
            by_trigger.setdefault(trigger, set()).add(position)
    return _Table(
        rules=rules,
        triggers=frozenset(trigger for rule in rules for trigger in rule.triggers),
        by_trigger={trigger: frozenset(found) for trigger, found in by_trigger.items()},
        env_words=tuple(raw["secret_env_words"]),
        env_parts=frozenset(raw["secret_env_parts"]),
        not_env_parts=frozenset(raw["not_secret_env_parts"]),
        not_env_names=frozenset(raw["not_secret_env_names"]),
        min_env_value_length=int(raw["min_env_value_length"]),
        key_begin=re.compile(raw["key_begin"]),
        key_end=re.compile(raw["key_end"]),
        argv_secret_flags=frozenset(raw["argv_secret_flags"]),
        argv_userpass_flags=frozenset(raw["argv_userpass_flags"]),
        argv_login_words=frozenset(raw["argv_login_words"]),
        argv_glued_p_words=frozenset(raw["argv_glued_p_words"]),
    )


def _mask_match(match: re.Match[str]) -> str:
    """The match with every `secret*` group that took part replaced by the mask."""
    spans = [
        match.span(name)
        for name in match.re.groupindex
        if name.startswith("secret") and match.group(name) is not None
    ]
    if not spans:
        return MASK
    text, start = match.group(0), match.start()
    for left, right in sorted(spans, reverse=True):
        text = text[: left - start] + MASK + text[right - start :]
    return text


def _ascii_lower(text: str) -> str:
    """Lower case with the same offsets as text (a few case mappings change lengths)."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = text.encode("ascii", "replace").decode().lower()
    return lowered


def _sub_lines(pattern: re.Pattern[str], text: str, lowered: str, triggers: list[str]) -> str:
    """Apply the pattern to the lines holding a trigger only: the rest costs nothing."""
    spans: list[tuple[int, int]] = []
    for trigger in triggers:
        at = lowered.find(trigger)
        while at >= 0:
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            end = len(text) if end < 0 else end
            spans.append((start, end))
            at = lowered.find(trigger, end)
    pieces, done = [], 0
    for first, end in sorted(spans):
        start = max(first, done)
        if start >= end:
            continue
        pieces += [text[done:start], pattern.sub(_mask_match, text[start:end])]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def is_secret_env_name(name: str, extra: Iterable[str] = ()) -> bool:
    """Whether a variable's name says it holds a secret (or `extra` names it, globs allowed)."""
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in extra):
        return True
    table = _table()
    upper = name.upper()
    if upper in table.not_env_names:
        return False
    parts = [part for part in _NAME_SPLIT.split(upper) if part]
    if any(part in table.not_env_parts for part in parts):
        return False
    for part in parts:
        if part in table.env_parts:
            return True
        if any(part.startswith(word) or part.endswith(word) for word in table.env_words):
            return True
    return False


def secret_env_values(env: Mapping[str, str], extra: Iterable[str] = ()) -> set[str]:
    """Values to mask: whole values and each line of multi-line ones, long enough only."""
    minimum = _table().min_env_value_length
    extra = tuple(extra)
    found: set[str] = set()
    for name, value in env.items():
        if len(value) < minimum or not is_secret_env_name(name, extra):
            continue
        found.add(value)
        if "\n" in value:
            found.update(
                line.strip() for line in value.splitlines() if len(line.strip()) >= minimum
            )
    return found


def extra_secret_names(env: Mapping[str, str]) -> tuple[str, ...]:
    """Names given by CI_GUARD_SECRET_ENV, for a Redactor made before settings are read."""
    return tuple(part.strip() for part in env.get("CI_GUARD_SECRET_ENV", "").split(",") if part)


class Redactor:
    """Masks known secret shapes, private key blocks and secret environment values."""

    def __init__(
        self, env: Mapping[str, str] | None = None, secret_env: Iterable[str] = ()
    ) -> None:
        env = os.environ if env is None else env
        self._table = _table()
        names = (*extra_secret_names(env), *secret_env)
        values = secret_env_values(env, names)
        # Longest first so a value that contains another is masked whole.
        self._values = tuple(sorted(values, key=len, reverse=True))

    def text(self, text: str) -> str:
        return self.mask(text, key_open=None)[0]

    @property
    def values(self) -> tuple[str, ...]:
        """The secret values masked wherever they appear, longest first."""
        return self._values

    @property
    def triggers(self) -> frozenset[str]:
        """Every trigger string of the patterns (lower case ASCII)."""
        return self._table.triggers

    def mask_line(self, line: str, present: frozenset[str]) -> str:
        """The patterns alone, on one line known to hold the triggers in `present`
        (values and key blocks are the caller's: see redact_file)."""
        return self._patterns(line, present)

    def mask(self, text: str, *, key_open: bool | None) -> tuple[str, bool]:
        """Mask text; `key_open` says whether it starts inside a private key block
        (None: unknown, so an END marker with no BEGIN before it closes one).
        Returns the masked text and whether it ends inside a key block."""
        if key_open or "PRIVATE KEY" in text:
            text, key_open = self._key_blocks(text, key_open)
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return self._patterns(text), bool(key_open)

    def _key_blocks(self, text: str, key_open: bool | None) -> tuple[str, bool]:
        lines = text.split("\n")
        if key_open is None:
            key_open = self._orphan_end(lines)
        for index, line in enumerate(lines):
            if key_open:
                if self._table.key_end.search(line):
                    key_open = False
                elif line.strip():
                    lines[index] = MASK
            elif self._table.key_begin.search(line) and not self._table.key_end.search(line):
                key_open = line.rstrip("\r").endswith("-----")
        return "\n".join(lines), key_open

    def _orphan_end(self, lines: list[str]) -> bool:
        for line in lines:
            if self._table.key_begin.search(line):
                return False
            if self._table.key_end.search(line):
                return True
        return False

    def _patterns(self, text: str, present: frozenset[str] | None = None) -> str:
        """Each rule a present trigger calls for, in table order; on a block of several
        lines, only on the lines that hold one of its triggers."""
        table = self._table
        if present is None:
            lowered = _ascii_lower(text)
            present = frozenset(t for t in table.triggers if t in lowered)
        calls = table.by_trigger.get("", frozenset()).union(
            *(table.by_trigger[trigger] for trigger in present)
        )
        for position in sorted(calls):
            rule = table.rules[position]
            if not rule.triggers or "\n" not in text:
                text = rule.pattern.sub(_mask_match, text)
            else:
                hits = [trigger for trigger in rule.triggers if trigger in present]
                text = _sub_lines(rule.pattern, text, _ascii_lower(text), hits)
        return text

    def argv(self, argv: Iterable[str]) -> list[str]:
        """Mask an argument vector: the value after --password, -p after `login`,
        the secret half of `-u user:secret`, and whatever `text` masks in each argument."""
        table = self._table
        out: list[str] = []
        hide = ""
        login = glued = False
        for arg in argv:
            login = login or arg in table.argv_login_words
            glued = glued or os.path.basename(arg) in table.argv_glued_p_words
            if hide == "all" or (glued and arg.startswith("-p") and len(arg) > 2):
                out.append(MASK)
            elif hide == "pass" and ":" in arg:
                out.append(arg.split(":", 1)[0] + ":" + MASK)
            else:
                out.append(self.text(arg))
            hide = ""
            if arg in table.argv_secret_flags or (login and arg == "-p"):
                hide = "all"
            elif arg in table.argv_userpass_flags:
                hide = "pass"
        return out

    def value(self, value: Any) -> Any:
        """Mask every string inside a JSON-like value (dicts, lists, tuples)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value
