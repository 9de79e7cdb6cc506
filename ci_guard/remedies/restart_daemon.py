"""restart-daemon: restart the Docker daemon the way it runs, under the host lock.

Also brings back a dockerd that is not running at all (killed mid-run) from the argv,
environment and network namespace recorded by `daemon_control.snapshot()`.

The plan is made under the host lock, not before it: a run that waited for the lock
while another restarted the daemon finds a fresh, healthy dockerd and skips (with the
reason) instead of restarting the daemon a second time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ci_guard.docker import control as daemon_control
from ci_guard.docker import restarted
from ci_guard.docker.api import endpoint, resolve_host
from ci_guard.docker.reach import observe_reach
from ci_guard.docker.restarter import Restarter
from ci_guard.errors import CiGuardError
from ci_guard.hostlock import HostLock
from ci_guard.records import HostChange, RemedyResult
from ci_guard.remedies.base import RemedyContext


class RestartDaemon:
    name = "restart-daemon"

    def __init__(
        self,
        *,
        lock_path: Path | None = None,
        lock_timeout: float = 600.0,
        restarter: Restarter | None = None,
        state_folder: Path | None = None,
    ) -> None:
        self._folder = state_folder
        self._lock_path = lock_path
        self._lock_timeout = lock_timeout
        self._restarter = restarter or Restarter(folder=state_folder)

    def plan(self, ctx: RemedyContext) -> list[str]:
        remote = self._remote(ctx)
        if remote is not None:
            return [str(remote.skipped)]
        plan = daemon_control.plan_restart(ctx.config, ctx.docker_host, folder=self._folder)
        return _describe(plan)

    def _remote(self, ctx: RemedyContext) -> RemedyResult | None:
        """Skipped, with the reason, for a daemon that is not this host's: a local
        restart would restart nothing it runs on (or another job's daemon). A configured
        restart-command is the user's own way, and is used."""
        if ctx.config.restart_command:
            return None
        reach = observe_reach(endpoint(ctx.docker_host))
        if reach.local:
            return None
        why = reach.skip_reason("restarting the daemon")
        extra: dict[str, object] = {"docker_host": reach.endpoint, "daemon_reach": reach.kind}
        return RemedyResult(self.name, True, False, (), why, why, extra)

    def apply(self, ctx: RemedyContext) -> RemedyResult:
        remote = self._remote(ctx)
        if remote is not None:
            return remote
        if ctx.dry_run:
            plan = daemon_control.plan_restart(ctx.config, ctx.docker_host, folder=self._folder)
            extra: dict[str, object] = {"method": plan.method, "docker_host": plan.host}
            if plan.problem:
                return self._result(False, (), plan.problem, extra=extra, skipped=plan.problem)
            return self._result(
                True, tuple(_describe(plan)), "dry run: nothing changed", extra=extra
            )
        failed_at = ctx.failed_at if ctx.failed_at is not None else time.time()
        host = resolve_host(ctx.docker_host)
        seen = restarted.observe(host)  # the daemon as it was before waiting for the lock
        try:
            with HostLock(self._lock_path, timeout=self._lock_timeout) as lock:
                result = self._under_lock(ctx, host, failed_at, seen)
        except CiGuardError as exc:
            return self._result(False, (), exc.message, extra={"docker_host": host})
        if lock.waited_for:
            result.extra["lock_waited_for_pid"] = lock.waited_for
        return result

    def _under_lock(
        self, ctx: RemedyContext, host: str, failed_at: float, seen: restarted.DaemonSeen | None
    ) -> RemedyResult:
        plan = daemon_control.plan_restart(ctx.config, host, folder=self._folder)
        extra: dict[str, object] = {"method": plan.method, "docker_host": plan.host}
        already = restarted.restarted_since(host, failed_at, seen, folder=self._folder)
        if already:
            return self._result(True, (), already, extra=extra, skipped=already)
        if plan.problem:
            return self._result(False, (), plan.problem, extra=extra, skipped=plan.problem)
        steps = tuple(_describe(plan))
        if plan.needs:
            why = f"restarting the daemon needs {plan.needs}"
            return self._result(False, steps, why, extra=extra, skipped=why)
        outcome = self._restarter.run(plan)
        if outcome.ok:
            restarted.record_restart(host, self._folder)
        if outcome.pid:
            extra["pid"] = outcome.pid
        changed = bool(outcome.actions)
        # A failed restart is the remedy's failure (its reason is shown), not a change.
        made = (_restart_change(plan),) if changed and outcome.ok else ()
        return RemedyResult(
            self.name,
            outcome.ok,
            changed,
            outcome.actions,
            outcome.detail,
            extra=extra,
            changes=made,
        )

    def _result(
        self,
        ok: bool,
        actions: tuple[str, ...],
        detail: str,
        *,
        extra: dict[str, object],
        skipped: str | None = None,
    ) -> RemedyResult:
        return RemedyResult(self.name, ok, False, actions, detail, skipped, dict(extra))


def _restart_change(plan: daemon_control.RestartPlan) -> HostChange:
    how = "relaunched as it ran" if plan.method == "relaunch" else f"by {plan.method}"
    return HostChange("daemon", f"restarted ({how}) at {plan.host}")


def _describe(plan: daemon_control.RestartPlan) -> list[str]:
    steps = list(plan.steps)
    if plan.method in ("systemd", "service", "relaunch", "command") and plan.problem is None:
        steps.extend(_live_restore_note(plan.host))
        steps.append(f"wait up to {daemon_control.PING_TIMEOUT_S:g}s for /_ping on {plan.host}")
    if plan.needs and os.geteuid() != 0:
        steps.append(f"needs {plan.needs}")
    return steps


def _live_restore_note(host: str) -> list[str]:
    enabled, running = daemon_control.live_restore(resolve_host(host))
    if enabled is None or running == 0:
        return []
    if enabled:
        return [f"{running} running container(s) keep running (live-restore is on)"]
    return [f"{running} running container(s) stop with the daemon (live-restore is off)"]
