"""The table of daemon.json keys (data/daemon_keys.toml) as typed values."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ci_guard.data import read_text as read_data_file
from ci_guard.tomlcompat import tomllib


@dataclass(frozen=True)
class KeySpec:
    name: str
    type: str
    reloadable: bool
    flags: tuple[str, ...]


@dataclass(frozen=True)
class RemovedKey:
    name: str
    since: str
    use: str
    """The key that replaced it, when one did."""


@dataclass(frozen=True)
class RemovedValue:
    key: str
    prefix: str
    since: str


@dataclass(frozen=True)
class KeyTable:
    keys: dict[str, KeySpec]
    removed: dict[str, RemovedKey]
    removed_values: tuple[RemovedValue, ...]
    flag_keys: dict[str, str]
    """dockerd flag -> the daemon.json key it sets."""

    def reloadable(self, key: str) -> bool:
        spec = self.keys.get(key)
        return spec is not None and spec.reloadable


@functools.cache
def key_table() -> KeyTable:
    text = read_data_file("daemon_keys.toml")
    data = tomllib.loads(text)
    keys = {
        name: KeySpec(name, row["type"], bool(row["reloadable"]), tuple(row["flags"]))
        for name, row in data["keys"].items()
    }
    removed = {
        name: RemovedKey(name, row["since"], row.get("use", ""))
        for name, row in data["removed"].items()
    }
    values = tuple(
        RemovedValue(row["key"], row["prefix"], row["since"]) for row in data["removed_values"]
    )
    flag_keys = {flag: spec.name for spec in keys.values() for flag in spec.flags}
    return KeyTable(keys=keys, removed=removed, removed_values=values, flag_keys=flag_keys)
