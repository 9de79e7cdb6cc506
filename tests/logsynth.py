"""Run logs for the report tests and benchmark, written by ci-guard's own writers.

Nothing here hand-writes a log event: each run is played through the real run loop
(run/loop.py's Runner, run/job.py's `run.started`) into the real logging pipeline
(logs.configure, JSON lines), with a scripted child instead of a real build, and
preflight's `mirrors` field is the real MirrorApplyResult of ranked RegistryProbes.
Only the clock is synthetic: timestamps and durations follow a scripted day, so the
report's figures are known. A field renamed on the writer side thus reaches the
report tests at once.

`synth_runs` is a deterministic history (seeded): network health varies by day (a bad
stretch mid-period), one mirror dies half way, classes come from the real class table.
`simple_run` is one run whose every figure is given, for exact assertions.

`python -m tests.logsynth DIR --runs 1000` writes one file per run into DIR.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import io
import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import structlog

from ci_guard import logs
from ci_guard.config import Config, resolve
from ci_guard.docker.reach import LOCAL, DaemonReach
from ci_guard.doctor.preflight import PreflightResult
from ci_guard.doctor.result import CheckResult, DoctorReport
from ci_guard.failure import Failure, FailureClass, class_table
from ci_guard.mirrors.rank import RankedMirror
from ci_guard.mirrors.result import MirrorApplyResult
from ci_guard.records import RemedyResult, RunRecord
from ci_guard.registry.probe import RegistryProbe
from ci_guard.remedies import RemedyContext
from ci_guard.run.deps import RunDeps
from ci_guard.run.job import log_started
from ci_guard.run.loop import Runner
from ci_guard.supervise.cancel import CancelToken
from ci_guard.supervise.supervisor import ProcessResult

LADDER = ("retry", "retry", "restart-daemon", "repair-network", "repair-network")
MIRRORS = (
    "https://mirror.gcr.example",
    "https://hub-cache.internal.example",
    "http://127.0.0.1:5000",
)
CANCEL_SIGNAL = 15
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


@dataclass(frozen=True)
class Step:
    """One scripted attempt: its class (None = success), how long it ran, how it ended."""

    failure_class: str | None
    duration_s: float
    exit_code: int | None = None
    cancelled: bool = False


@dataclass
class Script:
    """What one run meets: attempts, waits between them, remedy verdicts, mirror probes."""

    steps: list[Step]
    delays: list[float] = field(default_factory=list)
    remedy_ok: list[bool] = field(default_factory=list)
    ladder: tuple[str, ...] = LADDER
    mirrors: list[dict[str, Any]] | None = None
    preflight_s: float = 0.0
    platform: str = "gitlab"
    command: tuple[str, ...] = ("docker", "compose", "build")


class _Clock:
    """The run's monotonic clock and the wall clock its log lines carry, in step."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def stamp(self) -> str:
        return (self.start + timedelta(seconds=self.now)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _StampedLog:
    """The run's bound logger, stamping each line with the synthetic wall clock.

    logs.py adds a timestamp only when the line has none, so the rest of the real
    pipeline (redaction, field order, JSON) runs unchanged.
    """

    def __init__(self, log: Any, clock: _Clock) -> None:
        self._log = log
        self._clock = clock

    def __getattr__(self, level: str) -> Any:
        method = getattr(self._log, level)

        def emit(event: str, **fields: Any) -> Any:
            return method(event, timestamp=self._clock.stamp(), **fields)

        return emit


class _Remedy:
    def __init__(self, name: str, verdicts: Iterator[bool]) -> None:
        self.name = name
        self._verdicts = verdicts

    def plan(self, ctx: RemedyContext) -> list[str]:
        return [f"{self.name}: scripted"]

    def apply(self, ctx: RemedyContext) -> RemedyResult:
        ok = next(self._verdicts, True)
        return RemedyResult(self.name, ok=ok, changed=ok, actions=(f"{self.name}: done",))


def _failure(name: str) -> Failure:
    cls = FailureClass(name)
    evidence = (f"ERROR: {name} seen",)
    return Failure(cls, class_table()[cls].retryable, f"{name}.scripted", evidence)


def _result(step: Step) -> ProcessResult:
    timed_out = step.failure_class == FailureClass.TIMEOUT.value
    code = 0 if step.failure_class is None else 124 if timed_out else 1
    if step.cancelled:
        code = 128 + CANCEL_SIGNAL
    return ProcessResult(
        exit_code=step.exit_code if step.exit_code is not None else code,
        signal=None,
        timed_out=timed_out,
        no_output_timed_out=False,
        cancelled_by=CANCEL_SIGNAL if step.cancelled else None,
        duration_s=step.duration_s,
        tail=(),
        log_path=None,
        spawn_error=None,
        killed_pids=(),
    )


def _probe(entry: dict[str, Any]) -> RegistryProbe:
    latency = entry.get("latency_s")
    return RegistryProbe(
        str(entry["url"]), str(entry["verdict"]), str(entry.get("reason", "")), latency or 0.0
    )


def preflight_fields(mirrors: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """`preflight.finished` as run_preflight writes it, with these probe verdicts: the
    mirrors were daemon.json's, the usable ones stay (a SIGHUP reload when some left)."""
    ranked = tuple(RankedMirror(rank, m["url"], _probe(m)) for rank, m in enumerate(mirrors, 1))
    before = tuple(m.url for m in ranked)
    after = tuple(m.url for m in ranked if m.usable) or before  # none answers: left as is
    changed = after != before
    applied = MirrorApplyResult(
        daemon_config=Path("/etc/docker/daemon.json"),
        before=before,
        after=after,
        changed=changed,
        dry_run=False,
        ok=True,
        action="sighup" if changed else "none",
        backup=Path("/etc/docker/daemon.json.20261101T080000Z.ci-guard.bak") if changed else None,
        verified=True if changed else None,
        ranked=ranked,
    )
    check = CheckResult("dns", ok=True, severity="error", detail="", duration_s=0.01)
    reach = DaemonReach(
        "unix:///var/run/docker.sock", True, LOCAL, "dockerd pid 812 on this host serves it"
    )
    return PreflightResult(DoctorReport((check,)), applied, reach).as_log_fields()


@functools.cache
def _base_config() -> Config:
    return resolve({}, env={}, cwd=Path("/")).config


@functools.cache
def _token() -> CancelToken:
    """One never-cancelled token for every run (each token holds a pipe)."""
    return CancelToken()


def play(run_id: str, start: datetime, script: Script) -> list[str]:
    """The JSON lines the real writers log for `script`, stamped from `start`."""
    clock = _Clock(start)
    config = dataclasses.replace(
        _base_config(),
        max_attempts=max(1, len(script.steps)),
        ladder=script.ladder,
        preflight=script.mirrors is not None,
        free_disk=False,
    )
    steps = iter(script.steps)
    current: list[Step] = []
    delays = iter(script.delays)
    verdicts = iter(script.remedy_ok)

    def supervise(argv: list[str], **_kwargs: Any) -> ProcessResult:
        current[:] = [next(steps)]
        clock.sleep(current[0].duration_s)
        return _result(current[0])

    def classify(*_args: Any) -> Failure | None:
        name = current[0].failure_class
        return None if name is None else _failure(name)

    def preflight(_config: Config) -> dict[str, Any]:
        clock.sleep(script.preflight_s)
        return preflight_fields(script.mirrors or ())

    stream = io.StringIO()
    saved = structlog.get_config()
    logs.configure(log_format="json", stream=stream)
    try:
        log = _StampedLog(logs.get_logger(run_id=run_id), clock)
        run = RunRecord(
            run_id, script.command, clock.stamp(), config.max_attempts, ci_platform=script.platform
        )
        log_started(log, run, config)
        deps = RunDeps(
            supervise=supervise,
            classify=classify,
            load_remedy=lambda name: _Remedy(name, verdicts),
            preflight=preflight,
            snapshot=None,
            reach=None,
            wait_after=lambda _n: next(delays, 1.0),
            sleep=clock.sleep,
            clock=clock,
            cancel=_token(),
        )
        Runner(script.command, config, run=run, log=log, deps=deps, env={}).execute()
    finally:
        structlog.configure(**saved)
    return stream.getvalue().splitlines()


def simple_run(
    run_id: str,
    day: str,
    outcomes: list[str | None],
    *,
    cancelled: bool = False,
    durations: list[float] | None = None,
    delays: list[float] | None = None,
    remedies: list[str] | None = None,
    mirrors: list[dict[str, Any]] | None = None,
    finished: bool = True,
) -> str:
    """A run on `day` (YYYY-MM-DD) whose attempts end with `outcomes` (a class, or None = ok).

    `delays[i]` is the wait after failed attempt i+1 and `remedies[i]` the ladder stage of
    attempt i+2 (the loop uses it when it fits the class); with `cancelled` the last
    attempt is stopped by SIGTERM; without `finished` the log ends before run.finished.
    """
    durations = durations or [10.0] * len(outcomes)
    steps = [Step(cls, d) for cls, d in zip(outcomes, durations, strict=True)]
    if cancelled:
        steps[-1] = dataclasses.replace(steps[-1], cancelled=True)
    script = Script(
        steps=steps,
        delays=delays or [1.0] * len(outcomes),
        ladder=("retry", *(remedies or ["retry"])),
        mirrors=mirrors,
        command=("docker", "build", "."),
    )
    start = datetime.fromisoformat(day).replace(hour=10, tzinfo=timezone.utc)
    lines = play(run_id, start, script)
    if not finished:
        lines = [ln for ln in lines if json.loads(ln)["event"] != "run.finished"]
    return "".join(ln + "\n" for ln in lines)


def _fail_probability(day: int, days: int) -> float:
    """Network weather: mostly fine, a bad stretch around two thirds of the period."""
    bad = days * 2 // 3
    return 0.55 if bad <= day < bad + 2 else 0.18 + 0.04 * (day % 3)


def _mirror_probes(rng: random.Random, day: int, days: int) -> list[dict[str, Any]]:
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


def _script(rng: random.Random, day: int, days: int) -> Script:
    p_fail = _fail_probability(day, days)
    steps: list[Step] = []
    table = class_table()
    for _ in LADDER:
        cls = _pick_class(rng) if rng.random() < p_fail else None
        duration = round(rng.uniform(20, 90) if cls else rng.uniform(60, 420), 3)
        exit_code = None if cls in (None, FailureClass.TIMEOUT) else rng.choice((1, 1, 17, 125))
        steps.append(Step(cls.value if cls else None, duration, exit_code))
        if cls is None or not table[cls].retryable:
            break
        p_fail *= 0.7  # remedies and time help: later attempts fail less
    if rng.random() < 0.01:  # CI cancelled the job
        steps[-1] = dataclasses.replace(steps[-1], cancelled=True)
    return Script(
        steps=steps,
        delays=[round(min(60.0, 2.0 * 2**n) * rng.uniform(0.8, 1.2), 3) for n in range(5)],
        remedy_ok=[rng.random() < 0.9 for _ in range(5)],
        mirrors=_mirror_probes(rng, day, days),
        preflight_s=rng.uniform(0.3, 2.5),
        platform=rng.choice(("gitlab", "github", "jenkins")),
        command=("docker", "compose", "build", "--pull"),
    )


def synth_run(
    rng: random.Random, run_id: str, start: datetime, *, day: int, days: int
) -> list[dict[str, Any]]:
    """One run's events, as the real writers log them."""
    events = [json.loads(ln) for ln in play(run_id, start, _script(rng, day, days))]
    if rng.random() < 0.01:  # the runner died: no run.finished, the log ends mid-run
        return events[: rng.randint(2, len(events) - 1)]
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
    """One hand-made line, for the reader's tolerance of malformed input only."""
    record = {"timestamp": at, "level": "info", "event": event, "run_id": run_id, **fields}
    return json.dumps(record) + "\n"


def lines_of(texts: Iterable[str]) -> list[str]:
    return [ln for text in texts for ln in text.splitlines()]
