"""The GitLab template run for real by gitlab-ci-local (shell executor, no Docker).

The pipeline includes the template, extends `.ci-guard` around a command that fails
once with a DNS error and then passes, and a later job reads the dotenv report.
gitlab-ci-local also validates every file against GitLab's CI JSON schema and reads
our section markers (it prints "<section>_started" / "<section> took ...").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests import template_install, tools

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "ci-templates" / "gitlab" / "ci-guard.gitlab-ci.yml"
EXAMPLE = ROOT / "ci-templates" / "gitlab" / "example.gitlab-ci.yml"
RUN_ARGS = "--no-preflight --max-attempts 2 --backoff-initial 0 --backoff-max 0"

FLAKY = """\
import os, sys
print("artifacts in the project during the build:", os.path.exists(".ci-guard"))
print("using glpat-" + "F" * 20)
if not os.path.exists("flaky.state"):
    open("flaky.state", "w").close()
    print("Err:1 http://deb.debian.org/debian bookworm InRelease")
    print("  Temporary failure resolving 'deb.debian.org'")
    print("::error::not a command here")
    sys.exit(100)
print("step ok")
"""
DOWN = """\
import sys
print("  Temporary failure resolving 'deb.debian.org'")
sys.exit(100)
"""
PIPELINE = f"""\
include:
  - local: ci-guard.gitlab-ci.yml
stages: [build, report]
build:
  stage: build
  extends: .ci-guard
  variables:
    CI_GUARD_COMMAND: python3 SCRIPT
    CI_GUARD_RUN_ARGS: {RUN_ARGS}
report:
  stage: report
  needs: [build]
  when: always
  script:
    - echo "seen attempts=$CI_GUARD_ATTEMPTS exit=$CI_GUARD_EXIT_CODE class=$CI_GUARD_FAILURE_CLASS"
    - test "$CI_GUARD_LOG_FILE" = .ci-guard/ci-guard.jsonl
