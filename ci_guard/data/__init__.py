"""The tables ci-guard runs on (options, failure classes, rules, secrets...), as TOML.

Read straight from the package folder: importlib.resources would cost the run's
start-up more than the files themselves.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def read_text(name: str) -> str:
    return (FOLDER / name).read_text("utf-8")
