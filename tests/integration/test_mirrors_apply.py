"""mirrors probe/apply against the real test bed: dockerd, registries, a fault proxy."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ci_guard.docker.endpoint import DaemonEndpoint
from ci_guard.errors import UsageError
from ci_guard.mirrors.apply import daemon_handle
from ci_guard.mirrors.refresh import RefreshRequest, refresh_mirrors
from ci_guard.registry.probe import DEAD, HEALTHY
from tests.testbed.bed import TestBed
from tests.testbed.faultproxy import Fault
from tests.unit.test_registry_servers import blackhole, closed_port_url

pytestmark = pytest.mark.docker


def _cli(bed: TestBed, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ci_guard", *args],
        env=bed.env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def restore_config(bed: TestBed) -> Iterator[Path]:
    """The bed's daemon.json; put back (and reloaded) whatever a test did to it."""
    path = bed.dockerd.config_path
    original = path.read_text()
    yield path
    path.write_text(original)
    bed.dockerd.reload()


def _handle(bed: TestBed, **kw: Any) -> Any:
    from dataclasses import replace

    handle = daemon_handle(endpoint=DaemonEndpoint(bed.docker_host, "DOCKER_HOST"))
    return replace(handle, **kw)


def test_apply_prunes_dead_mirrors_reloads_with_sighup_and_verifies(
    bed: TestBed, restore_config: Path
) -> None:
    before = json.loads(restore_config.read_text())
    bed.set_mirrors([closed_port_url(), bed.mirror.url])
    reloads = bed.dockerd.log_text().count("Reloaded configuration")
    with blackhole() as hole:
        request = RefreshRequest(
            candidates=(hole, bed.mirror.url), daemon_config=restore_config,
            explicit_config=True, dry_run=False, timeout=1.0,
        )  # fmt: skip
        handle = _handle(bed)
        assert handle.process is not None
        assert handle.process.pid == bed.dockerd.pid
        result = refresh_mirrors(request, daemon=handle)
    assert result.ok, result.messages
    assert result.action == "sighup"
    assert result.verified is True
    assert result.after == (bed.mirror.url,)
    assert {m.url: m.verdict for m in result.ranked}[bed.mirror.url] == HEALTHY
    assert [m.verdict for m in result.ranked][1:] == [DEAD, DEAD]
    after = json.loads(restore_config.read_text())
    assert after["registry-mirrors"] == [bed.mirror.url]
    assert {k: v for k, v in after.items() if k != "registry-mirrors"} == {
        k: v for k, v in before.items() if k != "registry-mirrors"
    }
    assert result.backup is not None
    assert result.backup.exists()
    assert bed.dockerd.log_text().count("Reloaded configuration") > reloads
    info = json.loads(bed.docker("info", "--format", "{{json .RegistryConfig.Mirrors}}").stdout)
    assert [m.rstrip("/") for m in info] == [bed.mirror.url]
    bed.remove_images(["busybox:latest"])
    assert bed.pull("busybox:latest").returncode == 0


def test_cli_apply_dry_run_prints_the_diff_and_changes_nothing(
    bed: TestBed, restore_config: Path
) -> None:
    before = restore_config.read_text()
    with blackhole() as hole:
        done = _cli(bed, "mirrors", "apply", "--mirror", hole, "--mirror", bed.mirror.url,
                    "--mirror", "https://registry-1.docker.io", "--probe-timeout", "1", "--dry-run",
                    "--daemon-config", str(restore_config))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"  {bed.mirror.url}" in done.stdout
    assert "(dry run)" in done.stdout
    assert "doubles timeouts" in done.stderr
    assert restore_config.read_text() == before


def test_invalid_daemon_json_is_refused_and_left_untouched(
    bed: TestBed, restore_config: Path
) -> None:
    restore_config.write_text('{"registry-mirrors": [\n')
    done = _cli(bed, "mirrors", "apply", "--mirror", bed.mirror.url,
                "--daemon-config", str(restore_config))  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "not valid JSON" in done.stderr
    assert "Traceback" not in done.stderr
    assert restore_config.read_text() == '{"registry-mirrors": [\n'
    assert bed.dockerd.ping()


def test_key_also_set_by_a_dockerd_flag_is_refused_before_dockerd_sees_it(
    bed: TestBed, restore_config: Path
) -> None:
    config = json.loads(restore_config.read_text())
    config["bridge"] = "none"  # the bed's dockerd runs with --bridge=none
    restore_config.write_text(json.dumps(config))
    before = restore_config.read_text()
    reloads = bed.dockerd.log_text().count("Reloaded configuration")
    done = _cli(bed, "mirrors", "apply", "--mirror", bed.mirror.url, "--no-probe",
                "--daemon-config", str(restore_config))  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "bridge: also given as --bridge" in done.stderr
    assert restore_config.read_text() == before
    assert bed.dockerd.log_text().count("Reloaded configuration") == reloads
    assert bed.dockerd.ping()


def test_reload_the_daemon_refuses_is_rolled_back(bed: TestBed, restore_config: Path) -> None:
    # cdi-spec-dirs is a real daemon.json key (Docker 25+) that this 20.10 dockerd does
    # not know: ci-guard's validation passes, dockerd refuses the reload.
    config = json.loads(restore_config.read_text())
    config["cdi-spec-dirs"] = []
    restore_config.write_text(json.dumps(config))
    original = restore_config.read_text()
    with blackhole() as hole:
        request = RefreshRequest(
            candidates=(bed.mirror.url, hole), daemon_config=restore_config,
            explicit_config=True, dry_run=False, timeout=1.0, probe=False,
        )  # fmt: skip
        result = refresh_mirrors(request, daemon=_handle(bed, verify_timeout=3.0))
    assert not result.ok
    assert result.rolled_back
    assert result.verified is False
    assert restore_config.read_text() == original
    assert bed.dockerd.ping()
    assert any("rolled back" in m for m in result.messages)


