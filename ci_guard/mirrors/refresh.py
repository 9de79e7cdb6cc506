"""The one mirror refresh of preflight, `ci-guard mirrors apply` and repair-network: rank
the candidates (given ones and those daemon.json lists) and apply the usable ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ci_guard.config import Config
from ci_guard.docker import daemon_json as dj
from ci_guard.docker.backups import DEFAULT_KEEP
from ci_guard.docker.endpoint import (
    DEFAULT_CONFIG_FILE,
    DaemonProcess,
)
from ci_guard.mirror_url import split_hub
from ci_guard.mirrors.apply import DaemonHandle, apply_mirrors, daemon_handle
from ci_guard.mirrors.builder import BuilderCheck, follow_builder, reload_reaches_builder
from ci_guard.mirrors.rank import ProbeFn, RankedMirror, rank_mirrors, usable_urls
from ci_guard.mirrors.result import MirrorApplyResult, skipped_result
from ci_guard.registry.probe import probe_registry


def effective_daemon_config(path: Path, *, explicit: bool, process: DaemonProcess | None) -> Path:
    """The daemon.json to change: the one given, else the one the running dockerd reads."""
    if explicit or process is None:
        return path
    return process.config_file


def candidate_list(given: Sequence[str], existing: Sequence[str]) -> list[str]:
    """Given candidates first, then the mirrors daemon.json lists now (to re-rank or prune)."""
    merged: list[str] = []
    for url in (*given, *existing):
        if url.rstrip("/") not in [m.rstrip("/") for m in merged]:
            merged.append(url)
    return merged


def request_candidates(request: RefreshRequest, existing: Sequence[str]) -> list[str]:
    """What to rank or apply: without probing, the given list is the new list as it
    stands (order kept, nothing merged in); else the given ones and daemon.json's."""
    if not request.probe and request.candidates:
        return list(request.candidates)
    return candidate_list(request.candidates, existing)


def refresh_request(config: Config, *, dry_run: bool) -> RefreshRequest:
    """The refresh preflight and repair-network make: the configured candidates, probed.

    A daemon.json path other than the default is taken as given; the default yields to
    the --config-file of the running dockerd.
    """
    return RefreshRequest(
        candidates=tuple(config.mirrors),
        daemon_config=config.daemon_config,
        explicit_config=config.daemon_config != DEFAULT_CONFIG_FILE,
        dry_run=dry_run,
        timeout=config.probe_timeout,
        keep_backups=config.daemon_json_backups,
    )


@dataclass(frozen=True)
class RefreshRequest:
    candidates: tuple[str, ...]
    daemon_config: Path
    explicit_config: bool
    dry_run: bool
    timeout: float
    image: str = "library/busybox"
    probe: bool = True
    """False: apply the candidates as given, in order, without probing."""
    buildkitd_toml: Path | None = None
    containerd_hosts_dir: Path | None = None
    keep_backups: int = DEFAULT_KEEP
    """daemon.json backups kept beside it (the daemon-json-backups setting)."""


def refresh_mirrors(
    request: RefreshRequest,
    *,
    daemon: DaemonHandle | None = None,
    probe: ProbeFn = probe_registry,
    lock: AbstractContextManager[Any] | None = None,
    builder: Callable[[], BuilderCheck] | None = None,
) -> MirrorApplyResult:
    """Rank the candidates (and the mirrors daemon.json has now) and apply the usable ones.

    When no candidate answers, daemon.json stays as it is: pruning every mirror during a
    network outage would lose mirrors that come back with the network. `builder`: how to
    check, after a SIGHUP reload, that the daemon's BuildKit took the change.
    """
    daemon = daemon or daemon_handle()
    path = effective_daemon_config(
        request.daemon_config, explicit=request.explicit_config, process=daemon.process
    )
    if daemon.reach is not None and daemon.reach.remote:
        return probe_only(request, daemon, path, probe)
    existing = dj.current_mirrors(dj.read_daemon_json(path).data)
    candidates = request_candidates(request, existing)
    if not candidates:
        return skipped_result(path, existing, dry_run=request.dry_run, why="no candidate mirrors")
    ranked: tuple[RankedMirror, ...] = ()
    chosen = split_hub(candidates)[0]
    if request.probe:
        ranked = tuple(
            rank_mirrors(candidates, timeout=request.timeout, image=request.image, probe=probe)
        )
        chosen = usable_urls(ranked)
    if not chosen:
        why = "no candidate mirror answered; daemon.json left as it is"
        return replace(
            skipped_result(path, existing, dry_run=request.dry_run, why=why), ranked=ranked
        )
    result = apply_mirrors(
        chosen,
        daemon_config=path,
        dry_run=request.dry_run,
        daemon=daemon,
        lock=lock,
        buildkitd_toml=request.buildkitd_toml,
        containerd_hosts_dir=request.containerd_hosts_dir,
        keep_backups=request.keep_backups,
    )
    return follow_after(replace(result, ranked=ranked), builder)


def follow_after(
    result: MirrorApplyResult, builder: Callable[[], BuilderCheck] | None
) -> MirrorApplyResult:
    """The result with the builder check made, when a SIGHUP reload changed the mirrors."""
    if builder is None or not reload_reaches_builder(result.action, result.changed, result.ok):
        return result
    return replace(result, builder=follow_builder(builder()))


def probe_only(
    request: RefreshRequest, daemon: DaemonHandle, path: Path, probe: ProbeFn
) -> MirrorApplyResult:
    """A daemon ci-guard cannot configure: rank what it lists and what was given, over
    the network, and say why nothing is written (and what to do instead)."""
    assert daemon.reach is not None
    existing = live_mirrors(daemon)
    candidates = request_candidates(request, existing)
    ranked: tuple[RankedMirror, ...] = ()
    if request.probe and candidates:
        ranked = tuple(
            rank_mirrors(candidates, timeout=request.timeout, image=request.image, probe=probe)
        )
    why = daemon.reach.skip_reason("changing registry-mirrors")
    result = skipped_result(path, existing, dry_run=request.dry_run, why=why)
    return replace(result, ranked=ranked, remote=daemon.reach.reason)


def live_mirrors(daemon: DaemonHandle) -> list[str]:
    """The registry-mirrors the daemon reports in /info (empty when it does not answer)."""
    try:
        info = daemon.info()
    except OSError:
        return []
    mirrors = (info.get("RegistryConfig") or {}).get("Mirrors") or []
    return [str(m).rstrip("/") for m in mirrors]
