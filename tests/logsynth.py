"""Synthetic ci-guard run logs (JSON lines, the DESIGN.md "Log events" schema).

Used by the report tests and the report benchmark. Deterministic for a given seed:
network health varies by day (a bad stretch mid-period), one mirror dies half way,
failure classes and their retryability come from the real class table, and the
ladder picks remedies the way the run command does (the stage's remedy when it fits
the class, else a plain retry).

`python -m tests.logsynth DIR --runs 1000` writes one file per run into DIR.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ci_guard.failure import FailureClass, class_table

LADDER = ("retry", "retry", "restart-daemon", "repair-network", "repair-network")
MIRRORS = (
    "https://mirror.gcr.example",
    "https://hub-cache.internal.example",
    "http://127.0.0.1:5000",
)
START = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)

# Relative frequency of each class among failed attempts: network trouble dominates.
CLASS_WEIGHTS: dict[FailureClass, int] = {
    FailureClass.REGISTRY_TIMEOUT: 30,
    FailureClass.CONNECTION_FAILURE: 18,
    FailureClass.STEP_NETWORK_FAILURE: 16,
    FailureClass.DNS_FAILURE: 9,
    FailureClass.TLS_TIMEOUT: 7,
    FailureClass.REGISTRY_UNAVAILABLE: 6,
    FailureClass.RATE_LIMITED: 5,
    FailureClass.DAEMON_UNREACHABLE: 3,
    FailureClass.TIMEOUT: 3,
    FailureClass.BUILD_STEP_FAILURE: 9,
    FailureClass.IMAGE_NOT_FOUND: 3,
    FailureClass.DOCKERFILE_ERROR: 2,
    FailureClass.TLS_UNTRUSTED: 1,
    FailureClass.AUTH_DENIED: 1,
    FailureClass.UNKNOWN: 2,
}


@dataclass
class _Clock:
    now: datetime

    def stamp(self, advance_s: float = 0.0) -> str:
        self.now += timedelta(seconds=advance_s)
        return self.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fail_probability(day: int, days: int) -> float:
    """Network weather: mostly fine, a bad stretch around two thirds of the period."""
    bad = days * 2 // 3
    return 0.55 if bad <= day < bad + 2 else 0.18 + 0.04 * (day % 3)


def _mirror_candidates(rng: random.Random, day: int, days: int) -> list[dict[str, Any]]:
    out = []
    for index, url in enumerate(MIRRORS):
        dead = index == 1 and day >= days // 2
        healthy = not dead and rng.random() > (0.08 if index != 2 else 0.2)
        latency = round(rng.uniform(0.04, 0.35) * (1 + index), 3) if healthy else 3.0
        slow = healthy and latency > 0.9
        verdict = "slow" if slow else "healthy" if healthy else rng.choice(("dead", "misbehaving"))
        reason = "" if healthy and not slow else f"GET /v2/: {verdict}"
        out.append({"url": url, "verdict": verdict, "latency_s": latency, "reason": reason})
    return out


def _pick_class(rng: random.Random) -> FailureClass:
    names = list(CLASS_WEIGHTS)
    return rng.choices(names, weights=[CLASS_WEIGHTS[n] for n in names])[0]


def synth_run(
    rng: random.Random, run_id: str, start: datetime, *, day: int, days: int
) -> list[dict[str, Any]]:
    """One run's events, in the order the logger writes them."""
    clock = _Clock(start)
    table = class_table()
    base = {"level": "info", "run_id": run_id}

    def event(name: str, advance: float = 0.0, **fields: Any) -> dict[str, Any]:
        return {"timestamp": clock.stamp(advance), "event": name, **base, **fields}

    events = [
        event(
            "run.started",
            command=["docker", "compose", "build", "--pull"],
            config_digest=f"{rng.getrandbits(48):012x}",
            ci_platform=rng.choice(("gitlab", "github", "jenkins")),
            max_attempts=len(LADDER),
            ladder=list(LADDER),
        )
    ]
    candidates = _mirror_candidates(rng, day, days)
    applied = [c["url"] for c in candidates if c["verdict"] in ("healthy", "slow")]
    events.append(
        event(
            "preflight.finished",
            rng.uniform(0.3, 2.5),
            checks=[
                {"name": "dns", "ok": True, "severity": "error", "detail": "", "duration_s": 0.01}
            ],
            healthy=bool(applied),
            mirrors={"candidates": candidates, "applied": applied, "changed": rng.random() < 0.1},
        )
    )
    total = 0.0
    p_fail = _fail_probability(day, days)
    status, final_class, exit_code, attempt = "failed", None, 1, 0
    for attempt in range(1, len(LADDER) + 1):
        events.append(event("attempt.started", attempt=attempt, max_attempts=len(LADDER)))
        failed = rng.random() < p_fail
        cls = _pick_class(rng) if failed else None
        duration = round(rng.uniform(20, 90) if failed else rng.uniform(60, 420), 3)
        total += duration
        timed_out = cls is FailureClass.TIMEOUT
        exit_code = 0 if cls is None else (124 if timed_out else rng.choice((1, 1, 17, 125)))
        info = table[cls] if cls else None
        events.append(
            event(
                "attempt.finished",
                duration,
                attempt=attempt,
                exit_code=exit_code,
                signal=None,
                timed_out=timed_out,
                duration_s=duration,
                failure_class=cls.value if cls else None,
                retryable=info.retryable if info else None,
                evidence=[f"ERROR: {cls.value} seen"] if cls else [],
                rule=f"{cls.value}.synthetic" if cls else "",
            )
        )
        if cls is None:
            status, final_class = "succeeded", None
            break
        final_class = cls.value
        status = "timed_out" if timed_out else "failed"
        if not (info and info.retryable) or attempt == len(LADDER):
            break
        stage = LADDER[attempt]
        remedy = stage if stage in info.remedies else "retry"
        delay = round(min(60.0, 2.0 * 2 ** (attempt - 1)) * rng.uniform(0.8, 1.2), 3)
        events.append(
            event("retry.scheduled", attempt=attempt, delay_s=delay, remedy=remedy, stage=stage)
        )
        if remedy != "retry":
            events.append(event("remedy.started", 0.01, remedy=remedy, attempt=attempt))
            ok = rng.random() < 0.9
            events.append(
                event(
                    "remedy.finished",
                    rng.uniform(1, 8),
                    remedy=remedy,
                    actions=[f"{remedy}: done"],
                    changed=ok,
                    ok=ok,
                )
            )
        clock.stamp(delay)
        total += delay
        p_fail *= 0.7  # remedies and time help: later attempts fail less
    fate = rng.random()
    if fate < 0.01:  # the runner died: no run.finished, the log ends mid-run
        return events[: rng.randint(2, len(events))]
    if fate < 0.02:  # CI cancelled the job
        status, exit_code = "cancelled", 143
    events.append(
        event(
            "run.finished",
            1.0,
            status=status,
            attempts=attempt,
            exit_code=exit_code,
            duration_s=round(total + 3.0, 3),
            failure_class=final_class,
        )
    )
    return events


