"""The one error type that the CLI turns into a one-line message and an exit code."""

from __future__ import annotations

from ci_guard import exitcodes


class CiGuardError(Exception):
    """A failure ci-guard reports as one line (never a traceback) and `exit_code`."""

    exit_code: int = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0])


class UsageError(CiGuardError):
    """Bad option, config file, mirror URL, ladder or input: exit 2."""

    exit_code = exitcodes.USAGE


class PermissionDenied(CiGuardError):
    """A privileged action needs rights ci-guard lacks; the message says which."""

    exit_code = 1


def describe(exc: BaseException) -> str:
    """One line for an error ci-guard reports but does not stop for."""
    if isinstance(exc, CiGuardError):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
