"""docs/configuration.md documents every setting, with its variable and default."""

from __future__ import annotations

from pathlib import Path

from ci_guard.config import option_specs

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_is_documented_with_env_and_default() -> None:
    text = DOC.read_text("utf-8")
    for name, spec in option_specs().items():
        rows = [line for line in text.splitlines() if line.startswith(f"| `--{name}")]
        assert len(rows) == 1, name
        assert f"`{spec.env_var}`" in rows[0]
        assert spec.help in rows[0]
