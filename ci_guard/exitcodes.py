"""Exit codes ci-guard itself chooses (docs/exit-codes.md is the user-facing table)."""

from __future__ import annotations

SUCCESS = 0
USAGE = 2
"""ci-guard was used wrongly: bad option, config file, mirror URL or input file."""
INTERNAL_ERROR = 70
"""A bug in ci-guard itself (EX_SOFTWARE); when the build ran, its own code is kept."""
TEMPFAIL = 75
"""Conventional --tempfail-exit-code: attempts exhausted on a transient class (EX_TEMPFAIL)."""
TIMED_OUT = 124
"""The last attempt hit its deadline, as coreutils `timeout`."""
NOT_EXECUTABLE = 126
NOT_FOUND = 127
SIGNAL_BASE = 128
"""ci-guard was stopped by signal N: exit 128+N, as a shell reports it."""
UNHEALTHY = 1
"""doctor / mirrors probe: a check failed or no candidate is healthy."""


def for_signal(signum: int) -> int:
    return SIGNAL_BASE + signum
