"""The network sysctl tuning of repair-network (opt-in with --tune-sysctl).

The wanted values are data (data/sysctl.toml). Only keys this kernel has are touched,
buffer sizes are only ever raised, and the congestion control is set only to one the
kernel offers.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from ci_guard.data import read_text as read_data_file
from ci_guard.tomlcompat import tomllib

PROC_SYS = Path("/proc/sys")


@dataclass(frozen=True)
class SysctlSetting:
    key: str
    value: str
    mode: str = "exact"
    requires: str | None = None


@dataclass(frozen=True)
class SysctlChange:
    key: str
    current: str
    wanted: str

    def describe(self) -> str:
        return f"set {self.key} from {self.current} to {self.wanted}"


@dataclass(frozen=True)
class SysctlPlan:
    changes: tuple[SysctlChange, ...]
    skipped: tuple[str, ...]
    """Keys left alone, with the reason: missing from this kernel, value not offered."""


@functools.cache
def settings() -> tuple[SysctlSetting, ...]:
    text = read_data_file("sysctl.toml")
    rows = tomllib.loads(text)
    return tuple(
        SysctlSetting(key, str(row["value"]), str(row.get("mode", "exact")), row.get("requires"))
        for key, row in rows.items()
    )


def _path(root: Path, key: str) -> Path:
    return root / key.replace(".", "/")


def _read(root: Path, key: str) -> str | None:
    try:
        return " ".join(_path(root, key).read_text().split())
    except OSError:
        return None


def _wanted(setting: SysctlSetting, current: str) -> str | None:
    """The value to write, or None when the current one already satisfies the setting."""
    if setting.mode == "at-least":
        try:
            return None if int(current) >= int(setting.value) else setting.value
        except ValueError:
            return setting.value
    return None if current == setting.value else setting.value


def plan(wanted: tuple[SysctlSetting, ...] | None = None, *, root: Path = PROC_SYS) -> SysctlPlan:
    changes, skipped = [], []
    for setting in settings() if wanted is None else wanted:
        current = _read(root, setting.key)
        if current is None:
            skipped.append(f"{setting.key}: not in this kernel")
            continue
        if setting.requires is not None:
            offered = (_read(root, setting.requires) or "").split()
            if setting.value not in offered:
                skipped.append(f"{setting.key}: {setting.value} not offered by this kernel")
                continue
        target = _wanted(setting, current)
        if target is not None:
            changes.append(SysctlChange(setting.key, current, target))
    return SysctlPlan(tuple(changes), tuple(skipped))


def apply(
    changes: tuple[SysctlChange, ...], *, root: Path = PROC_SYS
) -> tuple[list[str], list[str]]:
    """Write each change; (done, failed) sentences. Never raises for a refused write."""
    done, failed = [], []
    for change in changes:
        try:
            _path(root, change.key).write_text(change.wanted + "\n")
        except OSError as exc:
            failed.append(f"{change.key}: {exc.strerror or exc}")
            continue
        done.append(change.describe())
    return done, failed
