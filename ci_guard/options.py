"""The settings as data: data/options.toml read into OptionSpecs, and values parsed.

A value from a flag, the environment or a file becomes the option's type here, or a
one-line UsageError naming where it came from and what it was
(`--timeout 40x: not a duration (examples: ...)`). config.py resolves the sources.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_guard.data import read_text as read_data_file
from ci_guard.durations import format_duration, parse_duration
from ci_guard.errors import UsageError
from ci_guard.tomlcompat import tomllib

ENV_PREFIX = "CI_GUARD_"
_UNSET_WORDS = frozenset({"", "none", "off", "null"})
_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class OptionSpec:
    name: str
    type: str
    default: Any
    help: str
    optional: bool = False
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    item_flag: str | None = None
    """A list setting's repeatable one-item flag (`--mirror URL` beside `--mirrors A,B`)."""
    short: str | None = None
    """A one-letter flag beside the long one (`-q` for `--quiet`)."""

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper().replace("-", "_")

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")


@functools.cache
def option_specs() -> dict[str, OptionSpec]:
    text = read_data_file("options.toml")
    specs = {}
    for name, row in tomllib.loads(text).items():
        specs[name] = OptionSpec(
            name=name,
            type=row["type"],
            default=row.get("default"),
            help=row["help"],
            optional=bool(row.get("optional", False)),
            choices=tuple(row.get("choices", ())),
            min=row.get("min"),
            max=row.get("max"),
            item_flag=row.get("item-flag"),
            short=row.get("short"),
        )
    return specs


def flag_origin(name: str, raw: Any) -> str:
    """How a flag's value is named in an error: `--timeout 40x`."""
    return f"--{name} {_shown(raw)}"


def env_origin(var: str, raw: str) -> str:
    return f"{var}={_shown(raw)}"


def file_origin(path: object, name: str, raw: Any) -> str:
    shown = f'"{raw}"' if isinstance(raw, str) else _shown(raw)
    return f"config file {path}: {name} = {shown}"


def _shown(raw: Any) -> str:
    if isinstance(raw, list | tuple):
        return ",".join(str(item) for item in raw)
    text = str(raw)
    return text if text and not any(ch.isspace() for ch in text) else repr(text)


def parse_value(spec: OptionSpec, raw: Any, origin: str) -> Any:
    """Turn a flag, environment or file value into the option's type; UsageError if bad.

    `origin` names the value (flag_origin, env_origin, file_origin): the error is
    `<origin>: <what is wrong>`.
    """
    try:
        value = _coerce(spec, raw)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{origin}: {exc}") from None
    _check_bounds(spec, value, origin)
    return value


def _coerce(spec: OptionSpec, raw: Any) -> Any:
    if spec.type == "choice" and isinstance(raw, str) and raw.strip().lower() in spec.choices:
        return raw.strip().lower()  # `--ci none` is a choice, not an unset value
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in _UNSET_WORDS):
        if spec.optional:
            return None
        if spec.type == "list" and raw is not None:
            return ()
        if spec.type != "bool":
            raise ValueError("a value is required")
    converter = _CONVERTERS[spec.type]
    return converter(spec, raw)


def _to_bool(_spec: OptionSpec, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ValueError("expected true or false")


def _to_int(_spec: OptionSpec, raw: Any) -> int:
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise ValueError("expected a whole number")
    try:
        return int(str(raw).strip()) if not isinstance(raw, int | float) else int(raw)
    except ValueError:
        raise ValueError("expected a whole number") from None


def _to_float(_spec: OptionSpec, raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError("expected a number")
    try:
        value = float(str(raw).strip()) if isinstance(raw, str) else float(raw)
    except ValueError:
        raise ValueError("expected a number") from None
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _to_duration(_spec: OptionSpec, raw: Any) -> float:
    return parse_duration(raw)  # DurationError is a ValueError with the one-line reason


def _to_str(_spec: OptionSpec, raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError("expected text")
    return raw


def _to_path(_spec: OptionSpec, raw: Any) -> Path:
    if not isinstance(raw, str | Path):
        raise ValueError("expected a path")
    return Path(raw).expanduser()


def _to_list(_spec: OptionSpec, raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        items = [part.strip() for part in raw.split(",")]
    elif isinstance(raw, list | tuple):
        items = [str(part).strip() for part in raw]
    else:
        raise ValueError("expected a comma-separated list")
    return tuple(item for item in items if item)


def _to_choice(spec: OptionSpec, raw: Any) -> str:
    word = str(raw).strip().lower()
    if word not in spec.choices:
        raise ValueError(f"expected one of {', '.join(spec.choices)}")
    return word


_CONVERTERS = {
    "bool": _to_bool,
    "int": _to_int,
    "float": _to_float,
    "duration": _to_duration,
    "str": _to_str,
    "path": _to_path,
    "list": _to_list,
    "choice": _to_choice,
}


def _check_bounds(spec: OptionSpec, value: Any, origin: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return
    if spec.min is not None and value < spec.min:
        raise UsageError(f"{origin}: must be at least {bound_text(spec, spec.min)}")
    if spec.max is not None and value > spec.max:
        raise UsageError(f"{origin}: must be at most {bound_text(spec, spec.max)}")


def bound_text(spec: OptionSpec, bound: float) -> str:
    return format_duration(bound) if spec.type == "duration" else f"{bound:g}"


def default_text(spec: OptionSpec) -> str | None:
    """The default as a person writes it (`40m`, `retry,retry`), None when unset."""
    value = spec.default
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value) if value else "(empty)"
    if spec.type == "duration":
        return format_duration(float(value))
    return str(value)
