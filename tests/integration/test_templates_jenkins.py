"""The Jenkins shared-library step: parsed and linted by npm-groovy-lint (CodeNarc), and
run for real by the Groovy interpreter that npm-groovy-lint ships, with the pipeline
steps it calls (sh, readFile, junit...) played by plain closures and `sh` running a
real shell, so the real ci-guard runs under it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import template_install, tools

ROOT = Path(__file__).resolve().parents[2]
JENKINS = ROOT / "ci-templates" / "jenkins"
# The library root is the repository root: Jenkins loads vars/ from there, with no
# library path setting.
STEP = ROOT / "vars" / "ciGuard.groovy"

# Pipeline steps as closures in the script binding; Script.invokeMethod falls back to
# them. @NonCPS (a Jenkins annotation) is aliased to a JDK one.
HARNESS = r"""
import groovy.json.JsonOutput
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.customizers.ImportCustomizer

File workspace = new File(args[0])
Map params = new groovy.json.JsonSlurper().parseText(args[1]) as Map
List calls = []
String inDir = null
Binding binding = new Binding()
Closure<File> here = { String path ->
    new File(path).absolute ? new File(path) : new File(inDir ? new File(inDir) : workspace, path)
}
binding.env = [WORKSPACE_TMP: workspace.path + '@tmp']
binding.sh = { Map m ->
    calls << [step: 'sh', script: m.script]
    Process p = new ProcessBuilder('sh', '-c', m.script).directory(workspace).inheritIO().start()
    int rc = p.waitFor()
    if (m.returnStatus) { return rc }
    if (rc != 0) { throw new RuntimeException("script returned exit code ${rc}") }
    return null
}
binding.readFile = { String path -> here(path).text }
binding.fileExists = { String path -> here(path).exists() }
binding.writeFile = { Map m ->
    calls << [step: 'writeFile', file: m.file]
    here(m.file).text = m.text
}
binding.dir = { String path, Closure body -> inDir = path; try { body() } finally { inDir = null } }
binding.junit = { Map m -> calls << [step: 'junit', dir: inDir] + m }
binding.archiveArtifacts = { Map m -> calls << [step: 'archiveArtifacts', dir: inDir] + m }
binding.pwd = { Map m -> workspace.path + '@tmp' }
binding.error = { String message -> throw new IllegalStateException(message) }

CompilerConfiguration config = new CompilerConfiguration()
config.addCompilationCustomizers(new ImportCustomizer().addImport('NonCPS', 'java.lang.Deprecated'))
Script step = new GroovyShell(binding, config).parse(new File(args[2]))
Map out = [calls: calls]
try {
    out.result = step.invokeMethod('call', [params] as Object[])
} catch (IllegalStateException e) {
    out.error = e.message
}
println('HARNESS ' + JsonOutput.toJson(out))
"""

FLAKY = """\
import os, sys
print("pushing with dckr_pat_" + "D" * 27)
if not os.path.exists("flaky.state"):
    open("flaky.state", "w").close()
    print("  Temporary failure resolving 'deb.debian.org'")
    sys.exit(100)
