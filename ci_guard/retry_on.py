"""`--retry-on`: the failures a user chose to retry, by class, class group or exit code.

Entries are failure class names (data/classes.toml), group names ([groups] there,
e.g. `network`) and `exit:N` for an exit code. An empty list means ci-guard's own
choice (the class's `retryable`). A name that is none of these is a one-line
UsageError with the closest known name.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from ci_guard.errors import UsageError
from ci_guard.failure import FailureClass, class_groups

EXIT_PREFIX = "exit:"
_CLASS_NAMES = frozenset(cls.value for cls in FailureClass)


@dataclass(frozen=True)
class RetryOn:
    """The parsed `--retry-on` list; falsy when the user chose nothing.

    Each chosen class or code maps to the entry that chose it (`network` for
    dns_failure when the group named it), so a decision can quote the user's words."""

    classes: Mapping[FailureClass, str] = field(default_factory=dict)
    exit_codes: Mapping[int, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.classes or self.exit_codes)

    def match(self, failure_class: FailureClass, exit_code: int | None) -> str:
        """The entry that selects this failure ('' when none): its class, else its code."""
        if failure_class in self.classes:
            return self.classes[failure_class]
        if exit_code is not None and exit_code in self.exit_codes:
            return self.exit_codes[exit_code]
        return ""


def _known_names() -> list[str]:
    return [cls.value for cls in FailureClass] + sorted(class_groups())


def _unknown(entry: str) -> UsageError:
    import difflib  # only for a mistyped name: not on every start

    close = difflib.get_close_matches(entry.lower(), _known_names(), n=1, cutoff=0.6)
    if close:
        hint = f"did you mean {close[0]!r}?"
    else:
        groups = ", ".join(sorted(class_groups()))
        hint = f"expected a failure class (ci-guard classify), a group ({groups}) or exit:N"
    return UsageError(f"retry-on: unknown entry {entry!r} ({hint})")


def _exit_code(entry: str) -> int:
    text = entry[len(EXIT_PREFIX) :].strip()
    if not text.isdigit() or not 1 <= int(text) <= 255:
        raise UsageError(f"retry-on: {entry!r}: expected exit:N with N from 1 to 255")
    return int(text)


@functools.cache
def parse_retry_on(entries: tuple[str, ...]) -> RetryOn:
    """The chosen classes and exit codes; UsageError for a name that is not known."""
    classes: dict[FailureClass, str] = {}
    codes: dict[int, str] = {}
    groups = class_groups()
    for raw in entries:
        entry = raw.strip().lower()
        if entry.startswith(EXIT_PREFIX):
            codes.setdefault(_exit_code(entry), entry)
        elif entry in groups:
            for cls in groups[entry]:
                classes.setdefault(cls, entry)
        elif entry in _CLASS_NAMES:
            classes[FailureClass(entry)] = entry  # a class named itself beats its group
        else:
            raise _unknown(entry)
    return RetryOn(classes, codes)


def check_switches(
    entries: tuple[str, ...], *, retry_on_timeout: bool, retry_unknown: bool
) -> None:
    """Naming a class that a --no-retry-* switch excludes is a contradiction: exit 2."""
    chosen = parse_retry_on(entries)
    if FailureClass.TIMEOUT in chosen.classes and not retry_on_timeout:
        raise UsageError("retry-on names timeout but --no-retry-on-timeout is set")
    if FailureClass.UNKNOWN in chosen.classes and not retry_unknown:
        raise UsageError("retry-on names unknown but --no-retry-unknown is set")
