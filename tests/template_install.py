"""The install path the CI templates use, played without a network: pip installs
`git+file://<clone>@<ref>` (the same pip git code path as `git+https://`), with
ci-guard's dependencies from the wheelhouse `make tools` prepares instead of an index."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests import tools

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Source:
    url: str
    """file:// URL of a bare clone of this repository."""
    ref: str
    """The commit the templates pin (HEAD of this work tree, committed state)."""
    checkout: Path
    """A plain clone checked out at ref: the folder a CI system checks an action out to."""

    @property
    def pip_spec(self) -> str:
        return f"git+{self.url}@{self.ref}"


def run_captured(
    argv: Sequence[str | Path],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a validator or a template script, keeping its output for the assertions."""
    return subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def environ_without(*prefixes: str) -> dict[str, str]:
    """This process's environment less the variables that would steer the script under test."""
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def _git(*args: str | Path) -> str:
    argv = ["git", *map(str, args)]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


def clone(tmp_path: Path) -> Source:
    ref = _git("-C", ROOT, "rev-parse", "HEAD")
    bare = tmp_path / "ci-guard.git"
    _git("clone", "-q", "--bare", "--no-local", ROOT, bare)
    checkout = tmp_path / "ci-guard"
    _git("clone", "-q", bare, checkout)
    _git("-C", checkout, "checkout", "-q", ref)
    return Source(url=bare.as_uri(), ref=ref, checkout=checkout)


def pip_env() -> dict[str, str]:
    """pip settings for an offline install: no index, dependencies from the wheelhouse."""
    return {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(tools.wheel_dir()),
        "PIP_CONFIG_FILE": "/dev/null",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
