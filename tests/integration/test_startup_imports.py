"""`ci-guard run --no-preflight` loads no Docker client: the design keeps them lazy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("docker", "python_on_whales", "requests", "prometheus_client", "yaml", "xml.etree")


def imported_modules(tmp_path: Path, *args: str) -> set[str]:
    code = (
        "import sys, runpy\n"
        "sys.argv = ['ci-guard', *sys.argv[1:]]\n"
        "try:\n"
        "    runpy.run_module('ci_guard', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    return set(done.stderr.splitlines())


def test_run_without_preflight_loads_no_docker_client(tmp_path: Path) -> None:
    modules = imported_modules(
        tmp_path, "run", "--no-preflight", "--log-format", "console", "--", "true"
    )
    assert "ci_guard.run.loop" in modules  # the run really happened in this process
    for name in HEAVY:
        assert name not in modules, f"{name} imported on the run path"
