"""The preflight step of a run: announce it, run it, log what it found.

Preflight informs; it never stops the build: an error in it is a result (unhealthy,
with the error), only a cancel goes through.
"""

from __future__ import annotations

from typing import Any

from ci_guard.config import Config
from ci_guard.mirror_url import HUB_REGISTRY
from ci_guard.run import remedy_step
from ci_guard.run.deps import PreflightFn
from ci_guard.supervise.cancel import Cancelled, CancelToken, call_cancellable


def run_preflight_step(
    preflight: PreflightFn, config: Config, log: Any, cancel: CancelToken
) -> dict[str, Any]:
    """The `preflight.finished` fields (also kept in the run record)."""
    log.info(
        "preflight.started",
        registries=[HUB_REGISTRY],
        mirrors=list(config.mirrors),
        dry_run=config.dry_run,
    )
    try:
        fields = call_cancellable(lambda: preflight(config), cancel)
    except Cancelled:
        raise
    except Exception as exc:
        fields = {"healthy": False, "checks": [], "error": str(exc)}
    level = "info" if fields.get("healthy") else "warning"
    getattr(log, level)("preflight.finished", **fields)
    builder = (fields.get("mirrors") or {}).get("builder")
    remedy_step.log_builder(log, "preflight", builder)
    return fields
