"""The GitHub templates against real validators: actionlint (with shellcheck for the
workflow's scripts), action-validator (the action and workflow JSON schemas), and
shellcheck on the composite action's own scripts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import template_install, tools

ROOT = Path(__file__).resolve().parents[2]
ACTION_DIR = ROOT / "ci-templates" / "github"
INPUTS = {
    "command",
    "timeout",
    "max-attempts",
    "ladder",
    "mirrors",
    "total-timeout",
    "install-from",
    "extra-args",
    "working-directory",
    "artifacts-dir",
    "secret-env",
    "raw-logs",
    "retry-on",
    "retry-wait",
    "on-retry-command",
}
OUTPUTS = {"attempts", "exit-code", "failure-class", "stop-reason", "log-file", "artifacts-dir"}

LOCAL_WORKFLOW = """\
name: uses-the-local-action
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: guard
        uses: ./ci-templates/github
        with:
          command: docker compose build
          timeout: "600"
          max-attempts: "3"
          ladder: retry,repair-network
          mirrors: https://mirror.example
          total-timeout: "3000"
          install-from: git+https://git.example.com/your-org/ci-guard.git@v0.1.0
          extra-args: --no-output-timeout 600
          secret-env: DEPLOY_*
          raw-logs: "false"
          retry-on: network,exit:137
          retry-wait: "10"
          on-retry-command: docker system prune -f
          working-directory: .
          {extra}
      - env:
          ATTEMPTS: ${{{{ steps.guard.outputs.attempts }}}}
        run: echo "$ATTEMPTS"
