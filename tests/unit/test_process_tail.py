"""The output tail: split_tail (pure) and TailBuffer (bounded, chunking-independent)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from ci_guard.supervise.streams import TailBuffer, split_tail


def test_last_lines_without_the_trailing_newline() -> None:
    assert split_tail(b"a\nb\nc\n", 2) == ("b", "c")
    assert split_tail(b"a\nb\nc", 2) == ("b", "c")
    assert split_tail(b"a\n\nc\n", 5) == ("a", "", "c")


def test_progress_line_shows_its_last_state_and_crlf_loses_cr() -> None:
    assert split_tail(b"10%\r50%\r100%\ndone\r\n", 5) == ("100%", "done")


def test_invalid_utf8_is_replaced() -> None:
    assert split_tail(b"ok \xff\n", 1) == ("ok \ufffd",)


def test_long_line_is_cut() -> None:
    (line,) = split_tail(b"y" * 100_000, 1)
    assert line == "y" * 4096 + "..."


def test_nothing_asked_or_nothing_there() -> None:
    assert split_tail(b"a\nb\n", 0) == ()
    assert split_tail(b"", 5) == ()


def test_partial_first_line_is_dropped_only_when_others_exist() -> None:
    assert split_tail(b"tail of a line\nfull\n", 5, partial_first=True) == ("full",)
    assert split_tail(b"only a piece", 5, partial_first=True) == ("only a piece",)


def test_buffer_keeps_streams_lines_apart() -> None:
    tail = TailBuffer(1024)
    tail.feed("out", b"half of a line")
    tail.feed("err", b"error: boom\n")
    tail.feed("out", b" rest\n")
    assert tail.lines(10) == ("half of a line", "error: boom", " rest")


def test_buffer_memory_is_bounded() -> None:
    tail = TailBuffer(1000)
    for i in range(10_000):
        tail.feed("out", f"line {i}\n".encode())
    assert len(b"".join(tail._chunks)) < 2000  # bound: max_bytes plus one chunk
    assert tail.lines(2) == ("line 9998", "line 9999")


text_lines = st.lists(
    st.text(alphabet=st.characters(exclude_characters="\r\n", exclude_categories=["Cs"])),
    max_size=40,
)


@given(lines=text_lines, n=st.integers(min_value=1, max_value=50))
def test_split_tail_matches_plain_splitting(lines: list[str], n: int) -> None:
    data = "".join(line + "\n" for line in lines).encode()
    expected = tuple(line[:4096] + ("..." if len(line) > 4096 else "") for line in lines)
    assert split_tail(data, n) == expected[-n:]


@given(data=st.binary(max_size=2000), n=st.integers(min_value=0, max_value=30))
def test_split_tail_never_fails_and_respects_its_bounds(data: bytes, n: int) -> None:
    result = split_tail(data, n)
    assert len(result) <= n
    assert all("\n" not in line and "\r" not in line for line in result)
    assert all(len(line) <= 4096 + 3 for line in result)


ascii_output = st.binary(max_size=3000).map(lambda b: bytes(c & 0x7F for c in b if c != 13))


@given(
    data=ascii_output,
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=30),
    n=st.integers(min_value=1, max_value=20),
)
def test_buffer_result_does_not_depend_on_chunking(data: bytes, cuts: list[int], n: int) -> None:
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    tail = TailBuffer(256)
    for start, end in itertools.pairwise(bounds):
        tail.feed("out", data[start:end])
    got = tail.lines(n)
    whole = split_tail(data, 10_000)
    if len(data) <= 256:
        assert got == whole[-n:]
        return
    # the lines it keeps end the whole output, complete, in order; only when a single
    # line outgrew the buffer is that line kept as its last part
    assert got, "a non-empty output leaves a non-empty tail"
    first = len(whole) - len(got)
    assert got[1:] == whole[first + 1 :]
    assert whole[first].endswith(got[0])


def test_a_line_longer_than_the_buffer_keeps_its_end() -> None:
    tail = TailBuffer(256)
    for _ in range(3):
        tail.feed("out", b"a" * 200)
    assert tail.lines(5) == ("a" * 400,)
