"""Process, port, HTTP-wait and mount helpers shared by the test-bed parts."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


class TestbedError(RuntimeError):
    """A part of the test bed did not start or stop as it should."""

    __test__ = False  # not a pytest test class


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TestbedError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket (the Docker API)."""

    def __init__(self, path: str, timeout: float = 5.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


def http_status(url_or_socket: str, path: str = "/", timeout: float = 2.0) -> int | None:
    """Status of GET path on http://host:port or on a unix socket path; None if no answer."""
    conn: http.client.HTTPConnection
    if url_or_socket.startswith("/"):
        conn = UnixHTTPConnection(url_or_socket, timeout=timeout)
    else:
        hostport = url_or_socket.removeprefix("http://").rstrip("/")
        conn = http.client.HTTPConnection(hostport, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


class Background:
    """A long-running child in its own session, output to a log file."""

    def __init__(
        self, argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.argv = list(argv)
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, grace: float = 10.0) -> int | None:
        """TERM the process group, wait up to grace, then KILL it; returns the exit code."""
        if self.alive():
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # The group may still hold children that outlived the leader.
        _signal_group(self.proc.pid, signal.SIGKILL)
        return self.proc.returncode


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """TERM a helper server, KILL it if it does not go within `timeout`, reap it."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def pids_mentioning(marker: str) -> list[int]:
    """Processes whose command line contains marker (a test-bed directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(int(entry.name))
    return found


def kill_pids(pids: Sequence[int], grace: float = 5.0) -> None:
    """TERM the given processes, then KILL the ones still there after grace."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_exists(pid) for pid in pids):
        time.sleep(0.05)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _exists(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def mounts_under(path: Path, keep_self: bool = False) -> list[str]:
    """Mount points at (unless keep_self) or below path, deepest first."""
    root = str(path.resolve())
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if (point == root and not keep_self) or point.startswith(root + "/"):
            points.append(point)
    return sorted(points, key=len, reverse=True)


def mounts_at(path: Path) -> list[str]:
    """One entry per mount stacked exactly on path."""
    root = str(path.resolve())
    return [p for p in mounts_under(path) if p == root]


def unmount(point: Path | str) -> bool:
    done = subprocess.run(["umount", "-l", str(point)], check=False, capture_output=True)
    return done.returncode == 0


def unmount_under(path: Path, keep_self: bool = False) -> None:
    for point in mounts_under(path, keep_self):
        unmount(point)
