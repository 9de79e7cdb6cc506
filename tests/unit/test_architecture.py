"""The layout keeps its shape: imports point down the layers, and modules stay small.

cli -> run -> supervise/classify/remedies/ci/report -> mirrors/doctor/images
    -> docker/registry -> infrastructure (the modules at the top of the package).

Every import counts, the deferred ones inside functions included: a lazy import still
ties the importer to what it imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ci_guard"
LAYERS: dict[str, int] = {
    "cli": 5,
    "run": 4,
    "supervise": 3,
    "classify": 3,
    "remedies": 3,
    "ci": 3,
    "report": 3,
    "mirrors": 2,
    "doctor": 2,
    "images": 2,
    "docker": 1,
    "registry": 1,
}
INFRASTRUCTURE = 0
MAX_LINES = 300
ENTRY_POINT = "ci_guard.__main__"


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _group(module: str) -> str:
    """'run' for ci_guard.run and ci_guard.run.loop; '' for infrastructure (ci_guard.config)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else ""


def _layer(module: str) -> int:
    return LAYERS.get(_group(module), INFRASTRUCTURE)


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("ci_guard.")}


def _target(name: str, known: set[str]) -> str | None:
    """The ci_guard module an imported name refers to (a module, or a name in one)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _package_edges() -> set[tuple[str, str]]:
    """(importer, imported) for every import between two different groups."""
    names = {_name(p): p for p in _modules()}
    edges = set()
    for module, path in names.items():
        if module == ENTRY_POINT:
            continue
        for imported in _imports(path):
            target = _target(imported, set(names))
            if target is not None and target != "ci_guard" and _group(target) != _group(module):
                edges.add((module, target))
    return edges


def _upward_imports() -> list[str]:
    return sorted(f"{a} -> {b}" for a, b in _package_edges() if _layer(b) > _layer(a))


def test_peers_do_not_import_each_other_both_ways() -> None:
    groups = {
        (_group(a) or "infrastructure", _group(b) or "infrastructure") for a, b in _package_edges()
    }
    assert sorted((a, b) for a, b in groups if (b, a) in groups) == []


def test_imports_point_down_the_layers() -> None:
    assert _upward_imports() == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_the_size_limit(path: Path) -> None:
    lines = len(path.read_text("utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name}: {lines} lines; split it by job"


def test_every_package_has_a_layer() -> None:
    packages = {p.parent.name for p in _modules() if p.parent != PACKAGE}
    assert packages - {"data"} <= set(LAYERS)