"""


def _run(argv: list[str | Path], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{tools.PY_DIR / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return template_install.run_captured(argv, cwd=cwd, env=env, timeout=120)


def _action() -> dict[str, Any]:
    tools.require_library("yaml")
    import yaml  # type: ignore[import-untyped, unused-ignore]

    data: dict[str, Any] = yaml.safe_load((ACTION_DIR / "action.yml").read_text("utf-8"))
    return data


def _local_repo(tmp_path: Path, extra: str = "") -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copytree(ACTION_DIR, tmp_path / "ci-templates" / "github")
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "local.yml").write_text(LOCAL_WORKFLOW.format(extra=extra), "utf-8")
    return workflows / "local.yml"


def test_action_declares_the_inputs_and_outputs() -> None:
    action = _action()
    assert set(action["inputs"]) == INPUTS
    assert set(action["outputs"]) == OUTPUTS
    for name, output in action["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    assert action["runs"]["using"] == "composite"
    run_step = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    # Inputs reach the script through the environment, never pasted into its text.
    assert "${{" not in run_step["run"]
    assert "--ci github" in run_step["run"]
    # The artifacts folder defaults to the runner's temp folder, outside the checkout.
    assert "${RUNNER_TEMP:-/tmp}/ci-guard" in run_step["run"]
    assert '--artifacts-dir "$dir"' in run_step["run"]


def test_example_workflow_uploads_the_folder_the_action_names() -> None:
    example = (ACTION_DIR / "example-workflow.yml").read_text("utf-8")
    assert "path: ${{ steps.guard.outputs.artifacts-dir }}" in example
    assert ".ci-guard" not in example


def test_action_scripts_pass_shellcheck(tmp_path: Path) -> None:
    shellcheck = tools.require("shellcheck")
    steps = [s for s in _action()["runs"]["steps"] if "run" in s]
    assert len(steps) == 3
    for index, step in enumerate(steps):
        script = tmp_path / f"step{index}.sh"
        script.write_text("#!/usr/bin/env bash\n" + step["run"], "utf-8")
        done = _run([shellcheck, "--shell=bash", "--severity=style", script])
        assert done.returncode == 0, done.stdout + done.stderr


def test_example_workflow_passes_actionlint() -> None:
    actionlint = tools.require("actionlint")
    tools.require("shellcheck")  # actionlint runs it on `run:` scripts when on PATH
    done = _run([actionlint, "-no-color", ACTION_DIR / "example-workflow.yml"], cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflow_using_the_local_action_passes_actionlint(tmp_path: Path) -> None:
    actionlint = tools.require("actionlint")
    workflow = _local_repo(tmp_path)
    done = _run([actionlint, "-no-color", workflow], cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_reads_the_action_metadata(tmp_path: Path) -> None:
    """Negative control: an input the action lacks is reported, so the action was read."""
    actionlint = tools.require("actionlint")
    workflow = _local_repo(tmp_path, extra="max_attempts: '3'")
    done = _run([actionlint, "-no-color", workflow], cwd=tmp_path)
    assert done.returncode == 1
    assert 'input "max_attempts" is not defined' in done.stdout


@pytest.mark.parametrize("name", ["action.yml", "example-workflow.yml"])
def test_templates_pass_action_validator(name: str) -> None:
    validator = tools.require("action-validator")
    done = _run([validator, ACTION_DIR / name], cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_action_validator_rejects_a_broken_action(tmp_path: Path) -> None:
    """Negative control: the schema check is real (an action without `runs` fails)."""
    validator = tools.require("action-validator")
    text = (ACTION_DIR / "action.yml").read_text("utf-8")
    broken = tmp_path / "action.yml"
    broken.write_text(text.replace("runs:\n  using: composite", "runz:\n  using: composite"))
    done = _run([validator, broken])
    assert done.returncode != 0


def test_the_run_step_keeps_artifacts_in_runner_temp_and_masks_them(tmp_path: Path) -> None:
    """The action's run script itself, under bash, with the installed ci-guard."""
    ci_guard = Path(sys.executable).parent / "ci-guard"
    if not ci_guard.exists():
        pytest.skip(f"no ci-guard executable beside {sys.executable}")
    runner_temp, work = tmp_path / "runner-temp", tmp_path / "work"
    (runner_temp / "ci-guard-venv" / "bin").mkdir(parents=True)
    (runner_temp / "ci-guard-venv" / "bin" / "ci-guard").symlink_to(ci_guard)
    work.mkdir()
    step = next(s for s in _action()["runs"]["steps"] if s.get("id") == "run")
    token = "glpat-" + "Z" * 20
    env = template_install.environ_without("CI_GUARD_", "GITHUB_")
    env.update(
        RUNNER_TEMP=str(runner_temp),
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(tmp_path / "output"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
        CI_GUARD_IN_COMMAND=f'echo {token}; echo "$DEPLOY_THING"',
        CI_GUARD_IN_TIMEOUT="",
        CI_GUARD_IN_MAX_ATTEMPTS="1",
        CI_GUARD_IN_TOTAL_TIMEOUT="",
        CI_GUARD_IN_LADDER="",
        CI_GUARD_IN_MIRRORS="",
        CI_GUARD_IN_RETRY_ON="",
        CI_GUARD_IN_RETRY_WAIT="",
        CI_GUARD_IN_ON_RETRY_COMMAND="",
        CI_GUARD_IN_EXTRA_ARGS="--no-preflight",
        CI_GUARD_IN_ARTIFACTS_DIR="",
        CI_GUARD_IN_SECRET_ENV="DEPLOY_*",
        CI_GUARD_IN_RAW_LOGS="false",
        DEPLOY_THING="declared-secret-value",
    )
    done = template_install.run_captured(
        ["bash", "-c", step["run"]], cwd=work, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert token in done.stdout  # the build's own output passes unchanged
    outputs = (tmp_path / "output").read_text("utf-8")
    assert f"artifacts-dir={runner_temp / 'ci-guard'}" in outputs
    assert list(work.iterdir()) == []
    written = [p for p in (runner_temp / "ci-guard").rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert {"ci-guard.jsonl", "junit.xml", "attempt-1.log"} <= names
    for path in written:
        text = path.read_text("utf-8")
        assert token not in text, path
        assert "declared-secret-value" not in text, path


def _step(step_id: str | None = None, name: str | None = None) -> dict[str, Any]:
    steps = _action()["runs"]["steps"]
    return next(s for s in steps if (step_id and s.get("id") == step_id) or s.get("name") == name)


@pytest.mark.parametrize("install_from", ["", "git"])
def test_install_steps_install_ci_guard_from_the_repository(
    tmp_path: Path, install_from: str
) -> None:
    """The action's own install scripts under bash: from the checkout the runner made of
    the action's repository (the default), or from `install-from` (pip's git path)."""
    source = template_install.clone(tmp_path)
    home, runner_temp = tmp_path / "home", tmp_path / "runner-temp"
    home.mkdir()
    runner_temp.mkdir()
    env = template_install.environ_without("CI_GUARD_", "PIP_")
    env.update(template_install.pip_env())
    env.update(
        HOME=str(home),
        RUNNER_TEMP=str(runner_temp),
        GITHUB_OUTPUT=str(tmp_path / "output"),
        CI_GUARD_ACTION_PATH=str(source.checkout / "ci-templates" / "github"),
        CI_GUARD_IN_INSTALL_FROM=source.pip_spec if install_from else "",
    )
    for step in (_step("cache-key"), _step(name="Install ci-guard")):
        done = template_install.run_captured(
            ["bash", "-c", step["run"]], cwd=tmp_path, env=env, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "output").read_text("utf-8").startswith("key=ci-guard-pip-")
    assert done.stdout.startswith("ci-guard, version ")
    python = runner_temp / "ci-guard-venv" / "bin" / "python"
    where = subprocess.run(
        [python, "-c", "import ci_guard; print(ci_guard.__file__)"],
        cwd=tmp_path,
        env={k: v for k, v in env.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        check=True,
    )
    # A real install into the venv, not this work tree on a path.
    assert where.stdout.startswith(str(runner_temp / "ci-guard-venv")), where.stdout


def test_install_fails_clearly_on_a_ref_that_does_not_exist(tmp_path: Path) -> None:
    """Negative control: the install really fetches the ref named (a typo fails the step)."""
    source = template_install.clone(tmp_path)
    env = template_install.environ_without("CI_GUARD_", "PIP_")
    env.update(template_install.pip_env())
    env.update(
        HOME=str(tmp_path),
        RUNNER_TEMP=str(tmp_path),
        CI_GUARD_ACTION_PATH=str(source.checkout / "ci-templates" / "github"),
        CI_GUARD_IN_INSTALL_FROM=f"git+{source.url}@v0.0.0-no-such-tag",
    )
    step = _step(name="Install ci-guard")
    done = template_install.run_captured(["bash", "-c", step["run"]], env=env, timeout=300)
    assert done.returncode != 0
    assert "v0.0.0-no-such-tag" in done.stderr


def _run_step_script(
    tmp_path: Path, extra_args: str, **inputs: str
) -> subprocess.CompletedProcess[str]:
    """The action's run step under bash, with this ci-guard where the install put it;
    `inputs` (upper-case names, e.g. RETRY_ON="exit:3") override the defaults."""
    ci_guard = Path(sys.executable).parent / "ci-guard"
    if not ci_guard.exists():
        pytest.skip(f"no ci-guard executable beside {sys.executable}")
    runner_temp = tmp_path / "runner-temp"
    (runner_temp / "ci-guard-venv" / "bin").mkdir(parents=True)
    (runner_temp / "ci-guard-venv" / "bin" / "ci-guard").symlink_to(ci_guard)
    env = template_install.environ_without("CI_GUARD_", "GITHUB_")
    empty = ("TIMEOUT", "TOTAL_TIMEOUT", "LADDER", "MIRRORS", "RETRY_ON", "RETRY_WAIT")
    values = dict.fromkeys((*empty, "ON_RETRY_COMMAND", "SECRET_ENV"), "")
    values.update(
        COMMAND='echo "it\'s $((6 * 7))" | tee out.txt',
        MAX_ATTEMPTS="1",
        EXTRA_ARGS=extra_args,
        ARTIFACTS_DIR=str(tmp_path / "artifacts"),
        RAW_LOGS="false",
    )
    values.update(inputs)
    env.update({f"CI_GUARD_IN_{name}": value for name, value in values.items()})
    env.update(
        RUNNER_TEMP=str(runner_temp),
        GITHUB_OUTPUT=str(tmp_path / "github-output"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "github-summary.md"),
    )
    return template_install.run_captured(
        ["bash", "-c", _step("run")["run"]], cwd=tmp_path, env=env, timeout=120
    )


def test_extra_args_keep_quoted_values_whole(tmp_path: Path) -> None:
    extra = """--no-preflight --log-file 'build logs/ci "guard".jsonl'"""
    done = _run_step_script(tmp_path, extra)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "build logs" / 'ci "guard".jsonl').is_file()
    # The command ran under sh -c, as written.
    assert (tmp_path / "out.txt").read_text("utf-8") == "it's 42\n"


def test_extra_args_with_an_unmatched_quote_stop_the_step(tmp_path: Path) -> None:
    done = _run_step_script(tmp_path, "--no-preflight --log-file 'build logs/x.jsonl")
    assert done.returncode == 2
    assert "extra-args has an unmatched quote" in done.stderr
    assert not (tmp_path / "out.txt").exists()


def _outputs(tmp_path: Path) -> dict[str, str]:
    """The step outputs ci-guard wrote ($GITHUB_OUTPUT's NAME<<DELIMITER form)."""
    text = (tmp_path / "github-output").read_text("utf-8")
    found = re.findall(r"^([a-z-]+)<<(\S+)\n(.*?)\n\2$", text, re.MULTILINE | re.DOTALL)
    return {name: value for name, _, value in found}


def test_retry_inputs_reach_ci_guard(tmp_path: Path) -> None:
    """retry-on, retry-wait (a duration) and on-retry-command as nick-fields/retry users
    write them: exit 3 is retried, the hook runs before the retry with the failed
    attempt's facts."""
    done = _run_step_script(
        tmp_path,
        "--no-preflight",
        COMMAND="echo $((${CI_GUARD_ATTEMPT} + 2)) >> codes.txt; exit 3",
        MAX_ATTEMPTS="2",
        RETRY_ON="exit:3",
        RETRY_WAIT="200ms",  # a duration, as the input says
        ON_RETRY_COMMAND='echo "$CI_GUARD_ATTEMPT $CI_GUARD_EXIT_CODE" >> hook.txt',
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert (tmp_path / "codes.txt").read_text("utf-8") == "3\n4\n"
    assert (tmp_path / "hook.txt").read_text("utf-8") == "1 3\n"
    assert _outputs(tmp_path)["stop-reason"] == "attempts_exhausted"
    log = (tmp_path / "artifacts" / "ci-guard.jsonl").read_text("utf-8")
    assert '"delay_s": 0.2' in log


def test_retry_on_input_leaves_other_exit_codes_unretried(tmp_path: Path) -> None:
    done = _run_step_script(
        tmp_path, "--no-preflight", COMMAND="exit 4", MAX_ATTEMPTS="3", RETRY_ON="exit:3"
    )
    assert done.returncode == 4, done.stdout + done.stderr
    outputs = _outputs(tmp_path)
    assert (outputs["stop-reason"], outputs["attempts"]) == ("not_in_retry_on", "1")