"""


def _ci_guard() -> Path:
    path = Path(sys.executable).parent / "ci-guard"
    if not path.exists():
        pytest.skip(f"no ci-guard executable beside {sys.executable}")
    return path


def _project(
    tmp_path: Path, script: str, pipeline: str = PIPELINE, files: dict[str, str] | None = None
) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(TEMPLATE, project / "ci-guard.gitlab-ci.yml")
    (project / "job.py").write_text(script, "utf-8")
    for name, text in (files or {}).items():
        (project / name).write_text(text, "utf-8")
    (project / ".gitlab-ci.yml").write_text(pipeline.replace("SCRIPT", "job.py"), "utf-8")
    git = ["git", "-C", str(project), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run(
        [*git, "remote", "add", "origin", "https://gitlab.example.com/g/p.git"], check=True
    )
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    return project


def _gitlab_ci_local(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    program = tools.require("gitlab-ci-local")
    env = template_install.environ_without("CI_GUARD_", "GITHUB_")
    env.pop("GITLAB_CI", None)
    argv = [str(program), "--home", str(project.parent / "home")]
    argv += ["--json-schema-validation", "--no-color", *args]
    return template_install.run_captured(argv, cwd=project, env=env, timeout=300)


def _dotenv(project: Path) -> dict[str, str]:
    lines = (project / ".ci-guard" / "ci-guard.env").read_text("utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def _install_variables(tmp_path: Path) -> list[str]:
    """The template installs ci-guard itself: pip from a git URL at a ref, offline."""
    source = template_install.clone(tmp_path)
    pairs = {"CI_GUARD_REPO_URL": source.url, "CI_GUARD_REF": source.ref}
    pairs.update(template_install.pip_env())
    return [arg for name, value in pairs.items() for arg in ("--variable", f"{name}={value}")]


def test_flaky_command_passes_on_the_second_attempt_inside_one_job(tmp_path: Path) -> None:
    """The whole template: install from the repository at a ref, then run."""
    project = _project(tmp_path, FLAKY)
    done = _gitlab_ci_local(project, *_install_variables(tmp_path))
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    # pip's cache was moved back into the project for GitLab's cache: to keep.
    assert (project / ".ci-guard-pip-cache").is_dir(), log
    assert "PASS  build" in log
    assert "PASS  report" in log
    # gitlab-ci-local understood our section markers.
    assert "_attempt_1_started" in log
    assert "_attempt_2_started" in log
    assert "::error::not a command here" in log
    assert _dotenv(project) == {
        "CI_GUARD_ATTEMPTS": "2",
        "CI_GUARD_EXIT_CODE": "0",
        "CI_GUARD_FAILURE_CLASS": "",
        "CI_GUARD_STOP_REASON": "succeeded",
        "CI_GUARD_LOG_FILE": ".ci-guard/ci-guard.jsonl",
    }
    # The later job got the dotenv report as variables.
    assert "seen attempts=2 exit=0 class=" in log
    assert "artifacts in the project during the build: False" in log
    attempt_logs = sorted((project / ".ci-guard").glob("*/attempt-*.log"))
    assert len(attempt_logs) == 2
    for path in attempt_logs:
        text = path.read_text("utf-8")
        assert "using ***" in text
        assert "glpat-" not in text
    suite = ET.parse(project / ".ci-guard" / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failure = suite.find("testcase/failure")
    assert failure is not None
    assert failure.get("type") == "dns_failure"


def test_persistent_transient_failure_exits_75_for_the_outer_retry(tmp_path: Path) -> None:
    project = _project(tmp_path, DOWN)
    done = _gitlab_ci_local(project, "--variable", f"CI_GUARD_BIN={_ci_guard()}")
    log = done.stdout + done.stderr
    assert done.returncode != 0, log
    assert "FAIL 75" in log
    assert "seen attempts=2 exit=75 class=dns_failure" in log
    assert _dotenv(project)["CI_GUARD_FAILURE_CLASS"] == "dns_failure"


def test_missing_command_is_a_clear_error(tmp_path: Path) -> None:
    project = _project(tmp_path, FLAKY, PIPELINE.replace("python3 SCRIPT", '""'))
    done = _gitlab_ci_local(project, "--variable", f"CI_GUARD_BIN={_ci_guard()}", "build")
    assert done.returncode != 0
    assert "set CI_GUARD_COMMAND to the build command" in done.stdout + done.stderr


def test_no_install_source_is_a_clear_error(tmp_path: Path) -> None:
    project = _project(tmp_path, FLAKY)
    done = _gitlab_ci_local(project, "build")
    assert done.returncode != 0
    assert "set CI_GUARD_REPO_URL and CI_GUARD_REF" in done.stdout + done.stderr


def test_example_pipeline_passes_the_schema(tmp_path: Path) -> None:
    example = EXAMPLE.read_text("utf-8")
    start = example.index("include:")
    end = example.index("stages:")
    local = example[:start] + "include:\n  - local: ci-guard.gitlab-ci.yml\n\n" + example[end:]
    project = _project(tmp_path, FLAKY, local)
    done = _gitlab_ci_local(project, "--list")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "build-images" in done.stdout
    assert "report" in done.stdout


def test_schema_validation_is_real(tmp_path: Path) -> None:
    """Negative control: GitLab allows retry:max up to 2; the schema check rejects 5."""
    project = _project(tmp_path, FLAKY)
    template = project / "ci-guard.gitlab-ci.yml"
    template.write_text(template.read_text("utf-8").replace("max: 1", "max: 5"), "utf-8")
    done = _gitlab_ci_local(project, "--list")
    assert done.returncode != 0
    assert "Invalid .gitlab-ci.yml configuration" in done.stdout + done.stderr
    assert "must be <= 2" in done.stdout + done.stderr


def test_run_args_keep_quoted_values_whole(tmp_path: Path) -> None:
    pipeline = PIPELINE.replace(
        f"CI_GUARD_RUN_ARGS: {RUN_ARGS}",
        f"""CI_GUARD_RUN_ARGS: >-\n      {RUN_ARGS} --log-file 'build logs/ci "guard".jsonl'""",
    )
    project = _project(tmp_path, FLAKY, pipeline)
    done = _gitlab_ci_local(project, "--variable", f"CI_GUARD_BIN={_ci_guard()}", "build")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (project / "build logs" / 'ci "guard".jsonl').is_file()


def test_run_args_with_an_unmatched_quote_are_a_clear_error(tmp_path: Path) -> None:
    pipeline = PIPELINE.replace(f"CI_GUARD_RUN_ARGS: {RUN_ARGS}", 'CI_GUARD_RUN_ARGS: "\'a b"')
    project = _project(tmp_path, FLAKY, pipeline)
    done = _gitlab_ci_local(project, "--variable", f"CI_GUARD_BIN={_ci_guard()}", "build")
    assert done.returncode != 0
    assert "CI_GUARD_RUN_ARGS has an unmatched quote" in done.stdout + done.stderr


def test_script_runs_under_busybox_as_in_an_alpine_image(tmp_path: Path) -> None:
    """docker:*-cli images are Alpine: the job script runs in BusyBox's sh, with BusyBox's
    xargs splitting CI_GUARD_RUN_ARGS."""
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox is not installed (make deps installs busybox-static)")
    tools.require_library("yaml")
    import yaml  # type: ignore[import-untyped, unused-ignore]

    job = yaml.safe_load(TEMPLATE.read_text("utf-8"))[".ci-guard"]
    applets = tmp_path / "applets"
    applets.mkdir()
    (applets / "xargs").symlink_to(busybox)
    env = template_install.environ_without("CI_GUARD_", "GITLAB")
    env.update({k: str(v) for k, v in job["variables"].items()})
    env.update(
        PATH=f"{applets}{os.pathsep}{env['PATH']}",
        CI_GUARD_BIN=str(_ci_guard()),
        CI_GUARD_COMMAND='echo "it\'s $((6 * 7))" | tee out.txt',
        CI_GUARD_RUN_ARGS=f"""{RUN_ARGS} --log-file 'build logs/ci "guard".jsonl'""",
    )
    done = template_install.run_captured(
        [busybox, "sh", "-c", "\n".join(job["script"])], cwd=tmp_path, env=env, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out.txt").read_text("utf-8") == "it's 42\n"
    assert (tmp_path / "build logs" / 'ci "guard".jsonl').is_file()
    assert (tmp_path / ".ci-guard" / "junit.xml").is_file()


EXIT_3_ONCE = """\
import os, sys
if not os.path.exists("exit3.state"):
    open("exit3.state", "w").close()
    sys.exit(3)
