"""restart-daemon on a daemon ci-guard cannot see as a process (a restart-command):
the restart record left under the lock stops queued runs from restarting it again."""

from __future__ import annotations

import dataclasses
import socketserver
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from ci_guard.config import resolve
from ci_guard.remedies.base import RemedyContext
from ci_guard.remedies.restart_daemon import RestartDaemon


class _Ping(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def answering_socket(tmp_path: Path) -> Iterator[str]:
    """A unix socket that answers /_ping like a daemon no local dockerd process serves."""
    path = tmp_path / "remote.sock"
    server = socketserver.ThreadingUnixStreamServer(str(path), _Ping)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"unix://{path}"
    server.shutdown()
    server.server_close()


def test_queued_runs_skip_a_restart_another_run_finished_after_their_failure(
    tmp_path: Path, answering_socket: str
) -> None:
    counter = tmp_path / "restarts"
    config = dataclasses.replace(
        resolve({}, env={}).config, restart_command=f"sh -c 'echo x >> {counter}'"
    )
    remedy = RestartDaemon(lock_path=tmp_path / "lock", state_folder=tmp_path / "state")
    failed_at = time.time()
    ctx = RemedyContext(config=config, docker_host=answering_socket, failed_at=failed_at)

    results = [remedy.apply(ctx) for _ in range(3)]

    assert counter.read_text().splitlines() == ["x"]
    assert results[0].changed
    assert results[0].skipped is None
    for later in results[1:]:
        assert later.ok
        assert not later.changed
        assert later.skipped is not None
        assert "already restarted after this failure" in later.skipped
    # A failure seen after that restart is a new one: the daemon is restarted again.
    fresh = remedy.apply(dataclasses.replace(ctx, failed_at=time.time()))
    assert fresh.skipped is None
    assert counter.read_text().splitlines() == ["x", "x"]
