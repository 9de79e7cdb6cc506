"""`ci-guard mirrors probe|apply`: rank candidate mirrors; put the good ones in daemon.json."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ci_guard import exitcodes
from ci_guard.cli.options import (
    Command,
    config_file_option,
    given_flags,
    probe_options,
    setting_option,
)
from ci_guard.config import Config, resolve
from ci_guard.errors import UsageError
from ci_guard.mirror_url import hub_warning, split_hub


def _settings(params: dict[str, Any]) -> tuple[Config, dict[str, str]]:
    flags = given_flags(params)
    if params.get("daemon_config") is not None:
        flags["daemon-config"] = str(params["daemon_config"])
    resolved = resolve(flags, config_path=params.get("config_file"))
    return resolved.config, resolved.sources


def _candidates(given: tuple[str, ...], config: Config) -> list[str]:
    raw = list(given) or list(config.mirrors)
    kept, dropped = split_hub(raw)  # validates every URL: UsageError, exit 2
    if dropped:
        click.echo(f"ci-guard: warning: {hub_warning(dropped)}", err=True)
    return kept


_common = [
    click.option("--mirror", "mirror_urls", multiple=True, metavar="URL",
                 help="Candidate mirror https://host[:port] (repeatable)  "
                      "[default: the mirrors setting]"),
    probe_options("mirror"),
    click.option("--json", "as_json", is_flag=True, help="Print JSON."),
    config_file_option,
]  # fmt: skip


def _with_common(func: Any) -> Any:
    for option in reversed(_common):
        func = option(func)
    return func


@click.group("mirrors")
def command() -> None:
    """Probe registry mirrors and apply the healthy ones to daemon.json.

    \b
    Example:  ci-guard mirrors probe --mirror https://mirror.gcr.io
    More:     ci-guard help mirrors
    """


def _daemon_config_option(what: str) -> Callable[[Any], Any]:
    return click.option(
        "--daemon-config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"{what}  [default: the running dockerd's --config-file, "
        "else /etc/docker/daemon.json; env CI_GUARD_DAEMON_CONFIG]",
    )


@command.command("probe", cls=Command)
@_with_common
@_daemon_config_option("daemon.json whose registry-mirrors are the candidates when none is given")
def probe_cmd(mirror_urls: tuple[str, ...], as_json: bool, image: str, **params: Any) -> None:
    """Rank candidate mirrors by real answers.

    \b
    Example:  ci-guard mirrors probe --mirror https://mirror.gcr.io --probe-timeout 3s
    Exit:     0 a mirror is usable, 1 none is, 2 bad usage (ci-guard help exit-codes)
    """
    from ci_guard.mirrors.rank import rank_mirrors

    config, sources = _settings(params)
    candidates = _candidates(mirror_urls, config)
    origin = "--mirror" if mirror_urls else "the mirrors setting"
    if not candidates:
        candidates, origin = _daemon_candidates(config, sources)
    ranked = rank_mirrors(candidates, timeout=config.probe_timeout, image=image)
    if as_json:
        listed = {"source": origin, "mirrors": [m.as_dict() for m in ranked]}
        click.echo(json.dumps(listed, indent=2))
    else:
        click.echo(f"mirrors from {origin}:")
        click.echo(_table(ranked))
    if not any(m.usable for m in ranked):
        sys.exit(exitcodes.UNHEALTHY)


def _daemon_candidates(config: Config, sources: dict[str, str]) -> tuple[list[str], str]:
    """No candidates given: the daemon's own list (daemon.json, docker info)."""
    from ci_guard.doctor.mirror_checks import daemon_mirror_list

    explicit = sources.get("daemon-config", "default") != "default"
    listed, origin = daemon_mirror_list(
        config.daemon_config, explicit=explicit, timeout=config.probe_timeout
    )
    kept = _candidates(tuple(listed), config)
    if not kept:
        raise UsageError(
            f"no candidate mirrors: none given (--mirror URL, or `mirrors` in the config) "
            f"and none configured in {origin}"
        )
    return kept, origin