"""
HOOK = """\
import os
with open("hook.txt", "a") as out:
    out.write(f"{os.environ['CI_GUARD_ATTEMPT']} {os.environ['CI_GUARD_FAILURE_CLASS']} "
              f"{os.environ['CI_GUARD_EXIT_CODE']}\\n")
"""


def test_retry_variables_choose_what_is_retried(tmp_path: Path) -> None:
    """GitLab's retry:exit_codes, inside the job: exit 3 is retried, the hook (a script,
    so that GitLab does not expand its $VARIABLES) runs before the retry."""
    pipeline = PIPELINE.replace(
        f"CI_GUARD_RUN_ARGS: {RUN_ARGS}",
        f"CI_GUARD_RUN_ARGS: {RUN_ARGS}\n    CI_GUARD_RETRY_ON: exit:3"
        "\n    CI_GUARD_RETRY_WAIT: '0'\n    CI_GUARD_ON_RETRY_COMMAND: python3 hook.py",
    )
    project = _project(tmp_path, EXIT_3_ONCE, pipeline, {"hook.py": HOOK})
    done = _gitlab_ci_local(project, "--variable", f"CI_GUARD_BIN={_ci_guard()}", "build")
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert _dotenv(project)["CI_GUARD_ATTEMPTS"] == "2"
    hook = next(project.rglob("hook.txt"))
    assert hook.read_text("utf-8") == "1 unknown 3\n"


SHOP_PIN = "pin-4711-quokka"
PRINT_PIN_EXIT_3 = "import os, sys; print('pin is', os.environ['SHOP_PIN']); sys.exit(3)\n"


def test_empty_retry_variables_leave_the_config_file_in_charge(tmp_path: Path) -> None:
    """The template's empty CI_GUARD_RETRY_ON is unset, so ci-guard.toml's retry-on holds:
    exit 3 (class unknown) is not in it and is not retried (else: 2 attempts, exit 75).
    So is its empty CI_GUARD_SECRET_ENV: the file's secret-env masks SHOP_PIN (a name
    the built-in patterns do not catch) in what ci-guard keeps (the command's own output
    passes through unmasked; GitLab masks its masked variables there)."""
    toml = 'retry-on = ["dns_failure"]\nsecret-env = ["SHOP_PIN"]\n'
    project = _project(tmp_path, PRINT_PIN_EXIT_3, files={"ci-guard.toml": toml})
    done = _gitlab_ci_local(
        project,
        "--variable", f"CI_GUARD_BIN={_ci_guard()}",
        "--variable", f"SHOP_PIN={SHOP_PIN}",
        "build",
    )  # fmt: skip
    log = done.stdout + done.stderr
    assert done.returncode != 0, log
    assert f"pin is {SHOP_PIN}" in log
    kept = [p for p in (project / ".ci-guard").rglob("*") if p.is_file()]
    assert kept
    assert not [p for p in kept if SHOP_PIN in p.read_text("utf-8", "replace")]
    dotenv = _dotenv(project)
    assert (dotenv["CI_GUARD_ATTEMPTS"], dotenv["CI_GUARD_EXIT_CODE"]) == ("1", "3"), log
    assert dotenv["CI_GUARD_STOP_REASON"] == "not_in_retry_on"
