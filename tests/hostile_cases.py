"""The hostile cases: every bad setting, file, output, CI file and argument (hostile.py
runs them). Generated from data/options.toml, so a new setting gets its cases."""

from __future__ import annotations

import os
from collections.abc import Iterator

from ci_guard.options import option_specs
from tests.hostile import (
    BAD_PATHS,
    BUILD,
    BUILD_CODE,
    DEV_NULL,
    DIR,
    FAST,
    FIFO,
    HUGE,
    MARKER,
    NOT_UTF8,
    USAGE,
    Case,
)

_BAD_VALUES = {
    "float": ("abc", "-1", "nan", "inf", "1e400", "0x10", "[1]"),
    "duration": ("abc", "-1", "nan", "inf", "1e400", "0x10", "[1]", "40x", "30m1h", "1h-5m"),
    "int": ("abc", "1.5", "0", "-5", "99999999999999999999999"),
    "bool": ("maybe", "2"),
    "choice": ("bogus", "js on"),
    "list": (),
    "str": (),
    "path": (),
}
_SPECIAL_VALUES = {
    "ladder": ("bogus", "retry,,restart-daemn", " , "),
    "mirrors": ("http://[::1", "ftp://mirror", "http://u:p@m.example", "not a url", "http://m:0"),
    "prefetch-images": (),
    "restart-command": ('systemctl "restart', "'"),
    "pushgateway": ("http://[::1", "gateway:9091", "ftp://x", "http://:80"),
    "probe-timeout": ("0.01",),
    "tempfail-exit-code": ("256", "0"),
    "max-attempts": ("101",),
}
# Valid but extreme values: the build must run and its code come back.
_EXTREME = {
    "timeout": "1e300",
    "kill-grace": "1e300",
    "total-timeout": "1e300",
    "no-output-timeout": "1e300",
    "backoff-max": "1e300",
    "max-attempts": "1",
}
# Output paths that cannot be written: the build's code must still come back.
_OUTPUT_OPTIONS = ("junit", "metrics-file", "log-file", "artifacts-dir")


def _run(*args: str, testing: str = "") -> tuple[str, ...]:
    """`ci-guard run` of the build; the fast flags leave out the setting under test."""
    fast = ("--no-preflight",) if testing != "preflight" else ()
    if testing != "max-attempts":
        fast += ("--max-attempts", "1")
    return ("run", *fast, *args, "--", *BUILD)


def option_cases() -> Iterator[Case]:
    """Every bad value of every setting, as a flag, an environment variable and a file."""
    for name, spec in option_specs().items():
        values = _SPECIAL_VALUES.get(name, ()) + _BAD_VALUES[spec.type]
        for index, value in enumerate(values):
            tag = f"{name}-{index}"
            if spec.type != "bool":
                yield Case(f"flag-{tag}", _run(f"--{name}", value), USAGE)
            args = _run(testing=name)
            yield Case(f"env-{tag}", args, USAGE, env={spec.env_var: value})
            if '"' not in value:
                files: dict[str, str | bytes] = {"ci-guard.toml": f'{name} = "{value}"\n'}
                yield Case(f"file-{tag}", args, USAGE, files=files)


def wrong_type_cases() -> Iterator[Case]:
    """TOML values of the wrong type for each kind of setting."""
    wrong = {
        "timeout": ("[1]", "{a = 1}", "true"),
        "max-attempts": ("1.5", "'3'x", "[3]"),
        "ladder": ("5", "{retry = 1}"),
        "mirrors": ("true", "1.0"),
        "log-file": ("3", "[]"),
        "ci": ("1",),
        "retry-on-timeout": ("'maybe'", "3"),
        "restart-command": ("7", "['a']"),
    }
    for name, values in wrong.items():
        for index, value in enumerate(values):
            files: dict[str, str | bytes] = {"ci-guard.toml": f"{name} = {value}\n"}
            yield Case(f"type-{name}-{index}", _run(testing=name), USAGE, files=files)


def config_file_cases() -> Iterator[Case]:
    files: dict[str, str | bytes] = {
        "empty": b"",
        "dir": DIR,
        "fifo": FIFO,
        "huge": HUGE,
        "not-utf8": NOT_UTF8,
        "bad-toml": b"timeout = = 3\n",
        "typo": b"timout = 30\n",
        "nul": b"timeout = 3\x00\n",
        "table-typo": b"[ci-guard]\ntimeout = 3\n",
    }
    for label, content in files.items():
        # empty, or a FIFO nobody writes to (it reads as empty): no settings, the build runs
        expect = 0 if label in ("empty", "fifo") else USAGE
        name = f"config-{label}"
        args = _run("--config", "cfg.toml")
        if expect == 0:
            yield Case(name, args, BUILD_CODE, files={"cfg.toml": content}, build_runs=True)
        else:
            yield Case(name, args, expect, files={"cfg.toml": content})
    for device in ("/dev/zero", "/dev/urandom", DEV_NULL, "/proc/self/clear_refs", "nope"):
        yield Case(f"config-path-{device}", _run("--config", device), USAGE)
    pyprojects: dict[str, bytes] = {
        "tool-int": b"tool = 3\n",
        "tool-list": b"tool = [1]\n",
        "section-int": b"[tool]\nci-guard = 3\n",
        "bad-setting": b"[tool.ci-guard]\ntimeout = 'soon'\n",
    }
    for label, text in pyprojects.items():
        # a pyproject.toml without a [tool.ci-guard] table is someone else's file
        expect = USAGE if label == "bad-setting" else BUILD_CODE
        runs = expect == BUILD_CODE
        yield Case(
            f"pyproject-{label}", _run(), expect, files={"pyproject.toml": text}, build_runs=runs
        )
        yield Case(
            f"pyproject-given-{label}",
            _run("--config", "pyproject.toml"),
            USAGE,
            files={"pyproject.toml": text},
        )


