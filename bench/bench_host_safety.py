"""Host safety under concurrency and kill -9, on a scratch dockerd of the test bed.

1. Restarts: 10 real restart-daemon processes at once against one dockerd (a watcher
   samples /proc every 10 ms). Target: exactly 1 dockerd launch, never 2 at once.
2. daemon.json integrity: 200 real `ci-guard mirrors apply --no-probe` runs, each
   SIGKILLed after a random delay within its usual run time, on a daemon.json that is a
   symbolic link (as config management lays it out). After every kill: the link is
   still a link and its target a whole JSON object with one of the two mirror lists and
   the other keys intact. Target: 0 corrupt files, link always kept.
3. Backups: how many `daemon.json.*.ci-guard.bak` remain after those runs and 20
   completed ones. Target: at most the setting (5).
Orphaned temporary files the kills left are counted, then removed by one apply once
they are older than the safe age (their mtime is set back to simulate the wait).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ci_guard.docker.backups import DEFAULT_KEEP, list_backups
from tests.testbed.check import bed_unavailable_reason
from tests.testbed.dockerd import Dockerd
from tests.testbed.procs import kill_pids, pids_mentioning, unmount_under
from tests.testbed.restart_race import restart_race

KILLS = 200
COMPLETED_AFTER = 20
# The same three in two orders: apply merges the mirrors daemon.json lists into the
# candidates, so only a new order makes every run write the file.
_URLS = ["http://127.0.0.1:5001", "http://127.0.0.1:5002", "http://127.0.0.1:5003"]
MIRRORS = (_URLS, _URLS[::-1])
OTHER_KEYS = {"shutdown-timeout": 2, "debug": False, "labels": ["managed-by=config-management"]}


def _apply_argv(link: Path, mirrors: list[str]) -> list[str]:
    argv = [sys.executable, "-m", "ci_guard", "mirrors", "apply", "--no-probe"]
    for url in mirrors:
        argv += ["--mirror", url]
    return [*argv, "--daemon-config", str(link), "--probe-timeout", "2"]


def _whole(link: Path, target: Path) -> bool:
    if not link.is_symlink() or os.path.realpath(link) != str(target):
        return False
    try:
        data = json.loads(target.read_text())
    except (OSError, ValueError):
        return False
    others = {k: v for k, v in data.items() if k != "registry-mirrors"}
    return others == OTHER_KEYS and data.get("registry-mirrors") in MIRRORS


def _one(env: dict[str, str], argv: list[str], delay: float | None) -> int:
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if delay is None:
        return proc.wait(timeout=120)
    try:
        return proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        return proc.wait(timeout=30)


def restarts(root: Path) -> dict[str, Any]:
    daemon = Dockerd(root / "race").start()
    race = restart_race(daemon.docker_host, root, str(root / "race"), n=10)
    return {
        "processes": 10,
        "dockerd_launches": race.launches,
        "skipped": race.skipped,
        "max_dockerd_at_once": race.max_at_once,
        "dockerd_pids_seen": len(race.dockerd_pids),
        "all_ok": all(r["ok"] for r in race.results),
    }


def kills(root: Path) -> dict[str, Any]:
    daemon = Dockerd(root / "kills", {"registry-mirrors": MIRRORS[0], **OTHER_KEYS})
    daemon.start()
    managed = root / "managed"
    managed.mkdir()
    target = managed / "daemon.json"
    shutil.copy(daemon.config_path, target)
    link = daemon.config_path
    link.unlink()
    link.symlink_to(target)
    daemon.reload()
    env = {**os.environ, "DOCKER_HOST": daemon.docker_host}
    durations = []
    for i in range(5):
        started = time.perf_counter()
        _one(env, _apply_argv(link, MIRRORS[(i + 1) % 2]), None)
        durations.append(time.perf_counter() - started)
    usual = statistics.median(durations)
    rng = random.Random(20261203)
    corrupt = link_lost = killed = finished = written = 0
    for i in range(KILLS):
        before = target.read_bytes()
        code = _one(env, _apply_argv(link, MIRRORS[i % 2]), rng.uniform(0.0, usual))
        killed += code == -signal.SIGKILL
        finished += code == 0
        written += target.read_bytes() != before
        if not _whole(link, target):
            corrupt += 1
            link_lost += not link.is_symlink()
    temps = [p for p in managed.iterdir() if p.name.endswith(".tmp")]
    backups_after_kills = len(list_backups(link))
    for i in range(COMPLETED_AFTER):
        _one(env, _apply_argv(link, MIRRORS[i % 2]), None)
    old = time.time() - 3600
    for leftover in (p for p in managed.iterdir() if p.name.endswith(".tmp")):
        os.utime(leftover, (old, old))
    _one(env, _apply_argv(link, MIRRORS[COMPLETED_AFTER % 2]), None)
    return {
        "runs": KILLS,
        "usual_run_s": round(usual, 3),
        "kill_delay_range_s": [0.0, round(usual, 3)],
        "sigkilled": killed,
        "finished_before_the_kill": finished,
        "runs_whose_write_landed": written,
        "corrupt_after_a_kill": corrupt,
        "link_lost": link_lost,
        "orphan_temp_files_left_by_kills": len(temps),
        "orphan_temp_files_after_cleanup": sum(p.name.endswith(".tmp") for p in managed.iterdir()),
        "backups_after_kills": backups_after_kills,
        "backups_after_completed_runs": len(list_backups(link)),
        "backups_setting": DEFAULT_KEEP,
        "link_kept_at_end": link.is_symlink(),
        "dockerd_alive": daemon.ping(),
    }


def main() -> dict[str, Any]:
    reason = bed_unavailable_reason()
    if reason is not None:
        return {"error": f"Docker test bed unavailable: {reason}"}
    root = Path(tempfile.mkdtemp(prefix="cig-hs-"))
    try:
        race = restarts(root)
        integrity = kills(root)
    finally:
        kill_pids(pids_mentioning(str(root)), grace=15)
        for name in ("race", "kills"):
            Dockerd(root / name).clean_stale()
        unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)
    met = (
        race["dockerd_launches"] == 1
        and race["max_dockerd_at_once"] == 1
        and integrity["corrupt_after_a_kill"] == 0
        and integrity["link_kept_at_end"]
        and integrity["backups_after_completed_runs"] <= DEFAULT_KEEP
        and integrity["orphan_temp_files_after_cleanup"] == 0
    )
    return {"restarts": race, "daemon_json": integrity, "targets_met": met}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
