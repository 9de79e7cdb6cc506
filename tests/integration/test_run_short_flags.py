"""`-q` and `-v` are --quiet and --verbose on `ci-guard run`, from data/options.toml."""

from __future__ import annotations

from pathlib import Path

from ci_guard.options import option_specs
from tests.integration.test_run_cli import run

DNS = "E: Temporary failure resolving deb.debian.org"
FAILS_ONCE = f"test -e tried || {{ touch tried; echo '{DNS}'; exit 100; }}"
EVIDENCE = f"ci-guard:   > {DNS}"


def test_short_flags_are_single_letters_used_once() -> None:
    shorts = [spec.short for spec in option_specs().values() if spec.short]
    assert sorted(shorts) == ["q", "v"]
    assert all(len(s) == 1 and s.isalpha() and s != "h" for s in shorts)


def test_dash_q_prints_only_the_summary(tmp_path: Path) -> None:
    done, events = run(tmp_path, "-q", "--max-attempts", "2", "--", "sh", "-c", FAILS_ONCE)
    assert done.returncode == 0, done.stderr
    assert "attempt 1/2 started" not in done.stderr
    # Warnings stay (the artifacts folder is inside the working folder here).
    lines = [line for line in done.stderr.splitlines() if "warning:" not in line]
    assert lines[0].startswith("ci-guard: succeeded on attempt 2/2 in ")
    assert lines[1] == "  failures: dns_failure x1"
    assert [e["event"] for e in events].count("attempt.finished") == 2  # the log keeps all


def test_dash_v_prints_details_the_default_leaves_out(tmp_path: Path) -> None:
    plain, _ = run(tmp_path, "--max-attempts", "2", "--", "sh", "-c", FAILS_ONCE)
    (tmp_path / "tried").unlink()
    verbose, _ = run(tmp_path, "-v", "--max-attempts", "2", "--", "sh", "-c", FAILS_ONCE)
    assert verbose.returncode == plain.returncode == 0
    assert EVIDENCE in verbose.stderr.splitlines()
    assert EVIDENCE not in plain.stderr.splitlines()


def test_dash_q_with_dash_v_is_a_usage_error(tmp_path: Path) -> None:
    done, _ = run(tmp_path, "-q", "-v", "--", "true")
    assert done.returncode == 2
    assert done.stderr.strip() == "ci-guard: error: --quiet and --verbose cannot be used together"
