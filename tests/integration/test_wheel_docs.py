"""The user docs ship in the wheel: `ci-guard help exit-codes` works from an installed copy.

The wheel is built from a copy of the sources (docs/ included, as in a git checkout),
offline: the build backend comes from the test wheelhouse (tests/tools.py), and so do
ci-guard's dependencies when the wheel is installed into a fresh virtual environment.
The commands run from a folder outside the sources, so no docs/ folder is within reach.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.template_install import pip_env

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "ci_guard", "docs")


def _copy_sources(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)


def _run(argv: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True,
        check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh venv with ci-guard installed from its built wheel."""
    base = tmp_path_factory.mktemp("wheel")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(base), **pip_env()}
    source, dist = base / "src", base / "dist"
    source.mkdir()
    _copy_sources(source)
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, source]
    _run(pip, base, env)
    (wheel,) = dist.glob("ci_guard-*.whl")
    target = base / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    _run([target / "bin" / "python", "-m", "pip", "install", "-q", wheel], base, env)
    return target / "bin"


def test_the_wheel_carries_every_docs_page(installed: Path) -> None:
    site = next((installed.parent / "lib").glob("python*/site-packages"))
    shipped = {page.name for page in (site / "ci_guard" / "docs").glob("*.md")}
    assert shipped == {page.name for page in (ROOT / "docs").glob("*.md")}
    assert not (site / "docs").exists()  # inside the package, not a top-level folder


def test_help_exit_codes_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    env = {"PATH": f"{installed}:/usr/bin:/bin", "HOME": str(tmp_path)}
    out = _run([installed / "ci-guard", "help", "exit-codes"], tmp_path, env)
    assert out == (ROOT / "docs" / "exit-codes.md").read_text("utf-8")
    listing = _run([installed / "ci-guard", "help"], tmp_path, env)
    for page in (ROOT / "docs").glob("*.md"):
        assert f"  {page.stem} " in listing
    run_help = _run([installed / "ci-guard", "run", "--help"], tmp_path, env)
    assert "ci-guard help exit-codes" in run_help