"""


def _lint(*args: str | Path) -> dict[str, Any]:
    lint = tools.require("npm-groovy-lint")
    argv = [str(lint), "--noserver", "--output", "json", *map(str, args)]
    done = subprocess.run(
        argv, cwd=JENKINS, capture_output=True, text=True, timeout=300, check=False
    )
    start = done.stdout.find("{")
    assert start >= 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout[start:])
    return report


def _findings(report: dict[str, Any], *severities: str) -> list[str]:
    return [
        f"{name}:{e['line']} {e['rule']} {e['msg']}"
        for name, data in report["files"].items()
        for e in data["errors"]
        if e["severity"] in severities
    ]


def test_step_has_no_lint_errors_or_warnings() -> None:
    report = _lint(STEP)
    assert report["summary"]["totalFilesLinted"] == 1
    assert _findings(report, "error", "warning") == []


def test_example_jenkinsfile_has_no_lint_findings() -> None:
    report = _lint("--config", "recommended-jenkinsfile", "example/Jenkinsfile")
    assert report["summary"]["totalFilesLinted"] == 1
    assert _findings(report, "error", "warning", "info") == []


def test_lint_parses_the_groovy(tmp_path: Path) -> None:
    """Negative control: a syntax error is reported, so the files were really parsed."""
    broken = tmp_path / "broken.groovy"
    broken.write_text(STEP.read_text("utf-8").replace("Map call(Map params = [:]) {", "Map call("))
    report = _lint(broken)
    assert any("NglParseError" in f for f in _findings(report, "error"))


def _groovy_classpath() -> str:
    lint = tools.require("npm-groovy-lint")
    lib = lint.resolve().parents[1] / "lib" / "java" / "groovy" / "lib"
    jars = sorted(lib.glob("groovy-*.jar"))
    if not jars:
        pytest.fail(f"npm-groovy-lint ships no Groovy jars in {lib}")
    return os.pathsep.join(str(j) for j in jars)


def _run_step(
    tmp_path: Path, params: dict[str, Any], extra_env: dict[str, str] | None = None
) -> tuple[dict[str, Any], str]:
    ci_guard = Path(sys.executable).parent / "ci-guard"
    if not ci_guard.exists():
        pytest.skip(f"no ci-guard executable beside {sys.executable}")
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    (workspace / "flaky.py").write_text(FLAKY, "utf-8")
    harness = tmp_path / "harness.groovy"
    harness.write_text(HARNESS, "utf-8")
    params = {"ciGuard": str(ci_guard), **params}
    argv = ["java", "-cp", _groovy_classpath(), "groovy.ui.GroovyMain", str(harness)]
    argv += [str(workspace), json.dumps(params), str(STEP)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_GUARD_", "GITHUB_"))}
    env.update(extra_env or {})
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("HARNESS ")]
    assert lines, done.stdout + done.stderr
    out: dict[str, Any] = json.loads(lines[-1].removeprefix("HARNESS "))
    return out, done.stdout


FAST = ["--no-preflight", "--backoff-initial", "0", "--backoff-max", "0"]


def test_step_runs_ci_guard_and_returns_its_outputs(tmp_path: Path) -> None:
    out, log = _run_step(
        tmp_path,
        {
            "command": 'echo "it\'s quoted" > quoted.txt && python3 flaky.py',
            "maxAttempts": 3,
            "ladder": ["retry", "retry"],
            "extraArgs": FAST,
            "secretEnv": ["DEPLOY_*"],
        },
    )
    out_dir = tmp_path / "ws@tmp" / "ci-guard"
    assert out["result"] == {
        "exitCode": 0,
        "attempts": 2,
        "failureClass": "",
        "stopReason": "succeeded",
        "logFile": str(out_dir / "ci-guard.jsonl"),
    }
    assert (tmp_path / "ws" / "quoted.txt").read_text("utf-8") == "it's quoted\n"
    steps = [c["step"] for c in out["calls"]]
    assert steps == ["sh", "junit", "archiveArtifacts"]
    # Published and archived from the artifacts folder, outside the workspace.
    junit, archive = out["calls"][1], out["calls"][2]
    assert (junit["dir"], junit["testResults"]) == (str(out_dir), "junit.xml")
    assert junit["skipMarkingBuildUnstable"] is True
    assert (archive["dir"], archive["artifacts"]) == (str(out_dir), "**")
    assert (out_dir / "junit.xml").is_file()
    assert not (tmp_path / "ws" / ".ci-guard").exists()
    attempt_logs = sorted(out_dir.glob("*/attempt-*.log"))
    assert len(attempt_logs) == 2
    assert all("dckr_pat_" not in p.read_text("utf-8") for p in attempt_logs)
    assert "'--secret-env' 'DEPLOY_*'" in out["calls"][0]["script"]
    assert "----- ci-guard attempt 1/3:" in log
    assert "'--ladder' 'retry,retry'" in out["calls"][0]["script"]


def test_step_failure_raises_or_returns_exit_75(tmp_path: Path) -> None:
    always_down = "echo \"  Temporary failure resolving 'deb.debian.org'\"; exit 100"
    params = {"command": always_down, "maxAttempts": 2, "extraArgs": FAST, "archive": False}
    out, _ = _run_step(tmp_path, params)
    assert out["error"] == "ci-guard: exit 75 after 2 attempt(s) (dns_failure)"
    out, _ = _run_step(tmp_path, {**params, "failOnError": False, "junit": False})
    assert out["result"]["exitCode"] == 75
    assert out["result"]["failureClass"] == "dns_failure"
    assert out["result"]["stopReason"] == "attempts_exhausted"
    assert [c["step"] for c in out["calls"]] == ["sh"]


def test_step_requires_a_command(tmp_path: Path) -> None:
    out, _ = _run_step(tmp_path, {})
    assert out["error"] == "ciGuard: the command parameter is required"


def test_step_installs_ci_guard_from_the_repository_at_a_ref_once(tmp_path: Path) -> None:
    """repository + ref: pip installs git+URL@REF into WORKSPACE@tmp; a second build
    on the same agent reuses that virtualenv."""
    source = template_install.clone(tmp_path / "src")
    params = {
        "command": "python3 flaky.py",
        "repository": source.url,
        "ref": source.ref,
        "ciGuard": "/nonexistent/ci-guard",
        "extraArgs": FAST,
        "archive": False,
    }
    pip = template_install.pip_env()
    out, log = _run_step(tmp_path, params, pip)
    assert out.get("result", {}).get("exitCode") == 0, log
    venv = tmp_path / "ws@tmp" / "ci-guard-venv"
    scripts = [c["script"] for c in out["calls"] if c["step"] == "sh"]
    assert any(f"'git+{source.url}@{source.ref}'" in s for s in scripts)
    assert scripts[-1].startswith(f"'{venv}/bin/ci-guard' 'run'")
    out, log = _run_step(tmp_path, params, pip)
    assert out.get("result", {}).get("exitCode") == 0, log
    assert [c["step"] for c in out["calls"]] == ["sh", "junit"]


def test_step_rejects_a_repository_without_a_ref(tmp_path: Path) -> None:
    out, _ = _run_step(tmp_path, {"command": "true", "repository": "https://git.example.com/x"})
    assert out["error"] == "ciGuard: the repository and ref parameters go together"


def test_the_library_root_is_the_repository_root() -> None:
    """Jenkins loads a library's steps from vars/ at the root of what it checks out."""
    steps = sorted(p.name for p in (ROOT / "vars").iterdir())
    assert steps == ["ciGuard.groovy"]
    assert not list((ROOT / "ci-templates").rglob("vars"))


