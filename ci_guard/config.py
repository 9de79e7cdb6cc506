"""Effective settings: flags > CI_GUARD_* environment > config file > defaults.

The options themselves (type, default, help) are data in data/options.toml; this
module parses values, remembers where each came from, and builds a typed Config.
"""

from __future__ import annotations

import errno
import functools
import math
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ci_guard.data import read_text as read_data_file
from ci_guard.errors import UsageError
from ci_guard.tomlcompat import tomllib

ENV_PREFIX = "CI_GUARD_"
CONFIG_FILE_NAMES = ("ci-guard.toml", ".ci-guard.toml")
_UNSET_WORDS = frozenset({"", "none", "off", "null"})
_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})
MAX_CONFIG_BYTES = 1024 * 1024
"""A config file is a few hundred bytes; anything over this is not one."""


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
        )
    return specs


@dataclass(frozen=True)
class Config:
    """Typed, validated settings; field names are the option names with '_' for '-'."""

    timeout: float
    max_attempts: int
    ladder: tuple[str, ...]
    no_output_timeout: float | None
    registry_stall_timeout: float | None
    kill_grace: float
    total_timeout: float | None
    backoff_initial: float
    backoff_max: float
    rate_limit_backoff: float
    retry_on_timeout: bool
    retry_unknown: bool
    daemon_evidence: str
    rules_file: Path | None
    tempfail_exit_code: int | None
    log_file: Path | None
    log_format: str
    artifacts_dir: Path | None
    raw_logs: bool
    secret_env: tuple[str, ...]
    preflight: bool
    dry_run: bool
    mirrors: tuple[str, ...]
    daemon_config: Path
    daemon_json_backups: int
    builder_restart: bool
    free_disk: bool
    tune_sysctl: bool
    restart_command: str | None
    probe_timeout: float
    prefetch_images: tuple[str, ...]
    ci: str
    junit: Path | None
    metrics_file: Path | None
    pushgateway: str | None


@dataclass(frozen=True)
class Resolved:
    """The effective Config and, per option name, where its value came from."""

    config: Config
    sources: dict[str, str]
    file: Path | None


def parse_value(spec: OptionSpec, raw: Any, origin: str) -> Any:
    """Turn a flag, environment or file value into the option's type; UsageError if bad."""
    try:
        value = _coerce(spec, raw)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{origin}: {spec.name}: {exc}") from None
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
    raise ValueError(f"expected true or false, got {raw!r}")


def _to_int(_spec: OptionSpec, raw: Any) -> int:
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise ValueError(f"expected a whole number, got {raw!r}")
    try:
        return int(str(raw).strip()) if not isinstance(raw, int | float) else int(raw)
    except ValueError:
        raise ValueError(f"expected a whole number, got {raw!r}") from None


