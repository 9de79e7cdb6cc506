"""docs/configuration.md's settings table is generated from data/options.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_guard.cli import config_doc
from ci_guard.options import option_specs

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
REGENERATE = "python -m ci_guard.cli.config_doc --write docs/configuration.md"


def test_the_settings_table_is_not_stale() -> None:
    text = DOC.read_text("utf-8")
    assert config_doc.splice(text) == text, f"stale: run `{REGENERATE}`"


def test_every_setting_has_one_row_with_its_variable_and_help() -> None:
    table = config_doc.render_table()
    for name, spec in option_specs().items():
        short = f"`-{spec.short}`, " if spec.short else ""
        flag = (f"| {short}`--{name}`", f"| {short}`--{name}/")  # not --retry-on-timeout
        rows = [line for line in table.splitlines() if line.startswith(flag)]
        assert len(rows) == 1, name
        assert f"`{spec.env_var}`" in rows[0]
        assert spec.help in rows[0]


def test_splice_refuses_a_document_without_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        config_doc.splice("# no table here\n")


def test_main_writes_the_table_in_place(tmp_path: Path) -> None:
    doc = tmp_path / "c.md"
    doc.write_text(f"intro\n{config_doc.BEGIN}\nSTALE-ROW\n{config_doc.END}\nafter\n", "utf-8")
    assert config_doc.main(["--write", str(doc)]) == 0
    text = doc.read_text("utf-8")
    assert text.startswith("intro\n")
    assert text.endswith(f"{config_doc.END}\nafter\n")
    assert "STALE-ROW" not in text
    assert config_doc.render_table() in text
