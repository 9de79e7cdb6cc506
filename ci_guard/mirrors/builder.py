"""After a registry-mirrors reload: make sure the builder the command uses sees it.

dockerd's built-in BuildKit gets its registry hosts when the daemon starts; dockerd
20.10 keeps them through a SIGHUP reload (classic pulls and `docker info` show the new
list). Rather than trust a version table, `follow_builder` measures: it resolves a
probe image through the daemon's BuildKit (docker/builder_probe.py). A resolve that
finishes means the builder is fine; one that stalls or fails while the mirrors
answered ci-guard's own probe means the builder still uses the old list, so the daemon
is restarted (the restart-daemon remedy: its plan, the host lock, dry-run) and the
probe runs again to verify. A restart that would stop running containers (live-restore
off) is not made: the registry-stall detection and the ladder take over then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ci_guard.docker import reload as rl
from ci_guard.docker.builder_probe import FAILED, RESOLVED, STALLED, UNSUPPORTED, BuilderProbe
from ci_guard.docker.builder_use import BuilderUse
from ci_guard.records import RemedyResult

LEGACY = "legacy-builder"
CURRENT = "builder-current"
NO_BUILDKIT = "no-buildkit"
RESTARTED = "restarted"
RESTART_FAILED = "restart-failed"
DISABLED = "restart-disabled"
BLOCKED = "restart-blocked"
WOULD = "would-check"
INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class BuilderCheck:
    """The policy and the injectable parts of one check."""

    use: BuilderUse
    enabled: bool
    """The builder-restart setting: may ci-guard restart the daemon for the builder?"""
    dry_run: bool
    probe: Callable[[], BuilderProbe]
    restart: Callable[[], RemedyResult]
    containers: Callable[[], tuple[bool | None, int]]
    """(live-restore on?, running containers), as control.live_restore answers."""


@dataclass(frozen=True)
class BuilderResult:
    decision: str
    reason: str
    use: BuilderUse
    probe: BuilderProbe | None = None
    restart: RemedyResult | None = None
    verify: BuilderProbe | None = None

    @property
    def ok(self) -> bool:
        """The builder uses the new list (or cannot miss it, or nothing was to be done)."""
        if self.decision == RESTARTED:
            return self.verify is not None and self.verify.outcome == RESOLVED
        return self.decision not in (RESTART_FAILED, BLOCKED, DISABLED, INCONCLUSIVE)

    def as_log_fields(self) -> dict[str, Any]:
        restart = None
        if self.restart is not None:
            restart = self.restart.as_log_fields()
        return {
            "decision": self.decision,
            "reason": self.reason,
            "buildkit": self.use.buildkit,
            "buildkit_why": self.use.why,
            "probe": self.probe.as_dict() if self.probe else None,
            "restart": restart,
            "verify": self.verify.as_dict() if self.verify else None,
            "verified": self.verify.outcome == RESOLVED if self.verify else None,
            "ok": self.ok,
        }


def builder_probe_timeout(config: Any) -> float:
    """The probe's deadline: a healthy resolve is a few registry round trips."""
    return float(config.probe_timeout) * 2


def reload_reaches_builder(action: str, changed: bool, ok: bool) -> bool:
    """Whether a mirrors change needs the check: only a SIGHUP reload may miss BuildKit."""
    return changed and ok and action == rl.SIGHUP


def follow_builder(check: BuilderCheck) -> BuilderResult:
    """Probe the builder after a SIGHUP reload; restart the daemon when it kept the old list."""
    use = check.use
    if use.buildkit is False:
        return BuilderResult(LEGACY, "the legacy builder pulls with the reloaded list", use)
    if check.dry_run:
        why = "dry run: would resolve a probe image through BuildKit and restart if it stalls"
        return BuilderResult(WOULD, why, use)
    probe = check.probe()
    if probe.outcome == RESOLVED:
        why = f"BuildKit resolved {probe.image} in {probe.duration_s:.1f}s: no restart needed"
        return BuilderResult(CURRENT, why, use, probe)
    if probe.outcome == UNSUPPORTED:
        return BuilderResult(NO_BUILDKIT, f"the daemon's BuildKit: {probe.detail}", use, probe)
    if probe.outcome not in (STALLED, FAILED):
        return BuilderResult(INCONCLUSIVE, f"probe {probe.outcome}: {probe.detail}", use, probe)
    return _restart(check, probe)


def _restart(check: BuilderCheck, probe: BuilderProbe) -> BuilderResult:
    use = check.use
    stuck = f"BuildKit did not resolve {probe.image} ({probe.outcome}: {probe.detail})"
    if not check.enabled:
        return BuilderResult(DISABLED, f"{stuck}; builder-restart is off", use, probe)
    live_restore, running = check.containers()
    if running and not live_restore:
        why = f"{stuck}; {running} running container(s) would stop (live-restore is off)"
        return BuilderResult(BLOCKED, why, use, probe)
    report = check.restart()
    if not report.ok:
        return BuilderResult(
            RESTART_FAILED, f"{stuck}; restart failed: {report.detail}", use, probe, report
        )
    verify = check.probe()
    if verify.outcome == RESOLVED:
        why = f"{stuck}; after the restart it resolved in {verify.duration_s:.1f}s"
    else:
        why = f"{stuck}; still {verify.outcome} after the restart: {verify.detail}"
    return BuilderResult(RESTARTED, why, use, probe, report, verify)


def daemon_check(
    host: str,
    *,
    use: BuilderUse,
    image: str,
    timeout: float,
    enabled: bool,
    dry_run: bool,
    restart: Callable[[], RemedyResult],
) -> BuilderCheck:
    """The check against the daemon at `host` (the probe's deadline is `timeout`)."""
    from ci_guard.docker.builder_probe import probe_builder
    from ci_guard.docker.control import live_restore

    return BuilderCheck(
        use=use,
        enabled=enabled,
        dry_run=dry_run,
        probe=lambda: probe_builder(host, image, timeout=timeout),
        restart=restart,
        containers=lambda: live_restore(host),
    )
