"""classify(): selection order, exit codes and signals, evidence, input forms."""
# ruff: noqa: E501  (build-output lines are kept verbatim, unwrapped)

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ci_guard.classify import classify, classify_text
from ci_guard.classify.evidence import MAX_LINE, clean_line
from ci_guard.classify.rules import parse_rules_text
from ci_guard.failure import FailureClass, class_table

APT_DNS = "#9 3.21 W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'"
CANCELED = "failed to solve: Canceled: context canceled"
NONZERO = "The command '/bin/sh -c apt-get update' returned a non-zero code: 100"
X509 = 'Get "https://registry.example/v2/": x509: certificate signed by unknown authority'
RESET = "read tcp 10.0.0.2:4242->10.0.0.9:443: read: connection reset by peer"
IO_TIMEOUT = 'failed to do request: Head "https://registry.example/v2/x/manifests/1": dial tcp 10.0.0.9:443: i/o timeout'


def test_success_is_none() -> None:
    assert classify(0, None, False, ["Successfully built abc"]) is None
    assert classify(0, None, False, [X509]) is None


def test_deadline_wins_over_any_output() -> None:
    failure = classify(0, None, True, [X509, APT_DNS])
    assert failure is not None
    assert failure.failure_class is FailureClass.TIMEOUT
    assert failure.rule == "deadline"
    assert failure.retryable is class_table()[FailureClass.TIMEOUT].retryable
    assert failure.evidence == (X509,), "the strongest match still shows as evidence"


def test_permanent_is_checked_before_network_whatever_the_line_order() -> None:
    for lines in ([RESET, IO_TIMEOUT, X509], [X509, RESET, IO_TIMEOUT]):
        failure = classify_text("\n".join(lines))
        assert failure.failure_class is FailureClass.TLS_UNTRUSTED
        assert failure.retryable is False


def test_root_cause_beats_the_symptom_after_it() -> None:
    text = "\n".join(["#9 [web 3/9] RUN apt-get update", APT_DNS, NONZERO, CANCELED])
    failure = classify_text(text)
    assert failure.failure_class is FailureClass.DNS_FAILURE
    assert failure.rule == "apt-dns"
    assert failure.evidence == (clean_line(APT_DNS),)


def test_cause_beats_broad_network_pattern() -> None:
    failure = classify_text(
        IO_TIMEOUT + "\n" + "received unexpected HTTP status: 503 Service Unavailable"
    )
    assert failure.failure_class is FailureClass.REGISTRY_UNAVAILABLE


def test_symptom_class_only_when_nothing_better_matches() -> None:
    assert classify_text(CANCELED).failure_class is FailureClass.UNKNOWN
    assert classify_text(CANCELED).rule == "context-canceled"
    nonzero = classify_text(NONZERO + "\n" + CANCELED)
    assert nonzero.failure_class is FailureClass.BUILD_STEP_FAILURE
    assert nonzero.retryable is False
    assert classify_text(NONZERO + "\n" + RESET).failure_class is FailureClass.CONNECTION_FAILURE


def test_within_a_tier_the_first_rule_wins() -> None:
    rules_order = "\n".join([RESET, "dial tcp 10.0.0.9:443: connect: connection refused"])
    failure = classify_text(rules_order)
    assert failure.rule == "connection-reset"  # listed before connection-refused


def test_exit_137_with_oom_evidence_is_oom_killed() -> None:
    failure = classify(137, 9, False, ["#12 88.1 Killed", NONZERO.replace("100", "137")])
    assert failure is not None
    assert failure.failure_class is FailureClass.OOM_KILLED
    assert failure.retryable is False


def test_sigkill_without_evidence_is_unknown() -> None:
    failure = classify(137, None, False, ["compiling..."])
    assert failure is not None
    assert (failure.failure_class, failure.rule) == (FailureClass.UNKNOWN, "sigkill")
    failure = classify(-9, 9, False, [])
    assert failure is not None
    assert failure.rule == "sigkill"


def test_docker_cli_125_without_a_rule_is_daemon_unreachable() -> None:
    failure = classify(125, None, False, ["docker: something odd."])
    assert failure is not None
    assert (failure.failure_class, failure.rule) == (
        FailureClass.DAEMON_UNREACHABLE,
        "docker-exit-125",
    )
    assert failure.retryable is True


def test_no_match_is_unknown_and_retryable() -> None:
    failure = classify_text("The hosted runner lost communication with the server.")
    assert (failure.failure_class, failure.rule, failure.retryable) == (
        FailureClass.UNKNOWN,
        "no-match",
        True,
    )
    assert failure.evidence == ()


