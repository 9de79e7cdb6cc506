"""A team's own rules: read from the config file and a rules file, validated with a
one-line error naming the file and the rule, checked before the built-in rules, and
shown by `classify --explain`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ci_guard.classify import classify_text
from ci_guard.classify.user_rules import effective_rules
from ci_guard.config import resolve
from ci_guard.errors import UsageError

ARTIFACTORY = (
    "ERROR: Could not fetch https://artifactory.corp.example/api/pypi/simple/flask/:"
    " 503 Service Unavailable\n"
)
RULE = """
[[rule]]
name = "artifactory-503"
class = "registry_unavailable"
tier = "cause"
pattern = "artifactory\\\\.corp\\\\.example.*: 503"
why = "Our Artifactory is down."
"""
LOG = (
    ARTIFACTORY
    + "Temporary failure resolving 'deb.debian.org'\nfailed to solve: context canceled\n"
)


def _rules(tmp_path: Path, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    resolved = resolve({}, env=env or {}, config_path=None, cwd=tmp_path)
    return effective_rules(resolved.config, resolved.file)


def _git_root(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def test_no_user_rules_means_the_built_ins(tmp_path: Path) -> None:
    assert _rules(_git_root(tmp_path)) is None


def test_a_config_file_rule_beats_built_ins_of_its_tier(tmp_path: Path) -> None:
    root = _git_root(tmp_path)
    (root / "ci-guard.toml").write_text("max-attempts = 3\n" + RULE)
    rules = _rules(root)
    assert rules is not None
    failure = classify_text(LOG, rules=rules)
    assert (failure.rule, failure.failure_class.value) == (
        "artifactory-503",
        "registry_unavailable",
    )
    assert rules.by_name("artifactory-503").source == str(root / "ci-guard.toml")
    assert rules.by_name("apt-dns").source == "built-in"
    # Without it, apt-dns (first of the cause tier in rules.toml) wins.
    assert classify_text(LOG).rule == "apt-dns"


def test_pyproject_table_and_rules_file(tmp_path: Path) -> None:
    root = _git_root(tmp_path)
    (root / "pyproject.toml").write_text(
        "[tool.ci-guard]\nmax-attempts = 2\n" + RULE.replace("[[rule]]", "[[tool.ci-guard.rule]]")
    )
    extra = root / "more-rules.toml"
    extra.write_text(RULE.replace("artifactory-503", "apt-dns").replace("503", "404"))
    rules = _rules(root, {"CI_GUARD_RULES_FILE": str(extra)})
    assert rules is not None
    assert rules.by_name("artifactory-503").source == str(root / "pyproject.toml")
    # A user rule named like a built-in replaces it.
    assert rules.by_name("apt-dns").source == str(extra)
    assert classify_text("Temporary failure resolving 'deb.debian.org'\n", rules=rules).rule == (
        "no-match"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (RULE.replace("registry_unavailable", "nonsense"), "rule 'artifactory-503': unknown class"),
        (RULE.replace('"cause"', '"top"'), "rule 'artifactory-503': tier must be one of"),
        (RULE.replace(".*: 503", "(: 503"), "rule 'artifactory-503': bad pattern"),
        # an error found when compiling, not when parsing
        (RULE.replace(".*: 503", "(?<=a+): 503"), "rule 'artifactory-503': bad pattern"),
        (RULE.replace(".*: 503", ".*: 503|x*"), "'artifactory-503': pattern matches the empty"),
        (RULE + RULE, "rule 'artifactory-503' is defined twice"),
        ("rule = 3\n", "no [[rule]] tables"),
        ("[other]\n", "unknown table 'other'"),
        ("[[rule\n", "not valid TOML"),
    ],
)
def test_bad_rules_file_is_one_line_naming_file_and_rule(
    tmp_path: Path, body: str, message: str
) -> None:
    bad = _git_root(tmp_path) / "rules.toml"
    bad.write_text(body)
    with pytest.raises(UsageError) as caught:
        _rules(tmp_path, {"CI_GUARD_RULES_FILE": str(bad)})
    assert caught.value.exit_code == 2
    assert f"rules file {bad}: " in caught.value.message
    assert message in caught.value.message
    assert "\n" not in caught.value.message


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ci_guard", "classify", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )


def test_explain_lists_every_match_with_source_and_why_the_winner_won(tmp_path: Path) -> None:
    root = _git_root(tmp_path)
    (root / "ci-guard.toml").write_text(RULE)
    (root / "build.log").write_text(LOG)
    done = _cli(root, "build.log", "--explain", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["rule"] == "artifactory-503"
    names = [(m["rule"], m["tier"], m["source"]) for m in data["matches"]]
    assert names[:3] == [
        ("artifactory-503", "cause", str(root / "ci-guard.toml")),
        ("apt-dns", "cause", "built-in"),
        ("registry-5xx", "cause", "built-in"),
    ]
    assert data["matches"][1]["lines"] == ["Temporary failure resolving 'deb.debian.org'"]
    assert "strongest tier with a match" in data["explanation"]
    assert "user rules before built-in ones" in data["explanation"]
    human = _cli(root, "build.log", "--explain")
    assert "source=built-in" in human.stdout
    assert f"source=file {root / 'ci-guard.toml'}" in human.stdout


def test_explain_of_an_unmatched_log_says_no_rule_matched(tmp_path: Path) -> None:
    (_git_root(tmp_path) / "odd.log").write_text("frobnicator wedged\n")
    done = _cli(tmp_path, "odd.log", "--explain")
    assert done.returncode == 0
    assert "unknown (retryable) rule=no-match" in done.stdout
    assert "why: No rule matched." in done.stdout
    assert "rules that matched (0):" in done.stdout


def test_a_bad_rule_stops_classify_and_run_with_exit_2(tmp_path: Path) -> None:
    root = _git_root(tmp_path)
    (root / "ci-guard.toml").write_text(RULE.replace("cause", "top"))
    (root / "build.log").write_text(LOG)
    done = _cli(root, "build.log")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "config file" in done.stderr
    assert "rule 'artifactory-503'" in done.stderr
    ran = subprocess.run(
        [sys.executable, "-m", "ci_guard", "run", "--no-preflight", "--", "true"],
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
        timeout=120,
    )
    assert ran.returncode == 2
    assert "rule 'artifactory-503'" in ran.stderr


def test_run_classifies_attempts_with_the_user_rules(tmp_path: Path) -> None:
    root = _git_root(tmp_path)
    (root / "ci-guard.toml").write_text(
        '[[rule]]\nname = "frob"\nclass = "image_not_found"\ntier = "permanent"\n'
        'pattern = "frobnicator wedged"\nwhy = "Our tool names a missing image so."\n'
    )
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "ci_guard",
            "run",
            "--no-preflight",
            "--max-attempts",
            "3",
            "--artifacts-dir",
            str(root / "art"),
            "--",
            "sh",
            "-c",
            "echo frobnicator wedged; exit 3",
        ],
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
        timeout=120,
    )
    assert ran.returncode == 3
    assert "after 1 attempt," in ran.stderr
    assert "image_not_found is not retryable" in ran.stderr
    assert "last failure: image_not_found (rule frob)" in ran.stderr
