"""Run `ci-guard run` as a child process and read or follow its JSON log.

Shared by the demo, the run-level integration tests and the Docker-side benchmarks:
`ci_guard_argv()` is how to start ci-guard from the virtualenv, `read_events()` parses
a finished log, `LogFollower` calls back on each event while the run is going (to
switch a fault at the right moment), and `forget_daemon_state()` drops what
restart-daemon recorded about a sandbox daemon.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

Event = dict[str, Any]
POLL_S = 0.005


def ci_guard_argv() -> list[str]:
    """The ci-guard command of this interpreter's environment."""
    script = Path(sys.executable).parent / "ci-guard"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ci_guard"]


def read_events(path: Path) -> list[Event]:
    """Every complete JSON line of a ci-guard log (a missing file has none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def events_named(events: list[Event], name: str) -> list[Event]:
    return [e for e in events if e.get("event") == name]


class LogFollower:
    """Tails a JSON log file in a thread and calls `on_event` for each new line.

    The poll interval is a few milliseconds, so a fault switched in `on_event` lands
    before the run's next network step (a remedy's probe, the next attempt).
    """

    def __init__(self, path: Path, on_event: Callable[[Event], None]) -> None:
        self.path = path
        self.on_event = on_event
        self.events: list[Event] = []
        self.errors: list[str] = []
        self._offset = 0
        self._partial = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="log-follower")

    def start(self) -> LogFollower:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._drain()  # lines written between the last poll and the end

    def _loop(self) -> None:
        while not self._stop.wait(POLL_S):
            self._drain()

    def _drain(self) -> None:
        for line in self._new_lines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self.events.append(event)
            try:
                self.on_event(event)
            except Exception as exc:  # report, keep following
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def _new_lines(self) -> list[str]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        data = self._partial + data
        *complete, self._partial = data.split(b"\n")
        return [line.decode("utf-8", "replace") for line in complete if line.strip()]


def forget_daemon_state(docker_host: str) -> None:
    """Remove restart-daemon's records of the daemon at docker_host (a sandbox daemon)."""
    from ci_guard.docker import control as daemon_control

    daemon_control.forget(docker_host)
    for state in daemon_control.state_dir().glob("dockerd-*.json"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            if json.loads(state.read_text())["host"] == docker_host:
                state.unlink()
                state.with_suffix(".log").unlink(missing_ok=True)
