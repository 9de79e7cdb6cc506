"""The attempt log's masked copy: the bytes path agrees with the whole-text path."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ci_guard.redact import Redactor
from ci_guard.redact_file import mask_block, mask_file
from tests.leakcheck.shapes import SHAPES

BUILD = [
    "#12 [builder 4/9] RUN pip install -r requirements.txt",
    "#12 3.215 Collecting requests==2.31.0 (from -r requirements.txt (line 1))",
    "Get:7 http://deb.debian.org/debian bookworm/main amd64 libssl3 amd64 3.0.11-1 [2,024 kB]",
    "npm warn deprecated @humanwhocodes/config-array@0.11.14: Use @eslint/config-array",
    "test_login_passes ... PASSED; 1 skipped, key=value pairs kept",
    "caf\xe9 au lait \u2014 non-ASCII text passes through",
]


def _env() -> dict[str, str]:
    env: dict[str, str] = {}
    for shape in SHAPES:
        env.update(shape.env)
    return env


def _mixed(seed: int) -> str:
    rng = random.Random(seed)
    lines = [shape.line for shape in SHAPES if shape.line and "PRIVATE KEY" not in shape.line]
    out = []
    for _ in range(3000):
        out.append(rng.choice(BUILD))
        if rng.random() < 0.2:
            out.append(rng.choice(lines))
        if rng.random() < 0.05:
            out.append(f"{rng.choice(BUILD)} {rng.choice(lines)} tail")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_block_is_masked_as_the_whole_text_path_masks_it(seed: int) -> None:
    redactor = Redactor(env=_env())
    text = _mixed(seed)
    masked, key_open = mask_block(text.encode(), redactor, key_open=False)
    assert masked.decode() == redactor.text(text)
    assert not key_open
    assert all(shape.secret not in masked.decode() for shape in SHAPES if shape.line)


def test_a_file_in_small_blocks_matches_the_text_path_and_keeps_undecodable_bytes(
    tmp_path: Path,
) -> None:
    redactor = Redactor(env=_env())
    text = _mixed(4)
    source, target = tmp_path / "raw.log", tmp_path / "masked.log"
    source.write_bytes(b"\xff\xfe not UTF-8\n" + text.encode())
    mask_file(source, target, redactor, block=4096)
    masked = target.read_bytes()
    assert masked.startswith(b"\xff\xfe not UTF-8\n")
    assert masked[len(b"\xff\xfe not UTF-8\n") :].decode() == redactor.text(text)


def test_a_line_with_no_trigger_is_left_as_bytes() -> None:
    block = b"plain build output \xff\n" * 3
    assert mask_block(block, Redactor(env={}), key_open=False) == (block, False)
