"""A mistyped docker or compose command line fails once, never reaches the ladder.

The real CLI refuses these before it talks to the daemon; `docker build --no-cahce .`
even exits 125, the code of a daemon that never answered, so a classifier without the
usage rule would restart the bed's daemon for a typo.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_run_cli import of, run
from tests.testbed.client import DOCKER

pytestmark = pytest.mark.docker

COMPOSE_FILE = "services:\n  web:\n    build: .\n"

TYPOS = {
    "command": ["compse", "build"],
    "build flag": ["build", "--no-cahce", "."],
    "shorthand flag": ["build", "-x", "."],
    "missing argument": ["build"],
    "compose command": ["compose", "buld"],
    "compose flag": ["compose", "build", "--no-cahce"],
    "compose service": ["compose", "build", "wbe"],
}


@pytest.mark.parametrize("argv", TYPOS.values(), ids=TYPOS.keys())
def test_a_typo_in_the_command_line_stops_after_one_attempt(
    tmp_path: Path, docker_env: dict[str, str], compose_v2: list[str], argv: list[str]
) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE_FILE)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    done, events = run(tmp_path, "--max-attempts", "4", "--", DOCKER, *argv, env=docker_env)
    finished = of(events, "attempt.finished")
    assert len(finished) == 1, done.stderr
    assert finished[0]["failure_class"] == "dockerfile_error"
    assert finished[0]["retryable"] is False
    assert not of(events, "remedy.started")
    assert done.returncode == finished[0]["exit_code"] != 0


def test_a_missing_compose_file_is_a_build_context_error(
    tmp_path: Path, docker_env: dict[str, str], compose_v2: list[str]
) -> None:
    argv = [DOCKER, "compose", "-f", "nope.yml", "build"]
    _done, events = run(tmp_path, "--max-attempts", "4", "--", *argv, env=docker_env)
    finished = of(events, "attempt.finished")
    assert [e["failure_class"] for e in finished] == ["build_context_error"]
