"""The last resort: an error nobody expected is one line and exit 70, never a traceback.

The traceback still exists for whoever fixes the bug: as an `internal.error` line in the
JSON log file when one is open, and on stderr with CI_GUARD_DEBUG=1.
"""

from __future__ import annotations

import contextlib
import os
import sys

from ci_guard.errors import describe

DEBUG_ENV = "CI_GUARD_DEBUG"
_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def debug_enabled() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() in _TRUE_WORDS


_LOGGED = "_ci_guard_in_log"


def _traceback_text(exc: BaseException) -> str:
    import traceback  # only when something went wrong: it is not free to load

    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def record(exc: BaseException) -> str:
    """Write the traceback to the JSON log file, if one is open (once per error);
    the file's name, or "" when there is none."""
    logged: str = getattr(exc, _LOGGED, "")
    if logged:
        return logged
    logs = sys.modules.get("ci_guard.logs")  # loaded only if the command logs at all
    text = _traceback_text(exc)
    done: str = (
        ""
        if logs is None
        else logs.file_only("internal.error", level="error", error=describe(exc), traceback=text)
    )
    with contextlib.suppress(AttributeError):
        setattr(exc, _LOGGED, done)
    return done


def report(exc: BaseException, *, context: str = "") -> str:
    """Record the traceback where it belongs and return the one line for stderr."""
    in_log = record(exc)
    if debug_enabled():
        text = _traceback_text(exc)
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(text)
    where = (
        f"the traceback is in the JSON log {in_log}"
        if in_log
        else f"{DEBUG_ENV}=1 shows the traceback"
    )
    suffix = f"; {context}" if context else ""
    return f"internal error: {describe(exc)} ({where}){suffix}"
