"""What a mirror refresh did, as a value, and the fields it logs.

`as_log_fields` is the `mirrors` field of `preflight.finished` and the JSON of
`ci-guard mirrors apply`; `ci-guard report` reads it back (report/load.py reads
`RANKED_FIELD`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ci_guard.docker import reload as rl
from ci_guard.mirrors.builder import BuilderResult
from ci_guard.mirrors.rank import RankedMirror
from ci_guard.records import HostChange

SKIPPED = "skipped"
"""The action of a refresh that changed nothing on purpose (no candidates, none answered)."""
WRITTEN = "written"
"""The action of a refresh that wrote daemon.json but could not make dockerd read it."""
RANKED_FIELD = "ranked"
"""The list of probed candidates, best first: rank, url, verdict, reason, latency_s, ..."""


@dataclass(frozen=True)
class MirrorApplyResult:
    daemon_config: Path
    before: tuple[str, ...]
    after: tuple[str, ...]
    changed: bool
    dry_run: bool
    ok: bool
    action: str
    """"none", "sighup", "restart", "written" (not reloaded), or "skipped"."""
    diff: tuple[str, ...] = ()
    backup: Path | None = None
    verified: bool | None = None
    rolled_back: bool = False
    messages: tuple[str, ...] = ()
    ranked: tuple[RankedMirror, ...] = field(default=())
    builder: BuilderResult | None = None
    """Whether the daemon's BuildKit took the change (after a SIGHUP reload only)."""
    remote: str | None = None
    """Why the daemon cannot be configured from here (another host...), when so."""

    def as_log_fields(self) -> dict[str, Any]:
        return {
            "daemon_config": str(self.daemon_config),
            "mirrors_before": list(self.before),
            "mirrors_after": list(self.after),
            "changed": self.changed,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "action": self.action,
            "backup": str(self.backup) if self.backup else None,
            "verified": self.verified,
            "rolled_back": self.rolled_back,
            "messages": list(self.messages),
            RANKED_FIELD: [m.as_dict() for m in self.ranked],
            "builder": self.builder.as_log_fields() if self.builder else None,
            "remote": self.remote,
        }

    def host_changes(self) -> tuple[HostChange, ...]:
        """What the refresh changed on the host: daemon.json, the daemon (none in dry-run)."""
        if self.dry_run or not self.changed or self.action in (SKIPPED, rl.NOTHING):
            return ()
        detail = f"{self.daemon_config}: registry-mirrors {mirror_change_text(self)}"
        if self.backup is not None:
            detail += f"; backup {self.backup}"
        if self.action == WRITTEN:
            detail += "; dockerd not reloaded: restart it to use them"
        if self.rolled_back:
            detail += "; rolled back from the backup: the daemon did not show the new list"
        changes = [HostChange("daemon.json", detail, rolled_back=self.rolled_back)]
        if self.action in _RELOADS:
            changes.append(HostChange("daemon", _RELOADS[self.action]))
        if self.builder is not None and self.builder.restart is not None:
            why = " (its BuildKit kept the old mirror list)"
            changes += [replace(c, detail=c.detail + why) for c in self.builder.restart.changes]
        return tuple(changes)


_RELOADS = {
    rl.SIGHUP: "reloaded with SIGHUP to read the new registry-mirrors",
    rl.RESTART: "restarted to read the new registry-mirrors",
}


def mirror_change_text(result: MirrorApplyResult) -> str:
    """`removed A, B; added C` (the mirrors themselves: a reader wants to know which)."""
    removed = [url for url in result.before if url not in result.after]
    added = [url for url in result.after if url not in result.before]
    parts = [f"removed {', '.join(removed)}"] if removed else []
    parts += [f"added {', '.join(added)}"] if added else []
    return "; ".join(parts) or f"reordered to {', '.join(result.after)}"


def skipped_result(
    path: Path, before: Sequence[str], *, dry_run: bool, why: str
) -> MirrorApplyResult:
    return MirrorApplyResult(
        daemon_config=path,
        before=tuple(before),
        after=tuple(before),
        changed=False,
        dry_run=dry_run,
        ok=False,
        action=SKIPPED,
        messages=(why,),
    )
