"""Put the healthy mirrors into daemon.json: the one refresh path of preflight, `mirrors
apply` and the repair-network remedy.

Ranking is mirrors/rank.py. Applying merges the ranked list
into daemon.json (backup, atomic replace), reloads dockerd with SIGHUP (registry-mirrors
is reloadable), checks that `docker info` shows the new list, and rolls back otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_guard.docker import api
from ci_guard.docker import daemon_json as dj
from ci_guard.docker import reload as rl
from ci_guard.docker.backups import DEFAULT_KEEP
from ci_guard.docker.endpoint import (
    DaemonEndpoint,
    DaemonProcess,
    find_daemon_process,
    find_endpoint,
)
from ci_guard.docker.mirror_files import write_buildkitd, write_containerd_hosts
from ci_guard.docker.reach import DaemonReach, observe_reach
from ci_guard.errors import PermissionDenied, UsageError
from ci_guard.mirror_url import split_hub
from ci_guard.mirrors.result import WRITTEN, MirrorApplyResult


@dataclass
class _Apply:
    """The state of one apply, so each step stays a short function."""

    path: Path
    old: dict[str, Any]
    new: dict[str, Any]
    dry_run: bool
    messages: list[str] = field(default_factory=list)
    backup: Path | None = None
    keep_backups: int = DEFAULT_KEEP

    def result(self, *, ok: bool, action: str, **extra: Any) -> MirrorApplyResult:
        before, after = dj.current_mirrors(self.old), dj.current_mirrors(self.new)
        return MirrorApplyResult(
            daemon_config=self.path,
            before=tuple(before),
            after=tuple(after),
            changed=before != after,
            dry_run=self.dry_run,
            ok=ok,
            action=action,
            diff=tuple(dj.mirror_diff(before, after)),
            backup=self.backup,
            messages=tuple(self.messages),
            **extra,
        )


@dataclass(frozen=True)
class DaemonHandle:
    """How to reach, signal, restart and question the daemon (all injectable)."""

    endpoint: DaemonEndpoint
    process: DaemonProcess | None
    info: Callable[[], dict[str, Any]]
    restart: Callable[[], bool] | None = None
    kill: Callable[[int, int], None] = os.kill
    verify_timeout: float = 20.0
    reach: DaemonReach | None = None
    """Whether ci-guard may configure it (None: not decided, taken as this host's)."""


def daemon_handle(
    restart: Callable[[], bool] | None = None,
    *,
    endpoint: DaemonEndpoint | None = None,
    reach: DaemonReach | None = None,
) -> DaemonHandle:
    """The daemon as the docker CLI sees it (DOCKER_HOST, context, default socket), and
    whether it is this host's to configure (`reach`, found out when not given)."""
    endpoint = endpoint or find_endpoint()

    def info() -> dict[str, Any]:
        return api.info(endpoint.url)

    reach = reach or observe_reach(endpoint)
    return DaemonHandle(endpoint, find_daemon_process(endpoint), info, restart, reach=reach)


def apply_mirrors(
    mirrors: Sequence[str],
    *,
    daemon_config: Path,
    dry_run: bool,
    daemon: DaemonHandle | None = None,
    restart: Callable[[], bool] | None = None,
    lock: AbstractContextManager[Any] | None = None,
    buildkitd_toml: Path | None = None,
    containerd_hosts_dir: Path | None = None,
    keep_backups: int = DEFAULT_KEEP,
) -> MirrorApplyResult:
    """Make `mirrors` (in this order) dockerd's registry-mirrors, safely.

    Raises UsageError for bad URLs, an invalid daemon.json or a change dockerd would
    refuse (the file is left untouched), PermissionDenied without the rights to write.
    """
    urls, hub = split_hub(list(mirrors))
    daemon = daemon or daemon_handle(restart)
    current = dj.read_daemon_json(daemon_config)
    state = _Apply(daemon_config, current.data, dj.merge_mirrors(current.data, urls), dry_run)
    state.keep_backups = keep_backups
    if hub:
        state.messages.append(
            f"dropped {', '.join(hub)}: dockerd tries Docker Hub after the mirrors anyway, "
            "so listing it only doubles timeouts"
        )
    _refuse_bad_change(state, daemon.process)
    state.messages += _side_files(urls, buildkitd_toml, containerd_hosts_dir, dry_run)
    changed = dj.changed_keys(state.old, state.new)
    if not changed:
        state.messages.append(f"{daemon_config}: registry-mirrors already as wanted")
        return state.result(ok=True, action=rl.NOTHING)
    action = rl.reload_action(changed)
    if dry_run:
        state.messages.append(f"would write {daemon_config} and reload dockerd ({action})")
        return state.result(ok=True, action=action)
    _check_rights(daemon_config)
    with lock if lock is not None else _host_lock():
        return _write_and_reload(state, daemon, action)


def _host_lock() -> AbstractContextManager[Any]:
    from ci_guard.hostlock import HostLock  # only when writing

    return HostLock()


def _refuse_bad_change(state: _Apply, process: DaemonProcess | None) -> None:
    flags = process.flags if process else ()
    problems = dj.errors(dj.validate(state.new, running_flags=flags))
    if problems:
        raise UsageError(f"refusing to change {state.path}: {problems[0].message}; nothing changed")
    if process is not None and _differs(process.config_file, state.path):
        raise UsageError(
            f"the running dockerd (pid {process.pid}) reads {process.config_file}, not "
            f"{state.path}; pass --daemon-config {process.config_file}; nothing changed"
        )


def _differs(a: Path, b: Path) -> bool:
    return os.path.realpath(a) != os.path.realpath(b)


def _check_rights(path: Path) -> None:
    target = dj.check_target(path)  # a link is written through: its target's folder counts
    folder = target.parent
    writable = os.access(folder, os.W_OK) and (not target.exists() or os.access(target, os.W_OK))
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder for {path.name}; nothing changed")
    if not writable:
        raise PermissionDenied(
            f"no right to change {path} (needs root); nothing changed: run with sudo, "
            "or with --dry-run to see the plan"
        )


def _side_files(
    urls: Sequence[str], buildkitd: Path | None, hosts_dir: Path | None, dry_run: bool
) -> list[str]:
    messages = []
    if buildkitd is not None:
        messages.append(write_buildkitd(buildkitd, urls, dry_run=dry_run))
    if hosts_dir is not None:
        messages.append(write_containerd_hosts(hosts_dir, urls, dry_run=dry_run))
    return messages


def _write_and_reload(state: _Apply, daemon: DaemonHandle, action: str) -> MirrorApplyResult:
    state.backup = dj.backup(state.path, keep=state.keep_backups)
    dj.write(state.path, state.new)
    state.messages.append(
        f"wrote {state.path}" + (f" (backup {state.backup.name})" if state.backup else "")
    )
    done = _reload(state, daemon, action)
    if done is None:
        return state.result(ok=False, action=WRITTEN)
    verified = rl.wait_for_mirrors(
        daemon.info, dj.current_mirrors(state.new), timeout=daemon.verify_timeout
    )
    state.messages.append(verified.message)
    if verified.ok:
        return state.result(ok=True, action=done, verified=True)
    _rollback(state, daemon, done)
    return state.result(ok=False, action=done, verified=False, rolled_back=True)


def _reload(state: _Apply, daemon: DaemonHandle, action: str) -> str | None:
    """Make dockerd read the file; the action taken, or None when it could not be done."""
    if action == rl.SIGHUP and daemon.process is not None:
        sent = rl.send_sighup(daemon.process.pid, kill=daemon.kill)
        state.messages.append(sent.message)
        if sent.ok:
            return rl.SIGHUP
    elif action == rl.SIGHUP:
        state.messages.append(f"no dockerd process found for {daemon.endpoint.url}")
    if daemon.restart is None:
        state.messages.append(
            "no way to restart dockerd was given: restart it yourself to use the new mirrors"
        )
        return None
    # A failed restart still goes on to verification, which fails and rolls back.
    ok = daemon.restart()
    state.messages.append("restarted dockerd" if ok else "restarting dockerd failed")
    return rl.RESTART


def _rollback(state: _Apply, daemon: DaemonHandle, action: str) -> None:
    dj.restore(state.path, state.backup)
    state.messages.append(f"rolled back {state.path} from the backup")
    pid = daemon.process.pid if daemon.process is not None else None
    if action == rl.SIGHUP and pid is not None and rl.send_sighup(pid, kill=daemon.kill).ok:
        state.messages.append("sent SIGHUP again to reload the old file")
        return
    if daemon.restart is not None:
        ok = daemon.restart()
        state.messages.append("restarted dockerd with the old file" if ok else "restart failed")
