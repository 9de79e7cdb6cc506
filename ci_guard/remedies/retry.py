"""The plain retry: the next attempt changes nothing on the host."""

from __future__ import annotations

from ci_guard.records import RemedyResult
from ci_guard.remedies.base import RemedyContext


class PlainRetry:
    name = "retry"

    def plan(self, ctx: RemedyContext) -> list[str]:
        return []

    def apply(self, ctx: RemedyContext) -> RemedyResult:
        return RemedyResult(remedy=self.name, ok=True, changed=False)
