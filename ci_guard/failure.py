"""Failure classes and the value the classifier returns."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ci_guard.data import read_text as read_data_file
from ci_guard.tomlcompat import tomllib

NO_MATCH_RULE = "no-match"
"""The rule of an `unknown` failure when no rule matched the output (not a spawn error,
a bare SIGKILL or a cancelled classification, which are unknown for a known reason)."""


class FailureClass(str, Enum):
    REGISTRY_TIMEOUT = "registry_timeout"
    DNS_FAILURE = "dns_failure"
    TLS_TIMEOUT = "tls_timeout"
    TLS_UNTRUSTED = "tls_untrusted"
    CONNECTION_FAILURE = "connection_failure"
    REGISTRY_UNAVAILABLE = "registry_unavailable"
    RATE_LIMITED = "rate_limited"
    STEP_NETWORK_FAILURE = "step_network_failure"
    DAEMON_UNREACHABLE = "daemon_unreachable"
    DAEMON_ERROR = "daemon_error"
    TIMEOUT = "timeout"
    DISK_FULL = "disk_full"
    OOM_KILLED = "oom_killed"
    IMAGE_NOT_FOUND = "image_not_found"
    AUTH_DENIED = "auth_denied"
    DOCKERFILE_ERROR = "dockerfile_error"
    BUILD_CONTEXT_ERROR = "build_context_error"
    BUILD_STEP_FAILURE = "build_step_failure"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ClassInfo:
    """One row of data/classes.toml."""

    name: FailureClass
    retryable: bool
    remedies: tuple[str, ...]
    summary: str
    advice: str


GROUPS_KEY = "groups"
"""The table of data/classes.toml that holds class groups, not a class."""


@functools.cache
def _classes_data() -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads(read_data_file("classes.toml"))
    return data


@functools.cache
def class_table() -> dict[FailureClass, ClassInfo]:
    table = {}
    for name, row in _classes_data().items():
        if name == GROUPS_KEY:
            continue
        cls = FailureClass(name)
        table[cls] = ClassInfo(
            name=cls,
            retryable=bool(row["retryable"]),
            remedies=tuple(row["remedies"]),
            summary=str(row["summary"]),
            advice=str(row["advice"]),
        )
    missing = set(FailureClass) - set(table)
    if missing:
        raise RuntimeError(f"classes.toml lacks {sorted(missing)}")
    return table


@functools.cache
def class_groups() -> dict[str, tuple[FailureClass, ...]]:
    """Group name -> its classes ([groups] of data/classes.toml), e.g. network."""
    raw: dict[str, list[str]] = _classes_data().get(GROUPS_KEY, {})
    return {name: tuple(FailureClass(cls) for cls in members) for name, members in raw.items()}


@dataclass(frozen=True)
class Failure:
    """What broke in one attempt, and whether a retry can help."""

    failure_class: FailureClass
    retryable: bool
    rule: str
    evidence: tuple[str, ...] = field(default_factory=tuple)
    why: str = ""
    daemon_log: str | None = None
    """Where evidence marked `[dockerd] ` came from (`journald:UNIT`, `file:PATH`)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "class": self.failure_class.value,
            "retryable": self.retryable,
            "rule": self.rule,
            "evidence": list(self.evidence),
        }