def test_probe_ranks_six_candidates_with_two_blackholed(bed: TestBed, fault_proxy: Any) -> None:
    host, port = bed.mirror.address.split(":")
    holes = [fault_proxy((host, int(port)), Fault(mode="blackhole")) for _ in range(2)]
    slowish = fault_proxy((host, int(port)), Fault(mode="delay", delay_s=0.2))
    candidates = [
        bed.mirror.url,
        bed.upstream.url,
        holes[0].url,
        closed_port_url(),
        holes[1].url,
        slowish.url,
    ]
    args = ["mirrors", "probe", "--json", "--probe-timeout", "2"]
    for url in candidates:
        args += ["--mirror", url]
    done = _cli(bed, *args)
    assert done.returncode == 0, done.stderr
    ranked = json.loads(done.stdout)["mirrors"]
    assert len(ranked) == 6
    verdicts = {m["url"]: m["verdict"] for m in ranked}
    assert verdicts[holes[0].url] == verdicts[holes[1].url] == DEAD
    assert verdicts[bed.mirror.url] == verdicts[bed.upstream.url] == HEALTHY
    assert [m["verdict"] for m in ranked][-3:] == [DEAD, DEAD, DEAD]


def test_bad_candidate_url_is_exit_2(bed: TestBed) -> None:
    done = _cli(bed, "mirrors", "probe", "--mirror", "https://m.example/v2/")
    assert done.returncode == 2
    assert "bad mirror URL" in done.stderr


def test_apply_raises_usage_error_for_a_file_dockerd_does_not_read(
    bed: TestBed, tmp_path: Path
) -> None:
    request = RefreshRequest(
        candidates=(bed.mirror.url,), daemon_config=tmp_path / "daemon.json",
        explicit_config=True, dry_run=False, timeout=1.0, probe=False,
    )  # fmt: skip
    with pytest.raises(UsageError, match="pass --daemon-config"):
        refresh_mirrors(request, daemon=_handle(bed))
    assert not (tmp_path / "daemon.json").exists()


def test_cli_apply_writes_through_a_linked_daemon_json_and_dockerd_reloads_it(
    bed: TestBed, restore_config: Path
) -> None:
    managed = bed.root / "managed"
    managed.mkdir(exist_ok=True)
    target = managed / "daemon.json"
    target.write_text(restore_config.read_text())
    restore_config.unlink()
    restore_config.symlink_to(target)
    extra = closed_port_url()
    try:
        done = _cli(bed, "mirrors", "apply", "--no-probe", "--mirror", bed.mirror.url,
                    "--mirror", extra, "--daemon-config", str(restore_config))  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert restore_config.is_symlink()
        assert json.loads(target.read_text())["registry-mirrors"] == [bed.mirror.url, extra]
        info = bed.docker("info", "--format", "{{json .RegistryConfig.Mirrors}}").stdout
        assert [m.rstrip("/") for m in json.loads(info)] == [bed.mirror.url, extra]
        assert not [p for p in managed.iterdir() if p.name.endswith(".tmp")]
    finally:
        text = target.read_text()
        restore_config.unlink()
        restore_config.write_text(text)


def test_probe_without_mirror_probes_the_list_daemon_json_has(bed: TestBed) -> None:
    dead = closed_port_url()
    bed.set_mirrors([dead, bed.mirror.url])
    done = _cli(bed, "mirrors", "probe", "--json", "--probe-timeout", "1")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["source"] == (
        f"daemon.json {bed.dockerd.config_path} and docker info at {bed.docker_host}"
    )
    assert {m["url"]: m["verdict"] for m in answer["mirrors"]} == {
        bed.mirror.url: HEALTHY,
        dead: DEAD,
    }
    table = _cli(bed, "mirrors", "probe", "--probe-timeout", "1")
    assert table.stdout.splitlines()[0] == f"mirrors from {answer['source']}:"


def test_probe_without_mirror_exits_1_when_every_configured_mirror_is_dead(
    bed: TestBed,
) -> None:
    bed.set_mirrors([closed_port_url(), closed_port_url()])
    done = _cli(bed, "mirrors", "probe", "--json", "--probe-timeout", "1")
    assert done.returncode == 1
    assert [m["verdict"] for m in json.loads(done.stdout)["mirrors"]] == [DEAD, DEAD]


def test_probe_without_any_mirror_anywhere_is_a_usage_error(bed: TestBed) -> None:
    bed.set_mirrors([])
    done = _cli(bed, "mirrors", "probe")
    assert done.returncode == 2
    assert "none configured in daemon.json" in done.stderr
    assert done.stderr.count("\n") == 1


def test_apply_no_probe_makes_the_given_list_the_new_list(
    bed: TestBed, restore_config: Path
) -> None:
    first, second = closed_port_url(), closed_port_url()
    assert bed.dockerd.config["registry-mirrors"] == [bed.mirror.url]
    done = _cli(bed, "mirrors", "apply", "--no-probe", "--mirror", second, "--mirror", first,
                "--daemon-config", str(restore_config))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(restore_config.read_text())["registry-mirrors"] == [second, first]
    info = bed.docker("info", "--format", "{{json .RegistryConfig.Mirrors}}").stdout
    assert [m.rstrip("/") for m in json.loads(info)] == [second, first]
    assert f"- {bed.mirror.url}" in done.stdout  # the diff shows it left
