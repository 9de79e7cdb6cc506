"""N real processes run the restart-daemon remedy at once against one dockerd.

Shared by the concurrency test and the reliability benchmark. Each process is a fresh
Python running the remedy (its own host-lock handle, its own daemon lookup), as N CI
jobs failing together on one host would. A watcher samples /proc meanwhile and records
every dockerd pid of the bed and the most that ran at the same time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REMEDY_SCRIPT = """
import json, sys
from pathlib import Path
from ci_guard.config import resolve
from ci_guard.remedies.base import RemedyContext
from ci_guard.remedies.restart_daemon import RestartDaemon

host, root, failed_at = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
remedy = RestartDaemon(lock_path=root / "lock", state_folder=root / "state")
config = resolve({}, env={}).config
result = remedy.apply(RemedyContext(config=config, docker_host=host, failed_at=failed_at))
print(json.dumps(result.as_log_fields()))
"""


@dataclass
class RaceResult:
    results: list[dict[str, Any]]
    launches: int
    """Results that relaunched dockerd."""
    skipped: int
    dockerd_pids: list[int]
    """Every dockerd pid of the bed seen, first the one before the race."""
    max_at_once: int
    exit_codes: list[int] = field(default_factory=list)


def dockerds_under(marker: str) -> list[int]:
    """Live dockerd processes whose command line mentions `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        mentions = marker.encode() in b" ".join(argv)
        if os.path.basename(argv[0]) == b"dockerd" and mentions and state != "Z":
            found.append(int(entry))
    return found


class _Watcher(threading.Thread):
    def __init__(self, marker: str) -> None:
        super().__init__(daemon=True)
        self.marker = marker
        self.pids: list[int] = []
        self.max_at_once = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self._sample()
            time.sleep(0.01)
        self._sample()

    def _sample(self) -> None:
        now = dockerds_under(self.marker)
        self.max_at_once = max(self.max_at_once, len(now))
        self.pids.extend(pid for pid in now if pid not in self.pids)


def restart_race(host: str, root: Path, marker: str, n: int = 10) -> RaceResult:
    """Start n remedy processes together for a failure seen just now; wait for all."""
    watcher = _Watcher(marker)
    watcher.start()
    failed_at = time.time()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", REMEDY_SCRIPT, host, str(root), str(failed_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    watcher.done.set()
    watcher.join()
    results = [json.loads(out.strip().splitlines()[-1]) for out, _err in outputs]
    return RaceResult(
        results=results,
        launches=sum(any("relaunched dockerd" in a for a in r["actions"]) for r in results),
        skipped=sum(1 for r in results if r.get("skipped")),
        dockerd_pids=watcher.pids,
        max_at_once=watcher.max_at_once,
        exit_codes=[proc.returncode for proc in procs],
    )
