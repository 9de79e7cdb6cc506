"""The remedy interface: a named action that changes the host between attempts.

Every remedy can say what it would do (`plan`), does it (`apply`, which honours
`ctx.dry_run` by changing nothing), and reports the outcome as a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ci_guard.config import Config
from ci_guard.failure import Failure
from ci_guard.records import RemedyResult


@dataclass(frozen=True)
class RemedyContext:
    config: Config
    failure: Failure | None = None
    dry_run: bool = False
    docker_host: str | None = None
    """The endpoint the wrapped docker command talks to (DOCKER_HOST or the context's)."""
    failed_at: float | None = None
    """Epoch seconds when the failure being remedied was seen (None: now). A daemon
    started after it is not the one that failed (restart-daemon then skips)."""
    command: tuple[str, ...] = ()
    """The wrapped command (which builder it uses decides what a mirrors reload needs)."""


class Remedy(Protocol):
    name: str

    def plan(self, ctx: RemedyContext) -> list[str]:
        """What apply() would do, in short sentences, changing nothing."""
        ...

    def apply(self, ctx: RemedyContext) -> RemedyResult:
        """Do it (or with ctx.dry_run only report the plan); never raise for a failed action."""
        ...
