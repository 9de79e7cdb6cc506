from __future__ import annotations

import pytest

from ci_guard.errors import UsageError
from ci_guard.mirror_url import hub_warning, normalise_mirror, parse_mirror_url, split_hub


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://mirror.gcr.io", "https://mirror.gcr.io"),
        ("https://mirror.gcr.io/", "https://mirror.gcr.io"),
        ("HTTPS://Mirror.Example.COM:443", "https://mirror.example.com"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
        ("http://example.com:80", "http://example.com"),
        ("https://[::1]:5443", "https://[::1]:5443"),
        ("  https://m.example  ", "https://m.example"),
    ],
)
def test_valid_mirror_urls_are_normalised(raw: str, expected: str) -> None:
    assert normalise_mirror(raw) == expected


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "empty"),
        ("mirror.gcr.io", "expected https://host"),
        ("ftp://mirror.gcr.io", "expected https://host"),
        ("https://mirror.gcr.io/v2/", "no path"),
        ("https://mirror.gcr.io/?x=1", "no path, query"),
        ("https://mirror.gcr.io#frag", "no path, query or fragment"),
        ("https://user:pw@mirror.gcr.io", "credentials"),
        ("https://", "invalid host"),
        ("https://bad_host!", "invalid host"),
        ("https://mirror.gcr.io:99999", "invalid port"),
        ("https://mirror.gcr.io:0", "invalid port"),
        ("https://mirror.gcr.io:abc", "invalid port"),
    ],
)
def test_bad_mirror_urls_are_one_line_usage_errors(raw: str, why: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_mirror_url(raw)
    assert why in info.value.message
    assert "\n" not in info.value.message
    assert info.value.exit_code == 2


def test_hub_names_are_dropped_and_duplicates_merged() -> None:
    kept, dropped = split_hub(
        [
            "https://registry-1.docker.io",
            "https://m.example/",
            "https://index.docker.io",
            "https://M.example",
            "https://docker.io",
        ]
    )
    assert kept == ["https://m.example"]
    assert dropped == [
        "https://registry-1.docker.io",
        "https://index.docker.io",
        "https://docker.io",
    ]
    assert "doubles timeouts" in hub_warning(dropped)
