"""What `make demo` prints: timed narration lines, the run's events, a digest of its log."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path
from typing import Any

from tests.testbed.runlog import Event, read_events

_T0 = time.monotonic()
_WRAP: dict[str, Any] = {"break_on_hyphens": False, "break_long_words": False}


def say(text: str = "") -> None:
    print(text, flush=True)


def head(number: int, title: str) -> None:
    say()
    say(f"== {number}. {title}")


def at(text: str) -> None:
    say(f"  [{elapsed():6.1f}s] {text}")


def elapsed() -> float:
    return time.monotonic() - _T0


def indent(lines: list[str], prefix: str = "      ") -> None:
    for line in lines:
        say(prefix + line)


def show_preflight(event: Event) -> None:
    at(f"preflight.finished (healthy={event.get('healthy')})")
    for check in event.get("checks") or []:
        detail = str(check.get("detail"))
        if not check.get("ok") and not detail.startswith("skipped"):
            say(f"      check {check.get('name')}: {detail}")
    mirrors = event.get("mirrors") or {}
    for ranked in mirrors.get("ranked") or []:
        say(
            f"      probe {ranked.get('url'):<28} {ranked.get('verdict'):<8} {ranked.get('reason')}"
        )
    for message in mirrors.get("messages") or []:
        say(f"      {message}")
    before, after = mirrors.get("mirrors_before") or [], mirrors.get("mirrors_after") or []
    pruned = [url for url in before if url not in after]
    at(f"preflight pruned {pruned}; registry-mirrors now {after} ({mirrors.get('action')})")


def show_attempt(event: Event) -> None:
    number = event.get("attempt")
    if event.get("failure_class") is None:
        at(f"attempt {number} SUCCEEDED in {event.get('duration_s')}s (exit {event['exit_code']})")
        return
    retry = "retryable" if event.get("retryable") else "not retryable"
    at(
        f"attempt {number} FAILED in {event.get('duration_s')}s: exit {event.get('exit_code')}, "
        f"class {event.get('failure_class')} ({retry}, rule {event.get('rule')})"
    )
    indent([f"evidence> {line}" for line in (event.get("evidence") or [])[:3]])


def show_retry(event: Event) -> None:
    at(
        f"retry scheduled after attempt {event.get('attempt')}: stage {event.get('stage')}, "
        f"remedy {event.get('remedy')}, wait {event.get('delay_s')}s"
    )


def show_remedy(event: Event) -> None:
    ok = "ok" if event.get("ok") else f"NOT ok: {event.get('detail')}"
    at(f"remedy {event.get('remedy')} finished ({ok}, changed={event.get('changed')}):")
    indent([f"- {action}" for action in event.get("actions") or []])


_ENVELOPE = {"timestamp", "level", "event", "run_id", "source"}


def show_builder(event: Event) -> None:
    """Whether the builder took the new mirror list (its own check after a reload)."""
    fields = {k: v for k, v in event.items() if k not in _ENVELOPE}
    at(f"builder.mirrors after {event.get('source')}:")
    text = json.dumps(fields, ensure_ascii=False)
    say(textwrap.fill(text, 100, initial_indent="      ", subsequent_indent="        ", **_WRAP))


def show_attempt_started(event: Event) -> None:
    at(f"attempt {event.get('attempt')}/{event.get('max_attempts')} started")


def show_finished(event: Event) -> None:
    at(
        f"run.finished: {event.get('status')} after {event.get('attempts')} attempt(s), "
        f"exit {event.get('exit_code')}, {event.get('duration_s')}s"
    )


_DIGEST_KEYS = {
    "run.started": ("command", "ladder", "max_attempts"),
    "preflight.finished": ("healthy",),
    "attempt.finished": ("attempt", "exit_code", "failure_class", "retryable", "evidence"),
    "retry.scheduled": ("attempt", "delay_s", "stage", "remedy"),
    "remedy.finished": ("remedy", "ok", "changed", "actions", "mirrors_after"),
    "builder.mirrors": ("source", "ok"),
    "run.finished": ("status", "attempts", "exit_code", "duration_s"),
}


def digest(number: int, log: Path) -> list[Event]:
    head(number, f"Digest of the JSON log ({log.name}, key fields of key events)")
    events = read_events(log)
    for event in events:
        keys = _DIGEST_KEYS.get(str(event.get("event")))
        if keys is None:
            continue
        fields: dict[str, Any] = {"event": event["event"]}
        fields.update({k: event[k] for k in keys if k in event})
        if event["event"] == "preflight.finished":
            mirrors = event.get("mirrors") or {}
            fields["mirrors_before"] = mirrors.get("mirrors_before")
            fields["mirrors_after"] = mirrors.get("mirrors_after")
        if isinstance(fields.get("evidence"), list):
            fields["evidence"] = [line[:110] for line in fields["evidence"][:2]]
        text = json.dumps(fields, ensure_ascii=False)
        say(textwrap.fill(text, 100, initial_indent="  ", subsequent_indent="      ", **_WRAP))
    say(f"  ({len(events)} lines in all: {', '.join(_event_counts(events))})")
    return events


def _event_counts(events: list[Event]) -> list[str]:
    counts: dict[str, int] = {}
    for event in events:
        counts[str(event.get("event"))] = counts.get(str(event.get("event")), 0) + 1
    return [f"{name} x{count}" for name, count in counts.items()]


def summary(number: int, stderr: Path) -> None:
    head(number, "ci-guard's own summary (end of its stderr)")
    lines = stderr.read_text(errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("ci-guard: ")]
    indent(lines[starts[-1] :] if starts else lines[-6:], "  ")
