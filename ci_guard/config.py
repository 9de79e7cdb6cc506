"""Effective settings: flags > CI_GUARD_* environment > config file > defaults.

The options themselves (type, default, help) are data in data/options.toml, read and
parsed by options.py; this module finds the sources, remembers where each value came
from, and builds a typed Config.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ci_guard.errors import UsageError
from ci_guard.mirror_url import parse_mirror_url
from ci_guard.options import env_origin, file_origin, flag_origin, option_specs, parse_value
from ci_guard.retry_on import check_switches
from ci_guard.tomlcompat import tomllib

CONFIG_FILE_NAMES = ("ci-guard.toml", ".ci-guard.toml")
MAX_CONFIG_BYTES = 1024 * 1024
"""A config file is a few hundred bytes; anything over this is not one."""


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
    retry_on: tuple[str, ...]
    retry_wait: float | None
    on_retry_command: str | None
    on_retry_timeout: float
    retry_on_timeout: bool
    retry_unknown: bool
    daemon_evidence: str
    rules_file: Path | None
    tempfail_exit_code: int | None
    log_file: Path | None
    log_format: str
    quiet: bool
    verbose: bool
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
        name = unknown[0].replace("_", "-")
        import difflib  # only for a mistyped name: not on every start

        close = difflib.get_close_matches(name, list(specs), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else " (see: ci-guard help configuration)"
        raise UsageError(f"config file {path}: unknown setting {unknown[0]!r}{hint}")
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
            values[spec.attr] = parse_value(spec, flags[name], flag_origin(name, flags[name]))
            sources[name] = "flag"
        elif spec.env_var in env:
            raw = env[spec.env_var]
            values[spec.attr] = parse_value(spec, raw, env_origin(spec.env_var, raw))
            sources[name] = "env"
        elif name in file_values:
            raw = file_values[name]
            values[spec.attr] = parse_value(spec, raw, file_origin(path, name, raw))
            sources[name] = f"file:{path}"
        else:
            values[spec.attr] = parse_value(spec, spec.default, f"default of {name}")
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
        for mirror in config.mirrors:
            parse_mirror_url(mirror)
    if config.restart_command is not None:
        _check_restart_command(config.restart_command)
    check_switches(
        config.retry_on,
        retry_on_timeout=config.retry_on_timeout,
        retry_unknown=config.retry_unknown,
    )
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
