"""rank_mirrors: order, Hub never listed, parallel probes, a probe that never returns."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ci_guard.errors import UsageError
from ci_guard.mirrors.rank import rank_mirrors, usable_urls
from ci_guard.registry.probe import DEAD, HEALTHY, MISBEHAVING, SLOW, RegistryProbe

VERDICTS = {
    "https://slow.example": (SLOW, 3.0),
    "https://fast.example": (HEALTHY, 0.05),
    "https://dead.example": (DEAD, 5.0),
    "https://odd.example": (MISBEHAVING, 0.01),
    "https://ok.example": (HEALTHY, 0.2),
}


def fake_probe(url: str, *, timeout: float, image: str) -> RegistryProbe:
    verdict, latency = VERDICTS[url]
    return RegistryProbe(url, verdict, "fake", latency)


def test_rank_order_is_healthy_by_latency_then_slow_misbehaving_dead() -> None:
    ranked = rank_mirrors(list(VERDICTS), timeout=5, probe=fake_probe)
    assert [m.url for m in ranked] == [
        "https://fast.example", "https://ok.example", "https://slow.example",
        "https://odd.example", "https://dead.example",
    ]  # fmt: skip
    assert [m.rank for m in ranked] == [1, 2, 3, 4, 5]
    assert usable_urls(ranked) == [
        "https://fast.example",
        "https://ok.example",
        "https://slow.example",
    ]
    assert ranked[0].as_dict()["rank"] == 1


def test_hub_is_never_probed_nor_listed() -> None:
    seen: list[str] = []

    def probe(url: str, **_: Any) -> RegistryProbe:
        seen.append(url)
        return RegistryProbe(url, HEALTHY, "", 0.1)

    ranked = rank_mirrors(
        ["https://registry-1.docker.io", "https://docker.io/", "https://m.example"],
        timeout=1,
        probe=probe,
    )
    assert [m.url for m in ranked] == ["https://m.example"]
    assert seen == ["https://m.example"]
    assert rank_mirrors(["https://index.docker.io"], timeout=1, probe=probe) == []


def test_bad_candidate_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        rank_mirrors(["m.example"], timeout=1, probe=fake_probe)


def test_probes_run_in_parallel() -> None:
    barrier = threading.Barrier(4, timeout=5)

    def probe(url: str, **_: Any) -> RegistryProbe:
        barrier.wait()  # only passes when all four probes run at once
        return RegistryProbe(url, HEALTHY, "", 0.1)

    ranked = rank_mirrors([f"https://m{i}.example" for i in range(4)], timeout=5, probe=probe)
    assert [m.verdict for m in ranked] == [HEALTHY] * 4


def test_a_probe_that_hangs_past_the_deadline_counts_as_dead() -> None:
    release = threading.Event()

    def probe(url: str, *, timeout: float, image: str) -> RegistryProbe:
        if "hang" in url:
            release.wait(10)
        return RegistryProbe(url, HEALTHY, "", 0.01)

    try:
        ranked = rank_mirrors(
            ["https://hang.example", "https://ok.example"], timeout=0.1, probe=probe
        )
    finally:
        release.set()
    assert [(m.url, m.verdict) for m in ranked] == [
        ("https://ok.example", HEALTHY),
        ("https://hang.example", DEAD),
    ]
    assert ranked[1].probe.reason == "no answer within 0.1s"
