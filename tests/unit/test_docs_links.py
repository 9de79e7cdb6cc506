"""The user documentation points at what exists: its relative links resolve (files and
headings), every `ci-guard COMMAND --flag` in a fenced block or a code span is a flag
that command shows in its --help (a renamed option's old name only where the page shows
its warning), and every usage error a page shows is the one line the real CLI prints."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import click
import pytest

from ci_guard.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")
# `ci-guard` as a command word: at the start of a line or after a prompt or a pipe.
INVOCATION = re.compile(r"(?:^|[\s$|;&(])ci-guard\s+([^|;&#)\n]*)")


def _rel(page: Path) -> str:
    return str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else page.name


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text("utf-8"))
    return {_slug(m.group(1)) for m in re.finditer(r"^#+\s+(.+)$", text, re.M)}


def broken_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text("utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # code spans are not links
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # https:, mailto: ...
        path, _, fragment = target.partition("#")
        resolved = (page.parent / path) if path else page
        if not resolved.exists():
            broken.append(f"{_rel(page)}: {target}: no such file")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            broken.append(f"{_rel(page)}: {target}: no such heading")
    return broken


@dataclass(frozen=True)
class Usage:
    where: str
    words: list[str]
    next_line: str


def code_usages(page: Path) -> list[Usage]:
    """`ci-guard ...` in fenced blocks, and in code spans of the prose."""
    text = page.read_text("utf-8")
    found = [
        usage
        for span in re.findall(r"`(ci-guard [^`\n]+)`", FENCE.sub("", text))
        for usage in _usages(page, span, "")
    ]
    for block in FENCE.findall(text):
        lines = block.splitlines()[1:-1]
        for index, line in enumerate(lines):
            following = lines[index + 1] if index + 1 < len(lines) else ""
            found += _usages(page, line, following)
    return found


def _usages(page: Path, line: str, following: str) -> list[Usage]:
    found = []
    for match in INVOCATION.finditer(line):
        try:
            words = shlex.split(match.group(1))
        except ValueError:
            words = match.group(1).split()
        found.append(Usage(f"{_rel(page)}: {line.strip()}", words, following))
    return found


def _command(words: list[str]) -> tuple[click.Command, list[str]] | None:
    """The (sub)command the words name and the words after it; None if not a command."""
    ctx = click.Context(cli)
    command: click.Command = cli
    for depth, word in enumerate(words):
        if not isinstance(command, click.Group):
            return command, words[depth:]
        sub = command.get_command(ctx, word)
        if sub is None:
            return None
        command = sub
    return command, []


def _flags(command: click.Command, *, hidden: bool) -> set[str]:
    names = {"-h", "--help"}
    for param in command.params:
        if isinstance(param, click.Option) and (hidden or not param.hidden):
            names.update(param.opts + param.secondary_opts)
    return names


def unknown_flags(usage: Usage) -> list[str]:
    named = _command(usage.words)
    if named is None:
        return []  # prose such as "ci-guard attempt 1: ..." in a transcript
    command, rest = named
    if "--" in rest:
        rest = rest[: rest.index("--")]  # the wrapped command's own options
    if "No such option" in usage.next_line:
        return []  # the page shows the error a typo gets
    shown = _flags(command, hidden="deprecated" in usage.next_line)
    given = [word.split("=", 1)[0] for word in rest if word.startswith("-") and word != "-"]
    return [f"{usage.where}: {flag}" for flag in given if flag not in shown]


def test_the_pages_are_found() -> None:
    assert len(PAGES) > 10
    assert sum(len(code_usages(page)) for page in PAGES) > 50
    assert len(SHOWN_ERRORS) >= 5


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_every_flag_in_an_example_is_a_flag_of_its_command(page: Path) -> None:
    assert [bad for usage in code_usages(page) for bad in unknown_flags(usage)] == []


def shown_errors() -> list[tuple[str, dict[str, str], list[str], str]]:
    """(page, environment, arguments, the error line the page shows) for each `$ ci-guard`."""
    found = []
    for page in PAGES:
        for block in FENCE.findall(page.read_text("utf-8")):
            lines = block.splitlines()
            for line, shown in pairwise(lines):
                match = re.match(r"^\$ ((?:\w+=\S* )*)ci-guard (.+)$", line)
                if match and shown.startswith("ci-guard: error: "):
                    env = dict(word.split("=", 1) for word in match.group(1).split())
                    found.append((_rel(page), env, shlex.split(match.group(2)), shown))
    return found


SHOWN_ERRORS = shown_errors()


@pytest.mark.parametrize(
    ("page", "env", "args", "shown"), SHOWN_ERRORS, ids=[" ".join(e[2]) for e in SHOWN_ERRORS]
)
def test_a_shown_usage_error_is_what_the_cli_prints(
    page: str, env: dict[str, str], args: list[str], shown: str, tmp_path: Path
) -> None:
    for arg in args:
        if arg.endswith("/"):
            (tmp_path / arg).mkdir(parents=True, exist_ok=True)  # the page's empty folder
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CI_GUARD_")}
    done = subprocess.run(
        [sys.executable, "-m", "ci_guard", *args],
        cwd=tmp_path, env={**environ, **env}, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert done.returncode == 2, page
    assert done.stderr.splitlines()[0] == shown, page


def test_the_checker_finds_a_broken_link_and_a_stale_flag(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("# Exit codes\n", "utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[a](there.md#exit-codes) [b](missing.md) [c](there.md#nope) [d](https://x.org)\n"
        "Pull with `ci-guard prefetch --attempts 2`, see `ci-guard help`.\n"
        "```\n"
        "ci-guard doctor --timeout 3\n"
        "ci-guard prefetch --max-attempts 2 busybox\n"
        "$ ci-guard run --retry-wait 5 --on-retry-command 'make clean -v' -- make -k\n"
        "ci-guard mirrors probe --nope\n"
        "```\n",
        "utf-8",
    )
    assert broken_links(page) == [
        "page.md: missing.md: no such file",
        "page.md: there.md#nope: no such heading",
    ]
    bad = [flag.rsplit(": ", 1)[1] for u in code_usages(page) for flag in unknown_flags(u)]
    assert bad == ["--attempts", "--timeout", "--nope"]
