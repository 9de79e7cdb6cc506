"""An unrecognised failure is retried plainly (or not at all), and the summary says so."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_run_cli import of, run

GIBBERISH = "echo 'frobnicator wedged: quux'; exit 3"


def test_unknown_gets_plain_retries_only_and_a_summary_pointing_at_explain(
    tmp_path: Path,
) -> None:
    done, events = run(tmp_path, "--max-attempts", "4", "--", "sh", "-c", GIBBERISH)
    assert done.returncode == 3
    finished = of(events, "attempt.finished")
    assert [e["failure_class"] for e in finished] == ["unknown"] * 4
    # The ladder allows restart-daemon before attempt 3 and repair-network before 4.
    assert {e["remedy"] for e in of(events, "retry.scheduled")} == {"retry"}
    assert not of(events, "remedy.finished")
    assert "not recognised: no rule matched attempt 4's output" in done.stderr
    explain = f"ci-guard classify --explain {tmp_path / 'art'}"
    assert explain in done.stderr
    assert "ci-guard help failure-classes" in done.stderr


def test_retry_unknown_off_stops_after_the_first_attempt(tmp_path: Path) -> None:
    done, events = run(
        tmp_path,
        "--max-attempts",
        "4",
        "--",
        "sh",
        "-c",
        GIBBERISH,
        env={"CI_GUARD_RETRY_UNKNOWN": "false"},
    )
    assert done.returncode == 3
    assert len(of(events, "attempt.finished")) == 1
    assert "--no-retry-unknown" in of(events, "retry.stopped")[0]["reason"]


def test_a_retry_on_stop_is_what_the_summary_says_not_a_plain_retry(tmp_path: Path) -> None:
    done, events = run(
        tmp_path, "--max-attempts", "4", "--retry-on", "network", "--", "sh", "-c", GIBBERISH
    )
    assert done.returncode == 3
    assert len(of(events, "attempt.finished")) == 1
    line = next(x for x in done.stderr.splitlines() if "not recognised" in x)
    assert "retried plainly" not in line
    assert "(not retried: unknown (exit 3) is not in --retry-on (network))" in line


def test_the_summary_says_an_unknown_failure_was_retried_plainly(tmp_path: Path) -> None:
    done, _events = run(tmp_path, "--max-attempts", "2", "--", "sh", "-c", GIBBERISH)
    # Attempt 2, the last, was not retried: the line names why the run stopped there.
    assert "not recognised: no rule matched attempt 2's output (not retried: " in done.stderr


def test_a_missing_command_is_not_called_unrecognised_and_says_why(tmp_path: Path) -> None:
    """Its class is unknown, but a rule did recognise it: no `classify --explain` advice."""
    done, events = run(tmp_path, "--", "no-such-command-ci-guard-test")
    assert done.returncode == 127
    assert [e["rule"] for e in of(events, "attempt.finished")] == ["command-not-runnable"]
    assert "not recognised" not in done.stderr
    assert "classify --explain" not in done.stderr
    assert (
        "  why: the command does not exist or cannot be executed (exit 126/127)"
        in done.stderr.splitlines()
    )
