"""Run check tasks in parallel under one deadline: the total is the slowest, not the sum.

A task is a small chain (DNS, then TCP, then TLS, then HTTP for one registry) returning
its results in order. A task still running at the deadline is reported as failed under
the names it announced; its thread is left to end on its own socket timeouts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ALL_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from ci_guard.doctor.result import CheckResult, failed


@dataclass(frozen=True)
class Task:
    name: str
    """The name reported when the task gives no result in time."""
    run: Callable[[], list[CheckResult]]


def run_tasks(tasks: Sequence[Task], *, deadline_s: float) -> list[CheckResult]:
    if not tasks:
        return []
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=min(16, len(tasks)), thread_name_prefix="check")
    futures = [pool.submit(task.run) for task in tasks]
    wait(futures, timeout=deadline_s, return_when=ALL_COMPLETED)
    pool.shutdown(wait=False, cancel_futures=True)
    elapsed = time.monotonic() - started
    results: list[CheckResult] = []
    for task, future in zip(tasks, futures, strict=True):
        results.extend(_collect(task, future, deadline_s, elapsed))
    return results


def _collect(
    task: Task, future: Future[list[CheckResult]], deadline_s: float, elapsed: float
) -> list[CheckResult]:
    if not future.done():
        return [failed(task.name, f"no result within {deadline_s:g}s", elapsed)]
    error = future.exception()
    if error is not None:
        return [failed(task.name, f"check crashed: {type(error).__name__}: {error}", elapsed)]
    return future.result()
