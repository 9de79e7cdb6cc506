"""The remedy interface: a named action that changes the host between attempts.

Every remedy can say what it would do (`plan`), does it (`apply`, which honours
`ctx.dry_run` by changing nothing), and reports the outcome as a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ci_guard.config import Config
from ci_guard.failure import Failure


@dataclass(frozen=True)
class RemedyContext:
    config: Config
    failure: Failure | None = None
    dry_run: bool = False
    docker_host: str | None = None
    """The endpoint the wrapped docker command talks to (DOCKER_HOST or the context's)."""


@dataclass(frozen=True)
class RemedyResult:
    remedy: str
    ok: bool
    changed: bool
    actions: tuple[str, ...] = ()
    """What was done, or with dry-run what would be done, one short sentence each."""
    detail: str = ""
    skipped: str | None = None
    """Why nothing was attempted (missing rights, nothing to act on), when so."""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_log_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "remedy": self.remedy,
            "actions": list(self.actions),
            "changed": self.changed,
            "ok": self.ok,
        }
        if self.detail:
            fields["detail"] = self.detail
        if self.skipped:
            fields["skipped"] = self.skipped
        fields.update(self.extra)
        return fields


class Remedy(Protocol):
    name: str

    def plan(self, ctx: RemedyContext) -> list[str]:
        """What apply() would do, in short sentences, changing nothing."""
        ...

    def apply(self, ctx: RemedyContext) -> RemedyResult:
        """Do it (or with ctx.dry_run only report the plan); never raise for a failed action."""
        ...
