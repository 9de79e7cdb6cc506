"""The block reader and the literal matcher pick exactly the lines a plain reading picks.

The reference here is the slow, obvious way: split the output into lines, cut an
unfinished line the way the reader documents, lower-case each line and keep it when
it holds every literal of one alternative of a rule. The fast path (one search per
block, lines cut around the hits) must agree line for line and rule for rule on a
mixed log built to stress it: lines crossing read boundaries, CRLF and bare CR
frames, ANSI colours, lines longer than a read, lines holding several rules' literals,
hits at the very start and end of a block, and no final newline.
"""

from __future__ import annotations

import io
import random
from importlib import resources

import pytest

from ci_guard.classify import classify_text, evidence, matcher
from ci_guard.classify.anchors import requirement
from ci_guard.classify.classifier import scan
from ci_guard.classify.evidence import blocks, pre_clean_block
from ci_guard.classify.rules import RuleSet, build_ruleset, load_rules, parse_rules_text
from tests.corpus_loader import corpus


def _reference_blocks(data: bytes, chunk: int, max_line: int) -> list[bytes]:
    """The reader's contract, the slow way: reads of `chunk` bytes, whole lines out,
    and a line still unfinished after a read kept to `max_line` bytes."""
    out: list[bytes] = []
    partial = b""
    for offset in range(0, len(data), chunk):
        text = partial + data[offset : offset + chunk]
        cut = text.rfind(b"\n")
        if cut < 0:
            partial = text[:max_line]
            continue
        out.append(text[: cut + 1])
        partial = text[cut + 1 :][:max_line]
    if partial:
        out.append(partial)
    return out


def _alternatives(ruleset: RuleSet) -> list[list[list[bytes]]]:
    """Per rule: the literal sets one of which a line must hold in full."""
    options = []
    for rule in ruleset.rules:
        found = requirement(rule.pattern)
        words = found if found is not None else [frozenset({w}) for w in rule.keywords]
        options.append([[w.encode("ascii") for w in conjunction] for conjunction in words])
    return options


def _reference_lines(
    options: list[list[list[bytes]]], block: bytes
) -> list[tuple[bytes, list[int]]]:
    """Each line with the rules one of whose alternatives it holds in full."""
    picked = []
    for line in block.split(b"\n"):
        lowered = line.lower()
        rules = [
            position
            for position, alternatives in enumerate(options)
            if any(all(w in lowered for w in conjunction) for conjunction in alternatives)
        ]
        if rules:
            picked.append((line, rules))
    return picked


def _mixed_log(seed: int) -> bytes:
    rng = random.Random(seed)
    real = [line for message in corpus() for line in message.text.splitlines()]
    pieces: list[str] = []
    for _ in range(700):
        roll = rng.randrange(10)
        line = real[rng.randrange(len(real))]
        if roll == 0:  # several rules' literals in one line
            line = " ; ".join(real[rng.randrange(len(real))] for _ in range(4))
        elif roll == 1:
            line = f"\x1b[31m{line}\x1b[0m"
        elif roll == 2:  # progress frames joined by bare CRs
            line = f"{line}\r{real[rng.randrange(len(real))]}"
        elif roll == 3:  # far longer than a read
            line = "x" * rng.randrange(3000, 9000) + line + " pad" * 900
        end = "\r\n" if rng.randrange(4) == 0 else "\n"
        pieces.append(line.upper() if rng.randrange(7) == 0 else line)
        pieces.append(end)
    return "".join(pieces).rstrip("\n").encode("utf-8")


@pytest.fixture
def small_reads(monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """Reads and blocks far smaller than the log, so lines cross many boundaries."""
    monkeypatch.setattr(evidence, "CHUNK", 4093)
    monkeypatch.setattr(evidence, "BLOCK", 16381)
    monkeypatch.setattr(evidence, "MAX_LINE", 5000)
    return 4093, 5000


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_blocks_follow_the_reader_contract(small_reads: tuple[int, int], seed: int) -> None:
    data = _mixed_log(seed)
    chunk, max_line = small_reads
    found = b"".join(blocks(io.BytesIO(data)))
    assert found == b"".join(_reference_blocks(data, chunk, max_line))
    assert len(found) < len(data)  # some long lines were really cut


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matcher_picks_the_reference_lines(small_reads: tuple[int, int], seed: int) -> None:
    ruleset = load_rules()
    options = _alternatives(ruleset)
    picked = []
    expected = []
    for block in blocks(io.BytesIO(_mixed_log(seed))):
        cleaned = pre_clean_block(block)
        picked.extend((line, list(rules)) for line, rules in ruleset.matcher.lines(cleaned))
        expected.extend(_reference_lines(options, cleaned))
    assert len(expected) > 200
    assert any(len(rules) > 1 for _line, rules in expected)
    assert picked == expected


def test_scan_hits_do_not_depend_on_the_read_size(monkeypatch: pytest.MonkeyPatch) -> None:
    ruleset = load_rules()
    data = _mixed_log(4)
    whole = scan(io.BytesIO(data), ruleset).lines
    monkeypatch.setattr(evidence, "CHUNK", 997)
    monkeypatch.setattr(evidence, "BLOCK", 3001)
    monkeypatch.setattr(evidence, "MAX_LINE", 1 << 20)
    assert whole
    assert scan(io.BytesIO(data), ruleset).lines == whole


def _fresh_rules(*, common: bool = True) -> RuleSet:
    text = resources.files("ci_guard.data").joinpath("rules.toml").read_text("utf-8")
    ruleset = parse_rules_text(text, check=False)
    # Without the packaged common literals the matcher has to learn them from the log.
    return ruleset if common else build_ruleset(list(ruleset.rules))


def test_a_matcher_that_retires_triggers_picks_the_reference_lines(
    small_reads: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(matcher, "REBUILD_AFTER", 2)
    ruleset = _fresh_rules()
    first = set(ruleset.matcher.needles)
    options = _alternatives(ruleset)
    picked = []
    expected = []
    for block in blocks(io.BytesIO(_mixed_log(5))):
        cleaned = pre_clean_block(block)
        picked.extend((line, list(rules)) for line, rules in ruleset.matcher.lines(cleaned))
        expected.extend(_reference_lines(options, cleaned))
    assert set(ruleset.matcher.needles) != first, "some trigger was retired"
    assert picked == expected


def test_a_trigger_common_in_the_log_gives_way_and_the_failure_is_still_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every BuildKit build prints "[internal] load metadata for"; a rule needs it only
    # after "ERROR [". Blocks of such lines make the other literal trigger instead.
    monkeypatch.setattr(evidence, "BLOCK", 1 << 12)
    ruleset = _fresh_rules(common=False)
    common = b"internal] load metadata for"
    assert common in ruleset.matcher.needles
    assert common not in _fresh_rules().matcher.needles  # the packaged table knows it
    quiet = "#3 [internal] load metadata for docker.io/library/python:3.12-slim\n"
    failure = (
        "ERROR [internal] load metadata for docker.io/library/python:3.12-slim\n"
        "failed to solve: python:3.12-slim: failed to resolve source metadata\n"
    )
    log = quiet * (matcher.REBUILD_AFTER + 100) + failure
    found = scan(io.StringIO(log), ruleset)
    assert common not in ruleset.matcher.needles
    expected = scan(io.StringIO(failure), _fresh_rules())
    assert found.lines == expected.lines
    assert classify_text(log, rules=ruleset).rule == classify_text(failure).rule != "no-match"