def _table(ranked: list[Any]) -> str:
    rows = [("rank", "verdict", "latency", "mirror", "reason")]
    rows += [
        (str(m.rank), m.verdict, f"{m.probe.latency_s:.3f}s", m.url, m.probe.reason) for m in ranked
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
        for row in rows
    )


@command.command("apply", cls=Command)
@_with_common
@_daemon_config_option("daemon.json to change")
@setting_option("dry-run")
@setting_option("daemon-json-backups")
@click.option("--no-probe", is_flag=True, help="Apply the mirrors as given, in order, unprobed.")
@click.option(
    "--buildkitd-toml",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the mirrors for BuildKit (docker-container builders) here.",
)
@click.option(
    "--containerd-hosts-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write DIR/docker.io/hosts.toml (containerd image store).",
)
def apply_cmd(**params: Any) -> None:
    """Probe, then write the usable mirrors (best first) into daemon.json and reload dockerd.

    \b
    Example:  ci-guard mirrors apply --mirror https://mirror.gcr.io --dry-run
    Exit:     0 applied, 1 no usable mirror or the reload failed, 2 bad usage
              (ci-guard help exit-codes)
    """
    from ci_guard.mirrors.apply import daemon_handle
    from ci_guard.mirrors.refresh import RefreshRequest, refresh_mirrors
    from ci_guard.remedies import restart_via_remedy

    config, sources = _settings(params)
    candidates = _candidates(params["mirror_urls"], config)
    daemon = daemon_handle()
    daemon = replace(daemon, restart=restart_via_remedy(config, daemon.endpoint.url))
    request = RefreshRequest(
        candidates=tuple(candidates),
        daemon_config=config.daemon_config,
        explicit_config=sources["daemon-config"] != "default",
        dry_run=config.dry_run,
        timeout=config.probe_timeout,
        image=params["image"],
        probe=not params["no_probe"],
        buildkitd_toml=params["buildkitd_toml"],
        containerd_hosts_dir=params["containerd_hosts_dir"],
        keep_backups=config.daemon_json_backups,
    )
    builder = _builder(config, daemon.endpoint.url, params["image"])
    result = refresh_mirrors(request, daemon=daemon, builder=builder)
    if params["as_json"]:
        click.echo(json.dumps(result.as_log_fields(), indent=2))
    else:
        _print_result(result)
    if not result.ok or (result.builder is not None and not result.builder.ok):
        sys.exit(exitcodes.UNHEALTHY)


def _builder(config: Any, host: str, image: str) -> Callable[[], Any]:
    """No command to look at: any later build may use BuildKit, so a reload is checked."""

    def make() -> Any:
        from ci_guard.docker.builder_use import BuilderUse
        from ci_guard.mirrors.builder import builder_probe_timeout, daemon_check
        from ci_guard.remedies import restart_remedy

        return daemon_check(
            host,
            use=BuilderUse(None, "no command given: a later build may use BuildKit"),
            image=image,
            timeout=builder_probe_timeout(config),
            enabled=config.builder_restart,
            dry_run=config.dry_run,
            restart=restart_remedy(config, host),
        )

    return make


def _print_result(result: Any) -> None:
    if result.ranked:
        click.echo(_table(list(result.ranked)))
        click.echo("")
    where = "the daemon's" if result.remote else f"{result.daemon_config}:"
    click.echo(f"{where} registry-mirrors" + (" (dry run)" if result.dry_run else ""))
    for line in result.diff or [f"  {url}" for url in result.before] or ["  (none)"]:
        click.echo(f"  {line}")
    for message in result.messages:
        click.echo(f"- {message}")
    if result.builder is not None:
        click.echo(f"- builder: {result.builder.decision}: {result.builder.reason}")
