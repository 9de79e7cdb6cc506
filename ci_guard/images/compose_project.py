"""A compose project as `docker compose` (v2) loads it: files, .env, interpolation, profiles.

Discovery follows Compose v2: COMPOSE_FILE when set (COMPOSE_PATH_SEPARATOR-separated,
relative to the project directory), else the first of compose.yaml, compose.yml,
docker-compose.yml, docker-compose.yaml in the directory or the nearest parent that has
one, plus the first override file (compose.override.yml, ...) beside it, merged on top.
Values for `${VAR}` come from the environment, then the project's .env file.
A service with `profiles:` is active only when one of them is enabled (COMPOSE_PROFILES
or the caller's list; `*` enables all).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_guard.errors import UsageError

DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATOR = re.compile(r"(:?[-+?])")


@dataclass
class ComposeProject:
    files: list[Path]
    directory: Path
    services: dict[str, dict[str, Any]]
    """Active services, merged across files and interpolated."""
    values: dict[str, str]
    """The environment, then .env: what interpolation and build args read."""
    notes: list[str] = field(default_factory=list)
    """What was left out or not read (inactive profiles, include:, extends:)."""


def find_compose_files(directory: Path, env: Mapping[str, str]) -> list[Path]:
    """The files `docker compose` run in `directory` would load; UsageError if none."""
    listed = env.get("COMPOSE_FILE", "")
    if listed:
        separator = env.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        return [directory / name for name in listed.split(separator) if name]
    for folder in (directory, *directory.resolve().parents):
        found = [folder / name for name in DEFAULT_FILES if (folder / name).is_file()]
        if found:
            overrides = [folder / name for name in OVERRIDE_FILES if (folder / name).is_file()]
            return [found[0], *overrides[:1]]
    names = ", ".join(DEFAULT_FILES)
    raise UsageError(f"no compose file ({names}) in {directory} or its parent directories")


def read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError:
        return values
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#") or "=" not in text:
            continue
        key, _, value = text.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def interpolate(text: str, values: Mapping[str, str], where: str) -> str:
    """Compose interpolation: $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:+a}, ${VAR:?err},
    nested defaults, `$$` for a literal `$`; UsageError for a required variable unset."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != "$":
            out.append(text[i])
            i += 1
        elif text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            end = _closing_brace(text, i + 2)
            if end < 0:
                raise UsageError(f"{where}: unclosed ${{ in {text!r}")
            out.append(_expand(text[i + 2 : end], values, where))
            i = end + 1
        else:
            match = _NAME.match(text, i + 1)
            out.append(values.get(match.group(), "") if match else "$")
            i = match.end() if match else i + 1
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _expand(body: str, values: Mapping[str, str], where: str) -> str:
    name = _NAME.match(body)
    if name is None:
        raise UsageError(f"{where}: bad variable ${{{body}}}")
    operator = _OPERATOR.match(body, name.end())
    value = values.get(name.group())
    if operator is None:
        if name.end() != len(body):
            raise UsageError(f"{where}: bad variable ${{{body}}}")
        return value or ""
    op, word = operator.group(), body[operator.end() :]
    unset = value is None or (op.startswith(":") and value == "")
    if op.endswith("-"):
        return interpolate(word, values, where) if unset else str(value)
    if op.endswith("+"):
        return "" if unset else interpolate(word, values, where)
    if unset:
        detail = interpolate(word, values, where) or "is required"
        raise UsageError(f"{where}: variable {name.group()}: {detail}")
    return str(value)


def _interpolated(value: Any, values: Mapping[str, str], where: str) -> Any:
    if isinstance(value, str):
        return interpolate(value, values, where)
    if isinstance(value, list):
        return [_interpolated(item, values, where) for item in value]
    if isinstance(value, dict):
        return {key: _interpolated(item, values, where) for key, item in value.items()}
    return value


def _merge(base: Any, override: Any) -> Any:
    """An override file on top: mappings merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return override


def _load_yaml(path: Path) -> Any:
    import yaml

    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise UsageError(f"compose file {path}: not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"compose file {path}: cannot read: {exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(f"compose file {path}: not valid YAML{where}: {problem}") from None


def enabled_profiles(values: Mapping[str, str], profiles: Sequence[str]) -> set[str]:
    listed = values.get("COMPOSE_PROFILES", "")
    return {p.strip() for p in (*listed.split(","), *profiles) if p.strip()}


def _active(service: dict[str, Any], enabled: set[str]) -> bool:
    wanted = service.get("profiles") or []
    return not wanted or "*" in enabled or bool(enabled & {str(p) for p in wanted})


def load_project(
    files: Sequence[Path], env: Mapping[str, str] | None = None, profiles: Sequence[str] = ()
) -> ComposeProject:
    """Read, merge and interpolate `files` (the first one names the project directory)."""
    directory = files[0].parent
    values = {**read_dotenv(directory / ".env"), **(os.environ if env is None else env)}
    merged: dict[str, Any] = {}
    notes: list[str] = []
    for path in files:
        data = _load_yaml(path)
        services = data.get("services") if isinstance(data, dict) else None
        if not isinstance(services, dict):
            raise UsageError(f"compose file {path}: no services")
        if "include" in data:
            notes.append(f"{path}: include: is not read; prefetch the included files too")
        for name, service in services.items():
            if isinstance(service, dict):
                where = f"{path}: service {name}"
                merged[str(name)] = _merge(
                    merged.get(str(name), {}), _interpolated(service, values, where)
                )
    enabled = enabled_profiles(values, profiles)
    active = {name: s for name, s in merged.items() if _active(s, enabled)}
    for name in sorted(set(merged) - set(active)):
        notes.append(f"service {name}: profile {merged[name]['profiles']} not enabled, skipped")
    return ComposeProject(list(files), directory, active, values, notes)
