"""Native output for CI platforms: detection, per-platform run hooks, JUnit report.

The runner calls `detect_platform`, then `make_hooks` for the platform's RunHooks,
and `write_junit` when a JUnit report is asked for.
"""

from __future__ import annotations

from pathlib import Path

from ci_guard.ci.detect import PLATFORMS, detect_platform
from ci_guard.ci.hooks import GuardedHooks, make_hooks
from ci_guard.records import RunRecord


def write_junit(run: RunRecord, path: Path, secret_env: tuple[str, ...] = ()) -> Path:
    """Write the JUnit XML report and return its path (the XML machinery loads only now)."""
    from ci_guard.ci.junit import write_junit as write
    from ci_guard.redact import Redactor

    return write(run, path, Redactor(secret_env=secret_env))


__all__ = ["PLATFORMS", "GuardedHooks", "detect_platform", "make_hooks", "write_junit"]