def test_step_refuses_extra_args_as_one_string(tmp_path: Path) -> None:
    out, _ = _run_step(tmp_path, {"command": "true", "extraArgs": "--no-preflight --timeout 5"})
    assert out["error"] == "ciGuard: extraArgs is a list of strings, one per argument"


def test_step_passes_extra_args_with_spaces_and_quotes_whole(tmp_path: Path) -> None:
    log_file = """build logs/ci "guard" it's.jsonl"""
    params = {"command": "true", "extraArgs": [*FAST, "--log-file", log_file], "archive": False}
    out, log = _run_step(tmp_path, params)
    assert out.get("result", {}).get("exitCode") == 0, log
    assert (tmp_path / "ws" / log_file).is_file()


def test_step_passes_the_retry_parameters(tmp_path: Path) -> None:
    """retryOn (a list), retryWait and onRetryCommand, as a retry() user would move them."""
    params = {
        "command": "exit 3",
        "maxAttempts": 3,
        "retryOn": ["exit:3", "network"],
        "retryWait": 0,
        "onRetryCommand": 'echo "$CI_GUARD_ATTEMPT $CI_GUARD_EXIT_CODE" >> hook.txt',
        "extraArgs": ["--no-preflight"],
        "failOnError": False,
        "archive": False,
    }
    out, log = _run_step(tmp_path, params)
    assert out.get("result", {}).get("attempts") == 3, log
    assert out["result"]["stopReason"] == "attempts_exhausted"
    assert (tmp_path / "ws" / "hook.txt").read_text("utf-8") == "1 3\n2 3\n"
    script = out["calls"][0]["script"]
    assert "'--retry-on' 'exit:3,network'" in script
    assert "'--retry-wait' '0'" in script
    out, log = _run_step(tmp_path, {**params, "command": "exit 4"})
    assert out.get("result", {}).get("stopReason") == "not_in_retry_on", log
    assert out["result"]["attempts"] == 1
