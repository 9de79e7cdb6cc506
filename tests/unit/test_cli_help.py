"""Every --help shows defaults and an example, and names only docs `ci-guard help` has."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ci_guard import userdocs
from ci_guard.cli.main import COMMANDS, cli
from ci_guard.options import default_text, option_specs
from ci_guard.run.summary import FAILURE_CLASSES_DOC

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _commands() -> list[tuple[list[str], click.Command]]:
    """Every command and subcommand, as its argv path and the click object."""
    ctx = click.Context(cli)
    found: list[tuple[list[str], click.Command]] = [([], cli)]
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        found.append(([name], command))
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                assert sub.name is not None
                found.append(([name, sub.name], sub))
    return found


COMMAND_PATHS = [path for path, _ in _commands()]


def _help(path: list[str]) -> str:
    result = CliRunner().invoke(cli, [*path, "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    return result.stdout


def _has_default(param: click.Option) -> bool:
    spec = next((s for s in option_specs().values() if f"--{s.name}" in param.opts), None)
    if spec is not None:
        return default_text(spec) is not None
    if param.is_flag and not param.secondary_opts:
        return False  # a plain switch (--json) is off unless given
    given = param.default if isinstance(param.default, str | int | float | Path) else None
    return given is not None or isinstance(param.show_default, str)


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda p: " ".join(p) or "ci-guard")
def test_help_has_an_example(path: list[str]) -> None:
    assert re.search(r"^\s*Examples?:\s+ci-guard ", _help(path), re.M)


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda p: " ".join(p) or "ci-guard")
def test_help_shows_each_default(path: list[str]) -> None:
    command = {tuple(p): c for p, c in _commands()}[tuple(path)]
    ctx = click.Context(command, info_name=" ".join(path))
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden or not _has_default(param):
            continue
        record = param.get_help_record(ctx)
        assert record is not None
        assert "[default: " in record[1], f"{param.opts[0]}: {record[1]}"
        # shown as written, not wrapped in parentheses as click does with a text default
        assert not re.search(r"\[default: \((?!empty\))", record[1]), record[1]


def test_setting_defaults_read_as_written() -> None:
    text = _help(["run"])
    for piece in ("[default: 40m;", "[default: 5s;", "[default: 10s;", "[default: 2m;",
                  "[default: true;", "env CI_GUARD_TIMEOUT]"):  # fmt: skip
        assert piece in re.sub(r"\s+", " ", text).replace("[ default", "[default"), piece


def test_every_doc_named_in_a_help_text_is_a_topic() -> None:
    topics = userdocs.topics()
    named = set()
    for path in COMMAND_PATHS:
        text = _help(path)
        assert not re.search(r"docs/[\w-]+\.md", text), f"{path}: a repository path"
        named.update(re.findall(r"ci-guard help ([\w-]+)", text))
    named.update(re.findall(r"ci-guard help ([\w-]+)", FAILURE_CLASSES_DOC))
    assert {"exit-codes", "configuration", "commands", "failure-classes"} <= named
    assert named <= set(topics), named - set(topics)


def test_topics_are_the_docs_pages() -> None:
    assert set(userdocs.topics()) == {page.stem for page in DOCS.glob("*.md")}


def test_help_lists_topics_and_prints_a_page() -> None:
    listing = _help_cmd([])
    assert listing.exit_code == 0
    for name in userdocs.topics():
        assert re.search(rf"^  {re.escape(name)}\s", listing.stdout, re.M)
    page = _help_cmd(["exit-codes"])
    assert page.exit_code == 0
    assert page.stdout == (DOCS / "exit-codes.md").read_text("utf-8")
    assert _help_cmd(["Exit-Codes.md"]).stdout == page.stdout
    # A link target as a page shows it, anchor and all, names its page.
    assert _help_cmd(["log-schema.md#runfinished"]).stdout == _help_cmd(["log-schema"]).stdout
    assert _help_cmd(["docs/exit-codes.md"]).stdout == page.stdout


def test_help_unknown_topic_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from ci_guard.cli.main import main

    with pytest.raises(SystemExit) as stopped:
        main(["help", "exit-code"])
    assert stopped.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("ci-guard: error: no help topic 'exit-code' (topics: benchmarks,")
    assert err.count("\n") == 1


def test_installed_pages_come_before_the_checkout(tmp_path: Path) -> None:
    installed, checkout = tmp_path / "pkg" / "docs", tmp_path / "docs"
    checkout.mkdir()
    (checkout / "commands.md").write_text("# Commands\n")
    assert userdocs.topics((installed, checkout)) == {"commands": checkout / "commands.md"}
    installed.mkdir(parents=True)
    (installed / "exit-codes.md").write_text("# Exit codes\n")
    assert list(userdocs.topics((installed, checkout))) == ["exit-codes"]
    assert userdocs.read_topic("exit-codes", (installed, checkout)) == "# Exit codes\n"
    assert userdocs.topics((tmp_path / "none",)) == {}


def _help_cmd(args: list[str]) -> click.testing.Result:
    return CliRunner().invoke(cli, ["help", *args], catch_exceptions=False)
