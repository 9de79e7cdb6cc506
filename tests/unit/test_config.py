from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ci_guard.config import (
    MAX_CONFIG_BYTES,
    config_fields,
    find_config_file,
    read_config_file,
    resolve,
)
from ci_guard.errors import UsageError
from ci_guard.options import option_specs


def test_every_option_is_a_config_field() -> None:
    assert config_fields() == {spec.attr for spec in option_specs().values()}


def test_layers_flag_beats_env_beats_file_beats_default(tmp_path: Path) -> None:
    cfg = tmp_path / "ci-guard.toml"
    cfg.write_text("timeout = 30\nmax-attempts = 4\nbackoff_initial = 1\n", "utf-8")
    resolved = resolve(
        {"timeout": "10"},
        env={"CI_GUARD_MAX_ATTEMPTS": "3", "CI_GUARD_TIMEOUT": "20"},
        config_path=cfg,
    )
    assert resolved.config.timeout == 10.0
    assert resolved.config.max_attempts == 3
    assert resolved.config.backoff_initial == 1.0
    assert resolved.config.kill_grace == 10.0
    assert resolved.sources["timeout"] == "flag"
    assert resolved.sources["max-attempts"] == "env"
    assert resolved.sources["backoff-initial"] == f"file:{cfg}"
    assert resolved.sources["kill-grace"] == "default"


def test_pyproject_section_is_found_upwards(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.ci-guard]\nladder = ["retry"]\n', "utf-8")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    resolved = resolve({}, env={}, cwd=sub)
    assert resolved.config.ladder == ("retry",)
    assert resolved.file == tmp_path / "pyproject.toml"


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ({"timeout": "soon"}, {}, "--timeout soon: not a duration (examples: 90, 90s, 40m"),
        ({"max-attempts": "0"}, {}, "--max-attempts 0: must be at least 1"),
        (
            {},
            {"CI_GUARD_RETRY_ON_TIMEOUT": "maybe"},
            "CI_GUARD_RETRY_ON_TIMEOUT=maybe: expected true",
        ),
        ({"log-format": "xml"}, {}, "expected one of auto, json, console"),
        ({"backoff-initial": "10", "backoff-max": "1"}, {}, "backoff-max (1) is below"),
    ],
)
def test_bad_values_are_one_line_usage_errors(
    flags: dict[str, str], env: dict[str, str], message: str, tmp_path: Path
) -> None:
    with pytest.raises(UsageError) as info:
        resolve(flags, env=env, cwd=tmp_path)
    assert message in info.value.message
    assert "\n" not in info.value.message
    assert info.value.exit_code == 2


def test_bad_config_files(tmp_path: Path) -> None:
    bad = tmp_path / "ci-guard.toml"
    bad.write_text("timeout = [", "utf-8")
    with pytest.raises(UsageError, match="not valid TOML"):
        resolve({}, env={}, config_path=bad)
    bad.write_text("retries = 3\n", "utf-8")
    with pytest.raises(UsageError, match="unknown setting 'retries'"):
        resolve({}, env={}, config_path=bad)
    with pytest.raises(UsageError, match="not found"):
        resolve({}, env={}, config_path=tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("timout = 5", "unknown setting 'timout' (did you mean 'timeout'?)"),
        ("max_attempt = 3", "unknown setting 'max_attempt' (did you mean 'max-attempts'?)"),
        ("frobnicate = 1", "unknown setting 'frobnicate' (see: ci-guard help configuration)"),
    ],
)
def test_an_unknown_setting_in_the_file_names_the_close_one(
    tmp_path: Path, line: str, hint: str
) -> None:
    bad = tmp_path / "ci-guard.toml"
    bad.write_text(line + "\n", "utf-8")
    with pytest.raises(UsageError) as caught:
        resolve({}, env={}, config_path=bad)
    assert str(caught.value) == f"config file {bad}: {hint}"


def test_optional_values_can_be_unset(tmp_path: Path) -> None:
    resolved = resolve({"no-output-timeout": "none"}, env={"CI_GUARD_MIRRORS": ""}, cwd=tmp_path)
    assert resolved.config.no_output_timeout is None
    assert resolved.config.mirrors == ()


@pytest.mark.parametrize("mirror", ["ftp://m.example", "https://m.example/v2/", "https://u:p@m"])
def test_bad_mirror_urls_are_usage_errors_from_any_source(tmp_path: Path, mirror: str) -> None:
    with pytest.raises(UsageError, match="bad mirror URL"):
        resolve({"mirrors": mirror}, env={}, cwd=tmp_path)
    with pytest.raises(UsageError, match="bad mirror URL"):
        resolve({}, env={"CI_GUARD_MIRRORS": f"https://ok.example,{mirror}"}, cwd=tmp_path)


def test_config_file_reads_are_bounded(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_bytes(b"# pad\n" * (MAX_CONFIG_BYTES // 6 + 10))
    with pytest.raises(UsageError, match="larger than 1024 KiB"):
        read_config_file(big)
    with pytest.raises(UsageError, match="not a regular file"):
        read_config_file(Path("/dev/zero"))
    with pytest.raises(UsageError, match=r"(?i)is a directory"):
        read_config_file(tmp_path)


def test_a_fifo_nobody_writes_to_reads_as_empty(tmp_path: Path) -> None:
    fifo = tmp_path / "cfg.toml"
    os.mkfifo(fifo)
    assert read_config_file(fifo) == {}


def test_pyproject_tool_that_is_not_a_table(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("tool = 3\n")
    (tmp_path / ".git").mkdir()
    assert find_config_file(tmp_path) is None  # someone else's file: skipped
    with pytest.raises(UsageError, match=r"\[tool\] must be a table"):
        read_config_file(pyproject)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"restart-command": 'systemctl "restart'}, "restart-command: cannot parse"),
        ({"pushgateway": "http://[::1"}, "pushgateway: bad URL"),
        ({"pushgateway": "gateway:9091"}, "expected http"),
        ({"mirrors": "http://[::1"}, "bad mirror URL"),
    ],
)
def test_values_checked_at_start(flags: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        resolve(flags, env={}, cwd=tmp_path)


def test_config_command_masks_secrets_in_values(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ci_guard.cli.main import cli

    env = {"CI_GUARD_RESTART_COMMAND": "curl -u ops:S3cretValue99 http://x"}
    done = CliRunner().invoke(cli, ["config", "--json"], env=env)
    assert done.exit_code == 0, done.output
    assert "S3cretValue99" not in done.output
    assert "curl -u ops:***" in done.output
