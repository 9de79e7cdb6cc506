"""free-disk: prune the build cache and dangling images when a build ran out of disk.

Opt-in (`free-disk = true`): pruning throws away cache other jobs on the runner might
have reused, so it is never done unasked. Tagged images and running containers stay.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ci_guard.docker.sdk import docker_errors, open_client
from ci_guard.errors import CiGuardError
from ci_guard.hostlock import HostLock
from ci_guard.records import HostChange, RemedyResult
from ci_guard.remedies.base import RemedyContext

ClientFactory = Callable[[str | None], Any]
STEPS = ("prune the build cache", "remove dangling images")


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover - the loop always returns


class FreeDisk:
    name = "free-disk"

    def __init__(
        self,
        *,
        client_factory: ClientFactory = open_client,
        lock_path: Path | None = None,
        lock_timeout: float = 600.0,
    ) -> None:
        self._client_factory = client_factory
        self._lock_path = lock_path
        self._lock_timeout = lock_timeout

    def plan(self, ctx: RemedyContext) -> list[str]:
        if not ctx.config.free_disk:
            return []
        return list(STEPS)

    def apply(self, ctx: RemedyContext) -> RemedyResult:
        if not ctx.config.free_disk:
            why = "free-disk is off (enable it with free-disk = true or CI_GUARD_FREE_DISK=1)"
            return RemedyResult(self.name, False, False, skipped=why)
        if ctx.dry_run:
            return RemedyResult(self.name, True, False, STEPS, "dry run: nothing changed")
        try:
            with HostLock(self._lock_path, timeout=self._lock_timeout):
                return self._prune(ctx.docker_host)
        except CiGuardError as exc:
            return RemedyResult(self.name, False, False, detail=exc.message)

    def _prune(self, host: str | None) -> RemedyResult:
        actions: list[str] = []
        freed = {"build_cache_bytes": 0, "images_bytes": 0}
        try:
            client = self._client_factory(host)
            cache = client.api.prune_builds() or {}
            freed["build_cache_bytes"] = int(cache.get("SpaceReclaimed") or 0)
            actions.append(
                f"pruned the build cache: {len(cache.get('CachesDeleted') or [])} entries, "
                f"{human_bytes(freed['build_cache_bytes'])}"
            )
            images = client.images.prune(filters={"dangling": True}) or {}
            freed["images_bytes"] = int(images.get("SpaceReclaimed") or 0)
            actions.append(
                f"removed dangling images: {len(images.get('ImagesDeleted') or [])} entries, "
                f"{human_bytes(freed['images_bytes'])}"
            )
        except docker_errors() as exc:
            return self._freed(False, actions, freed, f"prune failed: {_one_line(exc)}")
        return self._freed(True, actions, freed, f"freed {human_bytes(sum(freed.values()))}")

    def _freed(
        self, ok: bool, actions: list[str], freed: dict[str, int], detail: str
    ) -> RemedyResult:
        total = sum(freed.values())
        extra = {"bytes_freed": total, **freed}
        made = (HostChange("disk", f"freed {human_bytes(total)}: {'; '.join(actions)}"),)
        return RemedyResult(
            self.name, ok, total > 0, tuple(actions), detail, extra=extra,
            changes=made if total > 0 else (),
        )  # fmt: skip


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "explanation", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
