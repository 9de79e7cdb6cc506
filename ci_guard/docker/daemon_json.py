"""daemon.json as data: read, validate, merge mirrors in, back up, replace, roll back.

The file is merged, never overwritten: every key ci-guard does not manage stays as it
was (unknown ones included). Validation mirrors what would stop dockerd from starting:
a wrong value type, a removed option, a key also set by a flag on dockerd's command line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ci_guard.atomic import NotARegularFile, atomic_write_text, remove_stale_temps, write_target
from ci_guard.docker.backups import DEFAULT_KEEP, make_backup, prune_backups
from ci_guard.docker.keys import KeyTable, key_table
from ci_guard.errors import PermissionDenied, UsageError
from ci_guard.mirror_url import parse_mirror_url

MIRRORS_KEY = "registry-mirrors"
ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class DaemonJson:
    path: Path
    data: dict[str, Any]
    exists: bool


@dataclass(frozen=True)
class Problem:
    key: str
    severity: str
    """"error": dockerd would not start (or reload) with it; "warning": worth fixing."""
    message: str


def read_daemon_json(path: Path) -> DaemonJson:
    """The file's object ({} when absent or blank); UsageError when it is not a JSON object.

    A link is read through; a dangling link or a fifo, device or folder is a UsageError
    (reading a fifo would block, and the write after it would replace the thing).
    """
    check_target(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return DaemonJson(path, {}, exists=False)
    except PermissionError:
        raise PermissionDenied(
            f"{path}: cannot read it (permission denied); run as root or pass --daemon-config"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it: {exc}; left untouched") from None
    if not text.strip():
        return DaemonJson(path, {}, exists=True)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg}); "
            "left untouched"
        ) from None
    if not isinstance(data, dict):
        raise UsageError(
            f"{path}: must hold a JSON object, found {_json_type(data)}; left untouched"
        )
    return DaemonJson(path, data, exists=True)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


_TYPE_WORDS = {
    "list": "an array of strings",
    "array": "an array",
    "object": "an object",
    "str": "a string",
    "bool": "a boolean",
    "int": "a whole number",
}


def _type_ok(kind: str, value: Any) -> bool:
    checks = {
        "list": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "str": lambda v: isinstance(v, str),
        "bool": lambda v: isinstance(v, bool),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    }
    return bool(checks[kind](value))


def validate(
    data: dict[str, Any],
    *,
    running_flags: Iterable[str] = (),
    table: KeyTable | None = None,
) -> list[Problem]:
    """Everything in `data` that would stop dockerd (errors) or is unwise (warnings)."""
    table = table or key_table()
    problems: list[Problem] = []
    for key, value in data.items():
        problems.extend(_check_key(key, value, table))
    problems.extend(_check_removed_values(data, table))
    problems.extend(_check_mirrors(data.get(MIRRORS_KEY)))
    problems.extend(flag_conflicts(data, running_flags, table))
    return problems


def _check_key(key: str, value: Any, table: KeyTable) -> list[Problem]:
    removed = table.removed.get(key)
    if removed is not None:
        hint = f"; use {removed.use!r} instead" if removed.use else ""
        return [
            Problem(
                key,
                ERROR,
                f"{key}: removed in Docker {removed.since}, "
                f"dockerd {removed.since}+ refuses to start with it{hint}",
            )
        ]
    spec = table.keys.get(key)
    if spec is None:
        return [
            Problem(
                key,
                WARNING,
                f"{key}: not a daemon.json key ci-guard knows; "
                "dockerd refuses to start on keys it does not know",
            )
        ]
    if not _type_ok(spec.type, value):
        return [
            Problem(
                key,
                ERROR,
                f"{key}: expected {_TYPE_WORDS[spec.type]}, "
                f"found {_json_type(value)}; dockerd would not start",
            )
        ]
    return []


def _check_removed_values(data: dict[str, Any], table: KeyTable) -> list[Problem]:
    problems = []
    for rule in table.removed_values:
        values = data.get(rule.key)
        if not isinstance(values, list):
            continue
        for item in values:
            if isinstance(item, str) and item.startswith(rule.prefix):
                problems.append(
                    Problem(
                        rule.key,
                        ERROR,
                        f"{rule.key}: {item!r} was removed in Docker "
                        f"{rule.since}; dockerd {rule.since}+ refuses to start with it",
                    )
                )
    return problems


def _check_mirrors(mirrors: Any) -> list[Problem]:
    if not isinstance(mirrors, list):
        return []
    problems = []
    for raw in mirrors:
        if not isinstance(raw, str):
            continue
        try:
            mirror = parse_mirror_url(raw)
        except UsageError as exc:
            problems.append(Problem(MIRRORS_KEY, ERROR, f"{MIRRORS_KEY}: {exc.message}"))
            continue
        if mirror.is_hub:
            problems.append(
                Problem(
                    MIRRORS_KEY,
                    WARNING,
                    f"{MIRRORS_KEY}: {raw} is Docker Hub itself; "
                    "dockerd tries Hub after the mirrors anyway, so it only doubles timeouts",
                )
            )
    return problems


def flag_conflicts(
    data: dict[str, Any], running_flags: Iterable[str], table: KeyTable | None = None
) -> list[Problem]:
    """Keys of `data` also set by a flag of the running dockerd."""
    table = table or key_table()
    problems = []
    seen: set[str] = set()
    for flag in running_flags:
        key = table.flag_keys.get(flag)
        if key is not None and key in data and key not in seen:
            seen.add(key)
            problems.append(
                Problem(
                    key,
                    ERROR,
                    f"{key}: also given as {flag} on the running dockerd's "
                    "command line; dockerd refuses to start when both set it",
                )
            )
    return problems


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == ERROR]


def current_mirrors(data: dict[str, Any]) -> list[str]:
    value = data.get(MIRRORS_KEY)
    if not isinstance(value, list):
        return []
    return [item.rstrip("/") for item in value if isinstance(item, str)]


def merge_mirrors(data: dict[str, Any], mirrors: Sequence[str]) -> dict[str, Any]:
    """A copy of `data` with registry-mirrors set to `mirrors`; every other key kept."""
    merged = dict(data)
    merged[MIRRORS_KEY] = list(mirrors)
    return merged


def changed_keys(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    return {
        key for key in old.keys() | new.keys() if old.get(key, _MISSING) != new.get(key, _MISSING)
    }


_MISSING = object()


def mirror_diff(before: Sequence[str], after: Sequence[str]) -> list[str]:
    """Lines "+ url" (added), "- url" (removed), "  url" (kept), in the new order."""
    lines = [f"{'  ' if url in before else '+ '}{url}" for url in after]
    lines += [f"- {url}" for url in before if url not in after]
    return lines


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def check_target(path: Path) -> Path:
    """The regular file behind `path` (itself, or its link's target); UsageError otherwise."""
    try:
        return write_target(path)
    except NotARegularFile as exc:
        raise UsageError(f"{exc.message}; left untouched") from None


def backup(path: Path, *, now: datetime | None = None, keep: int = DEFAULT_KEEP) -> Path | None:
    """Copy `path` to a timestamped file beside it, keeping the newest `keep` backups.

    None when there was no file.
    """
    saved = make_backup(path, now=now)
    if saved is not None:
        prune_backups(path, keep=keep, protect=saved)
    return saved


def write(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` (through a link) atomically, then clear temp files killed writers left."""
    atomic_write_text(path, render(data))
    remove_stale_temps(path)


def restore(path: Path, saved: Path | None) -> None:
    """Put the backed-up file back (or remove `path` when there was none before)."""
    if saved is None:
        path.unlink(missing_ok=True)
        return
    atomic_write_text(path, saved.read_text("utf-8"))
