"""A reader for the YAML that compose files are written in, without a YAML library.

Covers block mappings and sequences, plain and quoted scalars, one-line flow
collections, block scalars (| and >), comments, anchors, aliases and `<<` merge keys.
Every scalar stays a string (or None for null/~/empty): compose values such as build
args are strings to Docker anyway. Anything else is a YamlError naming the line.
JSON parses too (it is YAML), through the standard json module.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_KEY = re.compile(r"""^(?P<key>"[^"]*"|'[^']*'|[^\s#'"{\[][^#]*?)\s*:(?:\s+|$)(?P<rest>.*)$""")


class YamlError(ValueError):
    pass


@dataclass
class _Line:
    number: int
    indent: int
    text: str


def _strip_comment(text: str) -> str:
    quote = None
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"" and (index == 0 or text[index - 1] in " \t:[{,-"):
            quote = char
        elif char == "#" and (index == 0 or text[index - 1] in " \t"):
            return text[:index].rstrip()
    return text.rstrip()


def loads(text: str) -> Any:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return _Parser(text).document()


class _Parser:
    def __init__(self, text: str) -> None:
        self.raw = text.splitlines()
        self.lines: list[_Line] = []
        for number, raw in enumerate(self.raw, start=1):
            if "\t" in raw[: len(raw) - len(raw.lstrip())]:
                raise YamlError(f"line {number}: tabs are not allowed for indentation")
            body = _strip_comment(raw)
            if body.strip() in ("", "---", "..."):
                continue
            self.lines.append(_Line(number, len(body) - len(body.lstrip()), body.strip()))
        self.pos = 0
        self.anchors: dict[str, Any] = {}

    def document(self) -> Any:
        if not self.lines:
            return None
        value = self.block(self.lines[0].indent)
        if self.pos < len(self.lines):
            raise YamlError(f"line {self.lines[self.pos].number}: unexpected indentation")
        return value

    def block(self, indent: int) -> Any:
        line = self.lines[self.pos]
        if line.text == "-" or line.text.startswith("- "):
            return self.sequence(indent)
        if _KEY.match(line.text):
            return self.mapping(indent)
        self.pos += 1
        return self.scalar(line.text, line)

    def sequence(self, indent: int) -> list[Any]:
        items: list[Any] = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.indent != indent or not (line.text == "-" or line.text.startswith("- ")):
                break
            rest = line.text[1:].lstrip()
            if not rest:
                self.pos += 1
                items.append(self.nested(indent, allow_same=False))
            elif _KEY.match(rest) and not rest.startswith(("{", "[")):
                # "- key: value" opens a mapping whose keys sit where "key" starts.
                column = indent + (len(line.text) - len(rest))
                self.lines[self.pos] = _Line(line.number, column, rest)
                items.append(self.mapping(column))
            else:
                self.pos += 1
                items.append(self.value(rest, line, indent))
        return items

    def mapping(self, indent: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.indent < indent:
                break
            if line.indent > indent:
                raise YamlError(f"line {line.number}: unexpected indentation")
            match = _KEY.match(line.text)
            if match is None:
                break
            key = self.unquote(match.group("key").strip())
            self.pos += 1
            rest = match.group("rest").strip()
            value = self.value(rest, line, indent) if rest else self.nested(indent, True)
            if key == "<<":
                for source in value if isinstance(value, list) else [value]:
                    if isinstance(source, dict):
                        for name, item in source.items():
                            result.setdefault(name, item)
                continue
            result[key] = value
        return result

    def nested(self, indent: int, allow_same: bool) -> Any:
        if self.pos >= len(self.lines):
            return None
        following = self.lines[self.pos]
        if following.indent > indent:
            return self.block(following.indent)
        if allow_same and following.indent == indent and following.text.startswith("-"):
            return self.sequence(indent)
        return None

    def value(self, rest: str, line: _Line, indent: int) -> Any:
        anchor = None
        if rest.startswith("&"):
            anchor, _, rest = rest[1:].partition(" ")
            rest = rest.strip()
        if rest.startswith("*"):
            name = rest[1:].strip()
            if name not in self.anchors:
                raise YamlError(f"line {line.number}: unknown alias *{name}")
            return self.anchors[name]
        if rest.startswith(("|", ">")):
            result: Any = self.block_scalar(rest[0], indent)
        elif rest:
            result = self.scalar(rest, line)
        else:
            result = self.nested(indent, True)
        if anchor:
            self.anchors[anchor] = result
        return result

    def block_scalar(self, style: str, indent: int) -> str:
        texts = []
        while self.pos < len(self.lines) and self.lines[self.pos].indent > indent:
            texts.append(self.lines[self.pos].text)
            self.pos += 1
        return ("\n" if style == "|" else " ").join(texts)

    def scalar(self, text: str, line: _Line) -> Any:
        if text.startswith(("[", "{")):
            value, end = _Flow(text, line.number).parse(0)
            if text[end:].strip():
                raise YamlError(f"line {line.number}: text after a flow collection")
            return value
        return None if text in _NULLS else self.unquote(text)

    @staticmethod
    def unquote(text: str) -> str:
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            inner = text[1:-1]
            return inner.replace("''", "'") if text[0] == "'" else inner.replace('\\"', '"')
        return text


class _Flow:
    """One-line flow collections: [a, b], {k: v}, nested."""

    def __init__(self, text: str, number: int) -> None:
        self.text = text
        self.number = number

    def parse(self, pos: int) -> tuple[Any, int]:
        pos = self._skip(pos)
        char = self.text[pos] if pos < len(self.text) else ""
        if char == "[":
            return self._items(pos + 1, "]", mapping=False)
        if char == "{":
            return self._items(pos + 1, "}", mapping=True)
        return self._scalar(pos)

    def _items(self, pos: int, close: str, *, mapping: bool) -> tuple[Any, int]:
        items: list[Any] = []
        pairs: dict[str, Any] = {}
        while True:
            pos = self._skip(pos)
            if pos >= len(self.text):
                raise YamlError(f"line {self.number}: unclosed flow collection")
            if self.text[pos] == close:
                return (pairs if mapping else items), pos + 1
            value, pos = self.parse(pos)
            pos = self._skip(pos)
            if mapping:
                if pos < len(self.text) and self.text[pos] == ":":
                    item, pos = self.parse(pos + 1)
                else:
                    item = None
                pairs[str(value)] = item
            else:
                items.append(value)
            pos = self._skip(pos)
            if pos < len(self.text) and self.text[pos] == ",":
                pos += 1

    def _scalar(self, pos: int) -> tuple[Any, int]:
        if pos < len(self.text) and self.text[pos] in "'\"":
            end = self.text.find(self.text[pos], pos + 1)
            if end < 0:
                raise YamlError(f"line {self.number}: unclosed quote")
            return _Parser.unquote(self.text[pos : end + 1]), end + 1
        end = pos
        while (
            end < len(self.text)
            and self.text[end] not in ",]}"
            and not (self.text[end] == ":" and self.text[end + 1 : end + 2] in (" ", ""))
        ):
            end += 1
        word = self.text[pos:end].strip()
        return (None if word in _NULLS else word), end

    def _skip(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos] in " \t":
            pos += 1
        return pos
