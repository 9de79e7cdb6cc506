"""Render the HTML report in headless Chromium and check the screenshot shows charts.

Chromium (Debian package chromium) opens the page from a file with every network
feature off; the screenshot is decoded with a small stdlib PNG reader and must hold
the chart colours in quantity, not a blank or broken page. Without Chromium the test
is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from ci_guard.cli.main import main
from tests.logsynth import write_logs

WIDTH, HEIGHT = 1280, 2000


@dataclass
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        row, at = self.rows[y], x * self.channels
        return row[at], row[at + 1], row[at + 2]

    def colours(self, top: int, bottom: int, step: int = 2) -> Counter[tuple[int, int, int]]:
        found: Counter[tuple[int, int, int]] = Counter()
        for y in range(top, min(bottom, self.height), step):
            for x in range(0, self.width, step):
                found[self.pixel(x, y)] += 1
        return found


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(kind: int, line: bytearray, prior: bytes, bpp: int) -> bytes:
    if kind == 1:
        for i in range(bpp, len(line)):
            line[i] = (line[i] + line[i - bpp]) & 0xFF
    elif kind == 2:
        line = bytearray((a + b) & 0xFF for a, b in zip(line, prior, strict=True))
    elif kind == 3:
        for i in range(len(line)):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prior[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(len(line)):
            left = line[i - bpp] if i >= bpp else 0
            upper_left = prior[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + _paeth(left, prior[i], upper_left)) & 0xFF
    return bytes(line)


def read_png(path: Path) -> Image:
    """8-bit RGB or RGBA, non-interlaced: what Chromium writes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, idat, header = 8, bytearray(), b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0), "only 8-bit non-interlaced PNG is read here"
    assert colour in (2, 6), f"PNG colour type {colour} is not RGB or RGBA"
    channels = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(bytes(idat)), width * channels
    rows, prior = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(
            raw[start], bytearray(raw[start + 1 : start + 1 + stride]), prior, channels
        )
        rows.append(line)
        prior = line
    return Image(width, height, channels, rows)


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    reason = "chromium not installed (Debian package chromium)"
    if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def _screenshot(page: Path, png: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    argv = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}",
        "--hide-scrollbars",
        page.resolve().as_uri(),
    ]
    env = {**os.environ, "HOME": str(profile)}
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=180, env=env, cwd=profile, check=False
    )


def test_html_report_renders_charts_in_chromium(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _chromium()
    logs = tmp_path / "logs"
    write_logs(logs, 600, runs_per_file=3, days=14, noise=True)
    page = tmp_path / "report.html"
    try:
        main(["report", str(logs), "--html", str(page)])
    except SystemExit as exc:  # pragma: no cover - main() only exits on errors
        pytest.fail(f"report exited {exc.code}: {capsys.readouterr().err}")
    png, profile = tmp_path / "shot.png", tmp_path / "profile"
    profile.mkdir()
    done = _screenshot(page, png, profile)
    assert png.exists(), f"no screenshot; chromium exit {done.returncode}: {done.stderr[-2000:]}"

    image = read_png(png)
    assert (image.width, image.height) == (WIDTH, HEIGHT)
    whole = image.colours(0, HEIGHT, step=3)
    assert len(whole) > 50, "page looks blank"
    background = whole.most_common(1)[0][1] / sum(whole.values())
    assert background < 0.9, "one colour fills the page"

    # Each chart paints solid areas in its own colours; a page that failed to render
    # its SVG would lack them. Counted on a 3-px grid, so 40 hits is a real area.
    palette = {
        "success line / KPI (green)": "#2f9e44",
        "attempts bars (blue)": "#1c7ed6",
        "runs per day bars (grey)": "#dee2e6",
        "retryable classes (amber)": "#f59f00",
        "non-retryable classes (red)": "#e03131",
        "failed attempt time (light red)": "#fa5252",
        "dead mirror cells (red)": "#e03131",
    }
    missing = {name: c for name, c in palette.items() if whole[_hex(c)] < 40}
    assert not missing, f"chart colours missing from the screenshot: {missing}"

    # The upper charts (success per day, attempts, classes) sit in the first 1100 px,
    # the time and mirror charts below: both halves carry chart colours.
    top, lower = image.colours(0, 1100, step=3), image.colours(1100, HEIGHT, step=3)
    assert top[_hex("#1c7ed6")] >= 40
    assert lower[_hex("#fa5252")] >= 40
