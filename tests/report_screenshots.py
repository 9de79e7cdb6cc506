"""Regenerate the screenshots of the HTML report in docs/images/.

`python -m tests.tools report-screenshots [--keep DIR]`: runs the real `ci-guard run`
many times (tests/report_history.py) into one log folder, renders the report with the
real `ci-guard report --html`, and photographs it with headless Chromium, every network
feature off: the top of the page, then its lower half (the page scrolled to the mirror
health card inside a frame). Each PNG must stay under MAX_PNG_BYTES.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from tests.report_history import write_history

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT = 1280, 2000
MAX_PNG_BYTES = 300_000
SHOTS = {
    "report-overview.png": "report.html",
    "report-details.png": "details.html",
}
FRAME = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>
html, body {{ margin: 0; overflow: hidden; }}
iframe {{ border: 0; width: {width}px; height: {height}px; display: block; }}
</style></head><body><iframe src="report.html#{anchor}"></iframe></body></html>
"""


def chromium_flags(profile: Path, target: Path) -> list[str]:
    return [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={target}",
        f"--window-size={WIDTH},{HEIGHT}", "--hide-scrollbars",
    ]  # fmt: skip


def render(log: Path, folder: Path) -> Path:
    """The real `ci-guard report --html` of `log`; a frame page for the lower half."""
    page = folder / "report.html"
    subprocess.run(
        [sys.executable, "-m", "ci_guard", "report", str(log), "--html", str(page)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    details = FRAME.format(width=WIDTH, height=HEIGHT, anchor="mirrors")
    (folder / "details.html").write_text(details, "utf-8")
    return page


def shoot(page: Path, target: Path, profile: Path) -> int:
    """One screenshot of `page` into `target` with a fresh empty profile; its size."""
    profile.mkdir(parents=True)
    subprocess.run(
        [*chromium_flags(profile, target), page.resolve().as_uri()],
        check=True,
        capture_output=True,
        timeout=180,
    )
    size = target.stat().st_size
    if size > MAX_PNG_BYTES:
        raise SystemExit(f"{target.name}: {size} bytes, over {MAX_PNG_BYTES}")
    return size


def main(argv: list[str]) -> int:
    if not CHROMIUM.exists():
        print(f"report-screenshots: {CHROMIUM} is not installed", file=sys.stderr)
        return 1
    keep = Path(argv[1]) if argv[:1] == ["--keep"] and len(argv) > 1 else None
    with tempfile.TemporaryDirectory(prefix="ci-guard-shots-") as tmp:
        work = keep or Path(tmp)
        log = write_history(work / "history")
        render(log, work)
        IMAGES.mkdir(parents=True, exist_ok=True)
        for index, (name, page) in enumerate(SHOTS.items()):
            size = shoot(work / page, IMAGES / name, Path(tmp) / f"profile-{index}")
            print(f"report-screenshots: {IMAGES / name} ({size // 1024} KiB)")
    return 0