def test_rule_override_of_retryable() -> None:
    """A rule's `retryable` beats its class's default."""
    rules = parse_rules_text(
        "[[rule]]\nname = 'socket-group'\nclass = 'daemon_unreachable'\ntier = 'cause'\n"
        "pattern = 'permission denied while trying to connect'\nwhy = 'x'\nretryable = false\n"
    )
    failure = classify_text(
        "Got permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock",
        rules=rules,
    )
    assert failure.failure_class is FailureClass.DAEMON_UNREACHABLE
    assert class_table()[FailureClass.DAEMON_UNREACHABLE].retryable is True
    assert failure.retryable is False


def test_evidence_is_clean_bounded_and_distinct() -> None:
    lines = [
        f"\x1b[31m#5 1.{i:03d} E: Failed to fetch http://x/{i}  Temporary failure resolving 'x'\x1b[0m"
        for i in range(20)
    ]
    lines.append(lines[0])
    lines.append("Temporary failure resolving '" + "a" * 1000 + "'")
    failure = classify_text("\n".join(lines))
    assert len(failure.evidence) == 5
    assert len(set(failure.evidence)) == 5
    assert all(not e.startswith(("#", " ")) and "\x1b" not in e for e in failure.evidence)
    assert failure.evidence[0] == "E: Failed to fetch http://x/0  Temporary failure resolving 'x'"
    long = classify_text("Temporary failure resolving '" + "a" * 1000 + "'")
    assert len(long.evidence[0]) <= 300
    assert long.evidence[0].endswith("...")


def test_prefixes_and_progress_frames_are_removed() -> None:
    assert clean_line("2023-04-13T20:07:15.1011171Z #12 3.456 Killed\n") == "Killed"
    assert clean_line("168.3 W: x") == "W: x"
    assert clean_line("downloading 10%\rdownloading 99%\rKilled") == "Killed"
    failure = classify_text("Downloading 40%\rKilled\n")
    assert failure.failure_class is FailureClass.OOM_KILLED


def test_reads_text_and_binary_streams(tmp_path: Path) -> None:
    log = tmp_path / "attempt.log"
    log.write_bytes(b"noise \xff\xfe line\n" * 1000 + APT_DNS.encode() + b"\n" + CANCELED.encode())
    with log.open("r", encoding="utf-8", errors="replace") as text:
        assert classify(1, None, False, text).rule == "apt-dns"  # type: ignore[union-attr]
    with log.open("rb") as binary:
        assert classify(1, None, False, binary).rule == "apt-dns"  # type: ignore[arg-type, union-attr]


def test_match_across_read_chunks_and_a_huge_line() -> None:
    """A line split between two reads is still seen whole; one giant line is bounded."""
    prefix = "x" * (MAX_LINE * 3)
    stream = io.StringIO(prefix + "\n" + "y" * 5 + "\n" + APT_DNS + "\n")
    assert classify(1, None, False, stream).rule == "apt-dns"  # type: ignore[union-attr]
    giant = io.StringIO("z" * (5 << 20) + " connection reset by peer")
    failure = classify(1, None, False, giant)
    assert failure is not None  # no crash, memory bounded by the block size


def test_classify_text_defaults() -> None:
    failure = classify_text(X509, exit_code=0)
    assert failure.failure_class is FailureClass.TLS_UNTRUSTED


FRAGMENTS = st.sampled_from(
    [
        APT_DNS,
        CANCELED,
        NONZERO,
        X509,
        RESET,
        IO_TIMEOUT,
        "Killed",
        "\x1b[31m",
        "\r",
        "#12 3.4 ",
        "toomanyrequests",
        "no space left on device",
        "\x00",
        "ü",
        "\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.text(max_size=80), FRAGMENTS), max_size=30),
    st.integers(min_value=-255, max_value=255),
    st.one_of(st.none(), st.integers(min_value=1, max_value=64)),
    st.booleans(),
)
def test_classify_never_raises_and_returns_a_valid_class(
    parts: list[str], exit_code: int, signal: int | None, timed_out: bool
) -> None:
    failure = classify(exit_code, signal, timed_out, ["".join(parts)])
    if exit_code == 0 and not timed_out:
        assert failure is None
        return
    assert failure is not None
    assert isinstance(failure.failure_class, FailureClass)
    assert failure.rule
    assert len(failure.evidence) <= 5
    assert all(len(line) <= 300 for line in failure.evidence)