def _to_float(_spec: OptionSpec, raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError(f"expected a number of seconds, got {raw!r}")
    try:
        value = float(str(raw).strip().removesuffix("s")) if isinstance(raw, str) else float(raw)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {raw!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {raw!r}")
    return value


def _to_str(_spec: OptionSpec, raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"expected text, got {raw!r}")
    return raw


def _to_path(_spec: OptionSpec, raw: Any) -> Path:
    if not isinstance(raw, str | Path):
        raise ValueError(f"expected a path, got {raw!r}")
    return Path(raw).expanduser()


def _to_list(_spec: OptionSpec, raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        items = [part.strip() for part in raw.split(",")]
    elif isinstance(raw, list | tuple):
        items = [str(part).strip() for part in raw]
    else:
        raise ValueError(f"expected a comma-separated list, got {raw!r}")
    return tuple(item for item in items if item)


def _to_choice(spec: OptionSpec, raw: Any) -> str:
    word = str(raw).strip().lower()
    if word not in spec.choices:
        raise ValueError(f"expected one of {', '.join(spec.choices)}, got {raw!r}")
    return word


_CONVERTERS = {
    "bool": _to_bool,
    "int": _to_int,
    "float": _to_float,
    "str": _to_str,
    "path": _to_path,
    "list": _to_list,
    "choice": _to_choice,
}


def _check_bounds(spec: OptionSpec, value: Any, origin: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return
    if spec.min is not None and value < spec.min:
        raise UsageError(f"{origin}: {spec.name}: must be at least {spec.min:g}, got {value:g}")
    if spec.max is not None and value > spec.max:
        raise UsageError(f"{origin}: {spec.name}: must be at most {spec.max:g}, got {value:g}")


RULE_TABLES = "rule"
"""The key of a config file's own failure rules ([[rule]], read by the classifier)."""


def config_tables(path: Path) -> dict[str, Any]:
    """The ci-guard table of a config file as parsed (pyproject: [tool.ci-guard])."""
    data = _load_toml(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise UsageError(f"config file {path}: [tool] must be a table")
        data = tool.get("ci-guard", {})
        if not isinstance(data, dict):
            raise UsageError(f"config file {path}: [tool.ci-guard] must be a table")
    return data


def find_config_file(start: Path) -> Path | None:
    """The nearest ci-guard.toml, or a pyproject.toml with [tool.ci-guard], upwards."""
    for folder in (start, *start.parents):
        for name in CONFIG_FILE_NAMES:
            if (folder / name).is_file():
                return folder / name
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _pyproject_section(pyproject) is not None:
            return pyproject
        if (folder / ".git").exists():
            break
    return None


def _pyproject_section(path: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(read_bounded_text(path))
    except (OSError, UnicodeDecodeError, ValueError):  # TOMLDecodeError is a ValueError
        return None
    tool = data.get("tool")
    section = tool.get("ci-guard") if isinstance(tool, dict) else None
    return section if isinstance(section, dict) else None


def read_bounded_text(path: Path, limit: int = MAX_CONFIG_BYTES) -> str:
    """The UTF-8 text of a config file of at most `limit` bytes.

    Only regular files and pipes (`--config <(...)`) are read, and never more than
    limit + 1 bytes: /dev/zero, /dev/urandom or a huge file must not hang the run.
    A FIFO is opened without blocking, so one nobody writes to reads as empty.
    Raises OSError, UnicodeDecodeError, or ValueError for a file that is too large.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory")
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise OSError(errno.EINVAL, "not a regular file")
        os.set_blocking(fd, True)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit // 1024} KiB")
    return data.decode("utf-8")


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(read_bounded_text(path))
    except FileNotFoundError:
        raise UsageError(f"config file {path}: not found") from None
    except OSError as exc:
        raise UsageError(f"config file {path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"config file {path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path}: not valid TOML: {exc}") from None
    except ValueError as exc:
        raise UsageError(f"config file {path}: {exc}") from None
    return data


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings table of a config file; UsageError for anything unreadable or unknown."""
    data = config_tables(path)
    specs = option_specs()
    data = {key: value for key, value in data.items() if key != RULE_TABLES}
    unknown = sorted(key for key in data if key.replace("_", "-") not in specs)
    if unknown:
        raise UsageError(f"config file {path}: unknown setting {unknown[0]!r}")
    return {key.replace("_", "-"): value for key, value in data.items()}


def resolve(
    flags: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    cwd: Path | None = None,
) -> Resolved:
    """Merge the four layers; `flags` holds only the options given on the command line."""
    env = os.environ if env is None else env
    path = config_path or find_config_file(cwd or Path.cwd())
    file_values = read_config_file(path) if path else {}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, spec in option_specs().items():
        if name in flags:
            values[spec.attr] = parse_value(spec, flags[name], f"option --{name}")
            sources[name] = "flag"
        elif spec.env_var in env:
            values[spec.attr] = parse_value(spec, env[spec.env_var], spec.env_var)
            sources[name] = "env"
        elif name in file_values:
            values[spec.attr] = parse_value(spec, file_values[name], f"config file {path}")
            sources[name] = f"file:{path}"
        else:
            values[spec.attr] = parse_value(spec, spec.default, "default")
            sources[name] = "default"
    config = Config(**values)
    _check_consistency(config)
    return Resolved(config=config, sources=sources, file=path)


def _check_consistency(config: Config) -> None:
    if config.backoff_max < config.backoff_initial:
        raise UsageError(
            f"backoff-max ({config.backoff_max:g}) is below backoff-initial "
            f"({config.backoff_initial:g})"
        )
    if not config.ladder:
        raise UsageError("ladder: needs at least one stage")
    if config.mirrors:
        from ci_guard.registry.url import parse_mirror_url

        for mirror in config.mirrors:
            parse_mirror_url(mirror)
    if config.restart_command is not None:
        _check_restart_command(config.restart_command)
    if config.pushgateway is not None:
        _check_http_url("pushgateway", config.pushgateway)


def _check_restart_command(text: str) -> None:
    """Checked at start: a remedy must not find out mid-run that its command cannot parse."""
    import shlex

    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"restart-command: cannot parse {text!r}: {exc}") from None
    if not words:
        raise UsageError("restart-command: empty (unset it with 'none' instead)")


def _check_http_url(name: str, url: str) -> None:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise UsageError(f"{name}: bad URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{name}: bad URL {url!r}: expected http(s)://host[:port]")


def config_fields() -> set[str]:
    return {f.name for f in fields(Config)}
