"""Build hook: the user docs (docs/*.md) go into the package as ci_guard/docs/.

`ci-guard help TOPIC` reads them from there in an installed wheel; the repository keeps
a single copy in docs/, which a source checkout or editable install reads directly.
Metadata lives in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DOCS = Path(__file__).resolve().parent / "docs"


class BuildWithDocs(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's docs/
        target = Path(self.build_lib) / "ci_guard" / "docs"
        target.mkdir(parents=True, exist_ok=True)
        for page in sorted(DOCS.glob("*.md")):
            shutil.copyfile(page, target / page.name)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        if getattr(self, "editable_mode", False):
            return list(super().get_outputs(include_bytecode))
        target = Path(self.build_lib) / "ci_guard" / "docs"
        pages = [str(target / page.name) for page in sorted(DOCS.glob("*.md"))]
        return [*super().get_outputs(include_bytecode), *pages]


setup(cmdclass={"build_py": BuildWithDocs})
