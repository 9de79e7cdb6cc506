"""A private Docker engine (Debian's dockerd) under one directory.

Everything the daemon owns lives below `root`: data root, exec root (with the
containerd that dockerd starts itself), pid file, API socket, daemon.json and log.
It has no bridge, no iptables rules and no NAT, so it touches nothing on the host
network; builds use `--network host`, which inside the test namespace means loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.testbed.procs import (
    Background,
    TestbedError,
    http_status,
    kill_pids,
    mounts_at,
    pids_mentioning,
    unmount,
    unmount_under,
    wait_until,
)

DOCKERD = "dockerd"
START_TIMEOUT_S = 60.0


class Dockerd:
    def __init__(
        self,
        root: Path,
        config: dict[str, Any] | None = None,
        data_root: Path | None = None,
        extra_hosts: Sequence[str] = (),
    ) -> None:
        self.root = root
        self.extra_hosts = tuple(extra_hosts)
        """More -H addresses (tcp://127.0.0.1:PORT) beside the unix socket."""
        self.data_root = data_root or root / "data"
        self.exec_root = root / "exec"
        self.pidfile = root / "dockerd.pid"
        self.socket = root / "docker.sock"
        self.config_path = root / "daemon.json"
        self.log_path = root / "dockerd.log"
        self._config: dict[str, Any] = dict(config or {})
        self._proc: Background | None = None
        # A tiny file system mounted as data root stays; dockerd's own mounts on top go.
        self._base_mounts = len(mounts_at(self.data_root))

    # -- facts ------------------------------------------------------------------------------
    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.alive() else None

    @property
    def config(self) -> dict[str, Any]:
        return json.loads(self.config_path.read_text())  # type: ignore[no-any-return]

    def argv(self) -> list[str]:
        return [
            shutil.which(DOCKERD) or "/usr/sbin/dockerd",
            "--data-root",
            str(self.data_root),
            "--exec-root",
            str(self.exec_root),
            "--pidfile",
            str(self.pidfile),
            "-H",
            self.docker_host,
            *(arg for host in self.extra_hosts for arg in ("-H", host)),
            "--bridge=none",
            "--iptables=false",
            "--ip-masq=false",
            "--config-file",
            str(self.config_path),
        ]

    def ping(self, timeout: float = 2.0) -> bool:
        return self.socket.exists() and http_status(str(self.socket), "/_ping", timeout) == 200

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- life cycle -------------------------------------------------------------------------
    def write_config(self, config: dict[str, Any]) -> None:
        self._config = dict(config)
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._config, indent=2) + "\n")
        os.replace(tmp, self.config_path)

    def start(self, timeout: float = START_TIMEOUT_S) -> Dockerd:
        if self.pid is not None:
            return self
        self.root.mkdir(parents=True, exist_ok=True)
        self.clean_stale()
        self.data_root.mkdir(parents=True, exist_ok=True)
        self.write_config(self._config)
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._proc = Background(self.argv(), self.log_path)
        try:
            wait_until(lambda: self.ping() or not self._alive(), timeout, "dockerd /_ping")
        except TestbedError:
            self.stop()
            raise
        if not self.ping():
            tail = self.log_text()[offset:][-2000:]
            raise TestbedError(f"dockerd exited at start:\n{tail}")
        return self

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.alive()

    def stop(self, grace: float = 20.0) -> None:
        """TERM dockerd (it stops its containerd), KILL after grace, then clean up."""
        if self._proc is not None:
            self._proc.stop(grace)
            self._proc = None
        self.clean_stale()

    def kill(self) -> None:
        """SIGKILL dockerd alone, as a crash would: containerd, mounts and socket stay."""
        if self._proc is None or not self._proc.alive():
            raise TestbedError("dockerd is not running")
        os.kill(self._proc.pid, signal.SIGKILL)
        self._proc.proc.wait(timeout=10)

    def restart(self) -> Dockerd:
        self.stop()
        return self.start()

    def reload(self, timeout: float = 10.0) -> None:
        """SIGHUP: dockerd re-reads daemon.json (registry-mirrors and other reloadable keys)."""
        if self.pid is None:
            raise TestbedError("dockerd is not running")
        before = self.log_text().count("Reloaded configuration")
        os.kill(self.pid, signal.SIGHUP)
        wait_until(
            lambda: self.log_text().count("Reloaded configuration") > before,
            timeout,
            "dockerd to reload its configuration",
        )

    def clean_stale(self) -> None:
        """Remove what a crashed daemon leaves: processes, mounts, pid files, sockets."""
        leftovers = pids_mentioning(str(self.exec_root)) + pids_mentioning(str(self.data_root))
        if self.pid is None and leftovers:
            kill_pids(sorted(set(leftovers)))
        if self.pid is None:
            unmount_under(self.data_root, keep_self=True)
            unmount_under(self.exec_root)
            # dockerd bind-mounts its data root onto itself (shared propagation).
            while len(mounts_at(self.data_root)) > self._base_mounts:
                if not unmount(self.data_root):
                    break
            for stale in (self.pidfile, self.socket):
                stale.unlink(missing_ok=True)
            for pidfile in self.exec_root.glob("**/*.pid"):
                pidfile.unlink(missing_ok=True)
            for sock in self.exec_root.glob("**/*.sock"):
                sock.unlink(missing_ok=True)

    def wait_gone(self, timeout: float = 10.0) -> None:
        wait_until(lambda: not self.socket.exists() or not self.ping(0.5), timeout, "dockerd gone")