def output_cases() -> Iterator[Case]:
    """Outputs that cannot be written: warnings, and the build's own exit code."""
    for name in _OUTPUT_OPTIONS:
        for index, path in enumerate(BAD_PATHS):
            yield Case(f"out-{name}-{index}", _run(f"--{name}", path), BUILD_CODE, build_runs=True)
    for index, url in enumerate(("http://127.0.0.1:1", "http://[::1]:1/x")):
        yield Case(f"out-push-{index}", _run("--pushgateway", url), BUILD_CODE, build_runs=True)
    for name, value in _EXTREME.items():
        yield Case(f"extreme-{name}", _run(f"--{name}", value), BUILD_CODE, build_runs=True)


def ci_hook_cases() -> Iterator[Case]:
    """CI files that cannot be written, on each platform."""
    platforms = {
        "github": {"GITHUB_ACTIONS": "true"},
        "gitlab": {"GITLAB_CI": "true", "CI": "true"},
        "jenkins": {"JENKINS_URL": "http://jenkins.invalid/", "BUILD_ID": "1"},
    }
    targets = {
        "github": ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"),
        "gitlab": ("CI_GUARD_DOTENV", "CI_GUARD_ARTIFACTS_DIR"),
        "jenkins": ("CI_GUARD_DOTENV", "CI_GUARD_ARTIFACTS_DIR"),
    }
    for platform, variables in targets.items():
        for variable in variables:
            for index, path in enumerate(BAD_PATHS):
                env = {**platforms[platform], variable: path}
                name = f"ci-{platform}-{variable}-{index}"
                yield Case(name, _run(), BUILD_CODE, env=env, build_runs=True)
    for index, path in enumerate(BAD_PATHS):
        env = {"CI_GUARD_DOTENV": path}
        yield Case(f"ci-none-dotenv-{index}", _run(), BUILD_CODE, env=env, build_runs=True)


def argv_cases() -> Iterator[Case]:
    """Arguments that are not UTF-8, with every output that repeats the command."""
    odd = os.fsdecode(b"\xff\xfe-arg")
    build = ("sh", "-c", f"echo ran > {MARKER}; exit {BUILD_CODE}", odd)
    outputs = {
        "plain": (),
        "log": ("--log-file", "run.jsonl"),
        "junit": ("--junit", "junit.xml"),
        "metrics": ("--metrics-file", "m.prom"),
        "console": ("--log-format", "console"),
    }
    for label, extra in outputs.items():
        args = ("run", *FAST, *extra, "--", *build)
        yield Case(f"argv-{label}", args, BUILD_CODE, build_runs=True)
    github = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": "s.md", "GITHUB_OUTPUT": "o.txt"}
    args = ("run", *FAST, "--", *build)
    yield Case("argv-github", args, BUILD_CODE, env=github, build_runs=True)
    yield Case("argv-gitlab", args, BUILD_CODE, env={"GITLAB_CI": "true"}, build_runs=True)
    missing = ("run", *FAST, "--", os.fsdecode(b"no-such-\xff"))
    yield Case("argv-command-name", missing, 127)


def command_cases() -> Iterator[Case]:
    """The other commands' inputs: settings shown by `config`, files for classify/report."""
    yield Case("config-ladder-unknown", ("config", "--ladder", "retry,bogus"), USAGE)
    yield Case("config-ladder-env", ("config",), USAGE, env={"CI_GUARD_LADDER": "retry,restart"})
    yield Case("config-dev-zero", ("config", "--config", "/dev/zero"), USAGE)
    yield Case("run-no-command", ("run", "--no-preflight"), USAGE)
    yield Case("run-unknown-option", ("run", "--timeoutt", "3", "--", "true"), USAGE)
    yield Case("unknown-command", ("rnu",), USAGE)
    for label, path in (("dir", "sub"), ("missing", "nope.log"), ("proc", "/proc/self/clear_refs")):
        yield Case(f"classify-{label}", ("classify", path), USAGE)
        yield Case(f"report-{label}", ("report", path), USAGE)


def all_cases() -> list[Case]:
    groups = (
        option_cases,
        wrong_type_cases,
        config_file_cases,
        output_cases,
        ci_hook_cases,
        argv_cases,
        command_cases,
    )
    return [case for group in groups for case in group()]


def sampled_cases() -> list[Case]:
    """The suite the tests run: every case, but each bad setting value from one origin
    only (flag, environment or file, in turn); the bench runs the full matrix."""
    sampled: list[Case] = []
    seen: set[str] = set()
    turn = 0
    for case in option_cases():
        origin, _, tag = case.name.partition("-")
        if tag in seen:
            continue
        wanted = ("flag", "env", "file")[turn % 3]
        if origin == wanted or (wanted == "flag" and origin == "env"):
            sampled.append(case)
            seen.add(tag)
            turn += 1
    others = [c for c in all_cases() if not c.name.startswith(("flag-", "env-", "file-"))]
    return sampled + others
