"""`ci-guard doctor`: DNS, TCP, TLS, registry API, daemon, daemon.json, disk, clock, buildx."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ci_guard import exitcodes
from ci_guard.cli.options import Command, config_file_option, given_flags, probe_options
from ci_guard.config import resolve

_STATUS = {"error": "FAIL", "warning": "warn", "info": "skip"}


@click.command("doctor", cls=Command)
@click.option(
    "--registry",
    "registries",
    multiple=True,
    metavar="URL",
    help="Registry to check (repeatable)  [default: Docker Hub]",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@probe_options("registry")
@click.option(
    "--daemon-config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="daemon.json to check  [default: the running dockerd's --config-file, "
    "else /etc/docker/daemon.json; env CI_GUARD_DAEMON_CONFIG]",
)
@config_file_option
def command(registries: tuple[str, ...], as_json: bool, image: str, **params: Any) -> None:
    """Check network, registries, the daemon and its configuration.

    \b
    Examples: ci-guard doctor
              ci-guard doctor --registry https://ghcr.io --probe-timeout 10s --json
    Exit:     0 healthy, 1 unhealthy, 2 bad usage (ci-guard help exit-codes)
    More:     ci-guard help doctor
    """
    from ci_guard.doctor.preflight import DoctorSetup, run_doctor
    from ci_guard.mirror_url import HUB_REGISTRY

    flags = given_flags(params)
    if params["daemon_config"] is not None:
        flags["daemon-config"] = str(params["daemon_config"])
    resolved = resolve(flags, config_path=params["config_file"])
    from ci_guard.docker.endpoint import find_daemon_process, find_endpoint

    endpoint = find_endpoint()
    setup = DoctorSetup(
        registries=registries or (HUB_REGISTRY,),
        timeout=resolved.config.probe_timeout,
        daemon_config=resolved.config.daemon_config,
        explicit_config=resolved.sources["daemon-config"] != "default",
        image=image,
        endpoint=endpoint,
        process=find_daemon_process(endpoint),
    )
    report = run_doctor(setup)
    if as_json:
        click.echo(json.dumps(report.as_log_fields(), indent=2, default=str))
    else:
        click.echo(render_table(report))
    if not report.healthy:
        sys.exit(exitcodes.UNHEALTHY)


def render_table(report: Any) -> str:
    rows = []
    for check in report.checks:
        status = "ok" if check.ok else _STATUS.get(check.severity, check.severity)
        rows.append((status, check.name, f"{check.duration_s:.2f}s", check.detail))
    width = max(len(r[1]) for r in rows)
    lines = [f"{s:<7} {name:<{width}}  {took:>6}  {detail}" for s, name, took, detail in rows]
    lines.append("healthy" if report.healthy else "unhealthy")
    return "\n".join(lines)
