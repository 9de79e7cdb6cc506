"""Rank candidate mirrors by real answers: every candidate probed at once, best first.

Ranking takes about as long as the slowest probe (bounded by the probe timeout), not
their sum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ALL_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from ci_guard.mirror_url import split_hub
from ci_guard.registry.probe import DEAD, VERDICT_ORDER, RegistryProbe, probe_registry

ProbeFn = Callable[..., RegistryProbe]
GRACE_S = 1.0
"""Extra time past the probe timeout before a probe that has not returned counts as dead."""


@dataclass(frozen=True)
class RankedMirror:
    rank: int
    url: str
    probe: RegistryProbe

    @property
    def verdict(self) -> str:
        return self.probe.verdict

    @property
    def usable(self) -> bool:
        return self.probe.usable

    def as_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, **self.probe.as_dict()}


def rank_mirrors(
    candidates: Iterable[str],
    *,
    timeout: float,
    image: str = "library/busybox",
    probe: ProbeFn = probe_registry,
) -> list[RankedMirror]:
    """Probe all candidates in parallel; best first (healthy by latency, then slow, ...).

    Bad URLs raise UsageError; Docker Hub's own names are never listed.
    """
    urls, _hub = split_hub(list(candidates))
    if not urls:
        return []
    pool = ThreadPoolExecutor(max_workers=min(32, len(urls)), thread_name_prefix="probe")
    futures = [pool.submit(probe, url, timeout=timeout, image=image) for url in urls]
    wait(futures, timeout=timeout + GRACE_S, return_when=ALL_COMPLETED)
    pool.shutdown(wait=False, cancel_futures=True)
    results = [_result(url, future, timeout) for url, future in zip(urls, futures, strict=True)]
    order = sorted(range(len(results)), key=lambda i: _sort_key(results[i], i))
    return [RankedMirror(rank, results[i].url, results[i]) for rank, i in enumerate(order, 1)]


def _result(url: str, future: Future[RegistryProbe], timeout: float) -> RegistryProbe:
    if not future.done():
        return RegistryProbe(url, DEAD, f"no answer within {timeout:g}s", timeout + GRACE_S)
    error = future.exception()
    if error is not None:
        return RegistryProbe(url, DEAD, f"probe failed: {type(error).__name__}: {error}", 0.0)
    return future.result()


def _sort_key(result: RegistryProbe, index: int) -> tuple[int, float, int]:
    latency = result.latency_s if result.usable else 0.0
    return VERDICT_ORDER.index(result.verdict), latency, index


def usable_urls(ranked: Sequence[RankedMirror]) -> list[str]:
    return [m.url for m in ranked if m.usable]
