"""The CI templates and their pages agree with the CLI: each flag a template passes to
`ci-guard run` is one of its flags, each CI_GUARD_* variable they name exists (a
setting, an output, a hook variable or the template's own), and each input, output
and parameter a template declares is on its page. The templates' behaviour is tested
in tests/integration/test_templates_*.py; this needs none of their tools."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import yaml

from ci_guard.ci.dotenv import DOTENV_ENV, KEYS
from ci_guard.cli.main import cli
from ci_guard.options import option_specs

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "ci-templates" / "github" / "action.yml"
GITLAB = ROOT / "ci-templates" / "gitlab" / "ci-guard.gitlab-ci.yml"
GROOVY = ROOT / "vars" / "ciGuard.groovy"
TEMPLATE_FILES = [p for p in sorted((ROOT / "ci-templates").rglob("*")) if p.is_file()] + [GROOVY]
CI_PAGES = [ROOT / "docs" / f"ci-{name}.md" for name in ("github", "gitlab", "jenkins")]
# What the run's retry hook and each attempt see (docs/commands.md, on-retry-command).
HOOK_VARIABLES = {
    "CI_GUARD_RUN_ID", "CI_GUARD_ATTEMPT", "CI_GUARD_NEXT_ATTEMPT", "CI_GUARD_MAX_ATTEMPTS",
    "CI_GUARD_EXIT_CODE", "CI_GUARD_FAILURE_CLASS", "CI_GUARD_STAGE", "CI_GUARD_REMEDY",
}  # fmt: skip
OTHER_VARIABLES = {DOTENV_ENV, "CI_GUARD_DEBUG", "CI_GUARD_ACTION_PATH"}


def _run_flags() -> set[str]:
    run = cli.get_command(click.Context(cli), "run")
    assert run is not None
    return {
        name
        for param in run.params
        if isinstance(param, click.Option) and not param.hidden
        for name in param.opts + param.secondary_opts
    }


def _gitlab_variables() -> set[str]:
    return set(yaml.safe_load(GITLAB.read_text("utf-8"))[".ci-guard"]["variables"])


def passed_flags() -> dict[str, set[str]]:
    """The ci-guard run flags each template writes into its command line."""
    action = yaml.safe_load(ACTION.read_text("utf-8"))
    script = next(s["run"] for s in action["runs"]["steps"] if s.get("id") == "run")
    gitlab = yaml.safe_load(GITLAB.read_text("utf-8"))[".ci-guard"]["script"][0]
    invocation = gitlab[gitlab.index('"$CI_GUARD_BIN" run') :].split("-- sh -c")[0]
    groovy = GROOVY.read_text("utf-8")
    arguments = groovy[groovy.index("List<String> runArguments(") :].split("\n}\n")[0]
    return {
        "action.yml": set(re.findall(r"(?<=[( ])--[a-z][a-z-]+", _args_lines(script))),
        "ci-guard.gitlab-ci.yml": set(re.findall(r"(?<= )--[a-z][a-z-]+", invocation)),
        "ciGuard.groovy": set(re.findall(r"'(--[a-z][a-z-]+)'", arguments)),
    }


def _args_lines(script: str) -> str:
    return "\n".join(line for line in script.splitlines() if re.search(r"\bargs\+?=\(", line))


def test_templates_pass_only_flags_of_ci_guard_run() -> None:
    passed = passed_flags()
    assert all(len(flags) >= 5 for flags in passed.values()), passed
    known = _run_flags()
    assert {name: flags - known for name, flags in passed.items()} == {n: set() for n in passed}


def known_variables() -> set[str]:
    settings = {
        f"CI_GUARD_{spec.name.upper().replace('-', '_')}" for spec in option_specs().values()
    }
    action_env = set(re.findall(r"CI_GUARD_IN_[A-Z_]+", ACTION.read_text("utf-8")))
    outputs = set(KEYS.values())
    return settings | outputs | HOOK_VARIABLES | OTHER_VARIABLES | _gitlab_variables() | action_env


@pytest.mark.parametrize("path", TEMPLATE_FILES + CI_PAGES, ids=lambda p: p.name)
def test_every_ci_guard_variable_named_exists(path: Path) -> None:
    named = set(re.findall(r"\bCI_GUARD_[A-Z][A-Z0-9_]*[A-Z0-9]", path.read_text("utf-8")))
    assert named - known_variables() == set()


def _page(name: str) -> str:
    return (ROOT / "docs" / f"ci-{name}.md").read_text("utf-8")


def test_the_action_inputs_and_outputs_are_on_its_page() -> None:
    action = yaml.safe_load(ACTION.read_text("utf-8"))
    page = _page("github")
    missing = [name for name in [*action["inputs"], *action["outputs"]] if f"`{name}`" not in page]
    assert missing == []


def test_the_gitlab_variables_are_on_its_page() -> None:
    page = _page("gitlab")
    assert [name for name in sorted(_gitlab_variables()) if f"`{name}`" not in page] == []


def _groovy_parameters() -> set[str]:
    header = GROOVY.read_text("utf-8").split("*/", 1)[0]
    block = header.split("Named parameters", 1)[1].split("Returns", 1)[0]
    return set(re.findall(r"^ \*   ([a-zA-Z]+)\s", block, re.M))


def test_the_jenkins_parameters_are_the_same_in_the_step_and_on_its_page() -> None:
    section = _page("jenkins").split("Parameters (only", 1)[1].split("\n\n", 2)[1]
    table = re.findall(r"^\| (`[a-zA-Z]+`(?:, `[a-zA-Z]+`)*) \|", section, re.M)
    on_page = {name.strip("`") for row in table for name in row.split(", ")}
    in_step = _groovy_parameters()
    used = set(re.findall(r"params\.([a-zA-Z]+)", GROOVY.read_text("utf-8")))
    assert len(in_step) > 10
    assert (in_step ^ on_page, used - on_page) == (set(), set())
