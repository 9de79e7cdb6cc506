"""repair-network: what `fix-docker-network` did, step by step, under the host lock.

1. Re-probe the candidate mirrors (the configured ones and those in daemon.json) and
   make the healthy ones, best first, the daemon's registry-mirrors (dead ones leave);
   after a SIGHUP reload, check that the command's BuildKit took them, and restart the
   daemon when it did not (mirrors/builder.py).
2. Flush the host's resolver cache, where one runs (resolvectl, nscd).
3. Prune unused Docker networks.
4. With tune-sysctl only: the network sysctl tuning (data/sysctl.toml).
5. Restart the daemon when it still does not answer /_ping.
Each step is reported; a failed step does not stop the next ones.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_guard import process
from ci_guard.docker.api import endpoint, ping
from ci_guard.docker.reach import DaemonReach, observe_reach
from ci_guard.docker.sdk import docker_errors, open_client
from ci_guard.errors import CiGuardError
from ci_guard.hostlock import HostLock
from ci_guard.mirrors.builder import (
    RESTARTED,
    BuilderCheck,
    BuilderResult,
    builder_probe_timeout,
    daemon_check,
)
from ci_guard.mirrors.result import SKIPPED
from ci_guard.records import HostChange, RemedyResult
from ci_guard.remedies import sysctl_tuning
from ci_guard.remedies.base import RemedyContext
from ci_guard.remedies.restart_daemon import RestartDaemon

PROBE_IMAGE = "library/busybox"
# (program, argv): the resolver caches a host may run, flushed only where present.
RESOLVER_FLUSHES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("resolvectl", ("resolvectl", "flush-caches")),
    ("nscd", ("nscd", "-i", "hosts")),
)


@dataclass
class _Report:
    dry_run: bool
    actions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    changed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    changes: list[HostChange] = field(default_factory=list)

    def did(self, sentence: str, *, changed: bool = True) -> None:
        self.actions.append(f"would {sentence}" if self.dry_run and changed else sentence)
        self.changed = self.changed or (changed and not self.dry_run)


class RepairNetwork:
    name = "repair-network"

    def __init__(
        self,
        *,
        lock_path: Path | None = None,
        lock_timeout: float = 600.0,
        restart: RestartDaemon | None = None,
        client_factory: Callable[[str | None], Any] = open_client,
        sysctl_root: Path = sysctl_tuning.PROC_SYS,
        which: Callable[[str], str | None] = shutil.which,
        is_root: Callable[[], bool] = lambda: os.geteuid() == 0,
    ) -> None:
        self._lock_path = lock_path
        self._lock_timeout = lock_timeout
        self._restart = restart or RestartDaemon(lock_path=lock_path, lock_timeout=lock_timeout)
        self._client_factory = client_factory
        self._sysctl_root = sysctl_root
        self._which = which
        self._is_root = is_root

    def plan(self, ctx: RemedyContext) -> list[str]:
        steps = [
            f"re-probe the mirror candidates ({_candidates_text(ctx)}) and apply the healthy ones",
        ]
        steps += [f"flush the resolver cache: {' '.join(argv)}" for argv in self._flushers()]
        steps.append("prune unused Docker networks")
        if ctx.config.tune_sysctl:
            tuning = sysctl_tuning.plan(root=self._sysctl_root)
            steps += [change.describe() for change in tuning.changes]
        steps.append("restart the daemon if it still does not answer /_ping")
        return steps

    def apply(self, ctx: RemedyContext) -> RemedyResult:
        report = _Report(ctx.dry_run)
        reach = observe_reach(endpoint(ctx.docker_host))
        try:
            with HostLock(self._lock_path, timeout=self._lock_timeout) as lock:
                self._mirrors(ctx, report, lock, reach)
                if reach.local:
                    self._flush_resolvers(report)
                else:  # this host's resolver and sysctl are not the daemon's
                    report.extra["daemon_reach"] = reach.kind
                    report.did(reach.skip_reason("host-side repairs"), changed=False)
                self._prune_networks(ctx, report)
                if reach.local:
                    self._tune(ctx, report)
                self._restart_if_silent(ctx, report)
        except CiGuardError as exc:
            report.problems.append(exc.message)
        skipped = None
        if not report.actions and not self._is_root():
            skipped = "repair-network needs root (daemon.json, resolver caches, sysctl)"
        return RemedyResult(
            self.name,
            ok=not report.problems,
            changed=report.changed,
            actions=tuple(report.actions),
            detail="; ".join(report.problems),
            skipped=skipped,
            extra=report.extra,
            changes=tuple(report.changes),
        )

    # -- steps -------------------------------------------------------------------------

    def _mirrors(
        self, ctx: RemedyContext, report: _Report, lock: HostLock, reach: DaemonReach
    ) -> None:
        # The same refresh as preflight and `mirrors apply`: the daemon.json the running
        # dockerd reads (its --config-file), the same ranking, the same "keep them all when
        # none answers" rule.
        from ci_guard.mirrors.apply import daemon_handle
        from ci_guard.mirrors.refresh import refresh_mirrors, refresh_request

        try:
            daemon = daemon_handle(
                self._restart_callable(ctx), endpoint=endpoint(ctx.docker_host), reach=reach
            )
            request = refresh_request(ctx.config, dry_run=ctx.dry_run)
            result = refresh_mirrors(
                request, daemon=daemon, lock=lock, builder=self._builder_check(ctx)
            )
        except CiGuardError as exc:
            report.problems.append(f"mirrors: {exc.message}")
            return
        report.extra["mirrors_ranked"] = [
            {"url": m.url, "verdict": m.verdict} for m in result.ranked
        ]
        if result.action == SKIPPED:
            report.did(f"{result.messages[-1]}: registry-mirrors left as they are", changed=False)
            return
        report.extra["mirrors_before"] = list(result.before)
        report.extra["mirrors_after"] = list(result.after)
        dead = [m.url for m in result.ranked if not m.usable]
        report.changes += result.host_changes()
        if result.changed:
            report.did(
                f"set registry-mirrors in {result.daemon_config} to {list(result.after)} "
                f"(dead: {dead or 'none'}; {result.action})"
            )
        else:
            report.did(f"registry-mirrors already {list(result.after)}", changed=False)
        if not result.ok:
            report.problems.append("mirrors: " + "; ".join(result.messages[-2:]))
        self._report_builder(result.builder, report)

    def _builder_check(self, ctx: RemedyContext) -> Callable[[], BuilderCheck]:
        def make() -> BuilderCheck:
            from ci_guard.docker.builder_use import uses_buildkit

            return daemon_check(
                endpoint(ctx.docker_host).url,
                use=uses_buildkit(ctx.command, os.environ),
                image=PROBE_IMAGE,
                timeout=builder_probe_timeout(ctx.config),
                enabled=ctx.config.builder_restart,
                dry_run=ctx.dry_run,
                restart=lambda: self._restart.apply(ctx),
            )

        return make

    def _report_builder(self, builder: BuilderResult | None, report: _Report) -> None:
        if builder is None:
            return
        report.extra["builder"] = builder.as_log_fields()
        restarted = builder.decision == RESTARTED
        report.did(f"builder: {builder.decision} ({builder.reason})", changed=restarted)
        if not builder.ok:
            report.problems.append(f"builder: {builder.reason}")

    def _restart_callable(self, ctx: RemedyContext) -> Callable[[], bool]:
        def restart() -> bool:
            return self._restart.apply(dataclasses.replace(ctx, dry_run=False)).ok

        return restart

    def _flushers(self) -> list[tuple[str, ...]]:
        return [argv for program, argv in RESOLVER_FLUSHES if self._which(program)]

    def _flush_resolvers(self, report: _Report) -> None:
        for argv in self._flushers():
            if report.dry_run:
                report.did(f"run {' '.join(argv)}")
            elif not self._is_root():
                report.did(f"skipped {' '.join(argv)} (needs root)", changed=False)
            else:
                done = process.run_capture(argv, timeout=15)
                if done.ok:
                    report.did(f"ran {' '.join(argv)}")
                    report.changes.append(HostChange("resolver", f"ran {' '.join(argv)}"))
                else:
                    reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["failed"]
                    report.did(f"{' '.join(argv)} failed: {reason[0]}", changed=False)

    def _prune_networks(self, ctx: RemedyContext, report: _Report) -> None:
        if report.dry_run:
            report.did("prune unused Docker networks")
            return
        try:
            client = self._client_factory(ctx.docker_host)
            pruned = client.networks.prune() or {}
        except docker_errors() as exc:
            report.did(f"network prune failed: {str(exc).splitlines()[0]}", changed=False)
            return
        removed = list(pruned.get("NetworksDeleted") or [])
        report.extra["networks_removed"] = removed
        if removed:
            sentence = f"removed {len(removed)} unused network(s): {', '.join(removed)}"
            report.did(sentence)
            report.changes.append(HostChange("networks", sentence))
        else:
            report.did("no unused Docker networks", changed=False)

    def _tune(self, ctx: RemedyContext, report: _Report) -> None:
        if not ctx.config.tune_sysctl:
            return
        tuning = sysctl_tuning.plan(root=self._sysctl_root)
        report.extra["sysctl_skipped"] = list(tuning.skipped)
        if not tuning.changes:
            report.did("network sysctl settings already tuned", changed=False)
            return
        if report.dry_run:
            for change in tuning.changes:
                report.did(change.describe())
            return
        if not self._is_root() and self._sysctl_root == sysctl_tuning.PROC_SYS:
            report.did("skipped sysctl tuning (needs root)", changed=False)
            return
        done, failed = sysctl_tuning.apply(tuning.changes, root=self._sysctl_root)
        for sentence in done:
            report.did(sentence)
        if done:
            report.changes.append(HostChange("sysctl", "; ".join(done)))
        report.problems += [f"sysctl {why}" for why in failed]

    def _restart_if_silent(self, ctx: RemedyContext, report: _Report) -> None:
        host = endpoint(ctx.docker_host).url
        if ping(host, timeout=5.0):
            report.did(f"daemon answers /_ping on {host}", changed=False)
            return
        if report.dry_run:
            report.did(f"restart the daemon at {host} (no /_ping answer)")
            return
        result = self._restart.apply(ctx)
        report.actions += list(result.actions)
        report.changed = report.changed or result.changed
        report.changes += result.changes
        report.extra["restart"] = result.as_log_fields()
        if not result.ok:
            report.problems.append(f"restart: {result.skipped or result.detail}")


def _candidates_text(ctx: RemedyContext) -> str:
    return f"{len(ctx.config.mirrors)} configured, and those the daemon's daemon.json lists"
