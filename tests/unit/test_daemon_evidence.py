"""Reading dockerd's log window and taking the mirror's root cause from it.

The lines (dockerd-mirror-reset.log) are dockerd 20.10's own, as written on the test
bed when its only mirror reset connections (tests/integration/test_daemon_evidence_docker.py
runs it for real).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from ci_guard.classify import classify
from ci_guard.classify.daemon_evidence import root_cause
from ci_guard.docker.daemon_log import in_window, log_file_of, message
from ci_guard.failure import Failure, FailureClass

LOG = (Path(__file__).parent / "dockerd-mirror-reset.log").read_text("utf-8")
CLIENT = (
    'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup'
    " registry-1.docker.io on 10.255.255.53:53: dial udp 10.255.255.53:53: connect: network"
    " is unreachable\n"
)
START = datetime.fromisoformat("2026-12-03T12:46:57.100+00:00").timestamp()


def test_the_window_keeps_the_attempts_lines_unquoted() -> None:
    lines = in_window(LOG.splitlines(), START, START + 0.2)
    assert len(lines) == 4  # the push line is 1.5 s before the window's slack
    assert lines[1].startswith('Attempting next endpoint for pull after error: Get "http://')
    assert message("no logrus fields here ") == "no logrus fields here"


def test_the_mirrors_reset_beats_docker_hubs_dns_failure() -> None:
    masked = classify(1, None, False, [CLIENT])
    assert masked is not None
    assert masked.failure_class is FailureClass.DNS_FAILURE
    lines = in_window(LOG.splitlines(), START, START + 0.2)
    found = root_cause(masked, lines, "file:/x/dockerd.log", classify)
    assert found.failure_class is FailureClass.CONNECTION_FAILURE
    assert found.rule == "connection-reset"
    assert found.daemon_log == "file:/x/dockerd.log"
    assert found.evidence[0].startswith("[dockerd] Attempting next endpoint for pull")
    assert "registry-1.docker.io" not in found.evidence[0]
    assert found.evidence[-1] == CLIENT.strip()


def test_only_masked_classes_and_mirror_lines_count() -> None:
    lines = in_window(LOG.splitlines(), START, START + 0.2)
    permanent = Failure(FailureClass.IMAGE_NOT_FOUND, False, "manifest-unknown", ("x",))
    assert root_cause(permanent, lines, "file:x", classify) is permanent
    hub_only = [line for line in lines if "127.0.0.1" not in line]
    masked = Failure(FailureClass.DNS_FAILURE, True, "go-dns-lookup", ("x",))
    assert root_cause(masked, hub_only, "file:x", classify) is masked


def test_log_file_of_a_process_writing_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "daemon.log"
    with target.open("w") as handle:
        saved = os.dup(2)
        os.dup2(handle.fileno(), 2)
        try:
            assert log_file_of(os.getpid()) == target
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def test_another_registrys_own_fallback_is_not_a_mirror() -> None:
    """A blackholed registry: its https attempt's TLS timeout is not a masked mirror."""
    lines = [
        'Attempting next endpoint for pull after error: Get "https://127.0.0.1:41000/v2/":'
        " net/http: TLS handshake timeout"
    ]
    own = Failure(
        FailureClass.REGISTRY_TIMEOUT,
        True,
        "client-timeout",
        ('Get "http://127.0.0.1:41000/v2/": net/http: request canceled (Client.Timeout ...)',),
    )
    assert root_cause(own, lines, "file:x", classify) is own
