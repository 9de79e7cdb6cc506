"""The one duration syntax: parse_duration, its formatter, and report --since on top."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ci_guard.durations import NOT_A_DURATION, format_duration, parse_duration
from ci_guard.errors import UsageError
from ci_guard.report.period import parse_since
from tests.durations_table import BASIC_FORMS

ACCEPTED = [
    *BASIC_FORMS,
    ("1h 30m", 5400.0),
    (" 90 ", 90.0),
    ("1H30M", 5400.0),
    ("1m30s", 90.0),
    ("2m500ms", 120.5),
    ("7d", 604800.0),
    ("2w", 1209600.0),
    ("0", 0.0),
    (".5", 0.5),
    ("2.4e3", 2400.0),
    (2400, 2400.0),
    (1.5, 1.5),
]
REJECTED = [
    "",
    "40x",
    "-5",
    "-5m",
    "1h-5m",
    "30m1h",
    "1m1m",
    "h",
    "m5",
    "1.2.3s",
    "nan",
    "inf",
    "1e400",
    "0x10",
    "5 minutes",
    True,
    None,
    [1],
    float("nan"),
    float("inf"),
]


@pytest.mark.parametrize(("text", "seconds"), ACCEPTED)
def test_accepted_forms(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", REJECTED)
def test_rejected_forms_say_what_a_duration_looks_like(text: object) -> None:
    with pytest.raises(ValueError, match=r"^not a duration \(examples: 90, 90s, 40m, 1h30m\)$"):
        parse_duration(text)
    assert NOT_A_DURATION == "not a duration (examples: 90, 90s, 40m, 1h30m)"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(2400, "40m"), (5400, "1h30m"), (0.5, "500ms"), (2.5, "2.5s"), (5, "5s"), (0, "0s"),
     (300, "5m"), (86400, "1d"), (90061, "1d1h1m1s"), (0.001, "1ms")],
)  # fmt: skip
def test_format_duration_spells_defaults_as_people_do(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)


@given(st.integers(min_value=0, max_value=10**12))
def test_format_then_parse_is_exact_to_the_millisecond(millis: int) -> None:
    seconds = millis / 1000
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, abs=1e-6)


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("text", "seconds"), [(t, s) for t, s in ACCEPTED if isinstance(t, str)])
def test_report_since_takes_every_duration(text: str, seconds: float) -> None:
    assert parse_since(text, now=NOW) == NOW - timedelta(seconds=seconds)


def test_report_since_still_takes_dates_and_times() -> None:
    assert parse_since("2026-11-01", now=NOW) == datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert parse_since("2026-11-01T12:00+01:00", now=NOW) == datetime(
        2026, 11, 1, 11, 0, tzinfo=timezone.utc
    )


def test_report_since_age_beyond_the_calendar_means_every_run() -> None:
    assert parse_since("1e12", now=NOW) == datetime.min.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["40x", "last tuesday", "-5m"])
def test_report_since_bad_value_is_one_line(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_since(text, now=NOW)
    assert info.value.message.startswith(f"--since {text}: not a date")
    assert "40m, 1h30m" in info.value.message
    assert "\n" not in info.value.message