def synth_runs(
    count: int, *, seed: int = 7, days: int = 14, start: datetime = START
) -> Iterator[list[dict[str, Any]]]:
    rng = random.Random(seed)
    for index in range(count):
        day = index * days // max(count, 1)
        at = start + timedelta(days=day, seconds=rng.uniform(0, 12 * 3600))
        yield synth_run(rng, f"run-{seed}-{index:05d}", at, day=day, days=days)


def to_lines(events: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)


NOISE_LINES = (
    "Step 3/7 : RUN apt-get update\n",
    '{"level":"info","msg":"another tool logging JSON"}\n',
    "\x00\x01garbage\xff line\n",
    '{"event": "run.started", "run_id": 12, "timestamp": "2026-11-01T00:00:00Z"}\n',
)


def write_logs(
    directory: Path,
    runs: int,
    *,
    runs_per_file: int = 1,
    seed: int = 7,
    days: int = 14,
    noise: bool = False,
) -> list[Path]:
    """Write `runs` synthetic runs into `directory`, `runs_per_file` appended per file.

    With `noise`, every file also gets lines of other tools, garbage and a truncated
    last line, as real appended logs do.
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    chunk: list[str] = []
    for index, events in enumerate(synth_runs(runs, seed=seed, days=days)):
        chunk.append(to_lines(events))
        if noise:
            chunk.append(NOISE_LINES[index % len(NOISE_LINES)])
        if len(chunk) >= runs_per_file * (2 if noise else 1) or index == runs - 1:
            path = directory / f"ci-guard-{len(paths):05d}.jsonl"
            text = "".join(chunk)
            if noise:
                text += '{"timestamp": "2026-11-30T00:00:00Z", "event": "attempt.fin'
            path.write_text(text, "utf-8")
            paths.append(path)
            chunk = []
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--runs-per-file", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--noise", action="store_true")
    args = parser.parse_args(argv)
    paths = write_logs(
        args.directory,
        args.runs,
        runs_per_file=args.runs_per_file,
        seed=args.seed,
        days=args.days,
        noise=args.noise,
    )
    print(f"wrote {args.runs} runs into {len(paths)} files under {args.directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def line(event: str, run_id: str, at: str, **fields: Any) -> str:
    """One hand-written log line, for tests that need exact numbers."""
    record = {"timestamp": at, "level": "info", "event": event, "run_id": run_id, **fields}
    return json.dumps(record) + "\n"


def simple_run(
    run_id: str,
    day: str,
    outcomes: list[str | None],
    *,
    status: str | None = None,
    durations: list[float] | None = None,
    delays: list[float] | None = None,
    remedies: list[str] | None = None,
    mirrors: list[dict[str, Any]] | None = None,
    finished: bool = True,
) -> str:
    """A run on `day` (YYYY-MM-DD) whose attempts end with `outcomes` (a class, or None = ok).

    Between failed attempts a retry is scheduled with `delays[i]` and `remedies[i]`; a
    remedy other than "retry" also logs remedy.started/finished (ok, changed).
    """
    durations = durations or [10.0] * len(outcomes)
    delays = delays or [1.0] * len(outcomes)
    remedies = remedies or ["retry"] * len(outcomes)
    at = f"{day}T10:00:00.000000Z"
    text = line("run.started", run_id, at, command=["docker", "build", "."], ci_platform="gitlab")
    if mirrors is not None:
        text += line(
            "preflight.finished",
            run_id,
            at,
            healthy=True,
            checks=[],
            mirrors={"candidates": mirrors, "applied": [], "changed": False},
        )
    for i, cls in enumerate(outcomes, start=1):
        text += line("attempt.started", run_id, at, attempt=i, max_attempts=5)
        text += line(
            "attempt.finished",
            run_id,
            at,
            attempt=i,
            exit_code=0 if cls is None else 1,
            signal=None,
            timed_out=False,
            duration_s=durations[i - 1],
            failure_class=cls,
            retryable=None if cls is None else not cls.startswith("perm"),
            evidence=[],
            rule="t",
        )
        if cls is not None and i < len(outcomes):
            remedy = remedies[i - 1]
            text += line(
                "retry.scheduled",
                run_id,
                at,
                attempt=i,
                delay_s=delays[i - 1],
                remedy=remedy,
                stage=remedy,
            )
            if remedy != "retry":
                text += line("remedy.started", run_id, at, remedy=remedy, attempt=i)
                text += line(
                    "remedy.finished",
                    run_id,
                    at,
                    remedy=remedy,
                    actions=["did"],
                    changed=True,
                    ok=True,
                )
    if finished:
        final = outcomes[-1]
        text += line(
            "run.finished",
            run_id,
            at,
            status=status or ("succeeded" if final is None else "failed"),
            attempts=len(outcomes),
            exit_code=0 if final is None else 1,
            duration_s=sum(durations) + sum(delays[: len(outcomes) - 1]),
            failure_class=final,
        )
    return text
