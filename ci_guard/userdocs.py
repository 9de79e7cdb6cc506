"""The user documentation (docs/*.md) as topics of `ci-guard help`.

A built wheel carries the pages in ci_guard/docs/ (setup.py copies them at build time,
so the repository keeps one copy); a source checkout or editable install reads the
repository's docs/ folder instead.
"""

from __future__ import annotations

from pathlib import Path

from ci_guard.errors import UsageError

_PACKAGE = Path(__file__).resolve().parent
FOLDERS = (_PACKAGE / "docs", _PACKAGE.parent / "docs")
"""Where the pages are looked for, first match wins: installed, then the checkout."""


def docs_folder(folders: tuple[Path, ...] = FOLDERS) -> Path | None:
    for folder in folders:
        if folder.is_dir() and any(folder.glob("*.md")):
            return folder
    return None


def topics(folders: tuple[Path, ...] = FOLDERS) -> dict[str, Path]:
    """Topic name (the page's file name without .md) to its file, sorted by name."""
    folder = docs_folder(folders)
    if folder is None:
        return {}
    return {page.stem: page for page in sorted(folder.glob("*.md"))}


def title(page: Path) -> str:
    """The page's first heading, without the #."""
    for line in page.read_text("utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return page.stem


def read_topic(name: str, folders: tuple[Path, ...] = FOLDERS) -> str:
    """The page's text; UsageError naming the topics when there is no such page."""
    found = topics(folders)
    if not found:
        raise UsageError("no documentation is installed with this copy of ci-guard")
    # A link's target as the pages write it works too: `mirrors.md#remote-daemons`.
    key = name.strip().lower().split("#", 1)[0].removesuffix(".md").removeprefix("docs/")
    if key not in found:
        raise UsageError(f"no help topic {name!r} (topics: {', '.join(found)})")
    return found[key].read_text("utf-8")
