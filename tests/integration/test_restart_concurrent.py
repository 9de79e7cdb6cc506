"""Ten real restart-daemon runs at once against one dockerd: one restart, never two
daemons at a time; the nine runs queued behind it skip and say why."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_guard.docker.api import ping
from tests.integration.test_remedies_docker import own_root  # noqa: F401 (fixture)
from tests.testbed.dockerd import Dockerd
from tests.testbed.restart_race import dockerds_under, restart_race

pytestmark = pytest.mark.docker


def test_ten_concurrent_restarts_launch_dockerd_once(own_root: Path) -> None:  # noqa: F811
    daemon = Dockerd(own_root / "dockerd").start()
    before = daemon.pid
    assert before is not None

    race = restart_race(daemon.docker_host, own_root, str(own_root), n=10)

    assert race.exit_codes == [0] * 10
    assert race.launches == 1, race.results
    assert race.skipped == 9, race.results
    assert all(r["ok"] for r in race.results), race.results
    assert race.max_at_once == 1
    assert race.dockerd_pids[0] == before
    assert len(race.dockerd_pids) == 2
    assert dockerds_under(str(own_root)) == race.dockerd_pids[1:]
    assert ping(daemon.docker_host)
    reasons = [r["skipped"] for r in race.results if r.get("skipped")]
    assert all("already restarted after this failure" in why for why in reasons)
    assert all(f"pid {race.dockerd_pids[1]}" in why for why in reasons)
