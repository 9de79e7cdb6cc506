"""Masks secrets in everything ci-guard writes (logs, summaries, reports, CI output).

The patterns are data (data/secrets.toml). Values of environment variables whose
names say TOKEN, SECRET, PASSWORD, KEY... are masked wherever they appear, so a
secret that has no recognisable shape is still caught once it sits in the environment.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ci_guard.data import read_text as read_data_file
from ci_guard.tomlcompat import tomllib

MASK = "***"


@dataclass(frozen=True)
class _Table:
    patterns: tuple[re.Pattern[str], ...]
    env_words: tuple[str, ...]
    min_env_value_length: int


@functools.cache
def _table() -> _Table:
    text = read_data_file("secrets.toml")
    raw = tomllib.loads(text)
    return _Table(
        patterns=tuple(re.compile(row["pattern"]) for row in raw["pattern"]),
        env_words=tuple(raw["secret_env_words"]),
        min_env_value_length=int(raw["min_env_value_length"]),
    )


def _mask_match(match: re.Match[str]) -> str:
    if "secret" not in match.re.groupindex or match.group("secret") is None:
        return MASK
    start, end = match.span("secret")
    whole_start = match.start()
    text = match.group(0)
    return text[: start - whole_start] + MASK + text[end - whole_start :]


class Redactor:
    """Masks known secret shapes and the values of secret-named environment variables."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        table = _table()
        self._patterns = table.patterns
        values = secret_env_values(os.environ if env is None else env)
        # Longest first so a value that contains another is masked whole.
        self._values = tuple(sorted(values, key=len, reverse=True))

    def text(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        for pattern in self._patterns:
            text = pattern.sub(_mask_match, text)
        return text

    def argv(self, argv: Iterable[str]) -> list[str]:
        """Mask an argument vector, including the value after -p/--password/--token."""
        out: list[str] = []
        hide_next = False
        for arg in argv:
            if hide_next:
                out.append(MASK)
                hide_next = False
                continue
            hide_next = arg in ("-p", "--password", "--token")
            out.append(self.text(arg))
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


def secret_env_values(env: Mapping[str, str]) -> set[str]:
    table = _table()
    found = set()
    for name, value in env.items():
        upper = name.upper()
        if len(value) < table.min_env_value_length:
            continue
        if any(word in upper for word in table.env_words):
            found.add(value)
    return found
