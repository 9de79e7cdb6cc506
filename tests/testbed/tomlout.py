"""Write corpus entries as TOML (no TOML writer in the standard library)."""

from __future__ import annotations

import json

_CONTROL = {chr(c) for c in range(32)} - {"\n", "\t"} | {"\x7f"}


def toml_string(text: str) -> str:
    """A TOML string for text: a readable literal block when possible, else escaped."""
    if "'''" not in text and not any(ch in _CONTROL for ch in text) and "\r" not in text:
        return f"'''\n{text}'''" if text.endswith("\n") else f"'''\n{text}\n'''"
    # A multi-line basic string: newlines stay, control characters become \uXXXX.
    body = "".join(_escape(ch) for ch in text)
    return f'"""\n{body}"""' if text.endswith("\n") else f'"""\n{body}\n"""'


def _escape(ch: str) -> str:
    if ch == "\\":
        return "\\\\"
    if ch == '"':
        return '\\"'
    if ch in _CONTROL or ch == "\r":
        return f"\\u{ord(ch):04x}"
    return ch


def message_toml(
    failure_class: str, source: str, exit_code: int, text: str, timed_out: bool = False
) -> str:
    """One `[[message]]` entry with the keys of the classifier corpus."""
    lines = [
        "[[message]]",
        f"class = {json.dumps(failure_class)}",
        f"source = {json.dumps(source, ensure_ascii=False)}",
        f"exit_code = {exit_code}",
    ]
    if timed_out:
        lines.append("timed_out = true")
    lines.append(f"text = {toml_string(text)}")
    return "\n".join(lines) + "\n"
