"""Every duration setting takes every duration form, as a flag, an env var and in the file.

Table-driven from data/options.toml: `ci-guard config --json` (the same option
generator and resolver `run` uses) reports the value each form became.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ci_guard.cli.main import main
from ci_guard.options import option_specs
from tests.durations_table import BASIC_FORMS

DURATIONS = sorted(name for name, spec in option_specs().items() if spec.type == "duration")
FORMS = BASIC_FORMS
SOURCES = ("flag", "env", "file")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import os

    for name in list(os.environ):
        if name.startswith("CI_GUARD_"):
            monkeypatch.delenv(name)
    (tmp_path / ".git").mkdir()  # no config file above this folder is looked at
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _config(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
) -> tuple[int, str, str]:  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    try:
        main(["config", "--json", *argv])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _given(name: str, raw: str, source: str, workdir: Path) -> tuple[list[str], dict[str, str]]:
    # backoff-max may not be below backoff-initial: the other one is set out of the way
    other = {"backoff-max": ("CI_GUARD_BACKOFF_INITIAL", "0"),
             "backoff-initial": ("CI_GUARD_BACKOFF_MAX", "1d")}.get(name)  # fmt: skip
    env = dict([other]) if other else {}
    if source == "flag":
        return [f"--{name}", raw], env
    if source == "env":
        return [], {**env, option_specs()[name].env_var: raw}
    (workdir / "ci-guard.toml").write_text(f"{name} = {raw}\n", "utf-8")
    return [], env


def test_the_time_settings_are_durations() -> None:
    timed = {
        name
        for name, spec in option_specs().items()
        if re.search(r"timeout|grace|backoff|wait", name) and spec.type != "bool"
    }
    assert set(DURATIONS) == timed
    assert {"timeout", "total-timeout", "probe-timeout", "kill-grace", "retry-wait"} <= timed


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(("raw", "seconds"), FORMS)
@pytest.mark.parametrize("name", DURATIONS)
def test_every_duration_setting_takes_every_form(
    *, name: str, raw: str, seconds: float, source: str, workdir: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    text = json.dumps(raw) if source == "file" else raw  # a TOML string in the file
    argv, env = _given(name, text, source, workdir)
    code, out, err = _config(argv, capsys, monkeypatch, env)
    assert (code, err) == (0, "")
    row = next(r for r in json.loads(out)["settings"] if r["name"] == name)
    assert row["value"] == pytest.approx(seconds)
    assert row["source"].split(":")[0] == source


@pytest.mark.parametrize(("raw", "seconds"), [("2400", 2400.0), ("1.5", 1.5)])
@pytest.mark.parametrize("name", DURATIONS)
def test_a_toml_number_stays_seconds(
    *, name: str, raw: str, seconds: float, workdir: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    argv, env = _given(name, raw, "file", workdir)
    code, out, _ = _config(argv, capsys, monkeypatch, env)
    assert code == 0
    row = next(r for r in json.loads(out)["settings"] if r["name"] == name)
    assert row["value"] == pytest.approx(seconds)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("name", DURATIONS)
def test_a_bad_duration_is_one_line_and_exit_2(
    *, name: str, source: str, workdir: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    argv, env = _given(name, '"40x"' if source == "file" else "40x", source, workdir)
    code, out, err = _config(argv, capsys, monkeypatch, env)
    where = {
        "flag": f"--{name} 40x",
        "env": f"{option_specs()[name].env_var}=40x",
        "file": f'config file {workdir / "ci-guard.toml"}: {name} = "40x"',
    }[source]
    assert code == 2
    assert out == ""
    assert err == f"ci-guard: error: {where}: not a duration (examples: 90, 90s, 40m, 1h30m)\n"


@pytest.mark.parametrize(("typed", "shown"), [("40m", "40m"), ("5400", "1h30m"), ("2.5s", "2.5s")])
def test_config_text_shows_durations_as_written_and_json_keeps_seconds(
    typed: str, shown: str, workdir: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("CI_GUARD_TIMEOUT", typed)
    main(["config"])
    text = capsys.readouterr().out
    (line,) = [x for x in text.splitlines() if x.startswith("timeout ")]
    assert line.split() == ["timeout", shown, "env"]
    assert re.search(r"^kill-grace +10s +default$", text, re.M)
    code, out, _ = _config([], capsys, monkeypatch, {"CI_GUARD_TIMEOUT": typed})
    settings = {row["name"]: row["value"] for row in json.loads(out)["settings"]}
    assert code == 0
    assert settings["timeout"] == FORMS_SECONDS[typed]


FORMS_SECONDS = {"40m": 2400.0, "5400": 5400.0, "2.5s": 2.5}
