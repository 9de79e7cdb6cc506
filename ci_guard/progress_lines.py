"""The words of the progress lines: one function per log event, fields in, text out.

Each function reads the fields of one event as the JSON log holds them (already
masked) and returns one short line; the `*_details` functions return the extra lines
`--verbose` adds. `progress.py` decides which event shows at which verbosity.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ci_guard.durations import human_duration
from ci_guard.mirror_url import HUB_HOSTS

Fields = Mapping[str, Any]
COMMAND_WIDTH = 60
"""A longer command is cut: the attempt line names it, the log has it whole."""
MAX_EVIDENCE = 5
DETAIL_WIDTH = 90
"""A failed check's detail in the preflight line; --verbose and the log have it whole."""


def cut(text: str, width: int) -> str:
    """At most `width` characters: a longer text ends in an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


def short_command(command: Any) -> str:
    words = [str(w) for w in command] if isinstance(command, list) else [str(command)]
    text = shlex.join(words)
    return cut(text, COMMAND_WIDTH)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _host(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/")


# -- run and preflight ----------------------------------------------------------------


def run_started(f: Fields) -> str:
    ladder = ",".join(str(stage) for stage in f.get("ladder") or [])
    text = f"run {f.get('run_id', '?')}: up to {f.get('max_attempts')} attempts, ladder {ladder}"
    folder = f.get("artifacts_dir")
    return text + (f", artifacts in {folder}" if folder not in (None, "None") else "")


def preflight_started(f: Fields) -> str:
    mirrors = f.get("mirrors") or []
    listed = _plural(len(mirrors), "mirror") if mirrors else "mirrors of daemon.json"
    registries = ", ".join(_host(str(r)) for r in f.get("registries") or [])
    return f"preflight started (daemon, {listed}, {registries})"


def _failed_checks(f: Fields) -> list[Fields]:
    checks = f.get("checks") or []
    return [c for c in checks if isinstance(c, dict) and not c.get("ok")]


def _checks_phrase(f: Fields) -> str:
    if f.get("error"):
        return f"preflight error: {f['error']}"
    errors = [c for c in _failed_checks(f) if c.get("severity") == "error"]
    if not errors:
        return "checks ok"
    first = cut(f"{errors[0].get('name')}: {errors[0].get('detail')}", DETAIL_WIDTH)
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"unhealthy: {first}{more}"


def _verdict_word(removed: Sequence[str], ranked: Sequence[Fields]) -> str:
    """The verdict all the removed mirrors got, when they all were probed and agree."""
    verdict = {str(m.get("url")): m.get("verdict") for m in ranked}
    verdicts = {verdict.get(url) for url in removed}
    return f"{verdicts.pop()} " if len(verdicts) == 1 and None not in verdicts else ""


def _removed_phrase(removed: Sequence[str], ranked: Sequence[Fields]) -> str:
    # Docker Hub listed as a mirror is dropped unprobed (dockerd tries it anyway): it is
    # neither dead nor healthy, so it is named apart.
    hub = [url for url in removed if urlsplit(url).hostname in HUB_HOSTS]
    others = [url for url in removed if url not in hub]
    parts = [f"{_plural(len(others), _verdict_word(others, ranked) + 'mirror')}"] if others else []
    return "removed " + " and ".join([*parts, "Docker Hub"] if hub else parts)


_ACTIONS = {
    "sighup": "daemon reloaded",
    "restart": "daemon restarted",
    "written": "daemon.json written, daemon not reloaded",
}


def mirrors_phrase(m: Fields) -> str:
    """What the mirror refresh did, in a few words."""
    before, after = list(m.get("mirrors_before") or []), list(m.get("mirrors_after") or [])
    messages = m.get("messages") or []
    if m.get("action") == "skipped" or not m.get("ok", True):
        why = f": {messages[0]}" if messages else ""
        return f"mirrors left as they were{why}"
    if not m.get("changed"):
        return f"{_plural(len(after), 'mirror')} usable, daemon.json unchanged"
    removed = [u for u in before if u not in after]
    added = [u for u in after if u not in before]
    changes = []
    if removed:
        changes.append(_removed_phrase(removed, m.get("ranked") or []))
    if added:
        changes.append(f"added {len(added)}")
    text = " and ".join(changes) or "reordered the mirrors"
    text += f" {'from' if removed and not added else 'in'} {m.get('daemon_config')}"
    if m.get("dry_run"):
        return f"would have {text} (dry run)"
    action = _ACTIONS.get(str(m.get("action")))
    text += f", {action}" if action else ""
    text += _builder_phrase(m.get("builder"))
    return text + (", rolled back" if m.get("rolled_back") else "")


# A daemon restart for the builder takes seconds and stops the daemon: say so here, not
# only in the builder.mirrors line that --verbose shows.
_BUILDER_WORDS = {
    "restarted": ", then restarted (its BuildKit kept the old mirrors)",
    "restart-failed": ", restart for its BuildKit failed",
}


def _builder_phrase(builder: Any) -> str:
    return _BUILDER_WORDS.get(str(builder.get("decision")), "") if isinstance(builder, dict) else ""


def preflight_finished(f: Fields, took: float | None) -> str:
    head = "preflight finished" + (f" in {human_duration(took)}" if took is not None else "")
    parts = [mirrors_phrase(f["mirrors"])] if isinstance(f.get("mirrors"), dict) else []
    parts.append(_checks_phrase(f))  # last: a long failure detail is what gets cut
    return f"{head}: {'; '.join(parts)}"


def preflight_details(f: Fields) -> list[str]:
    lines = []
    for check in f.get("checks") or []:
        if not isinstance(check, dict):
            continue
        lines.append(_check_line(check))
    mirrors = f.get("mirrors")
    if isinstance(mirrors, dict):
        for mirror in mirrors.get("ranked") or []:
            lines.append(mirror_line(mirror))
        lines.extend(f"mirrors: {text}" for text in mirrors.get("messages") or [])
    return lines


def _check_line(check: Fields) -> str:
    detail = str(check.get("detail") or "")
    if (check.get("data") or {}).get("skipped"):
        return f"check {check.get('name')}: {detail}"  # the detail says "skipped: why"
    state = "ok" if check.get("ok") else "FAILED" if check.get("severity") == "error" else "warning"
    return f"check {check.get('name')}: {state}" + (f", {detail}" if detail else "")


def mirror_line(m: Fields) -> str:
    latency = m.get("latency_s")
    took = f" in {latency:.2f}s" if isinstance(latency, int | float) else ""
    return f"mirror {m.get('url')}: {m.get('verdict')}{took} ({m.get('reason')})"


# -- attempts, retries, remedies ------------------------------------------------------


def attempt_started(f: Fields, command: str) -> str:
    return f"attempt {f.get('attempt')}/{f.get('max_attempts')} started: {command}"


def attempt_finished(f: Fields) -> str:
    took = human_duration(f.get("duration_s"))
    if f.get("cancelled"):
        return f"attempt {f.get('attempt')} stopped after {took}, with ci-guard"
    if f.get("failure_class") is None:
        return f"attempt {f.get('attempt')} succeeded in {took}"
    how = "stalled" if f.get("stalled") else "timed out" if f.get("timed_out") else "failed"
    code = f", exit {f['exit_code']}" if f.get("exit_code") not in (None, 0) else ""
    retry = "retryable" if f.get("retryable") else "not retryable"
    return f"attempt {f.get('attempt')} {how} after {took}{code}: {f['failure_class']} ({retry})"


def attempt_details(f: Fields) -> list[str]:
    lines = [f"> {line}" for line in (f.get("evidence") or [])[:MAX_EVIDENCE]]
    if f.get("rule"):
        lines.append(f"rule: {f['rule']}")
    if f.get("daemon_evidence"):
        lines.append(f"root cause from: {f['daemon_evidence']}")
    if f.get("log_path"):
        lines.append(f"output: {f['log_path']}")
    if f.get("log_error"):
        lines.append(f"attempt log incomplete: {f['log_error']}")
    return lines


def retry_scheduled(f: Fields) -> str:
    remedy = f.get("remedy")
    how = "plain retry" if remedy == "retry" else f"remedy: {remedy}"
    nxt = int(f.get("attempt") or 0) + 1
    return f"waiting {human_duration(f.get('delay_s'))} before attempt {nxt} ({how})"


def retry_details(f: Fields) -> list[str]:
    return [f"hint: {f['hint']}"] if f.get("hint") else []


def remedy_started(f: Fields) -> str:
    return f"remedy {f.get('remedy')} started"


def remedy_finished(f: Fields, took: float | None) -> str:
    name = f.get("remedy")
    if f.get("ok"):
        when = f" in {human_duration(took)}" if took is not None else ""
        skipped = f" (skipped: {f['skipped']})" if f.get("skipped") else ""
        return f"remedy {name} ok{when}{skipped}"
    why = f.get("detail") or f.get("skipped") or "no detail"
    return f"remedy {name} failed: {why}"


def plan_details(f: Fields) -> list[str]:
    return [f"plan: {step}" for step in f.get("plan") or []]


def action_details(f: Fields) -> list[str]:
    return [f"done: {step}" for step in f.get("actions") or []]


def builder_mirrors(f: Fields) -> str:
    source, decision = f.get("source"), f.get("decision")
    return f"builder after mirrors reload ({source}): {decision}: {f.get('reason')}"
